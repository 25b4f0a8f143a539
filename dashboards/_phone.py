"""What the chart pages need for phones (not a page: Dash Pages skips files starting with ``_``).

The figures are built on the server, which does not know the screen: a page keeps the screen's class
('phone' below Bootstrap's medium breakpoint or on a screen without hover, a touch screen; else 'wide') in a
store the browser fills once on load, and its
callbacks draw ``figures.for_phone`` of the figure for a phone. A phone has no pointer to hover with, so
below each chart a tap panel shows the tapped (or clicked) point's details: its value, flags, confidence
and source, the text a laptop shows on hover. Not here: the figures' phone form (``indicators.figures``)
and the page's CSS (``assets/10-style.css``).
"""

from __future__ import annotations

from dash import Input, Output, State, clientside_callback, dcc, html

from indicators.i18n import t

PHONE = "phone"
# narrower than Bootstrap's "md" breakpoint, or touch only: assets/10-style.css shows the tap panel there too
PHONE_QUERY = "(max-width: 767.98px), (hover: none)"

# The point's hover text as plain lines (its <br>s as line breaks), after its trace's name where the text
# does not name the region itself; a rank chart's point (no hover text) as "name · year: rank".
TAP_JS = """function(click, figure) {
    const point = click && click.points && click.points[0];
    if (!point) { return window.dash_clientside.no_update; }
    const plain = s => String(s).replace(/<br\\s*\\/?>/gi, '\\n').replace(/<[^>]*>/g, '');
    const trace = (figure && figure.data && figure.data[point.curveNumber]) || {};
    const name = trace.name ? plain(trace.name).replace(/\\n/g, ' ') : '';
    const text = point.hovertext || (Array.isArray(trace.hovertext) ? trace.hovertext[point.pointNumber] : '');
    if (text) { return (name ? name + '\\n' : '') + plain(text); }
    return [name, `${point.x}: ${point.y}`].filter(Boolean).join(' · ');
}"""


def screen_store(page: str) -> dcc.Store:
    """The store holding the screen's class for ``page`` (filled in the browser: see :func:`register`)."""
    return dcc.Store(id=f"{page}-screen")


def is_phone(screen: str | None) -> bool:
    return screen == PHONE


def tap_panel(graph_id: str, lang: str) -> html.Div:
    """Below a chart: a hint, replaced by the details of the point tapped or clicked."""
    return html.Div(t("phone.tap_hint", lang), id=f"{graph_id}-tap", className="im-tap", **{"aria-live": "polite"})


def register(page: str, graph_ids: list[str]) -> None:
    """The page's screen store (filled once, from the page's language store, which every page frame has)
    and the tap panels of its charts."""
    clientside_callback(f"function(_) {{ return window.matchMedia('{PHONE_QUERY}').matches ? '{PHONE}' : 'wide'; }}",
                        Output(f"{page}-screen", "data"), Input(f"{page}-lang", "data"))
    for graph_id in graph_ids:
        clientside_callback(TAP_JS, Output(f"{graph_id}-tap", "children"), Input(graph_id, "clickData"),
                            State(graph_id, "figure"), prevent_initial_call=True)
