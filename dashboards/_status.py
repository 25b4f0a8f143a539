"""How a status looks on a page: its label, its badge and the mark of a provisional judgement.

Not a page (Dash Pages skips files starting with ``_``). The words come from ``indicators.progress``, the
colours and icons from ``indicators.figures``, so pages, images and the CLI name a status alike.
"""

from __future__ import annotations

from dash import html

from indicators import flags, progress
from indicators.figures import status_style
from indicators.i18n import fmt_number, t

# Eurostat's classes for indicators without a target: drawn as outlines, so a green "significant progress"
# is never read as "on track" towards a target.
NO_TARGET_STATUSES = ("significant_progress", "moderate_progress", "moderate_away", "significant_away")


def status_badge(status: str, lang: str, row=None, **kwargs) -> html.Span:
    """A status in its colour, its description and (with the assessment ``row``) the numbers behind it in
    the tooltip. A tentative status (low confidence, one value, across a break) is drawn as a dashed outline
    with ⚠, never like a firm one; a class without a target as a solid outline."""
    colour, icon, text_colour = status_style(status)
    label = f"{icon} {progress.status_label(status, lang)}"
    why = status_numbers(status, row, lang)
    if row is not None and progress.tentative(row.get("caveats"), status):
        return html.Span(f"{label} ⚠ {t('common.tentative', lang)}", className="im-badge im-badge-tentative",
                         style={"borderColor": colour, "color": "#222"}, title=why, **kwargs)
    if status in NO_TARGET_STATUSES:
        return html.Span(label, className="im-badge im-badge-untargeted", style={"borderColor": colour},
                         title=why, **kwargs)
    return html.Span(label, className="im-badge", style={"background": colour, "color": text_colour}, title=why,
                     **kwargs)


def status_numbers(status: str, row, lang: str) -> str:
    """The tooltip of a status: what it means and, for a row, the numbers it rests on (baseline, latest,
    target with its band and tolerance, R) and its caveats."""
    description = progress.STATUS_DESCRIPTIONS.get(status)
    parts = [description.pick(lang)] if description else []
    if row is None:
        return "\n".join(parts)
    r = dict(row)

    def number(key: str) -> str | None:
        value = r.get(key)
        return None if value is None or value != value else fmt_number(float(value))

    facts = []
    if number("baseline_value"):
        facts.append(f"{t('common.baseline', lang)}: {number('baseline_value')} ({progress.baseline_label(r, lang)})")
    if number("latest_value"):
        facts.append(f"{t('common.latest', lang)}: {number('latest_value')} ({int(r['latest_year'])})")
    if number("target"):
        band = (f" [{number('band_low')}–{number('band_high')}, {t('common.tolerance', lang)} ±{number('tolerance')}]"
                if number("tolerance") else "")
        facts.append(f"{t('common.target', lang)}: {number('target')}{band}")
    if number("ratio"):
        facts.append(f"R = {fmt_number(float(r['ratio']), decimals=2)}")
    parts += facts + progress.caveat_sentences(r, lang)
    return "\n".join(parts)


def status_legend(statuses: list[str], lang: str, **kwargs) -> html.Details:
    """A tap-to-open legend of the statuses shown on a page: each badge with what it means (works on touch,
    where tooltips do not)."""
    items = [html.Li([status_badge(s, lang), " ", html.Span(progress.STATUS_DESCRIPTIONS[s].pick(lang))],
                     className="mb-1") for s in dict.fromkeys(statuses) if s in progress.STATUS_DESCRIPTIONS]
    items.append(html.Li([html.Span(f"⚠ {t('common.tentative', lang)}", className="im-badge im-badge-tentative"),
                          " ", t("legend.tentative", lang)], className="mb-1"))
    return html.Details([html.Summary(t("legend.title", lang)), html.Ul(items, className="list-unstyled small mt-2")],
                        className="im-legend mb-2", **kwargs)


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
