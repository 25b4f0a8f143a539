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

from dashboards._common import TABLE_FONT, current, page_frame, query_value, split_param, sync_url
from dashboards._metadata_link import ICON, metadata_href
from indicators import queries, tables
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
EXCEL_TOO_BIG = Text("Excel 下载最多 {cap:,} 行,当前选择有 {n:,} 行。请缩小筛选范围,或下载 CSV(不限行数)。",
                     "Excel downloads hold at most {cap:,} rows; this selection has {n:,}. Narrow the filters or "
                     "download CSV (any size).")


def layout(indicators: str | None = None, regions: str | None = None, history: str | None = None,
           lang: str | None = None, **_):
    lang = normalise_lang(lang)
    snap = current()
    catalog = snap.catalog
    ind_options = [{"label": f"{i.short_name.pick(lang)} ({i.code})", "value": i.code}
                   for i in catalog.indicators.values() if i.kind != "qualitative"]
    known_regions = sorted(snap.regions["code"])
    reg_options = [{"label": snap.region_name(c, lang), "value": c} for c in known_regions]
    chosen_indicators = _known(split_param(indicators), catalog.indicators)
    return page_frame(
        PAGE, lang, t("data.title", lang),
        dbc.Row([
            dbc.Col([dbc.Label(t("common.indicator", lang)),
                     dcc.Dropdown(id=f"{PAGE}-indicators", options=ind_options, multi=True,
                                  value=chosen_indicators)], md=5),
            dbc.Col([dbc.Label(t("common.regions", lang)),
                     dcc.Dropdown(id=f"{PAGE}-regions", options=reg_options, multi=True,
                                  value=_known(split_param(regions), set(known_regions)))], md=4),
            dbc.Col([dbc.Checklist(id=f"{PAGE}-history", options=[{"label": t("data.history", lang), "value": "1"}],
                                   value=["1"] if query_value(history) == "1" else [], switch=True,
                                   className="mt-4")], md=3),
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


def _confidence_labels(lang: str) -> tuple[tuple[str, str], ...]:
    return tuple((code, t(f"confidence.{code}", lang)) for code in ("high", "medium", "low"))


def table_view(snap, indicators, regions, history: bool, lang: str, filter_query: str | None = None,
               sort_by: Iterable[tuple[str, bool]] = ()) -> TableView:
    """The rows a state of the page selects (only known indicators and regions count); raises
    :class:`TableQueryError` for a filter that is not understood."""
    lang = normalise_lang(lang)
    return TableView(
        indicators=tuple(_known(_strings(indicators), snap.catalog.indicators)),
        regions=tuple(_known(_strings(regions), set(snap.regions["code"]))),
        history=history, lang=lang, confidence_labels=_confidence_labels(lang),
        filters=parse_filter(filter_query, history), sort=tuple(sort_by),
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


def _header(column: str, lang: str) -> str:
    names = {"indicator": "common.indicator", "region": "common.region", "year": "common.year",
             "value": "common.value", "unit": "common.unit", "source": "common.source",
             "confidence": "common.confidence", "published_on": "common.published", "batch": "common.batch",
             "note": "common.note", "status": "common.status", "flags": "common.flags",
             "publication": "common.publication", "publisher": "common.publisher"}
    if column in names:
        return t(names[column], lang) + (" (code)" if column in ("indicator", "region") else "")
    return {"indicator_name": t("common.indicator", lang), "region_name": t("common.region", lang),
            "version": "version"}.get(column, column)


def _columns(history: bool, lang: str) -> list[dict]:
    return [{"name": _header(c, lang), "id": c, "type": "numeric" if c in queries.TABLE_NUMERIC else "text"}
            for c in COLUMNS + (HISTORY_COLUMNS if history else [])]


def download_query(indicators, regions, history: bool, lang: str, filter_query: str | None, sort_by) -> str:
    """The query string of the download links: the same selection as the table shows."""
    params = {"indicators": ",".join(_strings(indicators)), "regions": ",".join(_strings(regions)),
              "history": "1" if history else "", "lang": lang, "filter": filter_query or "",
              "sort": ",".join(f"{c}:{'desc' if d else 'asc'}" for c, d in _sort(sort_by))}
    return urlencode({k: v for k, v in params.items() if v})


@callback(Output(f"{PAGE}-table", "data"), Output(f"{PAGE}-table", "columns"), Output(f"{PAGE}-table", "page_count"),
          Output(f"{PAGE}-table", "page_current"), Output(f"{PAGE}-count", "children"),
          Output(f"{PAGE}-message", "children"), Output(f"{PAGE}-csv", "href"), Output(f"{PAGE}-xlsx", "href"),
          Input(f"{PAGE}-indicators", "value"), Input(f"{PAGE}-regions", "value"), Input(f"{PAGE}-history", "value"),
          Input(f"{PAGE}-table", "page_current"), Input(f"{PAGE}-table", "sort_by"),
          Input(f"{PAGE}-table", "filter_query"), State(f"{PAGE}-lang", "data"))
def update(indicators, regions, history, page_current, sort_by, filter_query, lang):
    lang = normalise_lang(lang)
    # a new choice, filter or order starts again at the first page; only paging keeps the page asked for
    paging = set(dash.ctx.triggered_prop_ids) == {f"{PAGE}-table.page_current"}
    page = page_current if paging else 0
    return table_page(current(), indicators, regions, bool(history), lang, page, filter_query, sort_by)


def table_page(snap, indicators, regions, history: bool, lang: str, page, filter_query: str | None = None,
               sort_by=None) -> tuple:
    """What the page's table callback returns for a state: one page of rows, its columns, the page count,
    the page shown, the row count, a message, the two download links (a plain function, tested directly)."""
    columns = _columns(history, lang)
    query = download_query(indicators, regions, history, lang, filter_query, sort_by)
    csv_href, xlsx_href = f"{CSV_PATH}?{query}", f"{XLSX_PATH}?{query}"
    try:
        view = table_view(snap, indicators, regions, history, lang, filter_query, _sort(sort_by))
    except TableQueryError as exc:
        refused = FILTER_REFUSED.format(part=str(exc)).pick(lang)
        return [], columns, 1, 0, f"0 {t('common.rows', lang)}", refused, CSV_PATH, XLSX_PATH
    total = queries.table_count(snap.engine, view)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(int(page), 0), pages - 1) if isinstance(page, int) else 0
    frame = queries.table_page(snap.engine, view, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    message = EXCEL_TOO_BIG.format(cap=EXCEL_MAX_ROWS, n=total).pick(lang) if total > EXCEL_MAX_ROWS else ""
    return (rows, columns, pages, page, f"{total:,} {t('common.rows', lang)}", message, csv_href,
            xlsx_href if total <= EXCEL_MAX_ROWS else None)


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM, CRLF line ends as Excel writes them, formula-like cells neutralised."""
    return tables.csv_bytes(frame)


def csv_stream(chunks: Iterable[pd.DataFrame], columns: list[str]) -> Iterator[bytes]:
    """:func:`to_csv` of the chunks joined, as bytes a chunk at a time: the byte-order mark and the header
    first, then each chunk's rows (the same cells ``tables.csv_text`` writes)."""
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
                ("history", f"{PAGE}-history", "value")])


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
    return table_view(snap, split_param(args.get("indicators")), split_param(args.get("regions")),
                      args.get("history") == "1", normalise_lang(args.get("lang")), args.get("filter"), _sort(sort))


@downloads.get(CSV_PATH)
def download_csv() -> Response:
    snap = current()
    try:
        view = _download_view(snap)
    except TableQueryError as exc:
        return _plain(FILTER_REFUSED.format(part=str(exc)), 400)
    stream = csv_stream(queries.table_chunks(snap.engine, view, CSV_CHUNK_ROWS), view.columns)
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
    content = excel_bytes(queries.table_chunks(snap.engine, view, CSV_CHUNK_ROWS), view.columns)
    return Response(content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=innovation-monitor-data.xlsx"})


dash.get_app().server.register_blueprint(downloads)
