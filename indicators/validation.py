"""The upload report, and the checks that judge an upload: a report, never an exception.

What belongs here: :class:`Report` (problems with severity, file line, column, value, a machine code and a
message in Chinese and English, plus the file's facts and counts) with its JSON form; the message catalogue
:data:`MESSAGES`; the checks on the raw bytes (size, empty, binary or Excel file renamed ``.csv``); the
pandera schema for parsed observations (years, shares, ranks, confidence, source, dates, flags); duplicate
keys inside a file; and implausible jumps against the stored series.

What does not: reading CSV text, matching names and parsing numbers (``ingest``); writing (``store``).

A problem's ``row`` is the line number in the file as a text editor shows it (the header is usually line
1; a quoted value spanning lines counts all its lines). ``column`` is the file's own header text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa

Severity = Literal["error", "warning"]
Scope = Literal["file", "row"]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
CONFIDENCE_LEVELS = ("high", "medium", "low")
FLAG_MAX_LENGTH = 40  # observations.flag is VARCHAR(40)
ISO_DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"
KEY = ["indicator_code", "region_code", "year"]
PAYLOAD = ["value", "source", "confidence", "note", "flag", "published_on"]

# A stored neighbour within this many years is the reference for the jump check.
JUMP_MAX_YEAR_GAP = 5
# Levels and counts: a value more than this many times (or less than 1/this of) the reference.
JUMP_RATIO = 3.0
# Shares and growth rates: a change of more than this many percentage points.
JUMP_POINTS = {"share": 10.0, "growth_rate": 20.0}

PROBLEM_COLUMNS = ["severity", "row", "column", "value", "code", "message_zh", "message_en"]


@dataclass(frozen=True)
class Message:
    severity: Severity
    scope: Scope  # a 'file' error rejects the whole file, also with --skip-invalid
    zh: str
    en: str


MESSAGES: dict[str, Message] = {
    # The file as a whole.
    "FILE_EMPTY": Message("error", "file", "文件为空。", "The file is empty."),
    "FILE_TOO_LARGE": Message(
        "error",
        "file",
        "文件大小为 {size_mb} MB,超过上限 {limit_mb} MB。请拆分文件,或由管理员调高上限。",
        "The file is {size_mb} MB, above the limit of {limit_mb} MB. Split it, or ask an administrator to "
        "raise the limit.",
    ),
    "NOT_CSV": Message(
        "error",
        "file",
        "这不是 CSV 文件,而是{what_zh}。请在 Excel 中“另存为”“CSV UTF-8(逗号分隔)”后再上传该文件。",
        "This is not a CSV file but {what_en}. In Excel, use Save As › 'CSV UTF-8 (Comma delimited)' and "
        "upload that file.",
    ),
    "ENCODING_INVALID": Message(
        "error",
        "file",
        "文件不能按 {encoding} 编码读取(第 {row} 行有无效字节)。请检查 --encoding,或去掉它以自动识别编码。",
        "The file cannot be read as {encoding} (invalid bytes on line {row}). Check --encoding, or leave it "
        "out to detect the encoding.",
    ),
    "ENCODING_UNKNOWN": Message(
        "error",
        "file",
        "无法识别文件编码。请用 --encoding 指定(如 gb18030 或 utf-8)。",
        "Could not detect the file's encoding. Give it with --encoding (e.g. gb18030 or utf-8).",
    ),
    "ENCODING_AMBIGUOUS": Message(
        "warning",
        "file",
        "文件编码不能完全确定:可能是 {encoding},也可能是 {alternatives}。已按 {encoding} 读取(如“{sample}”);"
        "如有乱码,请用 --encoding 指定。",
        "The encoding is uncertain: {encoding}, or {alternatives}. Read as {encoding} (e.g. '{sample}'); if "
        "the text looks garbled, give --encoding.",
    ),
    "ENCODING_ASSUMED": Message(
        "warning",
        "file",
        "无法可靠识别文件编码;文件内容符合 {encoding} 编码,已按 {encoding} 读取(如“{sample}”)。"
        "如有乱码,请用 --encoding 指定。",
        "The encoding could not be detected reliably; the bytes are valid {encoding}, so the file was "
        "read as {encoding} (e.g. '{sample}'). If the text looks garbled, give --encoding.",
    ),
    "HEADER_NOT_FOUND": Message(
        "error",
        "file",
        "找不到表头:前 {lines} 行中没有一行含有可识别的列名(如 指标、地区、年份、数值)。第一行是:{value}",
        "No header found: none of the first {lines} lines has recognisable column names (such as "
        "indicator, region, year, value). The first line is: {value}",
    ),
    "HEADER_ONLY": Message(
        "error", "file", "文件只有表头,没有数据行。", "The file has a header but no data rows."
    ),
    "PREAMBLE_SKIPPED": Message(
        "warning",
        "file",
        "表头之前的第 1–{last} 行不是数据,已跳过。",
        "Lines 1–{last} before the header are not data and were skipped.",
    ),
    "COLUMN_MISSING": Message(
        "error",
        "file",
        "缺少必需的列“{field_zh}”(可用的列名如:{aliases})。",
        "Required column '{field_en}' is missing (accepted names include: {aliases}).",
    ),
    "COLUMN_DUPLICATE": Message(
        "error",
        "file",
        "列“{column}”和列“{other}”都表示“{field_zh}”,无法确定使用哪一列。",
        "Columns '{column}' and '{other}' both mean '{field_en}'; cannot tell which one to use.",
    ),
    "COLUMN_IGNORED": Message(
        "warning",
        "file",
        "无法识别列“{column}”,已忽略。",
        "Column '{column}' is not recognised and was ignored.",
    ),
    "QUOTE_UNCLOSED": Message(
        "error",
        "file",
        "第 {row} 行开始的引号没有闭合,文件在引号内结束。",
        "A quote opened on line {row} is never closed; the file ends inside it.",
    ),
    "NO_VALUES": Message(
        "error",
        "file",
        "文件中没有任何数值(所有数值单元格都为空或为缺失标记)。",
        "The file holds no values (every value cell is empty or a missing marker).",
    ),
    "CONFIDENCE_DEFAULTED": Message(
        "warning",
        "file",
        "{count} 个数值没有注明可信度,已按“{confidence}”记录。"
        "可在文件中加“可信度”列,或用 --confidence 指定。",
        "{count} value(s) have no confidence and were recorded as '{confidence}'. Add a 'confidence' "
        "column, or give --confidence.",
    ),
    # One line or cell.
    "ROW_TOO_LONG": Message(
        "error",
        "row",
        "第 {row} 行有 {count} 个字段,多于表头的 {expected} 个(是否有未加引号的分隔符?)。",
        "Line {row} has {count} fields, more than the header's {expected} (an unquoted delimiter?).",
    ),
    "CELL_EMPTY": Message("error", "row", "“{field_zh}”为空。", "The {field_en} is empty."),
    "INDICATOR_UNKNOWN": Message(
        "error",
        "row",
        "未知指标“{value}”:不是目录中的指标代码、名称或别名。",
        "Unknown indicator '{value}': not an indicator code, name or alias in the catalog.",
    ),
    "INDICATOR_MISMATCH": Message(
        "error",
        "row",
        "指标代码“{value}”与指标名称“{other}”指的是不同的指标。",
        "Indicator code '{value}' and indicator name '{other}' name different indicators.",
    ),
    "INDICATOR_QUALITATIVE": Message(
        "error",
        "row",
        "指标“{value}”是定性指标,没有数值观测,不能导入。",
        "Indicator '{value}' is qualitative: it has no numeric observations to load.",
    ),
    "REGION_UNKNOWN": Message(
        "error",
        "row",
        "未知地区“{value}”。如是新地区,请同时提供“地区代码”和“地区名称”两列。",
        "Unknown region '{value}'. For a new region, give both a region code and a region name column.",
    ),
    "REGION_MISMATCH": Message(
        "error",
        "row",
        "地区代码“{value}”与地区名称“{other}”指的是不同的地区。",
        "Region code '{value}' and region name '{other}' name different regions.",
    ),
    "REGION_CODE_INVALID": Message(
        "error",
        "row",
        "新地区代码“{value}”无效:只能用小写英文字母、数字和下划线,并以字母开头(如 xian)。",
        "New region code '{value}' is not valid: use lower-case letters, digits and underscores, starting "
        "with a letter (e.g. xian).",
    ),
    "REGION_NAME_CONFLICT": Message(
        "error",
        "row",
        "新地区“{code}”在文件中有两个名称:“{value}”和第 {other_row} 行的“{other}”。",
        "New region '{code}' has two names in the file: '{value}' and '{other}' on line {other_row}.",
    ),
    "YEAR_INVALID": Message(
        "error",
        "row",
        "年份“{value}”无法识别(应为四位数字,如 2024 或 2024年)。",
        "Year '{value}' is not recognised (expected four digits, e.g. 2024).",
    ),
    "YEAR_OUT_OF_RANGE": Message(
        "error",
        "row",
        "年份 {value} 不在允许的范围 {low}–{high} 内。",
        "Year {value} is outside {low}–{high}.",
    ),
    "NUMBER_INVALID": Message(
        "error", "row", "数值“{value}”无法识别为数字。", "Value '{value}' is not a number."
    ),
    "UNIT_MISMATCH": Message(
        "error",
        "row",
        "单位“{unit}”与该指标的单位“{expected}”不一致,且无法换算。",
        "Unit '{unit}' does not match the indicator's unit '{expected}' and cannot be converted.",
    ),
    "SHARE_OUT_OF_RANGE": Message(
        "error", "row", "比重 {value} 不在 0–100 的范围内。", "Share {value} is outside 0–100."
    ),
    "RANK_INVALID": Message(
        "error", "row", "排名 {value} 不是正整数。", "Rank {value} is not a positive whole number."
    ),
    "CONFIDENCE_INVALID": Message(
        "error",
        "row",
        "可信度“{value}”无效(应为 high/medium/low 或 高/中/低)。",
        "Confidence '{value}' is not valid (use high/medium/low, or 高/中/低).",
    ),
    "SOURCE_MISSING": Message(
        "error",
        "row",
        "没有数据来源。每个数值都必须注明来源:请加“来源”列,或用 --source 为整个文件指定。",
        "No source. Every value needs one: add a 'source' column, or give --source for the whole file.",
    ),
    "DATE_INVALID": Message(
        "error",
        "row",
        "发布日期“{value}”无效(应为 2024-05-31、2024-05 或 2024 这样的日期)。",
        "Publication date '{value}' is not valid (expected a date such as 2024-05-31, 2024-05 or 2024).",
    ),
    "FLAG_TOO_LONG": Message(
        "error",
        "row",
        "标记“{value}”超过 {limit} 个字符。",
        "Flag '{value}' is longer than {limit} characters.",
    ),
    "KEY_DUPLICATE": Message(
        "error",
        "row",
        "{indicator} / {region} / {year} 在文件中出现多次且内容不同(另见第 {other_rows} 行)。",
        "{indicator} / {region} / {year} appears more than once with different contents (see also line(s) "
        "{other_rows}).",
    ),
    "ROW_DUPLICATE": Message(
        "warning", "row", "与第 {other_row} 行完全相同,已忽略。", "Identical to line {other_row}; ignored."
    ),
    "VALUE_JUMP": Message(
        "warning",
        "row",
        "数值 {value} 与已存的 {ref_year} 年数值 {ref_value} 相比变化过大({change_zh}),请核对单位和小数点。",
        "Value {value} is far from the stored {ref_year} value {ref_value} ({change_en}); check the unit "
        "and the decimal point.",
    ),
}


class Report:
    """Everything an upload's reader should know: facts about the file, counts, and the problems found.

    ``add``/``add_rows`` take a code from :data:`MESSAGES` and the values its messages name; the CLI and
    the web page print :meth:`to_dict` (or :meth:`to_json`) as they are.
    """

    def __init__(self, file_name: str):
        self.file: dict = {"name": file_name}
        self.counts: dict[str, int] = {}
        self.conversions: list[dict] = []
        self.new_regions: list[dict] = []
        # Quantities behind file-level messages (e.g. how many values took the default confidence), kept
        # so that reports of parts of one file add up (see ingest.load_path); not part of to_dict.
        self.tallies: dict[str, int] = {}
        self._chunks: list[pd.DataFrame] = []
        self._problems: pd.DataFrame | None = None

    def add(
        self, code: str, *, row: int | None = None, column: str | None = None, value=None, **params
    ) -> None:
        """One problem; ``params`` fill the message templates."""
        self.add_rows(code, pd.DataFrame({"row": [row], "column": [column], "value": [value]}), **params)

    def add_rows(self, code: str, rows: pd.DataFrame, **params) -> None:
        """One problem per row of ``rows`` (columns ``row``, ``column``, ``value``; any others are params)."""
        if rows.empty:
            return
        message = MESSAGES[code]
        extra = [c for c in rows.columns if c not in ("row", "column", "value")]
        zh, en = [], []
        for record in rows.to_dict("records"):
            values = {
                **params,
                **{c: record[c] for c in extra},
                "row": _text(record["row"]),
                "column": _text(record["column"]),
                "value": _text(record["value"]),
            }
            zh.append(message.zh.format(**values))
            en.append(message.en.format(**values))
        chunk = pd.DataFrame(
            {
                "severity": message.severity,
                "row": pd.array(rows["row"].tolist(), dtype="Int64"),
                "column": rows["column"].astype(object).where(rows["column"].notna(), None).to_numpy(),
                "value": [None if _missing(v) else _text(v) for v in rows["value"]],
                "code": code,
                "message_zh": zh,
                "message_en": en,
            }
        )
        self._chunks.append(chunk)
        self._problems = None

    def add_problems_of(self, other: Report, skip: set[str] = frozenset()) -> None:
        """Take over the problems of ``other`` (the report of a part of the same file), except ``skip``."""
        self._chunks.extend(chunk[~chunk["code"].isin(skip)] for chunk in other._chunks)
        self._problems = None

    @property
    def problems(self) -> pd.DataFrame:
        """Every problem, file-level ones first, then by line; repeats (one per year of a wide row) once."""
        if self._problems is None:
            if not self._chunks:
                self._problems = pd.DataFrame(
                    {c: pd.Series(dtype="Int64" if c == "row" else object) for c in PROBLEM_COLUMNS}
                )
            else:
                frame = pd.concat(self._chunks, ignore_index=True)
                frame = frame.drop_duplicates(["code", "row", "column", "value"])
                order = frame["row"].fillna(0).astype("int64")
                frame = frame.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)
                self._problems = frame[PROBLEM_COLUMNS]
        return self._problems

    @property
    def errors(self) -> pd.DataFrame:
        return self.problems[self.problems["severity"] == "error"]

    @property
    def warnings(self) -> pd.DataFrame:
        return self.problems[self.problems["severity"] == "warning"]

    @property
    def ok(self) -> bool:
        """No errors: the file can be loaded as it is."""
        return self.errors.empty

    @property
    def fatal(self) -> bool:
        """An error about the file as a whole: nothing can be loaded, also with --skip-invalid."""
        codes = set(self.errors["code"])
        return any(MESSAGES[c].scope == "file" for c in codes)

    def codes(self) -> list[str]:
        """The distinct problem codes, in report order (handy in tests and summaries)."""
        return list(dict.fromkeys(self.problems["code"]))

    def to_dict(self, limit: int | None = None) -> dict:
        """The report as plain data; ``limit`` caps the listed problems (the counts stay complete)."""
        problems = self.problems
        shown = problems if limit is None else problems.head(limit)
        by_code = problems.groupby("code", sort=False).size() if len(problems) else pd.Series(dtype=int)
        return {
            "file": dict(self.file),
            "ok": self.ok,
            "counts": {**self.counts, "errors": int(len(self.errors)), "warnings": int(len(self.warnings))},
            "problem_codes": {str(k): int(v) for k, v in by_code.items()},
            "conversions": list(self.conversions),
            "new_regions": list(self.new_regions),
            "problems": [
                {k: (None if _missing(v) else (int(v) if k == "row" else v)) for k, v in rec.items()}
                for rec in shown.to_dict("records")
            ],
            "problems_truncated": len(shown) < len(problems),
        }

    def to_json(self, limit: int | None = None) -> str:
        return json.dumps(self.to_dict(limit), ensure_ascii=False, indent=1, default=str)


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _text(value) -> str:
    """A cell or number as a person reads it: no '.0' on whole numbers, no float noise."""
    if _missing(value):
        return ""
    if isinstance(value, (float, np.floating)):
        return format_number(float(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def format_number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


# --- the bytes ----------------------------------------------------------------------------------------

# Leading bytes of files people mistake for CSV: (signature, what it is in Chinese, in English).
SIGNATURES = [
    (b"PK\x03\x04", "ZIP 压缩包(或 Excel .xlsx 工作簿)", "a ZIP archive (or an Excel .xlsx workbook)"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "Excel 97-2003 工作簿(.xls)或其他旧版 Office 文件",
        "an Excel 97-2003 workbook (.xls) or another legacy Office file",
    ),
    (b"%PDF", "PDF 文档", "a PDF document"),
    (b"\x89PNG", "PNG 图片", "a PNG image"),
    (b"\xff\xd8\xff", "JPEG 图片", "a JPEG image"),
    (b"GIF8", "GIF 图片", "a GIF image"),
    (b"\x1f\x8b", "gzip 压缩文件", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z 压缩包", "a 7z archive"),
    (b"Rar!", "RAR 压缩包", "a RAR archive"),
    (b"SQLite format 3\x00", "SQLite 数据库", "an SQLite database"),
]
TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def check_size(size: int, report: Report, max_bytes: int = DEFAULT_MAX_BYTES) -> bool:
    """The size limit (checked before a file on disk is read at all). True when fine."""
    if size > max_bytes:
        report.add("FILE_TOO_LARGE", size_mb=_megabytes(size), limit_mb=_megabytes(max_bytes))
        return False
    return True


def check_bytes(
    content: bytes, report: Report, max_bytes: int = DEFAULT_MAX_BYTES, encoding: str | None = None
) -> bool:
    """File-level checks before any decoding: too large, empty, or not a text file. True when fine."""
    if not check_size(len(content), report, max_bytes):
        return False
    if not re.search(rb"[^\s\x00\xef\xbb\xbf\xff\xfe]", content):  # only blanks and byte-order marks
        report.add("FILE_EMPTY")
        return False
    what = describe_binary(content, encoding)
    if what is not None:
        report.add("NOT_CSV", what_zh=what[0], what_en=what[1])
        return False
    return True


def describe_binary(content: bytes, encoding: str | None = None) -> tuple[str, str] | None:
    """What a non-text file is, in Chinese and English; None for text."""
    head = content[:65536]
    for signature, zh, en in SIGNATURES:
        if head.startswith(signature):
            if signature == b"PK\x03\x04" and b"xl/" in head:
                return (
                    "Excel 工作簿(.xlsx),只是扩展名改成了 .csv",
                    "an Excel workbook (.xlsx) renamed to .csv",
                )
            return zh, en
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "网页(HTML)", "a web page (HTML)"
    if stripped.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        return "Excel 2003 XML 表格", "an Excel 2003 XML spreadsheet"
    utf16 = head.startswith(TEXT_BOMS[1:]) or (encoding or "").lower().replace("-", "").startswith("utf16")
    if not utf16 and b"\x00" in head:
        return "二进制文件", "a binary file"
    return None


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}"


# --- parsed observations (pandera) --------------------------------------------------------------------


def observation_schema(year_range: tuple[int, int]) -> pa.DataFrameSchema:
    """Rules every parsed observation must meet. Check names are the problem codes they report.

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
            "published_on": pa.Column(None, pa.Check(_real_dates, name="DATE_INVALID"), nullable=True),
            "flag": pa.Column(
                None,
                pa.Check(lambda s: s.astype(str).str.len() <= FLAG_MAX_LENGTH, name="FLAG_TOO_LONG"),
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


def _real_dates(column: pd.Series) -> pd.Series:
    verdicts = {v: is_iso_date(str(v)) for v in column.dropna().unique()}
    return column.astype(object).map(verdicts).fillna(True).astype(bool)


# The field each check is about, and the frame's column holding the text to show.
CHECKED_CELL = {
    "YEAR_OUT_OF_RANGE": ("year", "year"),
    "CONFIDENCE_INVALID": ("confidence", "confidence"),
    "SOURCE_MISSING": ("source", "source"),
    "DATE_INVALID": ("published_on", "published_on"),
    "FLAG_TOO_LONG": ("flag", "flag"),
    "SHARE_OUT_OF_RANGE": ("value", "raw"),
    "RANK_INVALID": ("value", "raw"),
}


def check_observations(
    frame: pd.DataFrame, report: Report, year_range: tuple[int, int], headers: dict[str, str | None]
) -> np.ndarray:
    """Run the pandera schema over parsed observations; report failures; return the failing positions.

    ``frame`` holds, per observation: ``row`` (file line), ``column`` and ``raw`` (the value cell's header
    and text), ``year_column`` (the header the year came from: the value's own in a wide file), ``kind``,
    ``year``, ``value``, ``source``, ``confidence``, ``published_on`` and ``flag``. ``headers`` names the
    file column of each other field (None when the file has none: the value came from a default).
    """
    checked = frame[["year", "value", "kind", "source", "confidence", "published_on", "flag"]].copy()
    checked["year"] = checked["year"].astype("Int64")
    try:
        observation_schema(year_range).validate(checked, lazy=True)
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
            limit=FLAG_MAX_LENGTH,
        )
        failing.append(positions)
    return np.unique(np.concatenate(failing))


