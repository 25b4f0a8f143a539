"""Keys given more than once inside one file: identical repeats (a warning, the first is kept) and the same
key with different contents (an error on every line involved).

What belongs here: that check and the messages of its codes. What does not: a key already stored (that is
a revision, found by the diff in ``indicators.ingest``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.i18n import Text
from indicators.store import KEY, PAYLOAD
from indicators.validation.messages import Message, register
from indicators.validation.report import Report

PROBLEMS = register({
    "KEY_DUPLICATE": Message(
        "error",
        "row",
        Text(
            "{indicator} / {region} / {year} 在文件中出现多次且内容不同(另见第 {other_rows} 行)。",
            "{indicator} / {region} / {year} appears more than once with different contents (see also line(s) "
            "{other_rows}).",
        ),
    ),
    "ROW_DUPLICATE": Message(
        "warning",
        "row",
        Text(
            "与第 {other_row} 行完全相同,已忽略。",
            "Identical to line {other_row}; ignored.",
        ),
    ),
})


def key_codes(frame: pd.DataFrame) -> np.ndarray:
    """One integer per (indicator, region, year); -1 where a part is missing. Hashing three text columns
    per row is what makes duplicate checks slow; integers are cheap."""
    codes = np.zeros(len(frame), dtype=np.int64)
    missing = np.zeros(len(frame), dtype=bool)
    for col in KEY:
        column_codes, uniques = pd.factorize(frame[col])
        missing |= column_codes < 0
        codes = codes * (len(uniques) + 1) + column_codes + 1
    return np.where(missing, -1, codes)


def check_duplicates(frame: pd.DataFrame, report: Report) -> tuple[np.ndarray, np.ndarray]:
    """Keys given more than once. Returns (positions in error, positions of repeats to drop).

    Identical repeats are a warning and only the first is kept; the same key with different contents is an
    error on every line involved, naming the others.
    """
    none = np.array([], dtype=np.int64)
    keys = pd.Series(key_codes(frame))
    repeated_at = np.flatnonzero((keys >= 0).to_numpy() & keys.duplicated(keep=False).to_numpy())
    if len(repeated_at) == 0:
        return none, none
    repeated = frame.iloc[repeated_at].assign(_key=keys.to_numpy()[repeated_at])
    text = repeated[PAYLOAD].astype(object).where(repeated[PAYLOAD].notna(), "").astype(str)
    distinct = text.assign(_key=repeated["_key"]).groupby("_key", sort=False)[PAYLOAD].nunique()
    conflicting = distinct.index[(distinct > 1).any(axis=1)]
    in_conflict = repeated["_key"].isin(conflicting).to_numpy()
    errors = repeated[in_conflict]
    if len(errors):
        lines = errors.groupby("_key", sort=False)["row"].agg(lambda r: sorted(set(r.tolist())))
        others = [
            ", ".join(str(x) for x in lines.loc[k] if x != row) or str(row)
            for k, row in zip(errors["_key"], errors["row"], strict=True)
        ]
        _add_rows(report, "KEY_DUPLICATE", errors, indicator=errors["indicator_code"].to_numpy(),
                  region=errors["region_code"].to_numpy(), year=errors["year"].to_numpy(), other_rows=others)
    identical = repeated[~in_conflict]
    drop = identical[identical["_key"].duplicated(keep="first")]
    if len(drop):
        first_row = identical.drop_duplicates("_key").set_index("_key")["row"]
        _add_rows(report, "ROW_DUPLICATE", drop, other_row=first_row.loc[drop["_key"]].to_numpy())
    position = pd.Series(np.arange(len(frame)), index=frame.index)
    return position.loc[errors.index].to_numpy(), position.loc[drop.index].to_numpy()



def _add_rows(report: Report, code: str, lines: pd.DataFrame, **params) -> None:
    """One problem per line of ``lines`` (with its row, column and raw value), with ``params`` for the message."""
    report.add_rows(code, pd.DataFrame({
        "row": lines["row"].to_numpy(), "column": lines["column"].to_numpy(), "value": lines["raw"].to_numpy(),
        **params,
    }))
