"""How a status looks on a page: its label, its badge and the mark of a provisional judgement.

Not a page (Dash Pages skips files starting with ``_``). The words come from ``indicators.progress``, the
colours and icons from ``indicators.figures``, so pages, images and the CLI name a status alike.
"""

from __future__ import annotations

from dash import html

from indicators import flags, progress
from indicators.figures import status_style
from indicators.i18n import t


def status_badge(status: str, lang: str, row=None, **kwargs) -> html.Span:
    """A status in its colour; a tentative one (low confidence, one value, across a break) is drawn as an
    outline with a dashed border and ⚠, its caveats in the tooltip: it never looks like a firm status."""
    colour, icon, text_colour = status_style(status)
    label = f"{icon} {progress.status_label(status, lang)}"
    if row is not None and progress.tentative(row.get("caveats"), status):
        why = " ".join(progress.caveat_sentences(dict(row), lang))
        return html.Span(f"{label} ⚠ {t('common.tentative', lang)}", className="im-badge im-badge-tentative",
                         style={"borderColor": colour, "color": "#222"}, title=why, **kwargs)
    return html.Span(label, className="im-badge", style={"background": colour, "color": text_colour}, **kwargs)


def caveat_notes(row, lang: str, **kwargs) -> html.Ul | None:
    """The caveats of an assessment row as short sentences (what the status rests on); None without any."""
    sentences = progress.caveat_sentences(dict(row), lang)
    if not sentences:
        return None
    return html.Ul([html.Li(s) for s in sentences], className="im-caveats", **kwargs)


PROVISIONAL_GUARDS = {"partial_period", "one_point"}


def provisional_mark(guard, lang: str):
    """'初步' / 'provisional' beside a status judged on part of its period or on a single value."""
    if not isinstance(guard, str) or guard not in PROVISIONAL_GUARDS:
        return None
    return html.Span(t(f"guard.{guard}", lang), className="badge text-bg-light border ms-1",
                     title=t(f"guard.{guard}.why", lang))




def flag_mark(text: object, lang: str) -> html.Span | None:
    """A value's flags beside it, as Eurostat prints them ("6.58 p"), their words in the tooltip."""
    found = flags.codes(text)
    if not found:
        return None
    return html.Span("".join(found), className="im-flag",
                     title=", ".join(f"{c} = {flags.FLAGS[c].pick(lang)}" for c in found))
