"""The header to a layout, and the table to value cells: which column holds which field, whether the file
is long (one value per line), wide (one column per year) or a World Bank download, and one row per value
cell with the texts of its line.

What belongs here: :class:`Layout`, :func:`find_layout` with the messages of the header's problems, and
:func:`value_cells`. What does not: the words a header may use (``fields``), interpreting the cells
(``interpret``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from indicators.i18n import Text
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
    kind: str  # long | wide | worldbank
    fields: dict[str, int]  # field -> column position
    years: dict[int, int]  # column position -> year (wide layouts)
    headers: list[str]
    value_unit: str | None = None  # written in the value column's header: 数值(亿元)
    preamble: dict[str, str] = field(default_factory=dict)

    def field_headers(self) -> dict[str, str]:
        """The file's header of each field it has (what the checks name as a problem's column)."""
        return {name: self.headers[pos] for name, pos in self.fields.items()}


def find_layout(table: Table, report: Report) -> Layout | None:
    """Which column holds what; long, wide or World Bank. None after reporting a header that cannot work."""
    fields: dict[str, int] = {}
    years: dict[int, int] = {}
    value_unit = None
    fatal = False
    for pos, cell in enumerate(table.header):
        match = match_header(cell)
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


def value_cells(table: Table, layout: Layout) -> pd.DataFrame:
    """One row per value cell: ``row``, ``column`` (header), ``raw``, ``year_text``, and each field's text."""
    cells = table.cells
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

