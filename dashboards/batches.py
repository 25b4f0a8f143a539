"""Batch history: every load and revert with user, time, file and counts; a batch's values; revert.

Anyone may read the history. Reverting needs a signed-in editor, checked on the server in the callback,
and a confirmation; the revert is itself recorded as a batch. The batch a callback acts on comes from the
browser, so it is checked like any input: a row that is not there or an id that is not a batch's gives a
message. A revert that cannot be written (the database locked, full or read-only) says so in both
languages and changes nothing: it runs in one transaction.
"""

from __future__ import annotations

import logging
import re

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dash_table, dcc, html

from dashboards._auth import editor_or_none
from dashboards._common import TABLE_FONT, current, page_header, query_int
from indicators import db, failures, queries, users
from indicators.i18n import STRINGS, Text, normalise_lang, t
from indicators.store import MAX_BATCH_ID, RevertRefused, revert_batch

dash.register_page(__name__, path="/batches", order=7, nav_key="nav.batches", nav_group="manage", title="批次记录 Batches")

PAGE = "batches"
# The columns shown, by the row keys they read. A row also carries the codes the callbacks decide on (kind,
# reverts_batch_id, reverted_by_batch_id); the table shows them as words ("kind_label", "state").
COLUMNS = ["id", "kind_label", "state", "file_name", "created_at", "user", "n_new", "n_revised", "n_unchanged",
           "n_skipped", "n_rejected", "note"]
CODES = ["id", "kind", "file_name", "created_at", "user", "n_new", "n_revised", "n_unchanged", "n_skipped",
         "n_rejected", "reverts_batch_id", "reverted_by_batch_id", "note"]
HEADERS = {"id": "common.batch", "kind_label": "batches.kind", "state": "common.status", "file_name": "batches.file",
           "created_at": "batches.created_at", "user": "batches.user", "n_new": "batches.n_new",
           "n_revised": "batches.n_revised", "n_unchanged": "batches.n_unchanged", "n_skipped": "batches.n_skipped",
           "n_rejected": "batches.n_rejected", "note": "common.note"}
VALUE_HEADERS = {"indicator": "common.indicator", "region": "common.region", "year": "common.year",
                 "value": "common.value", "source": "common.source", "state": "common.status"}
COUNTS = ["n_new", "n_revised", "n_unchanged", "n_skipped", "n_rejected"]
SEED_USER = "init"  # indicators.seed.SEED_USER: the shipped data's loads, shown as "the system"
# The notes the system writes itself (indicators.store, indicators.seed), read back into the page's language;
# a note an editor wrote is shown as written.
SYSTEM_NOTES = [
    (re.compile(r"revert of batch (?P<batch>\d+): (?P<removed>\d+) values removed, (?P<restored>\d+) restored"),
     Text("撤销批次 {batch}:移除 {removed} 个数值,恢复 {restored} 个原值",
          "revert of batch {batch}: {removed} values removed, {restored} restored")),
    (re.compile(r"(?P<n>\d+) regions it created removed: (?P<codes>.+)"),
     Text("删除其新建的 {n} 个地区:{codes}", "{n} regions it created removed: {codes}")),
    (re.compile(r"shipped reference data"), Text("内置参考数据", "shipped reference data")),
    (re.compile(r"withdrawn from the shipped data: (?P<n>\d+) values withdrawn"),
     Text("从内置数据中撤回 {n} 个数值", "withdrawn from the shipped data: {n} values")),
]
LOG = logging.getLogger(__name__)
NO_SUCH_ROW = Text("所选批次不在列表中,请重新选择。", "The chosen batch is not in the list; choose it again.")


def layout(batch: str | None = None, lang: str | None = None, **_):
    """The history; ``?batch=N`` opens batch N's values (a number that is no batch's opens nothing)."""
    lang = normalise_lang(lang)
    rows = batch_rows(lang)
    chosen = query_int(batch)
    selected = [i for i, r in enumerate(rows) if r["id"] == chosen][:1]
    return html.Div([
        dcc.Store(id=f"{PAGE}-lang", data=lang),
        page_header(t("batches.title", lang), t("batches.subtitle", lang)),
        dash_table.DataTable(id=f"{PAGE}-table", data=rows,
                             columns=[{"name": t(HEADERS[c], lang), "id": c} for c in COLUMNS],
                             row_selectable="single", page_size=15, sort_action="native",
                             selected_rows=selected, style_table={"overflowX": "auto"},
                             # a reverted batch reads as one: greyed, its state in words
                             style_data_conditional=[{"if": {"filter_query": "{reverted_by_batch_id} > 0"},
                                                      "color": "#6c757d", "backgroundColor": "#f3f4f6"}],
                             style_cell={"fontFamily": TABLE_FONT, "textAlign": "left", "fontSize": "13px", "whiteSpace": "normal", "height": "auto"}),
        html.Div(id=f"{PAGE}-detail", className="mt-3"),
        dcc.ConfirmDialog(id=f"{PAGE}-confirm"),
        html.Div(id=f"{PAGE}-result", className="mt-3"),
    ])


