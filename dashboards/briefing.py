"""Briefing page: choose pillar, indicators, regions and language; build a pack in the background; below it,
the work report (Word or PowerPoint) of a period, built the same way.

Each build runs as a background job (``indicators.jobs``), so other users' requests go on; the page polls
its progress and offers the zip, .docx or .pptx when it is ready. The choices live in the URL like every other
view.
"""

from __future__ import annotations

from datetime import date

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from flask import has_request_context, request

from dashboards import _auth
from dashboards._common import current, dropdown_labels, page_header, query_value, split_param, sync_url
from indicators import report
from indicators.i18n import normalise_lang, t
from indicators.jobs import JOBS, TooBusy

dash.register_page(__name__, path="/briefing", order=5, nav_key="nav.briefing", title="简报导出 Briefing")

PAGE = "brief"
REPORT = "report"  # the ids of the work report's controls


def layout(pillar: str | None = None, indicators: str | None = None, regions: str | None = None,
           packlang: str | None = None, size: str | None = None, period: str | None = None,
           reportlang: str | None = None, reportformat: str | None = None, lang: str | None = None, **_):
    lang = normalise_lang(query_value(lang))
    pillar, packlang, size = query_value(pillar), query_value(packlang), query_value(size)  # given twice: the first
    snap = current()
    catalog = snap.catalog
    pillars = [{"label": t("common.all", lang), "value": "all"}] + [
        {"label": p.name.pick(lang), "value": p.code} for p in catalog.programme.pillars if p.code != "overall"]
    ind_options = [{"label": i.short_name.pick(lang), "value": i.code}
                   for i in catalog.ordered_indicators() if i.kind != "qualitative"]
    home = catalog.programme.home_region
    reg_options = [{"label": snap.region_name(c, lang), "value": c}
                   for c in sorted(set(snap.observations["region"])) if c != home]
    return html.Div([
        dcc.Store(id=f"{PAGE}-lang", data=lang),
        dcc.Store(id=f"{PAGE}-url"),
        dcc.Store(id=f"{PAGE}-job"),
        dcc.Interval(id=f"{PAGE}-poll", interval=500, disabled=True),
        page_header(t("brief.title", lang), t("brief.subtitle", lang)),
        dbc.Row([
            dbc.Col([dbc.Label(t("common.pillar", lang)),
                     dcc.Dropdown(labels=dropdown_labels(lang), id=f"{PAGE}-pillar", options=pillars, clearable=False,
                                  value=pillar if pillar in {p["value"] for p in pillars} else "all")], md=4),
            dbc.Col([dbc.Label(t("common.indicator", lang)),
                     dcc.Dropdown(labels=dropdown_labels(lang), id=f"{PAGE}-indicators", options=ind_options, multi=True,
                                  value=[c for c in split_param(indicators) if c in catalog.indicators])], md=8),
            dbc.Col([dbc.Label(t("brief.peers", lang)),
                     dcc.Dropdown(labels=dropdown_labels(lang), id=f"{PAGE}-regions", options=reg_options, multi=True,
                                  value=[r for r in split_param(regions) if r != home])], md=6),
            dbc.Col([dbc.Label(t("brief.language", lang)),
                     dbc.RadioItems(id=f"{PAGE}-packlang", inline=True, value=normalise_lang(packlang or lang),
                                    options=[{"label": "中文", "value": "zh"}, {"label": "English", "value": "en"}])],
                    md=3),
            dbc.Col([dbc.Label(t("brief.size", lang)),
                     dbc.RadioItems(id=f"{PAGE}-size", inline=True, value=size if size in ("slide", "page") else "slide",
                                    options=[{"label": t("brief.size_slide", lang), "value": "slide"},
                                             {"label": t("brief.size_page", lang), "value": "page"}])], md=3),
        ], className="g-3 mb-3"),
        dbc.Button(t("brief.build", lang), id=f"{PAGE}-build", color="primary"),
        html.Div(id=f"{PAGE}-status", className="mt-3"),
        report_section(lang, period=query_value(period), reportlang=query_value(reportlang),
                       reportformat=query_value(reportformat)),
    ])