# --- duplicates inside the file -----------------------------------------------------------------------


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
        report.add_rows(
            "KEY_DUPLICATE",
            pd.DataFrame(
                {
                    "row": errors["row"].to_numpy(),
                    "column": errors["column"].to_numpy(),
                    "value": errors["raw"].to_numpy(),
                    "indicator": errors["indicator_code"].to_numpy(),
                    "region": errors["region_code"].to_numpy(),
                    "year": errors["year"].to_numpy(),
                    "other_rows": others,
                }
            ),
        )
    identical = repeated[~in_conflict]
    drop = identical[identical["_key"].duplicated(keep="first")]
    if len(drop):
        first_row = identical.drop_duplicates("_key").set_index("_key")["row"]
        report.add_rows(
            "ROW_DUPLICATE",
            pd.DataFrame(
                {
                    "row": drop["row"].to_numpy(),
                    "column": drop["column"].to_numpy(),
                    "value": drop["raw"].to_numpy(),
                    "other_row": first_row.loc[drop["_key"]].to_numpy(),
                }
            ),
        )
    position = pd.Series(np.arange(len(frame)), index=frame.index)
    return position.loc[errors.index].to_numpy(), position.loc[drop.index].to_numpy()


# --- jumps against the stored series ------------------------------------------------------------------


