"""Data page: the observations behind any view, with source, confidence, batch and revision history.

Filters (indicators, regions, history) live in the URL. The table is paged, sorted and filtered on the
server (DataTable's custom actions): a response holds one page, however many values are stored. The
table's filter row is read by :func:`parse_filter` into a few known comparisons (anything else is refused
with a message) and run in the database by ``queries.table_page``, with bound values.

The download links write exactly the rows the table's filters and order select, streamed from the database
by the routes at the end of this module: CSV (UTF-8 with a byte-order mark, so Excel opens Chinese
correctly) of any size, in chunks; Excel up to :data:`EXCEL_MAX_ROWS` rows (a workbook is built whole, so
beyond that the page says to narrow the selection or take the CSV). Formula-like text is neutralised in both.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Iterator
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dash_table, dcc, html
from flask import Blueprint, Response, request

from dashboards._common import (
    FLAG_SEPARATOR,
    TABLE_FONT,
    current,
    dropdown_labels,
    page_frame,
    query_int,
    query_value,
    split_param,
    sync_url,
)
from dashboards._metadata_link import ICON, metadata_href
from indicators import flags, queries, tables
from indicators.i18n import Text, normalise_lang, t
from indicators.queries import TableFilter, TableQueryError, TableView

dash.register_page(__name__, path="/data", order=4, nav_key="nav.data", title="数据 Data")

PAGE = "data"
COLUMNS = queries.TABLE_COLUMNS
HISTORY_COLUMNS = queries.TABLE_HISTORY_COLUMNS
PAGE_SIZE = 25
EXCEL_MAX_ROWS = 50_000  # a workbook is built whole in memory: about 5 MB and a few seconds at this size
CSV_CHUNK_ROWS = 10_000
MAX_FILTER_LENGTH = 2_000
CSV_PATH, XLSX_PATH = "/data/download.csv", "/data/download.xlsx"

# DataTable's filter syntax ("{year} >= 2020 && {region} icontains bei"): the comparisons the table offers,
# by the names it writes them with (an optional case prefix i/s is accepted; text always matches either case).
OPERATORS = {"contains": "contains", "datestartswith": "startswith", "=": "=", "eq": "=", "!=": "!=", "ne": "!=",
             "<": "<", "lt": "<", "<=": "<=", "le": "<=", ">": ">", "gt": ">", ">=": ">=", "ge": ">="}
FILTER_PART = re.compile(r"\{(?P<column>[a-z_]+)\}\s+(?:(?P<unary>is blank)|[is]?(?P<op>contains|datestartswith"
                         r"|eq|ne|lt|le|gt|ge|!=|<=|>=|=|<|>)\s+(?P<value>.+))", re.S)
QUOTES = "\"'`"

FILTER_REFUSED = Text("无法识别的筛选条件,未应用:{part}。可用:= != < <= > >= contains,例如 >= 2020 或 北京。",
                      "Filter not understood, not applied: {part}. Use = != < <= > >= contains, e.g. >= 2020 or "
                      "beijing.")
FILTER_PLACEHOLDER = Text("筛选…", "filter…")
# The headers, on the page and in the downloads: each the name of the upload field its column fills (in
# zh the field's own name in indicators/ingest/fields.py, or one of its aliases where a column needs telling
# apart: the codes from the names), so a downloaded file uploads again unchanged. The batch and the history's
# version columns name no field: an upload ignores them (and says so).
HEADERS = {
    "indicator": Text("指标代码", "Indicator code"), "indicator_name": Text("指标名称", "Indicator name"),
    "region": Text("地区代码", "Region code"), "region_name": Text("地区名称", "Region name"),
    "year": Text("年份", "Year"), "value": Text("数值", "Value"), "flags": Text("标记", "Flags"),
    "unit": Text("单位", "Unit"), "publisher": Text("发布机构", "Publisher"),
    "publication": Text("文献标题", "Publication title"), "published_on": Text("发布日期", "Published on"),
    "source": Text("来源", "Source"), "confidence": Text("可信度", "Confidence"),
    "publication_id": Text("出处文献编号", "Publication id"), "batch": Text("批次", "Batch"),
    "note": Text("备注", "Note"), "version": Text("版本", "Version"), "status": Text("版本状态", "Version status"),
}
UPLOAD_FIELDS = {  # the field of indicators/ingest/fields.py each header is read back as (None: ignored)
    "indicator": "indicator", "indicator_name": "indicator_name", "region": "region_code",
    "region_name": "region_name", "year": "year", "value": "value", "flags": "flag", "unit": "unit",
    "publisher": "publisher", "publication": "publication_title", "published_on": "published_on",
    "source": "source", "confidence": "confidence", "publication_id": "publication", "batch": None,
    "note": "note", "version": None, "status": None,
}
EXCEL_TOO_BIG = Text("Excel 下载最多 {cap:,} 行,当前选择有 {n:,} 行。请缩小筛选范围,或下载 CSV(不限行数)。",
                     "Excel downloads hold at most {cap:,} rows; this selection has {n:,}. Narrow the filters or "
                     "download CSV (any size).")


def layout(indicators: str | None = None, regions: str | None = None, history: str | None = None,
           years: str | None = None, lang: str | None = None, **_):
    lang = normalise_lang(lang)
    snap = current()
    catalog = snap.catalog
    bounds = year_bounds(snap)
    start_year, end_year = _years_within(query_value(years), bounds)
    ind_options = [{"label": f"{i.short_name.pick(lang)} ({i.code})", "value": i.code}
                   for i in catalog.indicators.values() if i.kind != "qualitative"]
    known_regions = sorted(snap.regions["code"])
    reg_options = [{"label": snap.region_name(c, lang), "value": c} for c in known_regions]
    chosen_indicators = _known(split_param(indicators), catalog.indicators)
    return page_frame(
        PAGE, lang, t("data.title", lang),
        dbc.Row([
            dbc.Col([dbc.Label(t("common.indicator", lang)),
                     dcc.Dropdown(labels=dropdown_labels(lang), id=f"{PAGE}-indicators", options=ind_options, multi=True,
                                  value=chosen_indicators)], md=5),
            dbc.Col([dbc.Label(t("common.regions", lang)),
                     dcc.Dropdown(labels=dropdown_labels(lang), id=f"{PAGE}-regions", options=reg_options, multi=True,
                                  value=_known(split_param(regions), set(known_regions)))], md=4),
            dbc.Col([dbc.Checklist(id=f"{PAGE}-history", options=[{"label": t("data.history", lang), "value": "1"}],
                                   value=["1"] if query_value(history) == "1" else [], switch=True,
                                   className="mt-4")], md=3),
            dbc.Col([dbc.Label(t("common.years", lang)),
                     dcc.RangeSlider(id=f"{PAGE}-years", min=bounds[0], max=bounds[1], step=1,
                                     value=[start_year, end_year], marks=None, allowCross=False,
                                     tooltip={"placement": "bottom", "always_visible": True})],
                    md=5, className="mb-4"),
        ], className="g-3 mb-2"),
        html.Div([
            html.A(t("common.download_csv", lang), id=f"{PAGE}-csv", href=CSV_PATH, download="",
                   className="btn btn-primary btn-sm me-2"),
            html.A(t("common.download_xlsx", lang), id=f"{PAGE}-xlsx", href=XLSX_PATH, download="",
                   className="btn btn-secondary btn-sm"),
            html.Span(id=f"{PAGE}-count", className="ms-3 small text-muted"),
            html.Div(id=f"{PAGE}-message", className="small text-danger mt-1"),
        ], className="mb-2"),
        html.Div(_metadata_links(catalog, chosen_indicators, lang), id=f"{PAGE}-metadata", className="small mb-2"),
        dcc.Loading(dash_table.DataTable(
            id=f"{PAGE}-table", page_size=PAGE_SIZE, page_current=0, page_action="custom", sort_action="custom",
            sort_mode="multi", sort_by=[], filter_action="custom", filter_query="",
            filter_options={"case": "insensitive", "placeholder_text": FILTER_PLACEHOLDER.pick(lang)},
            css=[{"selector": ".dash-filter--case", "rule": "display: none"}],  # text matches either case
            columns=_columns(False, lang),
            style_table={"overflowX": "auto"}, style_cell={"fontFamily": TABLE_FONT, "textAlign": "left", "whiteSpace": "normal",
                                                           "height": "auto", "maxWidth": "360px", "fontSize": "13px"},
            style_header={"fontWeight": "600", "backgroundColor": "#eef1f5"},
        ), type="dot"),
    )


def _known(values: list[str], known) -> list[str]:
    """The values that name something that exists, each once (a URL may hold anything)."""
    return list(dict.fromkeys(v for v in values if v in known))


def year_bounds(snap) -> tuple[int, int]:
    """The first and last year of any stored value: the ends of the page's year slider."""
    years = snap.observations["year"]
    return (int(years.min()), int(years.max())) if len(years) else (2015, 2025)


