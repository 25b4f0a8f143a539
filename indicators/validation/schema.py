"""The pandera schema every parsed observation must meet, and the check that runs it over an upload.

What belongs here: the rules on single values (year in range, shares within 0–100, ranks whole and
positive, a known confidence level, a source, a real publication date not in the future, flags from the
code set of ``indicators.flags``) and the messages of their codes. What does not: reading the values out of a file
(``indicators.ingest``, which also turns the names of flags into their codes), rules across rows
(``duplicates``) or against the stored series (``jumps``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date

import numpy as np
import pandas as pd
import pandera.pandas as pa

from indicators import flags
from indicators.i18n import Text
from indicators.validation.messages import Message, register
from indicators.validation.report import Report

CONFIDENCE_LEVELS = ("high", "medium", "low")
ISO_DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"

PROBLEMS = register({
    "YEAR_OUT_OF_RANGE": Message(
        "error",
        "row",
        Text(
            "年份 {value} 不在允许的范围 {low}–{high} 内。",
            "Year {value} is outside {low}–{high}.",
        ),
    ),
    "SHARE_OUT_OF_RANGE": Message("error", "row", Text("比重 {value} 不在 0–100 的范围内。", "Share {value} is outside 0–100.")),
    "RANK_INVALID": Message("error", "row", Text("排名 {value} 不是正整数。", "Rank {value} is not a positive whole number.")),
    "CONFIDENCE_INVALID": Message(
        "error",
        "row",
        Text(
            "可信度“{value}”无效(应为 high/medium/low 或 高/中/低)。",
            "Confidence '{value}' is not valid (use high/medium/low, or 高/中/低).",
        ),
    ),
    "SOURCE_MISSING": Message(
        "error",
        "row",
        Text(
            "没有数据来源。每个数值都必须注明来源:请加“来源”列,或用 --source 为整个文件指定。",
            "No source. Every value needs one: add a 'source' column, or give --source for the whole file.",
        ),
    ),
    "DATE_INVALID": Message(
        "error",
        "row",
        Text(
            "发布日期“{value}”无效(应为 2024-05-31、2024-05 或 2024 这样的日期)。",
            "Publication date '{value}' is not valid (expected a date such as 2024-05-31, 2024-05 or 2024).",
        ),
    ),
    "DATE_IN_FUTURE": Message(
        "error",
        "row",
        Text(
            "发布日期“{value}”晚于今天({latest} 之后),不可能已经发布。请检查日期。",
            "Publication date '{value}' is after today (later than {latest}): it cannot have been published yet. "
            "Check the date.",
        ),
    ),
    "PUBLICATION_UNKNOWN": Message(
        "error",
        "row",
        Text(
            "出处文献“{value}”既不在目录的文献清单(publications.yaml)中,也不是此前上传所建。新文献请改用“发布机构”和"
            "“文献标题”两列。",
            "Publication '{value}' is neither in the catalog's publications (publications.yaml) nor one an earlier "
            "upload created. For a new one, give its publisher and title columns instead.",
        ),
    ),
    "FLAG_UNKNOWN": Message(
        "error",
        "row",
        Text(
            "标记“{value}”无法识别:标记只能是代码 p、e、b、d、r、u(多个时以空格或逗号分隔),或其中文名称(如 "
            "初步数、估计数、序列断点、口径不同、修订数、可靠性低)或英文名称(如 provisional)。",
            "Flag '{value}' is not recognised: flags are the codes p, e, b, d, r, u (several separated by spaces or "
            "commas) or their names in Chinese (e.g. 初步数) or English (provisional, estimated, break in series, "
            "definition differs, revised, low reliability).",
        ),
    ),
})


def observation_schema(
    year_range: tuple[int, int], publications: Collection[str] = (), latest_date: date | None = None
) -> pa.DataFrameSchema:
    """Rules every parsed observation must meet. Check names are the problem codes they report.

    ``publications``: the ids a value may cite; ``latest_date``: the latest publication date (None: no limit).

    Columns hold NaN where parsing already failed (reported by the parser); checks ignore those.
    """
    low, high = year_range
    return pa.DataFrameSchema(
        {
            "year": pa.Column(
                "Int64", pa.Check(lambda s: s.between(low, high), name="YEAR_OUT_OF_RANGE"), nullable=True
            ),
            "confidence": pa.Column(
                None, pa.Check(lambda s: s.isin(CONFIDENCE_LEVELS), name="CONFIDENCE_INVALID"), nullable=True
            ),
            "source": pa.Column(
                None,
                pa.Check(lambda s: s.notna() & (s != ""), ignore_na=False, name="SOURCE_MISSING"),
                nullable=True,
            ),
            "published_on": pa.Column(
                None,
                [
                    pa.Check(_real_dates, name="DATE_INVALID"),
                    pa.Check(lambda s: _not_after(s, latest_date), name="DATE_IN_FUTURE"),
                ],
                nullable=True,
            ),
            "publication_id": pa.Column(
                None, pa.Check(lambda s: s.isin(list(publications)), name="PUBLICATION_UNKNOWN"), nullable=True
            ),
            "flag": pa.Column(
                None,
                pa.Check(_flag_codes, name="FLAG_UNKNOWN"),
                nullable=True,
            ),
        },
        checks=[
            pa.Check(
                lambda d: (d["kind"] != "share") | d["value"].isna() | d["value"].between(0, 100),
                name="SHARE_OUT_OF_RANGE",
            ),
            pa.Check(
                lambda d: (
                    (d["kind"] != "rank") | d["value"].isna() | ((d["value"] >= 1) & (d["value"] % 1 == 0))
                ),
                name="RANK_INVALID",
            ),
        ],
    )


def is_iso_date(text: str) -> bool:
    """'2024-05-31', '2024-05' or '2024', and a real day of the calendar."""
    if not re.fullmatch(ISO_DATE, text):
        return False
    parts = [int(p) for p in text.split("-")]
    try:
        date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError:
        return False
    return True


def _flag_codes(column: pd.Series) -> pd.Series:
    """Flags as stored: codes of :data:`indicators.flags.FLAGS`, in its order, separated by single spaces."""
    verdicts = {v: " ".join(flags.codes(v)) == v != "" for v in column.dropna().unique()}
    return column.astype(object).map(verdicts).fillna(True).astype(bool)


def _real_dates(column: pd.Series) -> pd.Series:
    verdicts = {v: is_iso_date(str(v)) for v in column.dropna().unique()}
    return column.astype(object).map(verdicts).fillna(True).astype(bool)


def _not_after(column: pd.Series, latest: date | None) -> pd.Series:
    """A real date whose period (a day, a month or a year) begins after ``latest`` fails; others pass (an
    unreal date is DATE_INVALID's)."""
    if latest is None:
        return pd.Series(True, index=column.index)
    verdicts = {v: not is_iso_date(str(v)) or _period_start(str(v)) <= latest for v in column.dropna().unique()}
    return column.astype(object).map(verdicts).fillna(True).astype(bool)


def _period_start(text: str) -> date:
    parts = [int(p) for p in text.split("-")]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


# The field each check is about, and the frame's column holding the text to show.
CHECKED_CELL = {
    "YEAR_OUT_OF_RANGE": ("year", "year"),
    "CONFIDENCE_INVALID": ("confidence", "confidence"),
    "SOURCE_MISSING": ("source", "source"),
    "DATE_INVALID": ("published_on", "published_on"),
    "DATE_IN_FUTURE": ("published_on", "published_on"),
    "FLAG_UNKNOWN": ("flag", "flag"),
    "PUBLICATION_UNKNOWN": ("publication", "publication_id"),
    "SHARE_OUT_OF_RANGE": ("value", "raw"),
    "RANK_INVALID": ("value", "raw"),
}


def check_observations(
    frame: pd.DataFrame, report: Report, year_range: tuple[int, int], headers: Mapping[str, str | None],
    publications: Collection[str] = (), latest_date: date | None = None,
) -> np.ndarray:
    """Run the pandera schema over parsed observations; report failures; return the failing positions.

    ``frame`` holds, per observation: ``row`` (file line), ``column`` and ``raw`` (the value cell's header
    and text), ``year_column`` (the header the year came from: the value's own in a wide file), ``kind``,
    ``year``, ``value``, ``source``, ``confidence``, ``published_on`` and ``flag``. ``headers`` names the
    file column of each other field (None when the file has none: the value came from a default).
    """
    checked = frame[["year", "value", "kind", "source", "confidence", "published_on", "flag", "publication_id"]].copy()
    checked["year"] = checked["year"].astype("Int64")
    checked["publication_id"] = checked["publication_id"].astype(object)
    try:
        observation_schema(year_range, publications, latest_date).validate(checked, lazy=True)
        return np.array([], dtype=np.int64)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    unexpected = set(cases["check"]) - set(CHECKED_CELL)
    if unexpected:
        raise RuntimeError(f"observation schema failed unexpectedly: {sorted(map(str, unexpected))}")
    cases = cases.dropna(subset=["index"]).drop_duplicates(["check", "index"])
    failing = []
    for code, group in cases.groupby("check", sort=False):
        positions = frame.index.get_indexer(group["index"].astype("int64"))
        field_name, text_col = CHECKED_CELL[code]
        rows = frame.iloc[positions]
        if field_name in ("value", "year"):
            columns = rows["column" if field_name == "value" else "year_column"].to_numpy()
        else:
            columns = headers.get(field_name)
        report.add_rows(
            str(code),
            pd.DataFrame(
                {
                    "row": rows["row"].to_numpy(),
                    "column": columns,
                    "value": rows[text_col].to_numpy(),
                }
            ),
            low=year_range[0],
            high=year_range[1],
            latest=latest_date.isoformat() if latest_date else "",
        )
        failing.append(positions)
    return np.unique(np.concatenate(failing))