@dataclass
class JumpReference:
    """Stored values an upload is compared with: the same key's current value, and its neighbours."""

    stored: pd.DataFrame  # indicator_code, region_code, year, value
    kinds: dict[str, str] = field(default_factory=dict)

    @cached_property
    def regions(self) -> np.ndarray:
        """The regions with a stored value (worked out once, however many parts of a file are checked)."""
        return self.stored["region_code"].unique()


def check_jumps(frame: pd.DataFrame, reference: JumpReference, report: Report) -> None:
    """Warn where a value is implausibly far from the stored series (a unit or decimal-point slip).

    The reference is the stored value of the same key when there is one (a revision), otherwise the
    nearest stored year of the same indicator and region within :data:`JUMP_MAX_YEAR_GAP` years. Levels and
    counts are compared as a ratio, shares and growth rates in percentage points; ranks are not compared.

    ``frame``: KEY, ``value``, ``row``, ``column``, and ``old_value`` (the same key's stored value, from the
    diff; NaN for a new key).
    """
    stored = reference.stored
    if frame.empty or stored.empty:
        return
    # Only series with something stored can jump: skip the (often many) rows of new regions at once.
    stored_series = frame["region_code"].isin(reference.regions).to_numpy()
    if not stored_series.any():
        return
    kind = frame["indicator_code"].map(reference.kinds)
    candidates = frame[kind.isin(["level", "count", *JUMP_POINTS]).to_numpy() & stored_series]
    if candidates.empty:
        return
    matched = candidates[candidates["old_value"].notna()].rename(columns={"old_value": "ref_value"})
    matched["ref_year"] = matched["year"]
    rest = candidates[candidates["old_value"].isna()].drop(columns="old_value")
    if len(rest):
        by = {"indicator_code": object, "region_code": object}
        near = pd.merge_asof(
            rest.reset_index().astype({"year": "int64", **by}).sort_values("year"),
            stored[KEY + ["value"]]
            .rename(columns={"year": "ref_year", "value": "ref_value"})
            .astype(by)
            .assign(year=lambda d: d["ref_year"].astype("int64"))
            .sort_values("year"),
            on="year",
            by=["indicator_code", "region_code"],
            direction="nearest",
            tolerance=JUMP_MAX_YEAR_GAP,
            allow_exact_matches=False,
        ).set_index("index")
        matched = pd.concat([matched, near[near["ref_value"].notna()]])
    if matched.empty:
        return
    _report_jumps(matched, matched["indicator_code"].map(reference.kinds), report)