def _years_within(text: str | None, bounds: tuple[int, int]) -> tuple[int, int]:
    """'start,end' from the address (either may be left out) inside ``bounds`` and in order."""
    wanted = (text or "").split(",")
    start = query_int(wanted[0] if wanted else None) or bounds[0]
    end = query_int(wanted[1] if len(wanted) > 1 else None) or bounds[1]
    low, high = sorted(min(max(y, bounds[0]), bounds[1]) for y in (start, end))
    return low, high


def year_filters(years, bounds: tuple[int, int] | None = None) -> tuple[TableFilter, ...]:
    """The year slider's [start, end] as filters; an end at the slider's edge (``bounds``) leaves that side
    open, so a value loaded later beyond it is not hidden."""
    if not isinstance(years, list | tuple) or len(years) != 2:
        return ()
    found = []
    for op, year, edge in ((">=", years[0], bounds[0] if bounds else None),
                           ("<=", years[1], bounds[1] if bounds else None)):
        if isinstance(year, int | float) and not isinstance(year, bool) and math.isfinite(year) and year != edge:
            found.append(TableFilter("year", op, int(year)))
    return tuple(found)


def _confidence_labels(lang: str) -> tuple[tuple[str, str], ...]:
    return tuple((code, t(f"confidence.{code}", lang)) for code in ("high", "medium", "low"))