def report_section(lang: str, *, period: str | None, reportlang: str | None, reportformat: str | None):
    """The work report's controls: period (a quarter), language and format, the button and its job's status."""
    chosen = report.parse_period(period) or report.period_of(date.today())
    return html.Div([
        dcc.Store(id=f"{REPORT}-job"),
        dcc.Interval(id=f"{REPORT}-poll", interval=500, disabled=True),
        html.H2(t("report.title", lang), className="h4"),
        html.P(t("report.subtitle", lang), className="text-muted"),
        dbc.Row([
            dbc.Col([dbc.Label(t("report.period", lang), html_for=f"{REPORT}-period"),
                     dbc.Input(id=f"{REPORT}-period", value=chosen, placeholder="2026Q4", debounce=True)], md=3),
            dbc.Col([dbc.Label(t("report.language", lang)),
                     dbc.RadioItems(id=f"{REPORT}-lang", inline=True, value=normalise_lang(reportlang or lang),
                                    options=[{"label": "中文", "value": "zh"}, {"label": "English", "value": "en"}])],
                    md=3),
            dbc.Col([dbc.Label(t("report.format", lang)),
                     dbc.RadioItems(id=f"{REPORT}-format", inline=True,
                                    value=reportformat if reportformat in report.MIMETYPES else "docx",
                                    options=[{"label": "Word (.docx)", "value": "docx"},
                                             {"label": "PowerPoint (.pptx)", "value": "pptx"}])], md=4),
        ], className="g-3 mb-3"),
        dbc.Button(t("report.build", lang), id=f"{REPORT}-build", color="primary"),
        html.Div(id=f"{REPORT}-status", className="mt-3"),
    ], className="mt-5 pt-3 border-top")


@callback(Output(f"{PAGE}-job", "data"), Output(f"{PAGE}-poll", "disabled"),
          Output(f"{PAGE}-status", "children", allow_duplicate=True),
          Input(f"{PAGE}-build", "n_clicks"),
          State(f"{PAGE}-pillar", "value"), State(f"{PAGE}-indicators", "value"), State(f"{PAGE}-regions", "value"),
          State(f"{PAGE}-packlang", "value"), State(f"{PAGE}-size", "value"), prevent_initial_call=True)
def start(_n, pillar, indicators, regions, packlang, size):
    home = current().catalog.programme.home_region
    pillar, regions = query_value(pillar), split_param(regions)  # what a hand-made post sends: strings only
    params = {"lang": normalise_lang(packlang), "pillar": None if pillar == "all" else pillar,
              "indicators": split_param(indicators) or None, "regions": [home, *regions] if regions else None,
              "size": query_value(size) or "slide"}
    return _submit("pack", params, PAGE)


def _submit(kind: str, params: dict, prefix: str, name: str = ""):
    """A job queued for whoever asked: its id, polling on, no message; or, when too many wait, the message."""
    try:
        job = JOBS.submit(kind, params, name=name, owner=job_owner())
    except TooBusy as exc:
        return None, True, dbc.Alert(f"{exc.text.zh} {exc.text.en}", color="warning", id=f"{prefix}-busy")
    return job.id, False, None


@callback(Output(f"{PAGE}-status", "children"), Output(f"{PAGE}-poll", "disabled", allow_duplicate=True),
          Input(f"{PAGE}-poll", "n_intervals"), State(f"{PAGE}-job", "data"), State(f"{PAGE}-lang", "data"),
          prevent_initial_call=True)
def poll(_n, job_id, lang):
    return job_status(job_id, normalise_lang(lang))


def job_owner() -> str:
    """Whom a job counts against in the per-owner limit: the signed-in account, else the client's address."""
    if not has_request_context():
        return "local"
    account = _auth.current_account()
    return f"user:{account.name}" if account else f"address:{request.remote_addr or '?'}"


