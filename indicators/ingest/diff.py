"""Validation of the interpreted rows and comparison with the database: the pandera checks and duplicate
keys (``validation``), then, with a database, the diff against the stored values (new, revised or
unchanged, and what a revision changes) and the jump warnings.

What belongs here: :func:`validate` (for a whole file), :func:`with_changes` and :func:`says_nothing_of`,
also used part by part by ``overlapped``. What does not: the checks themselves (``validation``), writing
(``store``).

A file with no column for a value's publication (or its flags) says nothing about them: a value it gives
again with the same number and source keeps the stored ones, on every path (``store.diff_against_current``
does it, with the columns :func:`says_nothing_of` names; the report records them as ``file.keeps_stored``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from indicators import store, validation
from indicators.catalog import Catalog
from indicators.ingest.fields import IngestOptions
from indicators.ingest.result import ParsedFile
from indicators.store import KEY, PAYLOAD
from indicators.validation import JumpReference, Report

# Payload column -> the fields of a file that speak of it.
KEPT_UNLESS_GIVEN = {"publication_id": ("publication", "publisher", "publication_title"), "flag": ("flag",)}


def validate(
    parsed: ParsedFile,
    catalog: Catalog,
    options: IngestOptions,
    conn: Connection | None,
    headers: dict[str, str],
    citable: Collection[str],
) -> None:
    """pandera checks, duplicates inside the file, then (with a database) the diff and the jump warnings.
    ``citable``: the publication ids a value may cite (``PublicationNames.citable``)."""
    rows, report = parsed.rows, parsed.report
    if rows.empty:
        report.counts.setdefault("duplicates", 0)
        report.counts.setdefault("valid", 0)
        report.counts.setdefault("rejected", report.counts.get("unreadable", 0))
        return
    failing = validation.check_observations(rows, report, options.year_range, headers, citable,
                                            options.latest_date)
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
    diff = store.diff_against_current(conn, frame, keys=keys, keep=kept_columns(parsed.report))
    parsed.diff = with_changes(diff, current, keys)
    if current.empty:  # nothing stored to jump from (a first upload of these indicators)
        return
    ok = rows.loc[status == "ok", [*KEY, "value", "row", "column"]].astype({"year": "int64"})
    ok["old_value"] = parsed.diff["old_value"].to_numpy()  # the diff keeps the order of the valid rows
    kinds = {c: ind.kind for c, ind in catalog.indicators.items()}
    validation.check_jumps(ok, JumpReference(current, kinds), report)


def says_nothing_of(headers: Mapping[str, str]) -> list[str]:
    """The payload columns a file with these fields (``Layout.field_headers``) says nothing about: a value it
    gives again with the same number and source keeps the stored ones (``store.diff_against_current``)."""
    return [col for col, fields in KEPT_UNLESS_GIVEN.items() if not any(headers.get(f) for f in fields)]


def kept_columns(report: Report) -> list[str]:
    """:func:`says_nothing_of` a file, as its report records it (``file.keeps_stored``)."""
    return list(report.file.get("keeps_stored") or [])


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