def batch_rows(lang: str = "zh") -> list[dict]:
    """The history, newest first: each batch's codes (which the callbacks read) and its kind, state, user and
    note in words of ``lang``."""
    frame = current().batches.sort_values("id", ascending=False)
    frame = frame.assign(created_at=pd.to_datetime(frame["created_at"]).dt.strftime("%Y-%m-%d %H:%M"))
    rows = frame[CODES].astype(object).where(frame[CODES].notna(), None).to_dict("records")
    for row in rows:  # a column with a gap reads as floats: a batch is named by a whole number
        for key in ("reverts_batch_id", "reverted_by_batch_id", *COUNTS):
            row[key] = None if row[key] is None else int(row[key])
    return [{**row, "kind_label": kind_label(row, lang), "state": state_label(row, lang),
             "user": t("batches.system_user", lang) if row["user"] == SEED_USER else row["user"],
             "note": note_text(row["note"], lang)} for row in rows]


def kind_label(row: dict, lang: str) -> str:
    """'内置数据', '上传', '撤销(批次 7)': what a batch is, in words."""
    if row.get("kind") == "revert" and row.get("reverts_batch_id") is not None:
        return t("batches.kind.revert_of", lang, batch=row["reverts_batch_id"])
    key = f"batches.kind.{row.get('kind')}"
    return t(key, lang) if key in STRINGS else str(row.get("kind") or "")


def state_label(row: dict, lang: str) -> str:
    """'已撤销(由批次 12)' for a batch a later one reverted, else '有效'."""
    if row.get("reverted_by_batch_id") is not None:
        return t("batches.reverted_by", lang, batch=row["reverted_by_batch_id"])
    return t("batches.in_force", lang)


def note_text(note: str | None, lang: str) -> str | None:
    """A batch's note in ``lang`` where the system wrote it (its parts joined by '; '), else as written."""
    if not note:
        return note
    parts = []
    for part in note.split("; "):
        for pattern, text in SYSTEM_NOTES:
            match = pattern.fullmatch(part)
            if match:
                part = text.format(**match.groupdict()).pick(lang)
                break
        parts.append(part)
    return ("；" if lang == "zh" else "; ").join(parts)


def batch_values(batch_id: int) -> pd.DataFrame:
    """The values a batch brought: current ones and, if revised or reverted since, from the history."""
    snap = current()
    current_rows = snap.observations[snap.observations["batch"] == batch_id]
    hist = queries.batch_history(snap.engine, batch_id)
    parts = [current_rows.assign(state="current")[["indicator", "region", "year", "value", "source", "state"]]]
    if len(hist):
        hist["state"] = hist.pop("retracted").map({True: "retracted", False: "superseded"})
        parts.append(hist)
    return pd.concat(parts, ignore_index=True).sort_values(["indicator", "region", "year"])


