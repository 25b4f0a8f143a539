"""Writing statistics: apply a batch of observations with full history, and revert a batch.

What belongs here: every write to ``observations``, ``observation_history`` and ``batches``. Each public
function works inside the caller's transaction (a SQLAlchemy ``Connection``), so a caller that fails
half-way rolls everything back: no half-applied batch, also when the process is killed.

Not here: parsing and validating files (``ingest``), reading (``queries``), the catalog tables (``seed``).
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Connection, Integer, delete, insert, literal, select, update

from indicators.models import OBSERVATION_COLUMNS, Batch, Observation, ObservationHistory

KEY = ["indicator_code", "region_code", "year"]
PAYLOAD = ["value", "source", "confidence", "note", "flag", "published_on"]
CHUNK = 500

OBS = Observation.__table__
HIST = ObservationHistory.__table__
BATCHES = Batch.__table__


@dataclass
class BatchResult:
    """What a batch did. ``revised`` holds old -> new for every changed value."""

    batch_id: int | None
    n_new: int = 0
    n_revised: int = 0
    n_unchanged: int = 0
    n_skipped: int = 0
    n_rejected: int = 0
    already_loaded_as: int | None = None
    diff: pd.DataFrame = field(default_factory=pd.DataFrame)


class RevertRefused(Exception):
    """A batch cannot be reverted exactly (unknown, already reverted, or revised by a later batch)."""

    def __init__(self, message_en: str, message_zh: str):
        self.message_en, self.message_zh = message_en, message_zh
        super().__init__(f"{message_zh} / {message_en}")


def utcnow() -> datetime:
    """Naive UTC, as stored in the database (SQLite has no time zones)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def file_checksum(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def known_from(published_on: str | None, loaded_at: datetime) -> datetime:
    """When a value became knowable: its publication date if recorded, else when it was loaded.

    A month ('2017-06') counts from the month's last day, a year from 31 December: the value was known
    by then at the latest.
    """
    if not published_on or (isinstance(published_on, float) and np.isnan(published_on)):
        return loaded_at
    parts = [int(p) for p in str(published_on).split("-")]
    if len(parts) == 1:
        return datetime(parts[0], 12, 31)
    if len(parts) == 2:
        return datetime(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])
    return datetime(*parts[:3])


def find_loaded_batch(conn: Connection, checksum: str) -> int | None:
    """The batch that already loaded a file with this checksum and was not reverted, if any."""
    return conn.execute(
        select(BATCHES.c.id).where(
            BATCHES.c.checksum == checksum,
            BATCHES.c.kind.in_(["seed", "upload"]),
            BATCHES.c.reverted_by_batch_id.is_(None),
        ).order_by(BATCHES.c.id.desc())
    ).scalar()


def diff_against_current(conn: Connection, frame: pd.DataFrame) -> pd.DataFrame:
    """Classify each incoming row as new, revised or unchanged against the current values.

    Returns the incoming rows with ``status``, ``current_id`` and ``old_value`` columns.
    """
    current = _current_for(conn, frame)
    merged = frame.merge(
        current.rename(columns={c: f"old_{c}" for c in PAYLOAD}),
        on=KEY, how="left", validate="one_to_one",
    )
    has_old = merged["current_id"].notna()
    same = pd.Series(True, index=merged.index)
    for col in PAYLOAD:
        new, old = merged[col], merged[f"old_{col}"]
        if col == "value":
            equal = new.astype(float).to_numpy() == old.astype(float).to_numpy()
        else:
            equal = (new.fillna("").astype(str) == old.fillna("").astype(str)).to_numpy()
        same &= equal
    merged["status"] = np.where(~has_old, "new", np.where(same, "unchanged", "revised"))
    return merged.drop(columns=[f"old_{c}" for c in PAYLOAD if c != "value"])


def _current_for(conn: Connection, frame: pd.DataFrame) -> pd.DataFrame:
    codes = sorted(frame["indicator_code"].unique())
    parts = []
    for i in range(0, len(codes), CHUNK):
        rows = conn.execute(
            select(OBS.c.id.label("current_id"), *[OBS.c[c] for c in KEY + PAYLOAD]).where(
                OBS.c.indicator_code.in_(codes[i:i + CHUNK])
            )
        ).all()
        parts.append(pd.DataFrame(rows, columns=["current_id", *KEY, *PAYLOAD]))
    current = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["current_id", *KEY, *PAYLOAD])
    current["year"] = current["year"].astype("int64")
    return current


