"""Batch history: every load and revert with user, time, file and counts; a batch's values; revert.

Anyone may read the history. Reverting needs a signed-in editor, checked on the server in the callback,
and a confirmation; the revert is itself recorded as a batch.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dash_table, dcc, html

from dashboards._auth import editor_or_none
from dashboards._common import TABLE_FONT, current, page_header
from indicators import db, queries
from indicators.i18n import normalise_lang, t
from indicators.store import RevertRefused, revert_batch

dash.register_page(__name__, path="/batches", order=7, nav_key="nav.batches", title="批次记录 Batches")

PAGE = "batches"
COLUMNS = ["id", "kind", "file_name", "created_at", "user", "n_new", "n_revised", "n_unchanged", "n_skipped",
           "n_rejected", "reverts_batch_id", "reverted_by_batch_id", "note"]



def layout(batch: str | None = None, lang: str | None = None, **_):
    lang = normalise_lang(lang)
    return html.Div([
        dcc.Store(id=f"{PAGE}-lang", data=lang),
        page_header(t("batches.title", lang), t("batches.subtitle", lang)),
        dash_table.DataTable(id=f"{PAGE}-table", data=batch_rows(), columns=[{"name": c, "id": c} for c in COLUMNS],
                             row_selectable="single", page_size=15, sort_action="native",
                             selected_rows=[], style_table={"overflowX": "auto"},
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
    if not selected:
        return html.P(t("batches.choose", lang), className="text-muted")
    batch = rows[selected[0]]
    values = batch_values(int(batch["id"]))
    can_revert = editor_or_none() is not None and batch["kind"] != "revert" and batch["reverted_by_batch_id"] is None
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
    if not n or not selected:
        raise dash.exceptions.PreventUpdate
    return True, t("batches.confirm", normalise_lang(lang), batch=rows[selected[0]]["id"])


@callback(Output(f"{PAGE}-result", "children"), Output(f"{PAGE}-table", "data"),
          Input(f"{PAGE}-confirm", "submit_n_clicks"), State(f"{PAGE}-table", "selected_rows"),
          State(f"{PAGE}-table", "data"), State(f"{PAGE}-lang", "data"), prevent_initial_call=True)
def revert(_n, selected, rows, lang):
    lang = normalise_lang(lang)
    if not selected:
        raise dash.exceptions.PreventUpdate
    return do_revert(int(rows[selected[0]]["id"]), lang), batch_rows()


def do_revert(batch_id: int, lang: str):
    """Revert a batch for the signed-in editor; refuse anyone else (a plain function, tested directly)."""
    editor = editor_or_none()
    if editor is None:
        return dbc.Alert(t("auth.need_editor", lang), color="danger", id=f"{PAGE}-denied")
    engine = current().engine
    try:
        with db.writing(engine) as conn:
            result = revert_batch(conn, batch_id, user=editor.name)
    except RevertRefused as exc:
        return dbc.Alert(exc.pick(lang), color="danger", id=f"{PAGE}-refused")
    return dbc.Alert(t("batches.reverted", lang, batch=batch_id, revert=result.batch_id, restored=result.n_revised),
                     color="success", id=f"{PAGE}-reverted")