def values_table(values: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A batch's values as a reader reads them: indicator and region names, the state in words."""
    snap = current()
    indicators = snap.catalog.indicators
    return values.assign(
        indicator=values["indicator"].map(lambda c: indicators[c].short_name.pick(lang) if c in indicators else c),
        region=values["region"].map(lambda c: snap.region_name(c, lang)),
        state=values["state"].map(lambda s: t(f"batches.state.{s}", lang)),
    )


@callback(Output(f"{PAGE}-detail", "children"), Input(f"{PAGE}-table", "selected_rows"),
          State(f"{PAGE}-table", "data"), State(f"{PAGE}-lang", "data"))
def detail(selected, rows, lang):
    lang = normalise_lang(lang)
    batch = chosen_row(selected, rows)
    if batch is None:
        return html.P(t("batches.choose", lang) if not selected else NO_SUCH_ROW.pick(lang), className="text-muted")
    values = values_table(batch_values(batch["id"]), lang)
    can_revert = (editor_or_none() is not None and batch.get("kind") != "revert"
                  and batch.get("reverted_by_batch_id") is None)
    return html.Div([
        html.H2(f"{t('batches.values', lang)} · {t('common.batch', lang)} {batch['id']}", className="h6"),
        dash_table.DataTable(data=values.astype(object).where(values.notna(), None).to_dict("records"),
                             columns=[{"name": t(VALUE_HEADERS[c], lang), "id": c} for c in values.columns],
                             page_size=10,
                             style_cell={"fontFamily": TABLE_FONT, "textAlign": "left", "fontSize": "13px", "whiteSpace": "normal", "height": "auto"}),
        dbc.Button(t("batches.revert", lang), id=f"{PAGE}-revert", color="danger", className="mt-2",
                   disabled=not can_revert),
    ])


@callback(Output(f"{PAGE}-confirm", "displayed"), Output(f"{PAGE}-confirm", "message"),
          Input(f"{PAGE}-revert", "n_clicks"), State(f"{PAGE}-table", "selected_rows"), State(f"{PAGE}-table", "data"),
          State(f"{PAGE}-lang", "data"), prevent_initial_call=True)
def ask(n, selected, rows, lang):
    batch = chosen_row(selected, rows)
    if not n or batch is None:
        raise dash.exceptions.PreventUpdate
    return True, t("batches.confirm", normalise_lang(lang), batch=batch["id"])


@callback(Output(f"{PAGE}-result", "children"), Output(f"{PAGE}-table", "data"),
          Input(f"{PAGE}-confirm", "submit_n_clicks"), State(f"{PAGE}-table", "selected_rows"),
          State(f"{PAGE}-table", "data"), State(f"{PAGE}-lang", "data"), prevent_initial_call=True)
def revert(_n, selected, rows, lang):
    lang = normalise_lang(lang)
    if not selected:
        raise dash.exceptions.PreventUpdate
    batch = chosen_row(selected, rows)
    if batch is None:
        return dbc.Alert(NO_SUCH_ROW.pick(lang), color="danger", id=f"{PAGE}-refused"), dash.no_update
    message = do_revert(batch["id"], lang)
    return message, batch_rows(lang) if message.id == f"{PAGE}-reverted" else dash.no_update


def chosen_row(selected, rows) -> dict | None:
    """The row the table's selection points at, with its id as an int; None when the selection or the row
    is not one (the browser sends both: they may be anything)."""
    if not isinstance(selected, list) or not selected or not isinstance(rows, list):
        return None
    index = selected[0]
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(rows):
        return None
    row = rows[index]
    batch_id = row.get("id") if isinstance(row, dict) else None
    if isinstance(batch_id, str) and batch_id.isascii() and batch_id.isdecimal() and len(batch_id) <= 10:
        batch_id = int(batch_id)
    if not isinstance(batch_id, int) or isinstance(batch_id, bool) or not 0 < batch_id < MAX_BATCH_ID:
        return None
    return {**row, "id": batch_id}


def do_revert(batch_id, lang: str):
    """Revert a batch for the signed-in editor; refuse anyone else (a plain function, tested directly).

    Every outcome is a message: reverted, refused (not an editor, no such batch, not revertible), or the
    write failed (what happened, in words; the transaction is rolled back, so nothing changed)."""
    editor = editor_or_none()
    if editor is None:
        return dbc.Alert(t("auth.need_editor", lang), color="danger", id=f"{PAGE}-denied")
    try:
        engine = current().engine
        refused = users.refused_indicators(editor, users.batch_indicators(engine, batch_id), current().catalog)
        if refused:  # a scoped editor reverts only what its agency owns, checked here on the server
            return dbc.Alert(users.OTHER_AGENCY.format(name=editor.name, agency=editor.agency,
                                                       codes=", ".join(refused)).pick(lang),
                             color="danger", id=f"{PAGE}-scope-refused")
        with db.writing(engine) as conn:
            result = revert_batch(conn, batch_id, user=editor.name)
    except RevertRefused as exc:
        return dbc.Alert(exc.pick(lang), color="danger", id=f"{PAGE}-refused")
    except Exception as exc:  # noqa: BLE001 - every failure a person can meet gets its message
        LOG.warning("revert of batch %s failed", batch_id, exc_info=True)  # the details stay in the log
        return dbc.Alert(failures.describe(exc).pick(lang), color="danger", id=f"{PAGE}-failed")
    return dbc.Alert(t("batches.reverted", lang, batch=batch_id, revert=result.batch_id, restored=result.n_revised),
                     color="success", id=f"{PAGE}-reverted")