def apply_batch(
    conn: Connection,
    frame: pd.DataFrame,
    *,
    kind: str,
    user: str,
    file_name: str | None = None,
    checksum: str | None = None,
    note: str | None = None,
    n_skipped: int = 0,
    n_rejected: int = 0,
) -> BatchResult:
    """Record ``frame`` (columns KEY + PAYLOAD, one row per key) as a new batch.

    New keys are inserted; changed values replace the current row, which moves to the history tied to the
    batch that brought it; identical rows are counted and left alone. Returns the counts and the diff.
    """
    if frame.duplicated(KEY).any():
        raise ValueError("a batch holds at most one value per indicator, region and year")
    now = utcnow()
    diff = diff_against_current(conn, frame)
    batch_id = conn.execute(
        insert(BATCHES).values(
            kind=kind, file_name=file_name, checksum=checksum, created_at=now, user=user, note=note,
            n_new=int((diff["status"] == "new").sum()),
            n_revised=int((diff["status"] == "revised").sum()),
            n_unchanged=int((diff["status"] == "unchanged").sum()),
            n_skipped=n_skipped, n_rejected=n_rejected,
        )
    ).inserted_primary_key[0]

    revised_ids = diff.loc[diff["status"] == "revised", "current_id"].astype("int64").tolist()
    _move_to_history(conn, revised_ids, superseded_by=batch_id, retracted=False)

    to_write = diff[diff["status"] != "unchanged"]
    if len(to_write):
        records = to_write[KEY + PAYLOAD].astype(object).where(to_write[KEY + PAYLOAD].notna(), None)
        rows = records.to_dict("records")
        for row in rows:
            row["known_from"] = known_from(row["published_on"], now)
            row["batch_id"] = batch_id
            row["year"] = int(row["year"])
            row["value"] = float(row["value"])
        conn.execute(insert(OBS), rows)

    return BatchResult(
        batch_id=batch_id,
        n_new=int((diff["status"] == "new").sum()),
        n_revised=len(revised_ids),
        n_unchanged=int((diff["status"] == "unchanged").sum()),
        n_skipped=n_skipped,
        n_rejected=n_rejected,
        diff=diff,
    )


def _move_to_history(conn: Connection, ids: list[int], *, superseded_by: int, retracted: bool) -> None:
    """Copy current rows into the history (keeping their ids) and delete them from ``observations``."""
    data_cols = [c for c in OBSERVATION_COLUMNS if c != "id"]
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        conn.execute(
            insert(HIST).from_select(
                ["observation_id", *data_cols, "superseded_by_batch_id", "retracted"],
                select(
                    OBS.c.id, *[OBS.c[c] for c in data_cols],
                    literal(superseded_by, Integer).label("superseded_by_batch_id"),
                    literal(retracted, Boolean).label("retracted"),
                ).where(OBS.c.id.in_(chunk)),
            )
        )
        conn.execute(delete(OBS).where(OBS.c.id.in_(chunk)))


def revert_batch(conn: Connection, batch_id: int, *, user: str, note: str | None = None) -> BatchResult:
    """Restore exactly the state before ``batch_id``: its values are retracted, the ones it replaced return.

    Refused when a later batch revised one of its values (revert that one first), or when it is itself a
    revert or already reverted.
    """
    batch = conn.execute(select(BATCHES).where(BATCHES.c.id == batch_id)).mappings().first()
    if batch is None:
        raise RevertRefused(f"no batch {batch_id}", f"批次 {batch_id} 不存在")
    if batch["kind"] == "revert":
        raise RevertRefused(
            f"batch {batch_id} is itself a revert; load the data again instead",
            f"批次 {batch_id} 本身是一次撤销;如需恢复,请重新导入数据",
        )
    if batch["reverted_by_batch_id"] is not None:
        raise RevertRefused(
            f"batch {batch_id} was already reverted by batch {batch['reverted_by_batch_id']}",
            f"批次 {batch_id} 已被批次 {batch['reverted_by_batch_id']} 撤销",
        )
    later = conn.execute(
        select(HIST.c.superseded_by_batch_id).distinct().where(
            HIST.c.batch_id == batch_id, HIST.c.retracted.is_(False)
        )
    ).scalars().all()
    if later:
        names = ", ".join(str(b) for b in sorted(later))
        raise RevertRefused(
            f"values of batch {batch_id} were revised later by batch(es) {names}; revert those first",
            f"批次 {batch_id} 的数值已被后续批次 {names} 修订;请先撤销这些批次",
        )

    now = utcnow()
    removed_ids = conn.execute(select(OBS.c.id).where(OBS.c.batch_id == batch_id)).scalars().all()
    restored = conn.execute(
        select(HIST).where(HIST.c.superseded_by_batch_id == batch_id, HIST.c.retracted.is_(False))
    ).mappings().all()
    summary = f"revert of batch {batch_id}: {len(removed_ids)} values removed, {len(restored)} restored"
    revert_id = conn.execute(
        insert(BATCHES).values(
            kind="revert", file_name=batch["file_name"], checksum=None, created_at=now, user=user,
            note="; ".join(x for x in (summary, note) if x), n_new=0, n_revised=len(restored),
            n_unchanged=0, n_skipped=0, n_rejected=0, reverts_batch_id=batch_id,
        )
    ).inserted_primary_key[0]
    _move_to_history(conn, list(removed_ids), superseded_by=revert_id, retracted=True)
    if restored:
        conn.execute(
            insert(OBS),
            [{"id": r["observation_id"], **{c: r[c] for c in OBSERVATION_COLUMNS if c != "id"}} for r in restored],
        )
        hist_ids = [r["id"] for r in restored]
        for i in range(0, len(hist_ids), CHUNK):
            conn.execute(delete(HIST).where(HIST.c.id.in_(hist_ids[i:i + CHUNK])))
    conn.execute(update(BATCHES).where(BATCHES.c.id == batch_id).values(reverted_by_batch_id=revert_id))
    return BatchResult(batch_id=revert_id, n_revised=len(restored), n_new=0, n_unchanged=0)


def as_of_cutoff(day: date) -> datetime:
    """An as-of date includes the whole day."""
    return datetime(day.year, day.month, day.day, 23, 59, 59)


__all__ = [
    "BatchResult", "RevertRefused", "apply_batch", "revert_batch", "find_loaded_batch", "file_checksum",
    "known_from", "diff_against_current", "as_of_cutoff", "utcnow", "KEY", "PAYLOAD",
]