def table_view(snap, indicators, regions, history: bool, lang: str, filter_query: str | None = None,
               sort_by: Iterable[tuple[str, bool]] = (), years: tuple[TableFilter, ...] = ()) -> TableView:
    """The rows a state of the page selects (only known indicators and regions count), in the words of
    ``lang`` (confidence, flags, version status); raises :class:`TableQueryError` for a filter that is not
    understood. ``years``: the year slider's filters (:func:`year_filters`)."""
    lang = normalise_lang(lang)
    return TableView(
        indicators=tuple(_known(_strings(indicators), snap.catalog.indicators)),
        regions=tuple(_known(_strings(regions), set(snap.regions["code"]))),
        history=history, lang=lang, confidence_labels=_confidence_labels(lang),
        flag_labels=tuple((code, words.pick(lang)) for code, words in flags.FLAGS.items()),
        flag_separator=FLAG_SEPARATOR.pick(lang),
        status_labels=tuple((code, t(f"batches.state.{code}", lang)) for code in ("current", "superseded", "retracted")),
        filters=parse_filter(filter_query, history) + tuple(years), sort=tuple(sort_by),
    )


def _strings(values) -> list[str]:
    return [v for v in values if isinstance(v, str)] if isinstance(values, list | tuple) else []


def parse_filter(query: str | None, history: bool = True) -> tuple[TableFilter, ...]:
    """DataTable's ``filter_query`` as filters on the table's columns; anything else is refused."""
    if not isinstance(query, str) or not query.strip():
        return ()
    if len(query) > MAX_FILTER_LENGTH:
        raise TableQueryError("filter too long")
    columns = set(COLUMNS + (HISTORY_COLUMNS if history else []))
    filters = []
    for part in query.split(" && "):
        match = FILTER_PART.fullmatch(part.strip())
        if match is None or match["column"] not in columns:
            raise TableQueryError(part[:80])
        column = match["column"]
        if match["unary"]:
            filters.append(TableFilter(column, "blank"))
            continue
        op, value = OPERATORS[match["op"]], _unquote(match["value"].strip())
        if column in queries.TABLE_NUMERIC and op not in ("contains", "startswith"):
            number = _number(value)
            if number is None:
                raise TableQueryError(part[:80])
            filters.append(TableFilter(column, op, number))
        else:
            filters.append(TableFilter(column, op, value))
    return tuple(filters)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] in QUOTES and value[-1] == value[0]:
        return value[1:-1].replace("\\" + value[0], value[0])
    return value


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _sort(sort_by) -> list[tuple[str, bool]]:
    """DataTable's ``sort_by`` as (column, descending) pairs; what is not a column is left out."""
    known = set(COLUMNS + HISTORY_COLUMNS)
    return [(s["column_id"], s.get("direction") == "desc") for s in (sort_by or [])[:5]
            if isinstance(s, dict) and s.get("column_id") in known]


def table_frame(snap, indicators: list[str], regions: list[str], history: bool, lang: str) -> pd.DataFrame:
    """Every row of the table for a choice of indicators, regions and history (the tests read it whole;
    the page reads one page, the downloads read it in chunks)."""
    return queries.table_page(snap.engine, table_view(snap, indicators, regions, history, lang))


