"""Tables as the app hands them out for spreadsheets: what has to change in a DataFrame before it is
written as CSV or Excel that people open in Excel or WPS.

What belongs here: :func:`csv_safe` (text a spreadsheet would run as a formula, neutralised). What does
not: reading CSV files (``ingest``), the CSV text and bytes themselves (``export.csv_text``), images
(``export``).
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
