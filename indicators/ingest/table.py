"""Text to a table: the delimiter, the header line (and any lines above it), and every data row with the
file line it starts on.

What belongs here: finding the header among the first lines (or a published table's heading line, its
title above and its notes below, recognised by ``published``), the limits on the work a file may ask for
(columns and cells, checked on the bytes before any table is built: :func:`check_work`), reading the rows
(pandas' C parser, or the csv module line by line to report what it cannot read), dropping blank lines,
and the messages of those problems. What does not: decoding bytes (``decode``), matching one header cell
to a field (``fields``), deciding the layout from the header (``layout``).

Decisions on the limits (``IngestOptions.max_columns``, ``max_cells``): a line's columns are counted as
its delimiters plus one, quotes not considered (a count that never misses a wide line, and reads each byte
once: a delimiter inside a quoted note counts too, so a note of 500 commas would be refused); the cells as
lines x header columns, or delimiters plus lines when more (a line wider than the header).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from indicators.i18n import Text
from indicators.ingest.decode import Decoded
from indicators.ingest.fields import IngestOptions, match_header
from indicators.ingest.published import Caption, cut_notes, is_heading, read_caption
from indicators.validation import Message, Report, register

DELIMITERS = (",", "\t", ";")
HEADER_SEARCH_LINES = 30
HEADER_CELLS_SCORED = 1000  # a candidate header's cells looked at: the work of finding a header is bounded
SCAN_CHUNK = 1024 * 1024  # bytes looked at a time by check_work (its memory: a few times this)

PROBLEMS = register({
    "HEADER_NOT_FOUND": Message(
        "error",
        "file",
        Text(
            "找不到表头:前 {lines} 行中没有一行含有可识别的列名(如 指标、地区、年份、数值)。第一行是:{value}",
            "No header found: none of the first {lines} lines has recognisable column names (such as indicator, "
            "region, year, value). The first line is: {value}",
        ),
    ),
    "HEADER_ONLY": Message("error", "file", Text("文件只有表头,没有数据行。", "The file has a header but no data rows.")),
    "PREAMBLE_SKIPPED": Message(
        "warning",
        "file",
        Text(
            "表头之前的第 1–{last} 行不是数据,已跳过。",
            "Lines 1–{last} before the header are not data and were skipped.",
        ),
    ),
    "QUOTE_UNCLOSED": Message(
        "error",
        "file",
        Text(
            "第 {row} 行开始的引号没有闭合,文件在引号内结束。",
            "A quote opened on line {row} is never closed; the file ends inside it.",
        ),
    ),
    "TOO_MANY_COLUMNS": Message(
        "error",
        "file",
        Text(
            "第 {row} 行有 {count} 列(按分隔符计),超过上限 {limit} 列,文件未读取。请删去多余的列或拆分文件。",
            "Line {row} has {count} columns (counting its delimiters), above the limit of {limit}; the file was "
            "not read. Remove the extra columns or split the file.",
        ),
    ),
    "TOO_MANY_CELLS": Message(
        "error",
        "file",
        Text(
            "文件约有 {count} 个单元格(行数 × 列数),超过上限 {limit},文件未读取。请拆分文件。",
            "The file has about {count} cells (lines x columns), above the limit of {limit}; the file was not "
            "read. Split it into smaller files.",
        ),
    ),
    "ROW_TOO_LONG": Message(
        "error",
        "row",
        Text(
            "第 {row} 行有 {count} 个字段,多于表头的 {expected} 个(是否有未加引号的分隔符?)。",
            "Line {row} has {count} fields, more than the header's {expected} (an unquoted delimiter?).",
        ),
    ),
})


@dataclass
class Table:
    header: list[str]
    cells: pd.DataFrame  # data rows only, str columns 0..n-1, blank lines removed
    lines: np.ndarray  # the file line each row starts on
    delimiter: str
    header_line: int
    preamble: dict[str, str]
    caption: Caption | None = None  # a table as published: its title and unit line (see ``published``)
    notes: list[str] = field(default_factory=list)  # and its note lines, below the data


def read_table(decoded: Decoded, report: Report, options: IngestOptions | None = None) -> Table | None:
    """Find the delimiter and the header line, check the work the file asks for (``options``' limits), then
    read every data row with its line number."""
    options = options or IngestOptions()
    found = _find_header(decoded.head)
    if found is None:
        first = next((line for line in decoded.head.splitlines() if line.strip()), "")
        report.add("HEADER_NOT_FOUND", value=first[:120], lines=HEADER_SEARCH_LINES)
        return None
    report.file.update({"delimiter": found.delimiter, "header_row": found.line})
    if not check_work(decoded.data, found.delimiter, len(found.cells), report, options):
        return None
    if found.skipped_text and "data source" not in found.preamble and found.caption is None:
        report.add("PREAMBLE_SKIPPED", last=found.line - 1)
    data, notes = decoded.data, list[str]()
    if found.caption is not None:  # a table as published: its title is read, its notes are not data
        data, notes = cut_notes(data, found.delimiter, found.line)
        report.file.update({"title": found.caption.title, "notes": notes})
    parsed = _read_fast(data, found.delimiter, found.line, _column_types(found.cells))
    if parsed is None:
        parsed = _read_exact(data, found.delimiter, found.line, len(found.cells), report)
        if parsed is None:
            return None
    cells, lines = parsed
    blank = _blank_rows(cells)
    cells, lines = cells[~blank].reset_index(drop=True), lines[~blank]
    report.counts["rows"] = len(cells)
    if cells.empty:
        report.add("HEADER_ONLY", row=found.line)
        return None
    return Table(found.cells, cells, lines, found.delimiter, found.line, found.preamble, found.caption, notes)


def check_work(data: bytes, delimiter: str, width: int, report: Report, options: IngestOptions) -> bool:
    """The limits on columns and cells, on the bytes (before pandas builds one column per header cell, the
    costly part of a wide file). True when within them; otherwise the problem is reported."""
    delimiters = data.count(delimiter.encode())
    line_end = b"\n" if b"\n" in data or b"\r" not in data else b"\r"  # and old Macs' CR alone
    if delimiters + 1 > options.max_columns:  # else no line can have too many
        wide = _first_wide_line(data, delimiter.encode(), line_end[0], options.max_columns)
        if wide is not None:
            report.add("TOO_MANY_COLUMNS", row=wide[0], count=f"{wide[1]:,}", limit=f"{options.max_columns:,}")
            return False
    lines = data.count(line_end) + 1
    cells = max(width * lines, delimiters + lines)
    if cells > options.cell_limit():
        report.add("TOO_MANY_CELLS", count=f"{cells:,}", limit=f"{options.cell_limit():,}")
        return False
    return True


def _first_wide_line(data: bytes, delimiter: bytes, line_end: int, limit: int) -> tuple[int, int] | None:
    """(line number, delimiters + 1) of the first line with more than ``limit`` fields so counted, if any.

    Only a line of ``limit`` bytes or more can have that many delimiters: the line ends are found with numpy a
    chunk at a time (100 MB in about 0.03 s, a few MB of memory), and only the long lines counted.
    """
    content = np.frombuffer(data, dtype=np.uint8)
    line_start, lines_before = 0, 0
    for start in range(0, len(content), SCAN_CHUNK):
        ends = np.flatnonzero(content[start : start + SCAN_CHUNK] == line_end) + start
        if not len(ends):
            continue
        starts = np.concatenate([[line_start], ends[:-1] + 1])
        for at in np.flatnonzero(ends - starts >= limit):
            fields = data.count(delimiter, int(starts[at]), int(ends[at])) + 1
            if fields > limit:
                return lines_before + int(at) + 1, fields
        line_start, lines_before = int(ends[-1]) + 1, lines_before + len(ends)
    fields = data.count(delimiter, line_start) + 1  # the last line, without a line end
    return (lines_before + 1, fields) if fields > limit else None


def _column_types(header: list[str]) -> dict[int, str]:
    """Categorical for columns that repeat a few values (names, years, units, sources): they parse faster
    and take a fraction of the memory; plain text for values and notes."""
    types = {}
    for pos, cell in enumerate(header):
        match = match_header(cell)
        repeats = match is not None and match[0] == "field" and match[1] not in ("value", "note")
        types[pos] = "category" if repeats else "str"
    return types


def _blank_rows(cells: pd.DataFrame) -> np.ndarray:
    """Rows with nothing but blanks (empty lines, and Excel's ',,,,'). Checks the rare candidates only."""
    first = cells[cells.columns[0]]
    if isinstance(first.dtype, pd.CategoricalDtype):  # test each distinct value once
        names = first.cat.categories.astype(object)
        empty = np.asarray([not str(n).strip() for n in names] + [True], dtype=bool)  # code -1: missing
        candidates = np.flatnonzero(empty[first.cat.codes.to_numpy()])
    else:
        first = first.astype(object).fillna("")
        candidates = np.flatnonzero(((first == "") | first.str.isspace()).to_numpy())
    blank = np.zeros(len(cells), dtype=bool)
    if len(candidates):
        rest = cells.iloc[candidates].astype(object).fillna("").astype(str)
        blank[candidates] = rest.apply(lambda c: c.str.strip() == "").all(axis=1).to_numpy()
    return blank


@dataclass
class Header:
    delimiter: str
    line: int  # where the header starts in the file
    cells: list[str]
    preamble: dict[str, str]  # 'key, value' lines above the header (World Bank: data source, last updated)
    skipped_text: bool  # lines above the header held something
    caption: Caption | None = None  # a table as published: what stands above its heading line


def _find_header(head: str) -> Header | None:
    """The delimiter and header line giving the most recognised column names, and what stands above it;
    failing that, the heading line of a table as published (:func:`_find_published_heading`)."""
    def score(record: list[str]) -> tuple | None:
        recognised = _header_score(record)
        return (recognised, len(record)) if recognised >= 2 else None

    best = _best_line(head, score)
    if best is None:
        return _find_published_heading(head)
    delimiter, start, cells, before = best
    preamble = {r[0].strip().casefold(): r[1].strip() for r in before if len(r) >= 2 and r[0].strip()}
    skipped_text = any(cell.strip() for record in before for cell in record)
    return Header(delimiter, start, [c.strip().lstrip("\ufeff") for c in cells], preamble, skipped_text)


def _find_published_heading(head: str) -> Header | None:
    """The first line that reads as a published table's heading line (region, then indicator headings), with
    the delimiter that gives it the most columns."""
    best = _best_line(head, lambda record: (len(record),) if is_heading(record[:HEADER_CELLS_SCORED]) else None)
    if best is None:
        return None
    delimiter, start, cells, before = best
    skipped_text = any(cell.strip() for record in before for cell in record)
    caption = read_caption(before, start)
    return Header(delimiter, start, [c.strip().lstrip("\ufeff") for c in cells], {}, skipped_text, caption)


def _best_line(head: str, score) -> tuple[str, int, list[str], list[list[str]]] | None:
    """For each delimiter, the first line within :data:`HEADER_SEARCH_LINES` that ``score`` accepts (a tuple;
    None: not this line); of those, the best scoring (ties: the earlier delimiter). Returns the delimiter, the
    line number, the line's cells and the lines above it."""
    best = None
    for order, delimiter in enumerate(DELIMITERS):
        reader = csv.reader(io.StringIO(head), delimiter=delimiter)
        before: list[list[str]] = []
        end = 0
        try:
            for record in reader:
                start, end = end + 1, reader.line_num
                found = score(record)
                if found is not None:
                    if best is None or (*found, -order) > best[0]:
                        best = ((*found, -order), delimiter, start, record, before)
                    break
                before.append(record)
                if len(before) >= HEADER_SEARCH_LINES:
                    break
        except csv.Error:
            continue
    return None if best is None else best[1:]


def _header_score(record: list[str]) -> int:
    record = record[:HEADER_CELLS_SCORED]
    fields = {match[1] for cell in record if (match := match_header(cell)) and match[0] == "field"}
    has_years = any((match := match_header(cell)) and match[0] == "year" for cell in record)
    return len(fields) + int(has_years)


def _read_fast(
    data: bytes, delimiter: str, header_line: int, types: dict[int, str]
) -> tuple[pd.DataFrame, np.ndarray] | None:
    """pandas' C parser; None when a line has more fields than the header (then :func:`_read_exact`)."""
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=delimiter,
            header=None,
            skiprows=header_line - 1,
            dtype=types,
            na_filter=False,
            keep_default_na=False,
            skip_blank_lines=False,
            encoding="utf-8",
            engine="c",
        )
    except (pd.errors.ParserError, ValueError):  # ValueError: more columns than the header named
        return None
    header_breaks = 0
    body = frame.iloc[1:].reset_index(drop=True)
    steps = np.ones(len(body), dtype=np.int64)
    if b'"' in data and _has_quoted_line_breaks(data, header_line, len(frame)):
        breaks = np.zeros(len(frame), dtype=np.int64)  # a quoted value spans lines: count them
        for col in frame.columns:
            column = frame[col].astype(object).fillna("")
            if "\n" in "".join(column.unique().tolist()):
                breaks += column.str.count("\n").to_numpy(dtype=np.int64)
        header_breaks = int(breaks[0])
        steps = 1 + breaks[1:]
    lines = (
        header_line + header_breaks + np.concatenate([[1], 1 + np.cumsum(steps)[:-1]]) if len(body) else steps
    )
    return body, lines.astype(np.int64)


def _has_quoted_line_breaks(data: bytes, header_line: int, records: int) -> bool:
    """More line breaks in the file than records read: some value holds a line break."""
    breaks = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return breaks > header_line - 1 + records


def _read_exact(
    data: bytes, delimiter: str, header_line: int, width: int, report: Report
) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The csv module, line by line: reports lines with too many fields, and quotes left open."""
    text = data.decode("utf-8").split("\n", header_line - 1)[-1]
    for strict in (True, False):  # strict finds a quote left open; lenient reads '"a"b' as pandas does
        reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=strict)
        records, lines, too_long, end = [], [], [], header_line - 1
        try:
            for record in reader:
                start, end = end + 1, header_line - 1 + reader.line_num
                if len(record) > width:
                    too_long.append(
                        {
                            "row": start,
                            "column": None,
                            "value": delimiter.join(record[width:])[:120],
                            "count": len(record),
                        }
                    )
                    continue
                records.append(record + [""] * (width - len(record)))
                lines.append(start)
            break
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                report.add("QUOTE_UNCLOSED", row=end + 1)
                return None
    report.add_rows("ROW_TOO_LONG", pd.DataFrame(too_long), expected=width)
    report.counts["unreadable"] = len(too_long)
    cells = pd.DataFrame(records[1:], columns=range(width), dtype=object).astype(str)
    return cells, np.asarray(lines[1:], dtype=np.int64)

