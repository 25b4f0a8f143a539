"""The plan's tasks: each with its lead and partners, milestones, latest status, note and evidence, filtered by
pillar, status and agency, delayed and at-risk first; an editor sets a task's status from the page.

Anyone may read the register. The form to set a status is shown to editors, and to a scoped editor only on the
tasks its agency leads or shares; the callback that writes checks all of it again on the server (the signed-in
account, its scope, then ``tasks.check_rows``), because everything the browser sends may be anything. A status
set here is a batch like an upload's, reverted on the batches page. What belongs elsewhere: the register and
its checks (``indicators.tasks``), who may set what (``indicators.users``).
"""

from __future__ import annotations

import logging
import re
from datetime import date

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from dashboards._auth import editor_or_none
from dashboards._common import (
    current,
    dropdown_labels,
    empty_state,
    nav_href,
    page_frame,
    query_value,
    sync_url,
)
from dashboards._metadata_link import metadata_link
from indicators import failures, tasks, users
from indicators.catalog import TASK_STATUSES, Catalog
from indicators.i18n import normalise_lang, t

dash.register_page(__name__, path="/tasks", order=2.5, nav_key="nav.tasks", nav_group="cycle", title="任务进展 Tasks")

PAGE = "tasks"
ALL_VALUE = "all"
NO_LEAD = "none"  # the agency filter's value for tasks whose lead no source names
# A palette of the tasks' own, drawn as outlines so a task status never reads as a target status (those are
# filled): done green, on schedule blue, at risk amber, delayed red, the rest grey. Text colours pass 4.5:1.
STATUS_COLOURS = {"done": "#1a7f37", "on_schedule": "#0b5cad", "at_risk": "#8a5300", "delayed": "#c62828",
                  "not_started": "#5f6673", "unreported": "#5f6673"}
HEADS = ["tasks.task", "common.status", "tasks.lead", "tasks.due", "tasks.latest"]
WIDTHS = ["27%", "10%", "17%", "22%", "24%"]  # of a wide screen's table
NEW_TAB = {"target": "_blank", "rel": "noopener noreferrer"}
# A form has neither lines nor columns: its problems are said without "第 2 行:" / "line 2: " and without the
# CSV column a message names in brackets ("缺少说明(note)" beside the field labelled 说明).
LINE_PREFIX = re.compile(r"^(第 \d+ 行:|line \d+: )|\((task|status|date|note|evidence)\)")
LOG = logging.getLogger(__name__)


def layout(pillar: str | None = None, status: str | None = None, agency: str | None = None,
           lang: str | None = None, **_):
    """The register with its filters; ``?pillar=&status=&agency=`` (anything else: all)."""
    lang = normalise_lang(lang)
    catalog = current().catalog
    pillars, statuses, agencies = filter_options(catalog, lang)

    def chosen(value, options):
        value = query_value(value)
        return value if value in {o["value"] for o in options} else ALL_VALUE

    def dropdown(control: str, label: str, options: list[dict], value, width: int):
        return dbc.Col([dbc.Label(t(label, lang), html_for=f"{PAGE}-{control}"),
                        dcc.Dropdown(id=f"{PAGE}-{control}", options=options, value=chosen(value, options),
                                     clearable=False, labels=dropdown_labels(lang))], md=width)

    return page_frame(
        PAGE, lang, t("tasks.title", lang),
        html.P(t("tasks.subtitle", lang), className="text-muted"),
        dbc.Row([dropdown("pillar", "common.pillar", pillars, pillar, 4),
                 dropdown("status", "common.status", statuses, status, 3),
                 dropdown("agency", "tasks.agency", agencies, agency, 5)], className="g-3 mb-3"),
        dcc.Store(id=f"{PAGE}-version", data=0),
        html.Div(id=f"{PAGE}-feedback"),
        dcc.Loading(html.Div(id=f"{PAGE}-body"), type="dot"),
    )


def filter_options(catalog: Catalog, lang: str) -> tuple[list[dict], list[dict], list[dict]]:
    """The options of the three filters: pillars with tasks, the statuses, the agencies tasks name."""
    everything = {"label": t("common.all", lang), "value": ALL_VALUE}
    used = {task.pillar for task in catalog.tasks.values()}
    pillars = [everything] + [{"label": p.name.pick(lang), "value": p.code} for p in catalog.programme.pillars
                              if p.code in used]
    statuses = [everything] + [{"label": tasks.STATUS_LABELS[s].pick(lang), "value": s} for s in tasks.STATUS_ORDER]
    named = {code for task in catalog.tasks.values() for code in [task.lead, *task.partners] if code}
    agencies = [everything] + [{"label": a.name.pick(lang), "value": code} for code, a in catalog.agencies.items()
                               if code in named] + [{"label": t("tasks.no_lead", lang), "value": NO_LEAD}]
    return pillars, statuses, agencies


