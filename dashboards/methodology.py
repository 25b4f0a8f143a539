"""Methodology page: how statuses are computed, in the page language (text in indicators/methodology/)."""

from __future__ import annotations

from pathlib import Path

import dash
from dash import dcc, html

from indicators.i18n import normalise_lang

dash.register_page(__name__, path="/methodology", order=9, nav_key="nav.methodology", title="方法说明 Methodology")

TEXT_DIR = Path(__file__).resolve().parent.parent / "indicators" / "methodology"


def layout(lang: str | None = None, **_):
    lang = normalise_lang(lang)
    text = (TEXT_DIR / f"methodology.{lang}.md").read_text(encoding="utf-8")
    # the text opens with its own title
    return html.Div(dcc.Markdown(text, mathjax=False, id="methodology-text"), className="im-panel")