def job_status(job_id: str | None, lang: str):
    """The progress bar, the error, or the download link of a pack job (plain function, tested directly)."""
    def ready(job):
        link = html.A(t("brief.download", lang), href=f"/export/brief/{job.id}.zip", download="",
                      className="btn btn-success", id=f"{PAGE}-download")
        return html.Div([html.Span(t("brief.ready", lang) + f" {job.size / 1e6:.1f} MB ", className="me-2"),
                         link])

    return _job_view(job_id, lang, PAGE, ready)


def _job_view(job_id: str | None, lang: str, prefix: str, ready):
    """What a background job shows while polled: nothing, its error, ``ready(job)`` once finished, else its
    progress bar; and whether polling stops."""
    job = JOBS.get(job_id) if job_id else None
    if job is None:
        return None, True
    if job.error:
        return dbc.Alert(f"{t('brief.failed', lang)}: {job.error}", color="danger"), True
    if job.finished:
        return ready(job), True
    share = int(100 * job.done / job.total) if job.total else 0
    return html.Div([html.Div(f"{t('brief.building', lang)} … {job.done}/{job.total or '?'} {job.step}",
                              className="small mb-1"),
                     dbc.Progress(value=share, label=f"{share}%", striped=True, animated=True,
                                  id=f"{prefix}-progress")]), False


@callback(Output(f"{REPORT}-job", "data"), Output(f"{REPORT}-poll", "disabled"),
          Output(f"{REPORT}-status", "children", allow_duplicate=True),
          Input(f"{REPORT}-build", "n_clicks"), State(f"{REPORT}-period", "value"), State(f"{REPORT}-lang", "value"),
          State(f"{REPORT}-format", "value"), State(f"{PAGE}-lang", "data"), prevent_initial_call=True)
def start_report(_n, period, reportlang, reportformat, lang):
    lang = normalise_lang(lang)
    chosen = report.parse_period(period)
    if chosen is None:
        return None, True, dbc.Alert(t("report.bad_period", lang, period=period or ""), color="warning",
                                     id=f"{REPORT}-bad-period")
    fmt = reportformat if reportformat in report.MIMETYPES else "docx"
    name = f"work-report_{chosen}_{normalise_lang(reportlang)}_{date.today():%Y-%m-%d}.{fmt}"
    params = {"lang": normalise_lang(reportlang), "period": chosen, "fmt": fmt, "file_name": name}
    return _submit("report", params, REPORT, name)


@callback(Output(f"{REPORT}-status", "children"), Output(f"{REPORT}-poll", "disabled", allow_duplicate=True),
          Input(f"{REPORT}-poll", "n_intervals"), State(f"{REPORT}-job", "data"), State(f"{PAGE}-lang", "data"),
          prevent_initial_call=True)
def poll_report(_n, job_id, lang):
    return report_status(job_id, normalise_lang(lang))


def report_status(job_id: str | None, lang: str):
    """The progress bar, the error, or the download link of a report job (plain function, tested directly)."""
    def ready(job):
        fmt = report.format_of(job.name)
        link = html.A(t("report.download", lang), href=f"/export/report/{job.id}.{fmt}", download=job.name,
                      className="btn btn-success", id=f"{REPORT}-download")
        return html.Div([html.Span(f"{t('report.ready', lang)} {job.name} · {job.size / 1e6:.1f} MB ",
                                   className="me-2"), link])

    return _job_view(job_id, lang, REPORT, ready)


sync_url(PAGE, [("pillar", f"{PAGE}-pillar", "value"), ("indicators", f"{PAGE}-indicators", "value"),
                ("regions", f"{PAGE}-regions", "value"), ("packlang", f"{PAGE}-packlang", "value"),
                ("size", f"{PAGE}-size", "value"), ("period", f"{REPORT}-period", "value"),
                ("reportlang", f"{REPORT}-lang", "value"), ("reportformat", f"{REPORT}-format", "value")])