@callback(Output(f"{PAGE}-body", "children"), Input(f"{PAGE}-pillar", "value"), Input(f"{PAGE}-status", "value"),
          Input(f"{PAGE}-agency", "value"), Input(f"{PAGE}-version", "data"), State(f"{PAGE}-lang", "data"))
def update(pillar, status, agency, _version, lang):
    return render(current(), pillar, status, agency, normalise_lang(lang), editor=editor_or_none())


def register_rows(snap, pillar, status, agency, lang: str) -> pd.DataFrame:
    """The register filtered as asked (a filter value that names nothing counts as "all")."""
    catalog = snap.catalog
    pillar = pillar if isinstance(pillar, str) and pillar in {p.code for p in catalog.programme.pillars} else None
    status = status if isinstance(status, str) and status in tasks.STATUS_ORDER else None
    frame = tasks.register(snap.engine, catalog, lang=lang, pillar=pillar, status=status)
    if isinstance(agency, str) and agency == NO_LEAD:
        frame = frame[frame["lead"] == ""]
    elif isinstance(agency, str) and agency in catalog.agencies:
        frame = frame[frame["task"].map(lambda code: agency in (catalog.tasks[code].lead,
                                                                *catalog.tasks[code].partners))]
    return frame.reset_index(drop=True)


def render(snap, pillar, status, agency, lang: str, *, editor: users.Account | None = None):
    """The counts by status and the table of tasks; ``editor``: the signed-in editor, who gets a form on each
    task it may set (a plain function: tests call it without a browser)."""
    rows = register_rows(snap, pillar, status, agency, lang)
    if rows.empty:
        return empty_state(t("empty.no_rows", lang))
    history = tasks.status_history(snap.engine)
    counts = rows["status"].value_counts()
    summary = html.Div([html.Span(t("tasks.count", lang, n=len(rows)), className="me-2 fw-semibold")] + [
        status_badge(s, lang, text=t("tasks.summary", lang, label=tasks.STATUS_LABELS[s].pick(lang), n=counts[s]),
                     class_name="me-1 mb-1")
        for s in tasks.STATUS_ORDER if s in counts.index], className="d-flex flex-wrap align-items-center mb-2",
        id=f"{PAGE}-summary")
    heads = [t(k, lang) for k in HEADS]
    body = []
    for row in rows.to_dict("records"):
        may_set = editor is not None and users.may_write_tasks(editor, [row["task"]], snap.catalog)
        cells = [_task_cell(row, snap, lang), _status_cell(row, lang), _lead_cell(row, snap.catalog, lang),
                 _milestones_cell(row, snap.catalog, lang),
                 [_note(row, snap.catalog, lang), _history(history[history["task"] == row["task"]], row["task"], lang),
                  _form(row, lang) if may_set else None]]
        body.append(html.Tr([html.Td(c, **{"data-label": h}) for h, c in zip(heads, cells, strict=True)],
                            id=f"{PAGE}-row-{row['task']}", className="im-task-row",
                            **{"data-status": row["status"]}))
    head = html.Thead(html.Tr([html.Th(h, style={"width": w}) for h, w in zip(heads, WIDTHS, strict=True)]))
    table = dbc.Table([head, html.Tbody(body)], size="sm",
                      className="mb-0 bg-white im-reflow align-top")
    # wider screens: one row per task, scrolling sideways inside its frame; a phone: one card per task
    return [summary, html.Div(table, className="im-table-frame", id=f"{PAGE}-table")]


def status_badge(status: str, lang: str, *, text: str | None = None, class_name: str = "", **kwargs) -> html.Span:
    """A task status as an outlined badge in the tasks' own palette."""
    colour = STATUS_COLOURS.get(status, STATUS_COLOURS["unreported"])
    label = text if text is not None else tasks.STATUS_LABELS[status].pick(lang)
    return html.Span(label, className=f"im-badge {class_name}".strip(),
                     style={"background": "#fff", "color": colour, "border": f"2px solid {colour}"}, **kwargs)


def _task_cell(row: dict, snap, lang: str) -> list:
    indicators = snap.catalog.indicators
    links = []
    for code in row["indicators"]:
        if code not in indicators:
            continue
        links.append(html.Li([dcc.Link(indicators[code].short_name.pick(lang),
                                       href=nav_href("/trend", lang, indicator=code)), " ",
                              metadata_link(code, lang, compact=True)]))
    return [html.Div([html.Span(row["task"], className="text-muted small me-1"), row["title"]]),
            html.Div(row["pillar_name"], className="small text-muted"),
            html.Div([html.Div(t("tasks.evidence_indicators", lang), className="small text-muted mt-1"),
                      html.Ul(links, className="small mb-0 ps-3")]) if links else None]


