"""Loading a big file while it is read: the fast path of ``innovation-monitor ingest FILE``, behind one
boundary, :func:`load_path`, which ends the same as :func:`~.entry.parse_path` then
:func:`~.entry.commit` (``tests/test_ingest_overlapped.py`` compares the two on every test file).

What belongs here: cutting the value cells into parts, checking each part as the whole file would be, the
forked writing process (:class:`_WriterProcess`) that holds the batch's transaction and writes each part
while the next is checked, and putting the parts' reports back together. What does not: the reading and
checking steps themselves (``decode`` to ``diff``), the plain path (``entry``), the writes (``store``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from indicators import db, store, validation
from indicators.catalog import Catalog, normalise_name
from indicators.ingest import entry
from indicators.ingest.cells import Distinct
from indicators.ingest.diff import kept_columns, with_changes
from indicators.ingest.fields import DEFAULT_CONFIDENCE, IngestOptions
from indicators.ingest.interpret import PublicationNames, RegionNames, interpret
from indicators.ingest.layout import Layout, value_cells
from indicators.ingest.result import ParsedFile
from indicators.store import KEY, PAYLOAD, BatchResult
from indicators.validation import JumpReference, Report

log = logging.getLogger("innovation_monitor.ingest")

OVERLAP_MIN_VALUES = 200_000  # smaller files: read, then load (overlapping gains little)
OVERLAP_PART_VALUES = 100_000
REPLY_POLL_SECONDS = 0.5  # how often a wait for the writer looks whether it, or the sending, has failed
MIN_BYTES_PER_VALUE = 8  # "I,R,2024,1\n": no file of fewer bytes holds min_values values


class _NotClean(Exception):
    """The overlapped load met something only the whole-file path decides; its transaction rolled back."""


def load_path(
    engine: Engine,
    path: Path | str,
    catalog: Catalog,
    options: IngestOptions | None = None,
    *,
    user: str,
    note: str | None = None,
    part_values: int = OVERLAP_PART_VALUES,
    min_values: int = OVERLAP_MIN_VALUES,
    on_part_written: Callable[[int], None] | None = None,
) -> tuple[ParsedFile, BatchResult | None]:
    """Read, check and load one file as one batch: what :func:`~.entry.parse_path` then
    :func:`~.entry.commit` do.

    A big clean file is loaded while it is read. Its values are interpreted and checked part by part
    (``part_values`` values, whole lines), and each checked part goes to a :class:`_WriterProcess`, which
    holds the batch's write transaction and writes the part while this process checks the next: on two
    cores the two overlap. Anything but a clean load (an error, a repeated key, a region named two ways, a
    file loaded before, fewer than ``min_values`` values) rolls that transaction back and the file takes
    the whole-file path instead, so the report, the batch and the database come out the same either way.

    ``on_part_written(parts)``, if given, is called each time the writing process has written a part
    (``parts`` so far) inside the batch's open transaction, before the next part is checked: the load is
    then half-way, and nothing of it is visible to others. Tests use it to stop a load there.

    Returns the file as parsed and the batch (None when the file is rejected; ``already_loaded_as`` set
    when it was loaded before).
    """
    options = options or IngestOptions()
    path = Path(path)
    size = path.stat().st_size
    if min_values * MIN_BYTES_PER_VALUE <= size <= options.max_bytes and _can_fork():
        try:
            return _load_overlapped(
                engine, path, catalog, options, user, note, part_values, min_values, on_part_written
            )
        except _NotClean as exc:
            log.info("%s: checked as a whole instead (%s)", path.name, exc or "not a clean file")
    # Looked up in ``entry`` at each call, so that a test can make the whole-file path fail.
    parsed = entry.parse_path(path, catalog, engine, options)
    if parsed.rejected():
        return parsed, None
    return parsed, entry.commit(engine, parsed, user=user, note=note)


def _can_fork() -> bool:
    # Linux only: macOS lists fork too, but system libraries there are not safe to use after it.
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


@dataclass
class _Part:
    rows: pd.DataFrame
    new_regions: pd.DataFrame
    report: Report
    diff: pd.DataFrame
    named: pd.DataFrame  # the publications its lines name by publisher and title (see _named_publications)


def _load_overlapped(
    engine: Engine,
    path: Path,
    catalog: Catalog,
    options: IngestOptions,
    user: str,
    note: str | None,
    part_values: int,
    min_values: int,
    on_part_written: Callable[[int], None] | None,
) -> tuple[ParsedFile, BatchResult]:
    with _WriterProcess(engine) as writer:  # forked first, while this process is still small
        opened = entry.open_table(path.read_bytes(), path.name, options)
        if isinstance(opened, ParsedFile) or not opened[1].ok:
            raise _NotClean("unreadable, or problems in its header")
        checksum, report, table, layout = opened
        texts = value_cells(table, layout)
        if len(texts) < min_values:
            raise _NotClean("small")
        writer.order("begin")
        writer.reply("locked")  # no other batch can come now: what is read next stays true
        with engine.connect() as conn:
            if store.find_loaded_batch(conn, checksum) is not None:
                raise _NotClean("loaded before")
            regions, publications = RegionNames(catalog, conn), PublicationNames(catalog, conn)
            latest = store.latest_batch_id(conn)
            current = store.current_values(conn, _indicator_codes(texts, layout, catalog))
        stored = store.StoredKeys(current)
        jumps = JumpReference(current, {c: ind.kind for c, ind in catalog.indicators.items()})
        writer.order("batch", {"kind": "upload", "user": user, "file_name": path.name, "checksum": checksum,
                               "note": note})
        parts: list[_Part] = []
        created: set[str] = set()  # new regions and publications sent to the writer
        for piece in _split(texts, part_values):
            part = _checked_part(piece, layout, catalog, (regions, publications), options, stored, jumps,
                                 path.name, kept_columns(report))
            fresh = part.new_regions[~part.new_regions["code"].isin(created)]
            cited = [p for p in part.report.new_publications if p["id"] not in created]
            created.update(fresh["code"], (p["id"] for p in cited))
            writer.order("part", fresh, cited, part.diff[[*KEY, *PAYLOAD, "status", "current_id"]]
                         if len(part.diff) else None, on_part_written is not None)
            parts.append(part)
            if on_part_written is not None:
                writer.reply("written")
                on_part_written(len(parts))
        counts = _consistent(parts)
        # The batch's counts as parse_file's report gives them: skipped = missing (no repeats in a clean
        # file), rejected = unreadable lines (none). The writer commits while the report is assembled.
        skipped = sum(p.report.counts.get("missing", 0) for p in parts)
        rejected = report.counts.get("unreadable", 0)
        writer.order("finish", {**counts, "skipped": skipped, "rejected": rejected})
        parsed = _joined(path.name, checksum, report, parts, options)
        parsed.stored, parsed.stored_as_of_batch = current, latest
        (batch_id,) = writer.reply("committed")
    return parsed, BatchResult(
        batch_id=batch_id,
        n_new=counts["new"],
        n_revised=counts["revised"],
        n_unchanged=counts["unchanged"],
        n_skipped=parsed.n_skipped,
        n_rejected=parsed.n_rejected,
        diff=parsed.diff,
    )


class _WriterProcess:
    """A forked process that holds one batch's write transaction and writes the parts it is sent.

    It is its own process so that its writing (binding values, SQLite's work) never waits for Python's
    lock while this process reads the file. Orders go through a pipe, sent by a thread of this process
    so that sending never waits for the writer. The writer commits only when told to ("finish"); if this
    process stops early, fails or dies, the writer sees the pipe close and rolls back. It opens its own
    connection (the parent's pooled ones are left alone) and ends with ``os._exit``, as multiprocessing's
    fork does, so nothing it inherited is closed or finalised twice.
    """

    NOT_CLEAN = {"IntegrityError", "MissingParent"}  # a key in two parts, say: the whole-file path decides

    def __init__(self, engine: Engine):
        context = multiprocessing.get_context("fork")
        self._replies, replies_end = context.Pipe(duplex=False)
        orders_end, self._orders = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_write_batch,
            args=(engine, orders_end, replies_end, (self._orders, self._replies)),
            name="ingest-writer",
            daemon=True,
        )
        self._process.start()
        orders_end.close()
        replies_end.close()
        self._pending: queue.Queue = queue.Queue()
        self._send_failure: BaseException | None = None
        self._finishing = False
        self._sender = threading.Thread(target=self._send, name="ingest-orders", daemon=True)
        self._sender.start()

    def __enter__(self) -> _WriterProcess:
        return self

    def order(self, *order) -> None:
        """Send an order; raise at once if the writer or the sending has failed."""
        self._check_sending()
        if self._replies.poll():
            self.reply("(any)")
        if order[0] == "finish":
            self._finishing = True
        self._pending.put(order)

    def reply(self, expected: str) -> tuple:
        """Wait for the writer's next word; raise if it failed, or ended or stopped hearing from us."""
        while not self._replies.poll(REPLY_POLL_SECONDS):
            self._check_sending()
            if not self._process.is_alive() and not self._replies.poll():
                self._ended()
        try:
            kind, *payload = self._replies.recv()
        except EOFError:
            self._ended()
        if kind == "failed":
            name, details = payload
            if name in self.NOT_CLEAN:
                raise _NotClean(f"the writer met {name}")
            raise RuntimeError(f"writing the batch failed; nothing was written:\n{details}")
        if kind != expected:
            raise RuntimeError(f"the writing process said {kind!r}, expected {expected!r}")
        return tuple(payload)

    def _ended(self):
        if self._finishing:  # it may have committed before it ended
            raise RuntimeError("the writing process ended before confirming the batch; "
                               "see `innovation-monitor batches` for whether it was loaded")
        raise RuntimeError("the writing process ended unexpectedly; nothing was written")

    def _check_sending(self) -> None:
        if self._send_failure is not None:
            raise RuntimeError("sending values to the writing process failed; nothing was written") \
                from self._send_failure

    def _send(self) -> None:
        try:
            while (order := self._pending.get()) is not None:
                self._orders.send(order)
        except BaseException as exc:  # noqa: BLE001 - raised in the loading thread (_check_sending)
            self._send_failure = exc
            self._orders.close()  # the writer sees the pipe close and rolls back

    def __exit__(self, *exc) -> None:
        try:
            self._pending.put(None)  # no more orders: a writer still waiting for one rolls back
            self._sender.join(timeout=60)
        finally:
            self._orders.close()
            self._process.join(timeout=60)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
            self._replies.close()


def _write_batch(engine: Engine, orders, replies, parents_ends: tuple) -> None:
    """The writing process: wait for "begin", hold the write transaction, open the batch, write each part
    (saying "written" when asked to), and commit on "finish". The pipe closing before that rolls everything
    back."""
    for end in parents_ends:  # inherited copies: kept open, the orders pipe would never close
        end.close()
    # The parent's output streams may have been locked by another of its threads (a progress spinner) at
    # the fork; this process says everything through the pipe and never touches them.
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - closed by os._exit with the process
    engine.dispose(close=False)  # the parent's pooled connections are its own: open new ones
    try:
        if orders.recv()[0] != "begin":
            return
        with db.writing(engine, bulk=True) as conn:
            replies.send(("locked",))
            _, batch = orders.recv()
            batch_id, now = store.open_batch(conn, **batch)
            while True:
                kind, *payload = orders.recv()
                if kind == "finish":
                    store.set_batch_counts(conn, batch_id, payload[0])
                    break
                new_regions, new_publications, diff, confirm = payload
                store.create_regions(conn, new_regions)
                store.create_publications(conn, new_publications)
                if diff is not None:
                    store.write_changes(conn, batch_id, now, diff)
                if confirm:
                    replies.send(("written",))
        replies.send(("committed", batch_id))
    except EOFError:  # the loading process stopped or died: rolled back
        pass
    except BaseException as exc:  # noqa: BLE001 - reported to the loading process
        try:
            replies.send(("failed", type(exc).__name__, traceback.format_exc()))
        except OSError:
            pass
    finally:
        engine.dispose()


def _indicator_codes(texts: pd.DataFrame, layout: Layout, catalog: Catalog) -> list[str]:
    """Every indicator the file may name (whose stored values the diff needs), found without reporting."""
    fields = [f for f in ("indicator", "indicator_name") if f in layout.fields]
    distinct = Distinct.of([texts[f] for f in fields])
    found = {catalog.find_indicator(name) for key in distinct.keys for name in key if name}
    return sorted(code for code in found if code)


def _split(texts: pd.DataFrame, size: int):
    """Parts of about ``size`` value cells; a line's cells (a wide row's years) stay in one part."""
    lines = texts["row"].to_numpy()
    start = 0
    while start < len(texts):
        end = min(start + size, len(texts))
        while end < len(texts) and lines[end] == lines[end - 1]:
            end += 1
        yield texts.iloc[start:end].reset_index(drop=True)
        start = end


def _checked_part(
    texts: pd.DataFrame,
    layout: Layout,
    catalog: Catalog,
    names: tuple[RegionNames, PublicationNames],
    options: IngestOptions,
    stored: store.StoredKeys,
    jumps: JumpReference,
    file_name: str,
    keep: list[str],
) -> _Part:
    """Interpret and check one part as :func:`~.entry.parse_file` does the whole file; raise _NotClean at the
    first error or repeated key. ``stored`` and ``jumps``: the current values, indexed once per file; ``keep``:
    the stored columns the file says nothing about (``diff.says_nothing_of``)."""
    report = Report(file_name)
    rows, new_regions = interpret(texts, layout, catalog, *names, options, report)
    if rows.empty:  # every value of this part is missing: fine, unless the whole file is so (see _joined)
        return _Part(rows, new_regions, report, pd.DataFrame(), _named_publications(texts))
    if not report.ok or (rows["status"] != "ok").any():
        raise _NotClean("errors")
    if len(validation.check_observations(rows, report, options.year_range, layout.field_headers(),
                                         names[1].citable(report), options.latest_date)):
        raise _NotClean("errors")
    # A repeated key needs no look here: a new one fails in the writer (unique key), a stored one is
    # found in _joined (the same stored row matched twice); either way the whole file decides.
    frame = ParsedFile(file_name, "", report, rows, new_regions).observations()
    # No connection here: with ``keys`` given, the diff reads nothing.
    diff = store.diff_against_current(None, frame, keys=stored, keep=keep)  # type: ignore[arg-type]
    diff = with_changes(diff, stored.current, stored)
    if not stored.current.empty:
        ok = rows[[*KEY, "value", "row", "column"]].astype({"year": "int64"})
        ok["old_value"] = diff["old_value"].to_numpy()
        validation.check_jumps(ok, jumps, report)
    return _Part(rows, new_regions, report, diff, _named_publications(texts))


def _named_publications(texts: pd.DataFrame) -> pd.DataFrame:
    """Publisher, title (folded) and date text of the lines that name their publication by publisher and
    title. A publication with two dates in the file is an error there, whatever the parts: if two parts
    give two (counting lines without a value too, so this may say so when the file does not), the whole
    file decides."""
    if not {"publisher", "publication_title"} <= set(texts.columns):
        return pd.DataFrame(columns=["publisher", "title", "date"])
    def folded(column: str) -> pd.Series:
        return texts[column].fillna("").map(normalise_name) if column in texts else pd.Series("", index=texts.index)
    frame = pd.DataFrame({"publisher": folded("publisher"), "title": folded("publication_title"),
                          "date": folded("published_on")})
    named = (frame["publisher"] != "") & (frame["title"] != "") & (folded("publication") == "")
    return frame[named].drop_duplicates()


def _consistent(parts: list[_Part]) -> dict[str, int]:
    """Raise _NotClean when the parts disagree (a key in two parts, a new region named two ways, a
    publication with two dates) or hold
    no value at all; otherwise return the counts of new, revised and unchanged values."""
    counted = [p for p in parts if not p.rows.empty]
    if not counted:
        raise _NotClean("no values")
    # A key in two parts: a new key's second insert fails in the writer (unique key: IntegrityError, not
    # clean); a stored key may be left unchanged by both, so look for the same stored row matched twice.
    matched = np.concatenate([p.diff["current_id"].to_numpy(dtype=float) for p in counted])
    matched = matched[~np.isnan(matched)]
    if len(np.unique(matched)) < len(matched):
        raise _NotClean("a stored key in two parts")
    proposals = pd.concat([p.new_regions for p in parts], ignore_index=True)
    first = proposals.drop_duplicates("code")
    if len(first) < len(proposals):
        names = first.set_index("code").loc[proposals["code"], ["name_zh", "name_en"]].fillna("").to_numpy()
        if (proposals[["name_zh", "name_en"]].fillna("").to_numpy() != names).any():
            raise _NotClean("a new region named two ways")
    named = pd.concat([p.named for p in parts], ignore_index=True).drop_duplicates()
    if named.duplicated(["publisher", "title"]).any():
        raise _NotClean("a publication with two dates")
    counts = [store.diff_counts(p.diff) for p in counted]
    return {status: sum(c[status] for c in counts) for status in ("new", "revised", "unchanged")}


def _joined(file_name: str, checksum: str, report: Report, parts: list[_Part], options: IngestOptions) -> ParsedFile:
    """The whole file from parts that are consistent (see :func:`_consistent`), with the report
    :func:`~.entry.parse_file` makes: counts added up, one entry per conversion and per new region, the
    default-confidence note once."""
    counted = [p for p in parts if not p.rows.empty]
    rows = pd.concat([p.rows for p in counted], ignore_index=True)
    new_regions = pd.concat([p.new_regions for p in parts], ignore_index=True).drop_duplicates("code")
    new_regions = new_regions.reset_index(drop=True)
    first: dict[str, dict] = {}  # each new region as the first part that names it says it
    for part in parts:
        for region in part.report.new_regions:
            first.setdefault(region["code"], region)
    report.new_regions = list(first.values())
    named: dict[str, dict] = {}  # each new publication as the first part that names it says it
    for part in parts:
        for publication in part.report.new_publications:
            named.setdefault(publication["id"], publication)
    report.new_publications = list(named.values())
    conversions: dict[tuple, dict] = {}
    for part in parts:
        for c in part.report.conversions:
            key = (c["indicator"], c["from_unit"], c["factor"])
            if key in conversions:
                conversions[key]["count"] += c["count"]
            else:
                conversions[key] = dict(c)
    report.conversions = list(conversions.values())
    file_level = {"NO_VALUES", "CONFIDENCE_DEFAULTED"}  # said once for the whole file, below
    for part in parts:
        report.add_problems_of(part.report, skip=file_level)
    defaulted = sum(p.report.tallies.get("confidence_defaulted", 0) for p in parts)
    report.tallies["confidence_defaulted"] = defaulted
    if defaulted:
        report.add("CONFIDENCE_DEFAULTED", count=defaulted, confidence=options.confidence or DEFAULT_CONFIDENCE)
    values = len(rows)
    report.counts["missing"] = sum(p.report.counts.get("missing", 0) for p in parts)
    report.counts["values"] = values
    report.counts.update({"duplicates": 0, "valid": values, "rejected": report.counts.get("unreadable", 0)})
    diff = pd.concat([p.diff for p in counted], ignore_index=True)
    return ParsedFile(file_name, checksum, report, rows, new_regions, diff=diff)