def _report_jumps(matched: pd.DataFrame, kind: pd.Series, report: Report) -> None:
    new, ref = matched["value"].astype(float), matched["ref_value"].astype(float)
    is_ratio = kind.isin(["level", "count"])
    positive = (new > 0) & (ref > 0)
    ratio = np.where(positive, new / ref.where(positive, 1.0), 1.0)
    ratio_jump = is_ratio & positive & ((ratio > JUMP_RATIO) | (ratio < 1 / JUMP_RATIO))
    limit = kind.map(JUMP_POINTS).astype(float)
    point_jump = ~is_ratio & ((new - ref).abs() > limit)
    jumps = matched[(ratio_jump | point_jump).to_numpy()]
    if jumps.empty:
        return
    change_zh, change_en = [], []
    for n, r, by_ratio in zip(
        jumps["value"], jumps["ref_value"], is_ratio[ratio_jump | point_jump], strict=True
    ):
        if by_ratio:
            factor = n / r
            text = f"×{factor:.3g}" if factor >= 1 else f"÷{1 / factor:.3g}"
            change_zh.append(text)
            change_en.append(text)
        else:
            change_zh.append(f"{n - r:+.3g} 个百分点")
            change_en.append(f"{n - r:+.3g} percentage points")
    report.add_rows(
        "VALUE_JUMP",
        pd.DataFrame(
            {
                "row": jumps["row"].to_numpy(),
                "column": jumps["column"].to_numpy(),
                "value": [format_number(float(v)) for v in jumps["value"]],
                "ref_year": jumps["ref_year"].astype("int64").to_numpy(),
                "ref_value": [format_number(float(v)) for v in jumps["ref_value"]],
                "change_zh": change_zh,
                "change_en": change_en,
            }
        ),
    )