def _status_cell(row: dict, lang: str) -> list:
    return [status_badge(row["status"], lang, id=f"{PAGE}-badge-{row['task']}"),
            html.Div(row["status_date"], className="small text-muted") if row["status_date"] else None]


def _agency_name(catalog: Catalog, code: str, lang: str) -> str:
    agency = catalog.agencies.get(code)
    return agency.name.pick(lang) if agency else code


def _lead_cell(row: dict, catalog: Catalog, lang: str) -> list:
    partners = catalog.tasks[row["task"]].partners
    return [html.Div(row["lead_name"] or t("tasks.no_lead", lang), className="small" if row["lead_name"] else "small text-muted"),
            html.Div(f"{t('tasks.partners', lang)}: " + ("、" if lang == "zh" else "; ").join(
                _agency_name(catalog, p, lang) for p in partners), className="small text-muted") if partners else None]


def _milestones_cell(row: dict, catalog: Catalog, lang: str):
    milestones = catalog.tasks[row["task"]].milestones
    if not milestones:
        return html.Span(t("tasks.no_milestone", lang), className="small text-muted")
    return html.Ul([html.Li([html.Span(m.due_date, className="text-nowrap fw-semibold"), " ", m.text.pick(lang)])
                    for m in milestones], className="small mb-0 ps-3")


def evidence_link(evidence: str, catalog: Catalog, lang: str):
    """An evidence link as a person follows it: an address opens in a new tab; a publication id of the catalog
    shows the publication's title, linked to where it was published or read."""
    if not evidence:
        return None
    publication = catalog.publications.get(evidence)
    if publication is not None:
        href = publication.official_url or next(iter(publication.read_at), None)
        title = publication.title.pick(lang)
        return html.A(title, href=href, **NEW_TAB) if href else html.Span(title)
    if evidence.startswith(("http://", "https://")):
        return html.A(t("tasks.evidence", lang), href=evidence, title=evidence, **NEW_TAB)
    return html.Span(evidence)


def _note(row: dict, catalog: Catalog, lang: str):
    if row["status"] == tasks.UNREPORTED:
        return html.Div(t("tasks.no_status", lang), className="small text-muted")
    return html.Div([html.Span(row["status_date"], className="text-muted me-1"), row["note"], " ",
                     evidence_link(row["evidence"], catalog, lang)], className="small", id=f"{PAGE}-note-{row['task']}")


def _history(frame: pd.DataFrame, task: str, lang: str) -> html.Details | None:
    """The task's statuses, newest first, those a revert took back struck through: shown when opened."""
    if frame.empty:
        return None
    items = []
    for r in frame.iloc[::-1].to_dict("records"):
        words = [status_badge(r["status"], lang), " ", html.Span(r["date"], className="text-muted"), " ", r["note"],
                 html.Span(f" · {t('tasks.by', lang)} {r['user']} · {t('common.batch', lang)} {r['batch']}",
                           className="text-muted")]
        if r["retracted"]:
            words.append(html.Span(f" · {t('tasks.retracted', lang)}", className="text-danger"))
        items.append(html.Li(words, className="mb-1", style={"textDecoration": "line-through"} if r["retracted"] else {}))
    return html.Details([html.Summary(t("tasks.history", lang, n=len(frame))),
                         html.Ul(items, className="list-unstyled small mt-1 mb-0")],
                        className="mt-1 small", id=f"{PAGE}-history-{task}")


def _form(row: dict, lang: str) -> html.Details:
    """The editor's form: a status, its date, a note and an evidence link; the answer shows beneath it."""
    task = row["task"]
    current_status = row["status"] if row["status"] in TASK_STATUSES else None

    def key(kind: str) -> dict:
        return {"type": f"{PAGE}-{kind}", "task": task}

    return html.Details([
        html.Summary(t("tasks.set_status", lang), className="link-primary"),
        html.Div([
            dbc.Label(t("common.status", lang), className="small mb-0"),
            dbc.Select(id=key("form-status"), value=current_status or "on_schedule", size="sm",
                       options=[{"label": tasks.STATUS_LABELS[s].pick(lang), "value": s} for s in TASK_STATUSES]),
            dbc.Label(t("tasks.date", lang), className="small mb-0 mt-1"),
            html.Div(dcc.DatePickerSingle(id=key("form-date"), date=date.today().isoformat(),
                                          max_date_allowed=date.today().isoformat(), display_format="YYYY-MM-DD",
                                          placeholder="YYYY-MM-DD", first_day_of_week=1)),
            dbc.Label(t("tasks.note", lang), className="small mb-0 mt-1"),
            dbc.Textarea(id=key("form-note"), rows=2, maxLength=tasks.MAX_NOTE_CHARS, size="sm"),
            dbc.Label(t("tasks.evidence_link", lang), className="small mb-0 mt-1"),
            dbc.Input(id=key("form-evidence"), type="text", size="sm", placeholder="https://"),
            dbc.Button(t("tasks.save", lang), id=key("form-save"), color="primary", size="sm", className="mt-2"),
            html.Div(id=key("form-result"), className="mt-2"),
        ], className="border rounded p-2 mt-1 bg-light"),
    ], className="mt-1 small im-task-form", id=f"{PAGE}-form-{task}")


