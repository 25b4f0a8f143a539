"""Helpers the pages share (not a page: Dash Pages skips files starting with ``_``).

What belongs here: reading the language and view state from the query string, the data snapshot the
pages read, page frames, chart export links, empty states, and the clientside callback that writes a page's state back
into the URL so a copied link reproduces the view.

A query string can hold anything (a parameter given twice arrives as a list, a number as '²' or 5,000
digits): :func:`query_value`, :func:`query_int` and :func:`split_param` turn it into what a page can use,
and a page falls back to its default for anything else, never an error.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode

from dash import Input, Output, clientside_callback, dcc, html

from indicators import flags
from indicators import snapshot as snapshots
from indicators.i18n import Text, normalise_lang, t

TABLE_FONT = '"Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'  # DataTable: not monospace
MAX_PARAM_LENGTH = 200  # longer than any code, name or list a page offers; anything longer names nothing
MAX_PARAM_ITEMS = 1_000
MAX_INT_DIGITS = 9
# No "Share chart…" (it uploads the chart to Plotly Cloud: never from a government tool), no logo.
GRAPH_CONFIG = {"displaylogo": False, "responsive": True, "showSendToCloud": False, "showEditInChartStudio": False,
                "plotlyServerURL": "", "modeBarButtonsToRemove": ["sendChartToCloud", "sendDataToCloud"],
                "toImageButtonOptions": {"format": "png", "scale": 2}}
FLAG_SEPARATOR = Text("、", ", ")  # both among the separators an upload reads flags with (ingest.fields)
DROPDOWN_LABELS = ("select_all", "deselect_all", "selected_count", "search", "clear_search", "clear_selection",
                   "no_options_found")


def lang_from_search(search: str | None) -> str:
    values = parse_qs((search or "").lstrip("?")).get("lang", [None])
    return normalise_lang(values[0])


def nav_href(path: str, lang: str, **params) -> str:
    query = {"lang": lang, **{k: v for k, v in params.items() if v not in (None, "", [])}}
    return f"{path}?{urlencode(query, doseq=True)}"


def split_param(value: str | list | None) -> list[str]:
    """A list from a query parameter written as 'a,b' (or given twice); at most :data:`MAX_PARAM_ITEMS`
    items, each a string no longer than :data:`MAX_PARAM_LENGTH`."""
    if isinstance(value, list):
        value = ",".join(v for v in value if isinstance(v, str))
    if not isinstance(value, str):
        return []
    return [v for v in value.split(",", MAX_PARAM_ITEMS) if v and len(v) <= MAX_PARAM_LENGTH][:MAX_PARAM_ITEMS]


def query_value(value: str | list | None) -> str | None:
    """One text from a query parameter (the first when given twice); None when there is none, or when it is
    too long to name anything."""
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) and len(value) <= MAX_PARAM_LENGTH else None


def query_int(value: str | list | None) -> int | None:
    """A whole number from a query parameter written in ASCII digits (a year, an id), else None: '²', '٣',
    '1e3', '-1' and a number of thousands of digits are not one."""
    text = query_value(value)
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= MAX_INT_DIGITS else None


def dropdown_labels(lang: str) -> dict[str, str]:
    """The texts a ``dcc.Dropdown`` writes itself ("Search", "Select All", "3 selected"…) in ``lang``: Dash
    shows its English defaults unless every one is given (``labels`` replaces the defaults whole)."""
    return {key: t(f"dropdown.{key}", lang) for key in DROPDOWN_LABELS}


def flag_words(text: object, lang: str) -> object:
    """A stored flag text ("p u") as words ("初步数、可靠性低" / "provisional, low reliability"), which an upload
    reads back as the same codes; a text that holds no flag code is shown as it is."""
    found = flags.codes(text)
    if not found:
        return text
    return FLAG_SEPARATOR.pick(lang).join(flags.FLAGS[code].pick(lang) for code in found)


def current() -> snapshots.Snapshot:
    return snapshots.snapshot()


def export_href(view: str, lang: str, *, size: str = "slide", fmt: str = "png", **params) -> str:
    return nav_href("/export/chart", lang, view=view, size=size, format=fmt, **params)


def export_links(view: str, lang: str, *, citation: str | None = None, **params) -> html.Div:
    """One download menu per chart: the chart rendered on the server in the briefing template (PNG slide,
    PNG page, SVG); for a trend view also the CSV of exactly what it shows and of the full series; and the
    line to cite it with."""
    links = [("export.png_slide", "slide", "png"), ("export.png_page", "page", "png"), ("export.svg", "slide", "svg")]
    children = [html.A(t(key, lang), href=export_href(view, lang, size=size, fmt=fmt, **params), download="",
                       className="btn btn-outline-primary btn-sm me-2", id=f"{view}-export-{size}-{fmt}")
                for key, size, fmt in links]
    if view == "trend":
        table_params = {k: v for k, v in params.items() if k != "view"}
        children += [
            html.A(t("export.csv_view", lang), href=nav_href("/export/table", lang, scope="view", **table_params),
                   download="", className="btn btn-outline-secondary btn-sm me-2", id=f"{view}-export-csv"),
            html.A(t("export.csv_series", lang),
                   href=nav_href("/export/table", lang, scope="series", indicator=params.get("indicator")),
                   download="", className="btn btn-outline-secondary btn-sm me-2", id=f"{view}-export-csv-series"),
        ]
    children.append(html.Span(t("export.hint", lang), className="small text-muted"))
    menu = [html.Div(children, className="d-flex flex-wrap align-items-center gap-1")]
    if citation:
        menu.append(html.Div([html.Span(t("export.cite", lang) + ": ", className="fw-semibold"),
                              html.Span(citation, className="im-cite", id=f"{view}-citation")],
                             className="small text-muted mt-1"))
    return html.Div(menu, className="mb-2", id=f"{view}-export")


def empty_state(message: str, *, link: str | None = None, link_text: str | None = None) -> html.Div:
    children = [html.P(message, className="mb-0")]
    if link:
        children.append(dcc.Link(link_text or link, href=link))
    return html.Div(children, className="im-empty")


def page_header(title: str, subtitle: str | None = None) -> html.Div:
    return html.Div([html.H1(title, className="h3 mb-1"),
                     html.P(subtitle, className="text-muted mb-3") if subtitle else None])


def page_frame(page: str, lang: str, title: str, *children) -> html.Div:
    """A page with controls: its language and address-bar stores, its title, then ``children``."""
    return html.Div([dcc.Store(id=f"{page}-lang", data=lang), dcc.Store(id=f"{page}-url"), page_header(title),
                     *children])


def sync_url(page: str, params: list[tuple[str, str, str]]) -> None:
    """Write the page's controls into the address bar (history.replaceState: no reload, no re-render).

    ``params``: (query name, component id, property). Lists become 'a,b'. The language stays as it is.
    """
    names = [p[0] for p in params]
    js = """function() {
        const names = NAMES;
        const url = new URL(window.location.href);
        for (let i = 0; i < names.length; i++) {
            let v = arguments[i];
            if (Array.isArray(v)) { v = v.join(','); }
            if (v === null || v === undefined || v === '' || v === false) { url.searchParams.delete(names[i]); }
            else { url.searchParams.set(names[i], v === true ? '1' : String(v)); }
        }
        window.history.replaceState(window.history.state, '', url.toString());
        return url.search;
    }""".replace("NAMES", json.dumps(names))
    clientside_callback(js, Output(f"{page}-url", "data"), *[Input(cid, prop) for _, cid, prop in params])
