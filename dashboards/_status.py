"""How a status looks on a page: its label, its badge and the mark of a provisional judgement.

Not a page (Dash Pages skips files starting with ``_``). The words come from ``indicators.progress``, the
colours and icons from ``indicators.figures``, so pages, images and the CLI name a status alike.
"""

from __future__ import annotations

from dash import html

from indicators import progress
from indicators.figures import status_style
from indicators.i18n import t


def status_badge(status: str, lang: str, **kwargs) -> html.Span:
    colour, icon, text_colour = status_style(status)
    return html.Span(f"{icon} {progress.status_label(status, lang)}", className="im-badge",
                     style={"background": colour, "color": text_colour}, **kwargs)


PROVISIONAL_GUARDS = {"partial_period", "one_point"}


def provisional_mark(guard, lang: str):
    """'初步' / 'provisional' beside a status judged on part of its period or on a single value."""
    if not isinstance(guard, str) or guard not in PROVISIONAL_GUARDS:
        return None
    return html.Span(t(f"guard.{guard}", lang), className="badge text-bg-light border ms-1",
                     title=t(f"guard.{guard}.why", lang))


