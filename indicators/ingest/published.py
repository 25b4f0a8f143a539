"""Tables as communiqués and yearbooks print them: a title line with the year and the subject, one row per
region, one column per indicator with its unit in brackets, dashes for missing cells, notes at the bottom::

    2023年各地区研究与试验发展(R&D)经费情况
    地区,R&D经费(亿元),R&D经费投入强度(%)
    全国,33357.1,2.65
    北京,2947.1,6.73
    注:…

What belongs here: recognising such a table (its heading line, the title and a ``单位:亿元`` line above it,
the notes below it), its year (from the title, or the year option: they must agree), the cells of its value
columns with each heading's indicator and unit as written, and the messages of the year's problems. What
does not: finding the header among other layouts (``table``), choosing the layout (``layout``), resolving
the headings' indicators and units and the regions through the catalog (``interpret``, ``numbers``: the
same path as every other layout, so the same problems in the same words).

Decisions: the year of every value is the title's year; a year option (``--year``, the upload page's year
field) is needed when the title names none (or several), and must agree with the title when it names one
(a mismatch means the wrong file or the wrong option, so nothing is loaded). A heading's unit in brackets
applies to its column, else the table's unit line. A heading that names no indicator, a unit that cannot
be converted to the indicator's unit, and an unknown region are errors on each value they touch.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from indicators.i18n import Text
from indicators.ingest.fields import match_header
from indicators.validation import Message, Report, register

REGION_FIELDS = ("region", "region_name")
# A year in a title: four digits not inside a longer number (Table 3 ..., 2023 / 2023年各地区...).
TITLE_YEAR = re.compile(r"(?<!\d)(1[89]\d{2}|20\d{2})(?!\d)")
UNIT_LINE = re.compile(r"^(?:单位|计量单位|units?)\s*[:：]\s*(?P<unit>.+?)\s*$", re.I)
NOTE_LINE = re.compile(r"^(?:注|附注|说明|资料来源|数据来源|notes?|sources?)\s*\d*\s*[:：.、]", re.I)
HEADING_UNIT = re.compile(r"^(?P<name>.+?)\s*[(（\[【](?P<unit>[^()（）\[\]【】]+)[)）\]】]\s*$")

PROBLEMS = register({
    "TABLE_YEAR_MISSING": Message(
        "error",
        "file",
        Text(
            "表格标题“{value}”中没有(唯一的)年份,无法确定数值所属年份。请在标题中写明年份,或用 --year(上传页的“年份”)指定。",
            "The table's title '{value}' names no single year, so the year of its values is unknown. Write the "
            "year in the title, or give it with --year (the upload page's year field).",
        ),
    ),
    "TABLE_YEAR_CONFLICT": Message(
        "error",
        "file",
        Text(
            "指定的年份 {option}(--year,上传页的“年份”)与表格标题“{value}”中的年份 {year} 不一致。请改正年份或标题。",
            "The year given, {option} (--year, the upload page's year field), does not agree with the year {year} in "
            "the table's title '{value}'. Correct the year or the title.",
        ),
    ),
})


def is_heading(record: list[str]) -> bool:
    """The heading line of a published table: a region column first (``地区``, or left blank), then
    headings that are none of the fields of the other layouts (each names an indicator)."""
    cells = [c.strip().lstrip("\ufeff") for c in record]
    if len(cells) < 2 or not any(cells[1:]):
        return False
    first = match_header(cells[0]) if cells[0] else ("field", "region", None)
    if first is None or first[0] != "field" or first[1] not in REGION_FIELDS:
        return False
    return all(match_header(c) is None for c in cells[1:] if c)


@dataclass
class Caption:
    """What stands above the heading line: the title (and its line), the years it names, a unit line."""

    title: str
    line: int | None
    years: list[int]
    unit: str | None


def read_caption(before: list[list[str]], header_line: int) -> Caption:
    """The title and the unit line among the records above the heading line (each one line: a title with
    a comma, quoted or not, is one title)."""
    texts = [
        (header_line - len(before) + n, " ".join(c.strip().lstrip("\ufeff") for c in r if c.strip()))
        for n, r in enumerate(before)
    ]
    texts = [(line, text) for line, text in texts if text]
    unit = None
    titles = []
    for line, text in texts:
        found = UNIT_LINE.match(unicodedata.normalize("NFKC", text))
        if found:
            unit = found["unit"]
        else:
            titles.append((line, text))
    title = "  ".join(text for _, text in titles)
    years = list(dict.fromkeys(int(y) for y in TITLE_YEAR.findall(unicodedata.normalize("NFKC", title))))
    return Caption(title, titles[-1][0] if titles else None, years, unit)


def table_year(caption: Caption, option: int | None, report: Report, header_line: int) -> int | None:
    """The year of the table's values: the title's, or the option's; None after reporting why not."""
    row = caption.line or header_line
    if option is not None and caption.years and option not in caption.years:
        report.add("TABLE_YEAR_CONFLICT", row=row, value=caption.title, year="/".join(map(str, caption.years)),
                   option=option)
        return None
    if option is not None:
        return option
    if len(caption.years) != 1:
        report.add("TABLE_YEAR_MISSING", row=row, value=caption.title or "—")
        return None
    return caption.years[0]


def split_heading(cell: str) -> tuple[str, str | None]:
    """A value column's heading as (indicator name, unit in brackets): ``R&D经费(亿元)`` -> ('R&D经费', '亿元')."""
    text = cell.strip()
    found = HEADING_UNIT.match(text)
    return (found["name"].strip(), found["unit"].strip()) if found else (text, None)


def cut_notes(data: bytes, delimiter: str, header_line: int) -> tuple[bytes, list[str]]:
    """The data without the note lines at the bottom (``注:…``, ``资料来源:…``: from the first of them to the
    end, continuation lines included), and those lines as text."""
    text = data.decode("utf-8")
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    start = 0
    for record in reader:
        line, start = start + 1, reader.line_num
        if line > header_line and record and NOTE_LINE.match(unicodedata.normalize("NFKC", record[0].strip())):
            notes = [n.strip() for n in lines[line - 1 :] if n.strip(f" \r\n{delimiter}")]
            return "".join(lines[: line - 1]).encode("utf-8"), notes
    return data, []


@dataclass
class Columns:
    """Where a published table's fields are: its region column, and each value column's heading as
    (indicator name, unit) with the unit of the table's unit line where the heading gives none."""

    region: int
    values: dict[int, tuple[str, str | None]]
    year: int
    year_column: str  # named by the year's problems: the title, or the year field when there is none


def value_cells(cells: pd.DataFrame, lines: np.ndarray, headers: list[str], columns: Columns) -> pd.DataFrame:
    """One row per value cell, as ``layout.value_cells`` gives for the other layouts: the heading's indicator
    name and unit as that cell's texts, the table's year as its year."""
    parts = [
        pd.DataFrame(
            {
                "row": lines,
                "column": headers[pos],
                "raw": cells[pos],
                "year_text": str(columns.year),
                "year_column": columns.year_column,
                "region": cells[columns.region],
                "indicator": name,
                "unit": unit,
            }
        )
        for pos, (name, unit) in columns.values.items()
    ]
    return pd.concat(parts, ignore_index=True).sort_values("row", kind="stable").reset_index(drop=True)
