"""The header to a layout, and the table to value cells: which column holds which field, whether the file
is long (one value per line), wide (one column per year), a World Bank download or a table as published
(one column per indicator, the year in the title), and one row per value cell with the texts of its line.

What belongs here: :class:`Layout`, :func:`find_layout` with the messages of the header's problems, and
:func:`value_cells`. What does not: the words a header may use (``fields``), what is particular to a table
as published (``published``), interpreting the cells (``interpret``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from indicators.i18n import Text
from indicators.ingest import published
from indicators.ingest.fields import FIELDS, match_header
from indicators.ingest.table import Table
from indicators.validation import Message, Report, register

LINE_FIELDS = [f for f in FIELDS if f not in ("year", "value")]

PROBLEMS = register({
    "COLUMN_MISSING": Message(
        "error",
        "file",
        Text(
            "缺少必需的列“{field_zh}”(可用的列名如:{aliases})。",
            "Required column '{field_en}' is missing (accepted names include: {aliases}).",
        ),
    ),
    "COLUMN_DUPLICATE": Message(
        "error",
        "file",
        Text(
            "列“{column}”和列“{other}”都表示“{field_zh}”,无法确定使用哪一列。",
            "Columns '{column}' and '{other}' both mean '{field_en}'; cannot tell which one to use.",
        ),
    ),
    "COLUMN_IGNORED": Message(
        "warning",
        "file",
        Text(
            "无法识别列“{column}”,已忽略。",
            "Column '{column}' is not recognised and was ignored.",
        ),
    ),
})


@dataclass
class Layout:
    kind: str  # long | wide | worldbank | published
    fields: dict[str, int]  # field -> column position
    years: dict[int, int]  # column position -> year (wide layouts)
    headers: list[str]
    value_unit: str | None = None  # written in the value column's header: 数值(亿元)
    preamble: dict[str, str] = field(default_factory=dict)
    published: published.Columns | None = None  # a table as published: its region and value columns, its year

    def field_headers(self) -> dict[str, str]:
        """The file's header of each field it has (what the checks name as a problem's column)."""
        return {name: self.headers[pos] for name, pos in self.fields.items()}


def find_layout(table: Table, report: Report, year: int | None = None) -> Layout | None:
    """Which column holds what; long, wide, World Bank or published. None after reporting a header that
    cannot work. ``year``: the year option, for a table as published (see ``published``)."""
    if table.caption is not None:
        return _published_layout(table, report, year)
    fields: dict[str, int] = {}
    years: dict[int, int] = {}
    value_unit = None
    fatal = False
    # A file this project wrote (observations --format csv, the data page's download) has the publication's
    # id in ``publication_id`` and its title in ``publication``: read it back as it was written.
    exported = any(_folded(c) == "publicationid" for c in table.header)
    for pos, cell in enumerate(table.header):
        match = match_header(cell)
        if exported and _folded(cell) == "publication":
            match = ("field", "publication_title", None)
        if match is None:
            if cell or (table.cells[pos] != "").any():
                report.add("COLUMN_IGNORED", column=cell or f"#{pos + 1}")
        elif match[0] == "year":
            years[pos] = int(match[1])
        elif match[1] in fields:
            name = FIELDS[match[1]].name
            report.add(
                "COLUMN_DUPLICATE",
                column=cell,
                other=table.header[fields[match[1]]],
                field_zh=name.zh,
                field_en=name.en,
            )
            fatal = True
        else:
            fields[str(match[1])] = pos
            if match[1] == "value":
                value_unit = match[2]
    if "year" in fields and years:
        for pos in years:
            report.add("COLUMN_IGNORED", column=table.header[pos])
        years = {}
    wb = "data source" in table.preamble or {"region_name", "region_code", "indicator_name"} <= set(fields)
    kind = "long" if "year" in fields or not years else ("worldbank" if wb else "wide")
    required = [("indicator", "indicator_name"), ("region", "region_code", "region_name")]
    required += [("year",), ("value",)] if kind == "long" or not years else []
    for options in required:
        if not any(f in fields for f in options):
            name, aliases = FIELDS[options[0]]
            report.add("COLUMN_MISSING", field_zh=name.zh, field_en=name.en, aliases=", ".join(aliases[:6]))
            fatal = True
    report.file["layout"] = kind
    if fatal:
        return None
    return Layout(kind, fields, years, table.header, value_unit, table.preamble)


def _folded(cell: str) -> str:
    return cell.strip().lstrip("\ufeff").lower().replace(" ", "").replace("_", "")


def _published_layout(table: Table, report: Report, year: int | None) -> Layout | None:
    """A table as published: the region in the first column, an indicator (and its unit) in each other
    column's heading, the year from the title or the option."""
    assert table.caption is not None
    report.file["layout"] = "published"
    values = {}
    for pos, cell in enumerate(table.header[1:], start=1):
        if not cell:
            if (table.cells[pos] != "").any():
                report.add("COLUMN_IGNORED", column=f"#{pos + 1}")
            continue
        name, unit = published.split_heading(cell)
        values[pos] = (name, unit or table.caption.unit)
    found = published.table_year(table.caption, year, report, table.header_line)
    if found is None:
        return None
    report.file["year"] = found
    columns = published.Columns(0, values, found, table.caption.title or str(FIELDS["year"].name))
    # The indicator's "column" is each value's own heading (``published.value_cells``); the first one stands
    # for them where one column is asked for.
    fields = {"region": 0, "indicator": min(values)}
    return Layout("published", fields, {}, table.header, published=columns)


def value_cells(table: Table, layout: Layout) -> pd.DataFrame:
    """One row per value cell: ``row``, ``column`` (header), ``raw``, ``year_text``, and each field's text."""
    cells = table.cells
    if layout.published is not None:
        return published.value_cells(cells, table.lines, layout.headers, layout.published)
    line_part = {f: cells[pos] for f, pos in layout.fields.items() if f in LINE_FIELDS}
    if not layout.years:
        frame = pd.DataFrame(
            {
                "row": table.lines,
                "column": layout.headers[layout.fields["value"]],
                "raw": cells[layout.fields["value"]],
                "year_text": cells[layout.fields["year"]],
                "year_column": layout.headers[layout.fields["year"]],
                **line_part,
            }
        )
        return frame
    parts = []
    for pos, year in layout.years.items():
        parts.append(
            pd.DataFrame(
                {
                    "row": table.lines,
                    "column": layout.headers[pos],
                    "raw": cells[pos],
                    "year_text": str(year),
                    "year_column": layout.headers[pos],
                    **line_part,
                }
            )
        )
    return pd.concat(parts, ignore_index=True).sort_values("row", kind="stable").reset_index(drop=True)

