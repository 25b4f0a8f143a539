"""Validation of the interpreted rows and comparison with the database: the pandera checks and duplicate
keys (``validation``), then, with a database, the diff against the stored values (new, revised or
unchanged, and what a revision changes) and the jump warnings.

What belongs here: :func:`validate` (for a whole file) and :func:`with_changes`, also used part by part
by ``overlapped``. What does not: the checks themselves (``validation``), writing (``store``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from indicators import store, validation
from indicators.catalog import Catalog
from indicators.ingest.fields import IngestOptions
from indicators.ingest.result import ParsedFile
from indicators.store import KEY, PAYLOAD
from indicators.validation import JumpReference


def validate(
    parsed: ParsedFile,
    catalog: Catalog,
    options: IngestOptions,
    conn: Connection | None,
    headers: dict[str, str],
) -> None:
    """pandera checks, duplicates inside the file, then (with a database) the diff and the jump warnings."""
    rows, report = parsed.rows, parsed.report
    if rows.empty:
        report.counts.setdefault("duplicates", 0)
        report.counts.setdefault("valid", 0)
        report.counts.setdefault("rejected", report.counts.get("unreadable", 0))
        return
    failing = validation.check_observations(rows, report, options.year_range, headers, catalog.publications)
    status = rows["status"].to_numpy(dtype=object).copy()
    status[failing] = "error"
    errors, repeats = validation.check_duplicates(rows, report)
    status[errors] = "error"
    status[repeats] = np.where(status[repeats] == "error", "error", "duplicate")
    rows["status"] = status
    report.counts.update(
        {
            "duplicates": int((status == "duplicate").sum()),
            "valid": int((status == "ok").sum()),
            "rejected": int((status == "error").sum()) + report.counts.get("unreadable", 0),
        }
    )
    if conn is None or not (status == "ok").any():
        return
    frame = parsed.observations()
    parsed.stored_as_of_batch = store.latest_batch_id(conn)  # before reading the values: see ParsedFile
    current = store.current_values(conn, frame["indicator_code"].unique().tolist())
    parsed.stored = current
    keys = store.StoredKeys(current)
    absent = [col for col, name in (("publication_id", "publication"), ("flag", "flag")) if not headers.get(name)]
    if absent and not current.empty and _keep_stored(parsed, current, keys, absent):
        frame = parsed.observations()
    parsed.diff = with_changes(store.diff_against_current(conn, frame, keys=keys), current, keys)
    if current.empty:  # nothing stored to jump from (a first upload of these indicators)
        return
    ok = rows.loc[status == "ok", [*KEY, "value", "row", "column"]].astype({"year": "int64"})
    ok["old_value"] = parsed.diff["old_value"].to_numpy()  # the diff keeps the order of the valid rows
    kinds = {c: ind.kind for c, ind in catalog.indicators.items()}
    validation.check_jumps(ok, JumpReference(current, kinds), report)


def _keep_stored(parsed: ParsedFile, current: pd.DataFrame, keys: store.StoredKeys, columns: list[str]) -> bool:
    """A file with no publication (or flags) column says nothing about them: a value it gives again with the
    same number and source keeps the stored publication and flags. Whether any row took them."""
    rows = parsed.rows
    ok = np.flatnonzero((rows["status"] == "ok").to_numpy())
    given = rows.iloc[ok]
    at = keys.positions(given[KEY].astype({"year": "int64"}))
    stored = at >= 0
    if not stored.any():
        return False
    old = current.iloc[np.where(stored, at, 0)]
    same = stored & (given["value"].astype(float).to_numpy() == old["value"].astype(float).to_numpy())
    same &= store.as_text(given["source"]).to_numpy() == store.as_text(old["source"]).to_numpy()
    if not same.any():
        return False
    for col in columns:
        values = np.array(rows[col].astype(object), dtype=object)
        values[ok[same]] = old[col].astype(object).to_numpy()[same]
        rows[col] = pd.Categorical(values)
    return True


def with_changes(
    diff: pd.DataFrame, current: pd.DataFrame, keys: store.StoredKeys | None = None
) -> pd.DataFrame:
    """Add ``changed``: which of value, source, confidence, note, flag, published date a revision changes."""
    diff["changed"] = ""
    revised = diff["status"] == "revised"
    if not revised.any():
        return diff
    at = (keys or store.StoredKeys(current)).positions(diff.loc[revised, KEY])  # a revised key is stored
    old = current[KEY + PAYLOAD].iloc[at].reset_index(drop=True)
    new = diff.loc[revised, KEY + PAYLOAD].reset_index(drop=True)
    parts = []
    for col in PAYLOAD:
        if col == "value":
            differs = new[col].astype(float).to_numpy() != old[col].astype(float).to_numpy()
        else:
            differs = (store.as_text(new[col]) != store.as_text(old[col])).to_numpy()
        parts.append(np.where(differs, col, ""))
    diff.loc[revised, "changed"] = [",".join(p for p in row if p) for row in zip(*parts, strict=True)]
    return diff
