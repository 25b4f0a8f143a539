"""The link to an indicator's metadata page that the other pages put beside cards, charts and table rows.

Not a page (Dash Pages skips files starting with ``_``). The page itself is ``dashboards/metadata.py``; a
page module is not imported by another (Dash imports it), so the link lives here.
"""

from __future__ import annotations

from dash import dcc, html

from dashboards._common import nav_href
from indicators.i18n import t

PATH = "/metadata"
ICON = "ⓘ"


def metadata_href(code: str | None, lang: str) -> str:
    """The metadata page of an indicator; with no code, the index of all indicators."""
    return nav_href(PATH, lang, indicator=code)


def metadata_link(code: str | None, lang: str, *, compact: bool = False, link_id: str | None = None,
                  class_name: str = "") -> dcc.Link:
    """'ⓘ 元数据' / 'ⓘ Metadata' (``compact``: the icon alone, its word kept for screen readers)."""
    word = t("meta.link", lang)
    label = [ICON, html.Span(word, className="visually-hidden")] if compact else f"{ICON} {word}"
    extra = {"id": link_id} if link_id else {}
    return dcc.Link(label, href=metadata_href(code, lang), title=t("meta.link_title", lang),
                    className=f"im-meta-link link-primary text-nowrap {class_name}".strip(), **extra)
