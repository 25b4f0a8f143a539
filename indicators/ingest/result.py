"""A file as understood, before anything is written: :class:`ParsedFile`, its JSON form (what the CLI
prints and the upload page shows), and :class:`UploadRejected`, raised when a rejected file is committed.

What belongs here: the result's shape (the columns of its rows and new regions), its counts and verdict,
and the report a file starts with. What does not: how the rows are found (``decode`` to ``diff``), how
they are written (``entry``, ``overlapped``, ``store``), the report's problems as text (``validation.render``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from indicators.i18n import BilingualError, Text
from indicators.store import KEY, PAYLOAD, BatchResult
from indicators.validation import Report

ROW_COLUMNS = [
    "row", "column", "raw", "indicator_code", "kind", "unit", "region_code", "year", "value", "source",
    "confidence", "note", "flag", "publication_id", "published_on", "unit_given", "factor", "status",
]
NEW_REGION_COLUMNS = ["code", "name_zh", "name_en", "kind", "kind_assumed", "iso3", "row"]


@dataclass
class ParsedFile:
    """A file as understood, before anything is written. ``rows`` has one row per value found:

    ``row`` and ``column`` (where it is in the file), ``raw`` (the cell as written), the resolved
    ``indicator_code``, ``region_code``, ``year``, ``value`` (in the indicator's unit), ``source``,
    ``confidence``, ``note``, ``flag``, ``published_on``, ``unit_given`` and ``factor`` (a conversion), and
    ``status``: ``ok``, ``error`` (a problem in the report) or ``duplicate`` (repeat of an identical line).
    """

    file_name: str
    checksum: str | None  # None for a file not read at all (over the size limit)
    report: Report
    rows: pd.DataFrame
    new_regions: pd.DataFrame
    diff: pd.DataFrame | None = None
    already_loaded_as: int | None = None
    # The stored values the diff was made against, and the latest batch when they were read: loading
    # reuses them if no batch came since (every change to the observations is a batch).
    stored: pd.DataFrame | None = None
    stored_as_of_batch: int | None = None

    @property
    def ok(self) -> bool:
        return self.report.ok

    @property
    def n_skipped(self) -> int:
        """Missing values and repeated identical lines: not loaded, not errors."""
        return int(self.report.counts.get("missing", 0) + self.report.counts.get("duplicates", 0))

    @property
    def n_rejected(self) -> int:
        return int(self.report.counts.get("rejected", 0))

    def rejected(self, skip_invalid: bool = False) -> bool:
        """Nothing of this file may be loaded: an error about the whole file, any error (unless
        ``skip_invalid``), or no valid value at all."""
        report = self.report
        return report.fatal or (not report.ok and not skip_invalid) or report.counts.get("valid", 0) == 0

    def outcome(self, status: str, result: BatchResult | None = None, with_diff: bool = False) -> dict:
        """What the CLI prints as JSON and the upload page shows: the report, the status and the counts.

        ``status``: loaded, already_loaded, rejected, checked (a dry run) or not_loaded (another file of the
        same command was rejected). ``with_diff`` lists every new and revised value (old -> new).
        """
        diff = (
            self.diff
            if self.diff is not None
            else pd.DataFrame(columns=[*KEY, "value", "old_value", "status"])
        )
        counts = diff["status"].value_counts() if len(diff) else pd.Series(dtype=int)
        out: dict[str, Any] = {
            "file": self.file_name,
            "status": status,
            "batch": result.batch_id if result is not None else None,
            "already_loaded_as": (result.already_loaded_as if result is not None else None)
            or self.already_loaded_as,
            "diff_counts": {s: int(counts.get(s, 0)) for s in ("new", "revised", "unchanged")},
            "batch_counts": None
            if result is None or result.batch_id is None
            else {
                "new": result.n_new,
                "revised": result.n_revised,
                "unchanged": result.n_unchanged,
                "skipped": result.n_skipped,
                "rejected": result.n_rejected,
            },
            "report": self.report.to_dict(),
        }
        if with_diff:
            changed = diff[diff["status"] != "unchanged"]
            out["diff"] = [
                {
                    "indicator": r.indicator_code,
                    "region": r.region_code,
                    "year": int(r.year),
                    "status": r.status,
                    "old_value": None if pd.isna(r.old_value) else float(r.old_value),
                    "value": float(r.value),
                    "changed": r.changed,
                }
                for r in changed.itertuples(index=False)
            ]
        return out

    def observations(self) -> pd.DataFrame:
        """The valid values as ``store.apply_batch`` takes them (KEY + PAYLOAD, one row per key)."""
        valid = self.rows[self.rows["status"] == "ok"]
        # Key columns as plain text; the payload's texts stay categorical (a few distinct values, each
        # converted once when bound).
        frame = valid[KEY + PAYLOAD].astype({c: object for c in KEY if c != "year"}).reset_index(drop=True)
        frame["year"] = frame["year"].astype("int64")
        frame["value"] = frame["value"].astype("float64")
        return frame


class UploadRejected(BilingualError):
    """``commit`` was asked to load a file whose report has errors (and ``skip_invalid`` was not given), or
    one without a valid value. ``parsed`` is the file; ``text`` says why in both languages."""

    def __init__(self, parsed: ParsedFile, text: Text):
        self.parsed = parsed
        super().__init__(text, detail=parsed.file_name)


def new_report(file_name: str, size: int) -> Report:
    """The report a file starts with: its name and size; encoding, delimiter, layout and header to come."""
    report = Report(file_name)
    report.file.update(
        {"size": size, "encoding": None, "delimiter": None, "layout": None, "header_row": None}
    )
    return report


def unreadable(file_name: str, checksum: str | None, report: Report) -> ParsedFile:
    """A file that could not be read as a table: its report, and no rows."""
    for key in ("rows", "values", "missing", "duplicates", "valid", "rejected"):
        report.counts.setdefault(key, 0)
    return ParsedFile(file_name, checksum, report, empty_rows(), empty_new_regions())


def empty_rows() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ROW_COLUMNS})


def empty_new_regions() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in NEW_REGION_COLUMNS})