@callback(Output(f"{PAGE}-feedback", "children"), Output(f"{PAGE}-version", "data"),
          Output({"type": f"{PAGE}-form-result", "task": ALL}, "children"),
          Input({"type": f"{PAGE}-form-save", "task": ALL}, "n_clicks"),
          State({"type": f"{PAGE}-form-status", "task": ALL}, "value"), State({"type": f"{PAGE}-form-date", "task": ALL}, "date"),
          State({"type": f"{PAGE}-form-note", "task": ALL}, "value"),
          State({"type": f"{PAGE}-form-evidence", "task": ALL}, "value"),
          State(f"{PAGE}-lang", "data"), State(f"{PAGE}-version", "data"), prevent_initial_call=True)
def save(clicks, statuses, dates, notes, evidence, lang, version):
    """The form of the task whose button was pressed: written if the server agrees, else why not beside it."""
    lang = normalise_lang(lang)
    trigger = ctx.triggered_id
    results = [None] * len(ctx.outputs_list[2])
    buttons = [item.get("id") for item in ctx.inputs_list[0]] if ctx.inputs_list else []
    if not isinstance(trigger, dict) or trigger not in buttons:
        raise dash.exceptions.PreventUpdate
    index = buttons.index(trigger)
    if not (isinstance(clicks, list) and index < len(clicks) and clicks[index]):
        raise dash.exceptions.PreventUpdate

    def at(values):
        return values[index] if isinstance(values, list) and index < len(values) else None

    message, saved = save_status(trigger.get("task"), at(statuses), at(dates), at(notes), at(evidence), lang)
    if saved:
        return message, (version if isinstance(version, int) else 0) + 1, results
    outputs = [item.get("id") for item in ctx.outputs_list[2]]
    if trigger.get("task") in [o.get("task") for o in outputs]:
        results[[o.get("task") for o in outputs].index(trigger.get("task"))] = message
        return None, dash.no_update, results
    return message, dash.no_update, results


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def save_status(task, status, day, note, evidence, lang: str) -> tuple[html.Div, bool]:
    """Set ``task``'s status for the signed-in editor, if its account may and the row passes every check;
    (the message, whether it was written). Every outcome is a message in ``lang``."""
    editor = editor_or_none()
    if editor is None:
        return dbc.Alert(t("tasks.need_editor", lang), color="danger", id=f"{PAGE}-denied"), False
    snap = current()
    catalog = snap.catalog
    if not isinstance(task, str) or task not in catalog.tasks:
        return dbc.Alert(t("tasks.no_task", lang), color="danger", id=f"{PAGE}-refused"), False
    if not users.may_write_tasks(editor, [task], catalog):
        return dbc.Alert(t("tasks.not_yours", lang, agency=_agency_name(catalog, editor.agency or "", lang), task=task),
                         color="danger", id=f"{PAGE}-refused"), False
    frame = pd.DataFrame([{"task": task, "status": _text(status), "date": _text(day)[:10] if _text(day) else "",
                           "note": _text(note), "evidence": _text(evidence)}], dtype=str)
    upload = tasks.check_rows(frame, catalog, today=date.today(), file_name="(form)", agency=editor.agency)
    if not upload.ok:
        problems = [LINE_PREFIX.sub("", p[f"message_{lang}"]) for p in upload.problems if p["severity"] == "error"]
        return dbc.Alert([html.Div(t("tasks.refused", lang)), html.Ul([html.Li(p) for p in problems], className="mb-0")],
                         color="danger", id=f"{PAGE}-problems"), False
    try:
        result = tasks.set_statuses(snap.engine, upload, user=editor.name)
    except Exception as exc:  # noqa: BLE001 - every failure a person can meet gets its message
        LOG.warning("setting the status of task %s failed", task, exc_info=True)
        return dbc.Alert(failures.describe(exc).pick(lang), color="danger", id=f"{PAGE}-failed"), False
    label = tasks.STATUS_LABELS[upload.rows[0]["status"]].pick(lang)
    return dbc.Alert(t("tasks.saved", lang, task=task, status=label, batch=result.batch_id), color="success",
                     id=f"{PAGE}-saved", dismissable=True), True


sync_url(PAGE, [("pillar", f"{PAGE}-pillar", "value"), ("status", f"{PAGE}-status", "value"),
                ("agency", f"{PAGE}-agency", "value")])