def header(column: str, lang: str) -> str:
    """A column's header on the page and in the downloads: an upload field's name (:data:`UPLOAD_FIELDS`),
    so a downloaded file uploads again as it is, in either language."""
    return HEADERS[column].pick(lang)


def headed(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The table's rows with the headers of ``lang`` (what the downloads write)."""
    return frame.rename(columns={c: header(c, lang) for c in frame.columns}, errors="raise")


def _columns(history: bool, lang: str) -> list[dict]:
    return [{"name": header(c, lang), "id": c, "type": "numeric" if c in queries.TABLE_NUMERIC else "text"}
            for c in COLUMNS + (HISTORY_COLUMNS if history else [])]


def download_query(indicators, regions, history: bool, lang: str, filter_query: str | None, sort_by,
                   years: tuple[TableFilter, ...] = ()) -> str:
    """The query string of the download links: the same selection as the table shows."""
    start = next((f.value for f in years if f.op == ">="), "")
    end = next((f.value for f in years if f.op == "<="), "")
    params = {"indicators": ",".join(_strings(indicators)), "regions": ",".join(_strings(regions)),
              "history": "1" if history else "", "lang": lang, "filter": filter_query or "",
              "sort": ",".join(f"{c}:{'desc' if d else 'asc'}" for c, d in _sort(sort_by)),
              "years": f"{start},{end}" if years else ""}
    return urlencode({k: v for k, v in params.items() if v})


@callback(Output(f"{PAGE}-table", "data"), Output(f"{PAGE}-table", "columns"), Output(f"{PAGE}-table", "page_count"),
          Output(f"{PAGE}-table", "page_current"), Output(f"{PAGE}-count", "children"),
          Output(f"{PAGE}-message", "children"), Output(f"{PAGE}-csv", "href"), Output(f"{PAGE}-xlsx", "href"),
          Input(f"{PAGE}-indicators", "value"), Input(f"{PAGE}-regions", "value"), Input(f"{PAGE}-history", "value"),
          Input(f"{PAGE}-table", "page_current"), Input(f"{PAGE}-table", "sort_by"),
          Input(f"{PAGE}-table", "filter_query"), Input(f"{PAGE}-years", "value"), State(f"{PAGE}-lang", "data"),
          State(f"{PAGE}-years", "min"), State(f"{PAGE}-years", "max"))
def update(indicators, regions, history, page_current, sort_by, filter_query, years, lang, low, high):
    lang = normalise_lang(lang)
    # a new choice, filter or order starts again at the first page; only paging keeps the page asked for
    paging = set(dash.ctx.triggered_prop_ids) == {f"{PAGE}-table.page_current"}
    page = page_current if paging else 0
    return table_page(current(), indicators, regions, bool(history), lang, page, filter_query, sort_by,
                      year_filters(years, (low, high)))


def table_page(snap, indicators, regions, history: bool, lang: str, page, filter_query: str | None = None,
               sort_by=None, years: tuple[TableFilter, ...] = ()) -> tuple:
    """What the page's table callback returns for a state: one page of rows, its columns, the page count,
    the page shown, the row count (after every filter), a message, the two download links (a plain function,
    tested directly). ``years``: the year slider's filters (:func:`year_filters`)."""
    columns = _columns(history, lang)
    query = download_query(indicators, regions, history, lang, filter_query, sort_by, years)
    csv_href, xlsx_href = f"{CSV_PATH}?{query}", f"{XLSX_PATH}?{query}"
    try:
        view = table_view(snap, indicators, regions, history, lang, filter_query, _sort(sort_by), years)
    except TableQueryError as exc:
        refused = FILTER_REFUSED.format(part=str(exc)).pick(lang)
        return [], columns, 1, 0, t("data.count", lang, n=0), refused, CSV_PATH, XLSX_PATH
    total = queries.table_count(snap.engine, view)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(int(page), 0), pages - 1) if isinstance(page, int) else 0
    frame = queries.table_page(snap.engine, view, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    message = EXCEL_TOO_BIG.format(cap=EXCEL_MAX_ROWS, n=total).pick(lang) if total > EXCEL_MAX_ROWS else ""
    return (rows, columns, pages, page, t("data.count", lang, n=f"{total:,}"), message, csv_href,
            xlsx_href if total <= EXCEL_MAX_ROWS else None)


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM, CRLF line ends as Excel writes them, formula-like cells neutralised."""
    return tables.csv_bytes(frame)


def csv_stream(chunks: Iterable[pd.DataFrame], columns: list[str]) -> Iterator[bytes]:
    """:func:`to_csv` of the chunks joined, as bytes a chunk at a time: the byte-order mark and the header
    first, then each chunk's rows (the same cells ``tables.csv_text`` writes). ``columns``: the header when
    there is no chunk (the chunks carry their own)."""
    yield "\ufeff".encode()
    header_sent = False
    for chunk in chunks:
        text = tables.csv_text(chunk)
        if header_sent:
            text = text.split("\r\n", 1)[1]
        header_sent = True
        yield text.encode("utf-8")
    if not header_sent:
        yield tables.csv_text(pd.DataFrame(columns=columns)).encode("utf-8")


def to_excel(frame: pd.DataFrame) -> bytes:
    return excel_bytes([frame], list(frame.columns))


def excel_bytes(chunks: Iterable[pd.DataFrame], columns: list[str]) -> bytes:
    """An Excel workbook of the chunks (one sheet), written row by row (openpyxl's write-only mode holds no
    cell objects); formula-like text neutralised."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("observations")
    sheet.append(columns)
    for chunk in chunks:
        safe = tables.csv_safe(chunk).astype(object)
        for row in safe.where(safe.notna(), None).itertuples(index=False):
            sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _metadata_links(catalog, codes: list[str], lang: str) -> list:
    """A metadata link for each indicator chosen (with none chosen, the table holds them all: the index)."""
    links = [dcc.Link(f"{ICON} {catalog.indicators[c].short_name.pick(lang)}", href=metadata_href(c, lang),
                      id=f"{PAGE}-metadata-{c}", className="me-3 text-nowrap") for c in codes]
    return [html.Span(t("meta.links", lang), className="text-muted me-2"),
            *(links or [dcc.Link(f"{ICON} {t('meta.all', lang)}", href=metadata_href(None, lang), id=f"{PAGE}-metadata-all")])]


@callback(Output(f"{PAGE}-metadata", "children"), Input(f"{PAGE}-indicators", "value"), State(f"{PAGE}-lang", "data"),
          prevent_initial_call=True)
def metadata(indicators, lang):
    snap = current()
    return _metadata_links(snap.catalog, _known(_strings(indicators), snap.catalog.indicators), normalise_lang(lang))


sync_url(PAGE, [("indicators", f"{PAGE}-indicators", "value"), ("regions", f"{PAGE}-regions", "value"),
                ("history", f"{PAGE}-history", "value"), ("years", f"{PAGE}-years", "value")])


# The downloads: server routes (not callbacks), so a file of any size streams instead of passing through the
# browser's memory as one callback response. Registered on the app's server when the page is imported.

downloads = Blueprint("data_downloads", __name__)


def _plain(message: Text | str, status: int) -> Response:
    body = str(message) if isinstance(message, Text) else message
    return Response(body, status=status, mimetype="text/plain; charset=utf-8")


def _download_view(snap) -> TableView:
    args = request.args
    sort = [{"column_id": c, "direction": d} for c, _, d in
            (s.partition(":") for s in split_param(args.get("sort", ""))[:5])]
    wanted = (query_value(args.get("years")) or "").split(",")
    years = [query_int(wanted[0]) if wanted else None, query_int(wanted[1]) if len(wanted) > 1 else None]
    return table_view(snap, split_param(args.get("indicators")), split_param(args.get("regions")),
                      args.get("history") == "1", normalise_lang(args.get("lang")), args.get("filter"), _sort(sort),
                      year_filters(years))


@downloads.get(CSV_PATH)
def download_csv() -> Response:
    snap = current()
    try:
        view = _download_view(snap)
    except TableQueryError as exc:
        return _plain(FILTER_REFUSED.format(part=str(exc)), 400)
    chunks = (headed(chunk, view.lang) for chunk in queries.table_chunks(snap.engine, view, CSV_CHUNK_ROWS))
    stream = csv_stream(chunks, [header(c, view.lang) for c in view.columns])
    return Response(stream, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=innovation-monitor-data.csv"})


@downloads.get(XLSX_PATH)
def download_xlsx() -> Response:
    snap = current()
    try:
        view = _download_view(snap)
    except TableQueryError as exc:
        return _plain(FILTER_REFUSED.format(part=str(exc)), 400)
    total = queries.table_count(snap.engine, view)
    if total > EXCEL_MAX_ROWS:
        return _plain(EXCEL_TOO_BIG.format(cap=EXCEL_MAX_ROWS, n=total), 413)
    content = excel_bytes(queries.table_chunks(snap.engine, view, CSV_CHUNK_ROWS),
                          [header(c, view.lang) for c in view.columns])
    return Response(content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=innovation-monitor-data.xlsx"})


dash.get_app().server.register_blueprint(downloads)
