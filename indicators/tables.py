"""Tables as the app hands them out for spreadsheets: what has to change in a DataFrame before it is
written as CSV or Excel that people open in Excel or WPS.

What belongs here: :func:`csv_safe` (text a spreadsheet would run as a formula, neutralised) and the CSV
text and bytes the CLI, the downloads and the briefing packs write. What does not: reading CSV files
(``ingest``), images (``export``).
"""

from __future__ import annotations

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy for writing CSV that spreadsheets open: text starting with ``= + - @`` (or a tab or carriage
    return) gets a leading apostrophe, so Excel shows it as text instead of running it as a formula.

    Numbers are left alone (a negative number is not a formula); only text cells change.
    """
    out = frame.copy()
    for col in out.columns:
        column = out[col]
        if not (column.dtype == object or pd.api.types.is_string_dtype(column.dtype)):
            continue
        risky = column.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_PREFIXES)).astype(bool)
        if risky.any():
            out[col] = column.astype(object).where(~risky, "'" + column.astype(object).where(risky, ""))
    return out


def csv_text(frame: pd.DataFrame, line_end: str = "\r\n") -> str:
    """CSV as the app writes it everywhere (CLI, downloads, briefing packs): text that a spreadsheet would
    run as a formula is neutralised first. CRLF by default, as Excel writes it."""
    return csv_safe(frame).to_csv(index=False, lineterminator=line_end)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """:func:`csv_text` as UTF-8 with a byte-order mark, so Excel opens Chinese correctly."""
    return csv_text(frame).encode("utf-8-sig")
