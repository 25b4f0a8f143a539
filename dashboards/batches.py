"""Batch history: every load and revert with user, time, file and counts; a batch's values; revert.

Anyone may read the history. Reverting needs a signed-in editor, checked on the server in the callback,
and a confirmation; the revert is itself recorded as a batch. The batch a callback acts on comes from the
browser, so it is checked like any input: a row that is not there or an id that is not a batch's gives a
message. A revert that cannot be written (the database locked, full or read-only) says so in both
languages and changes nothing: it runs in one transaction.
"""

from __future__ import annotations

import logging

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dash_table, dcc, html

from dashboards._auth import editor_or_none
from dashboards._common import TABLE_FONT, current, page_header, query_int
from indicators import db, failures, queries
from indicators.i18n import Text, normalise_lang, t
from indicators.store import MAX_BATCH_ID, RevertRefused, revert_batch

dash.register_page(__name__, path="/batches", order=7, nav_key="nav.batches", title="批次记录 Batches")

PAGE = "batches"
COLUMNS = ["id", "kind", "file_name", "created_at", "user", "n_new", "n_revised", "n_unchanged", "n_skipped",
           "n_rejected", "reverts_batch_id", "reverted_by_batch_id", "note"]
LOG = logging.getLogger(__name__)
NO_SUCH_ROW = Text("所选批次不在列表中,请重新选择。", "The chosen batch is not in the list; choose it again.")


def layout(batch: str | None = None, lang: str | None = None, **_):
    """The history; ``?batch=N`` opens batch N's values (a number that is no batch's opens nothing)."""
    lang = normalise_lang(lang)
    rows = batch_rows()
    chosen = query_int(batch)
    selected = [i for i, r in enumerate(rows) if r["id"] == chosen][:1]
    return html.Div([
        dcc.Store(id=f"{PAGE}-lang", data=lang),
        page_header(t("batches.title", lang), t("batches.subtitle", lang)),
        dash_table.DataTable(id=f"{PAGE}-table", data=rows, columns=[{"name": c, "id": c} for c in COLUMNS],
                             row_selectable="single", page_size=15, sort_action="native",
                             selected_rows=selected, style_table={"overflowX": "auto"},
                             style_cell={"fontFamily": TABLE_FONT, "textAlign": "left", "fontSize": "13px", "whiteSpace": "normal", "height": "auto"}),
        html.Div(id=f"{PAGE}-detail", className="mt-3"),
        dcc.ConfirmDialog(id=f"{PAGE}-confirm"),
        html.Div(id=f"{PAGE}-result", className="mt-3"),
    ])


def batch_rows() -> list[dict]:
    frame = current().batches.sort_values("id", ascending=False)
    frame = frame.assign(created_at=frame["created_at"].astype(str))
    return frame[COLUMNS].astype(object).where(frame[COLUMNS].notna(), None).to_dict("records")


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


@callback(Output(f"{PAGE}-detail", "children"), Input(f"{PAGE}-table", "selected_rows"),
          State(f"{PAGE}-table", "data"), State(f"{PAGE}-lang", "data"))
def detail(selected, rows, lang):
    lang = normalise_lang(lang)
    batch = chosen_row(selected, rows)
    if batch is None:
        return html.P(t("batches.choose", lang) if not selected else NO_SUCH_ROW.pick(lang), className="text-muted")
    values = batch_values(batch["id"])
    can_revert = (editor_or_none() is not None and batch.get("kind") != "revert"
                  and batch.get("reverted_by_batch_id") is None)
    return html.Div([
        html.H2(f"{t('batches.values', lang)} · {t('common.batch', lang)} {batch['id']}", className="h6"),
        dash_table.DataTable(data=values.astype(object).where(values.notna(), None).to_dict("records"),
                             columns=[{"name": c, "id": c} for c in values.columns], page_size=10,
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
    return message, batch_rows() if message.id == f"{PAGE}-reverted" else dash.no_update


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
        with db.writing(engine) as conn:
            result = revert_batch(conn, batch_id, user=editor.name)
    except RevertRefused as exc:
        return dbc.Alert(exc.pick(lang), color="danger", id=f"{PAGE}-refused")
    except Exception as exc:  # noqa: BLE001 - every failure a person can meet gets its message
        LOG.warning("revert of batch %s failed", batch_id, exc_info=True)  # the details stay in the log
        return dbc.Alert(failures.describe(exc).pick(lang), color="danger", id=f"{PAGE}-failed")
    return dbc.Alert(t("batches.reverted", lang, batch=batch_id, revert=result.batch_id, restored=result.n_revised),
                     color="success", id=f"{PAGE}-reverted")
