"""Upload page: an editor drops a CSV, sees what it would change, and commits it (or not).

The file is parsed with the same ingestion code as the CLI (``indicators.ingest``): detected encoding,
delimiter and layout; the rows as understood; the validation report (downloadable); the diff against the
database. Commit is allowed only without errors (or with "load valid rows only") and only for a signed-in
editor: every callback here checks the role on the server. Everything from the file is shown as text. The
year field is for a table as published whose title names no year (``indicators.ingest.published``).

A file is parsed once per set of options (``ingest.ParseCache``): changing the encoding back, downloading
the report and committing reuse the parse. A failure that is nobody's input error (a locked database, a
full disk, a read-only file) is said on the page in both languages (``indicators.failures``), with the file
and the choices left on the page to try again; nothing was written.

Not done: stopping the work of a request whose browser has left. Dash runs a callback to its end in the
server's thread (waitress cannot tell it the client is gone); the limits on a file's columns and cells and
the parse kept between callbacks bound that work instead.
"""

from __future__ import annotations

import base64
import json
import logging

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dash_table, dcc, html

from dashboards._auth import editor_or_none
from dashboards._common import TABLE_FONT, current, dropdown_labels, flag_words, nav_href, page_header
from indicators import failures, ingest, users
from indicators.i18n import Text, normalise_lang, t
from indicators.validation.render import problem_table, summarise

dash.register_page(__name__, path="/upload", order=6, nav_key="nav.upload", nav_group="manage", title="上传数据 Upload")

PAGE = "upload"
MAX_BYTES = ingest.DEFAULT_MAX_BYTES
PREVIEW_ROWS = 500
PARSES = ingest.ParseCache()  # the files this server parsed, for the next preview, download and commit
KEPT = Text("文件和所选项仍在本页,问题解决后可再次提交。",
            "The file and your choices are still on this page: commit again once the problem is solved.")
UNEXPECTED = Text("发生意外错误({kind}),未写入任何数据。详细信息已记入服务器日志。",
                  "An unexpected error ({kind}) stopped the upload; nothing was written. The server's log has the "
                  "details.")
ROW_STATUS = {"ok": Text("有效", "valid"), "error": Text("有错误", "error"),
              "duplicate": Text("重复(跳过)", "repeat (skipped)"), "missing": Text("缺失(跳过)", "missing (skipped)")}
log = logging.getLogger("innovation_monitor.upload")


def layout(lang: str | None = None, **_):
    lang = normalise_lang(lang)
    editor = editor_or_none()
    if editor is None:
        return html.Div([
            page_header(t("upload.title", lang)),
            dbc.Alert([t("auth.need_editor", lang), " ",
                       html.A(t("auth.sign_in", lang), href=f"/login?next=%2Fupload%3Flang%3D{lang}", id="upload-sign-in")],
                      color="warning", id="upload-need-editor"),
        ])
    return html.Div([
        dcc.Store(id=f"{PAGE}-lang", data=lang),
        page_header(t("upload.title", lang), t("upload.subtitle", lang)),
        dcc.Upload(id=f"{PAGE}-file", multiple=False,  # the server enforces the limit and says so
                   children=html.Div([t("upload.drop", lang), html.Div(t("upload.limit", lang, mb=MAX_BYTES // 2**20),
                                                                 className="small text-muted")]),
                   className="im-empty mb-3", style={"cursor": "pointer"}),
        dbc.Row([
            dbc.Col([dbc.Label(t("upload.encoding", lang)),
                     dcc.Dropdown(labels=dropdown_labels(lang), id=f"{PAGE}-encoding", clearable=False, value="auto", options=[
                         {"label": t("upload.auto", lang), "value": "auto"}, {"label": "UTF-8", "value": "utf-8"},
                         {"label": "GB18030 / GBK", "value": "gb18030"}, {"label": "Big5", "value": "big5"},
                         {"label": "Windows-1252", "value": "cp1252"}])], md=3),
            dbc.Col([dbc.Label(t("upload.source", lang)), dbc.Input(id=f"{PAGE}-source", type="text", debounce=True)], md=4),
            # A table as published takes its year from its title; this is for a title without one.
            dbc.Col([dbc.Label(t("common.year", lang)), dbc.Input(id=f"{PAGE}-year", type="number", min=1900, max=2100,
                                                               step=1, debounce=True)], md=2),
            dbc.Col([dbc.Label(t("upload.confidence", lang)),
                     dcc.Dropdown(labels=dropdown_labels(lang), id=f"{PAGE}-confidence", value=None, options=[
                         {"label": t(f"confidence.{c}", lang), "value": c} for c in ("high", "medium", "low")])], md=3),
        ], className="g-3 mb-3"),
        dcc.Loading(html.Div(id=f"{PAGE}-preview"), type="dot"),
        html.Div(id=f"{PAGE}-commit-area", hidden=True, children=[
            dbc.Label(t("upload.note", lang)), dbc.Textarea(id=f"{PAGE}-note", className="mb-2"),
            dbc.Checklist(id=f"{PAGE}-skip", options=[{"label": t("upload.skip_invalid", lang), "value": "1"}], value=[],
                          switch=True, className="mb-2"),
            dbc.Button(t("upload.commit", lang), id=f"{PAGE}-commit", color="primary"),
        ]),
        dcc.Loading(html.Div(id=f"{PAGE}-result", className="mt-3"), type="dot"),
        dcc.Download(id=f"{PAGE}-report-file"),
        html.Div(dcc.Link(t("upload.history", lang), href=nav_href("/batches", lang)), className="mt-4"),
    ])


def _decode(contents: str) -> bytes:
    return base64.b64decode(contents.split(",", 1)[1])


def _options(encoding: str | None, source: str | None, confidence: str | None, year=None) -> ingest.IngestOptions:
    return ingest.IngestOptions(encoding=None if encoding in (None, "auto") else encoding,
                                source=(source or "").strip() or None, confidence=confidence or None,
                                year=int(year) if isinstance(year, int | float) else None)


def parse_upload(contents: str, file_name: str, encoding=None, source=None, confidence=None,
                 year=None) -> ingest.ParsedFile:
    snap = current()
    return PARSES.parse(_decode(contents), file_name or "upload.csv", snap.catalog, snap.engine,
                        _options(encoding, source, confidence, year))


def failed(error: Exception, lang: str) -> dbc.Alert:
    """What went wrong, in both languages (``failures.describe``), and that nothing is lost."""
    log.error("upload failed: %s", error, exc_info=error)
    text = failures.describe(error)
    if text == failures.UNEXPECTED.format(kind=type(error).__name__):  # its advice is the CLI's --debug
        text = UNEXPECTED.format(kind=type(error).__name__)
    return dbc.Alert([html.Div(text.zh), html.Div(text.en), html.Div(KEPT.pick(lang), className="small mt-1")],
                     color="danger", id=f"{PAGE}-failed")


@callback(Output(f"{PAGE}-preview", "children"), Output(f"{PAGE}-commit-area", "hidden"),
          Output(f"{PAGE}-result", "children", allow_duplicate=True),
          Input(f"{PAGE}-file", "contents"), Input(f"{PAGE}-encoding", "value"), Input(f"{PAGE}-source", "value"),
          Input(f"{PAGE}-confidence", "value"), Input(f"{PAGE}-year", "value"), State(f"{PAGE}-file", "filename"),
          State(f"{PAGE}-lang", "data"), prevent_initial_call=True)
def preview(contents, encoding, source, confidence, year, file_name, lang):
    lang = normalise_lang(lang)
    if editor_or_none() is None:
        return dbc.Alert(t("auth.need_editor", lang), color="danger"), True, None
    if not contents:
        return None, True, None
    try:
        parsed = parse_upload(contents, file_name, encoding, source, confidence, year)
    except Exception as exc:  # noqa: BLE001 - a database or system failure, said on the page
        return failed(exc, lang), True, None
    return render_preview(parsed, lang), parsed.rejected(skip_invalid=True), None


def render_preview(parsed: ingest.ParsedFile, lang: str):
    """What the file would do: detection, report, rows as understood, diff (a plain function)."""
    snap = current()
    summary = summarise(parsed.report, lang)  # the same words as the CLI's report
    facts = " · ".join([parsed.file_name, *summary.facts, *summary.counts])
    blocks = [html.Div([html.Strong(t("upload.detected", lang) + ": "), facts], className="im-panel mb-3", id=f"{PAGE}-facts")]
    blocks.append(_report_table(parsed, lang))
    if summary.conversions:
        blocks.append(html.Ul([html.Li(c) for c in summary.conversions], className="mb-3", id=f"{PAGE}-conversions"))
    if parsed.already_loaded_as is not None:
        blocks.append(dbc.Alert(t("upload.already", lang, batch=parsed.already_loaded_as), color="info"))
    if summary.new_regions:
        blocks.append(html.Ul([html.Li(r) for r in summary.new_regions], className="mb-3", id=f"{PAGE}-new-regions"))
    if summary.new_publications:  # publications the file names by publisher and title, created on commit
        blocks.append(html.Ul([html.Li(p) for p in summary.new_publications], className="mb-3",
                              id=f"{PAGE}-new-publications"))
    if parsed.diff is not None and len(parsed.diff):
        blocks.append(_diff_table(parsed, snap, lang))
    if len(parsed.rows):
        blocks.append(_rows_table(parsed, snap, lang))
    return blocks


COLUMN_NAMES = {"status": "common.status", "indicator": "common.indicator", "region": "common.region",
                "year": "common.year", "value": "common.value", "unit": "common.unit", "source": "common.source",
                "old": "upload.old", "new": "upload.new_value", "row": "upload.row", "raw": "upload.raw",
                "severity": "upload.severity", "column": "upload.column", "code": "upload.code",
                "message": "upload.message", "flags": "common.flags", "publication": "common.publication"}


def _columns(frame: pd.DataFrame, lang: str) -> list[dict]:
    return [{"name": t(COLUMN_NAMES[c], lang) if c in COLUMN_NAMES else c, "id": c} for c in frame.columns]


def _report_table(parsed, lang: str):
    problems = parsed.report.problems
    head = html.Div([html.H2(t("upload.report", lang), className="h6 d-inline me-3"),
                     dbc.Button(t("upload.report_download", lang), id=f"{PAGE}-report-download", size="sm",
                                color="secondary", outline=True)], className="mb-2")
    if problems.empty:
        return html.Div([head, html.P(t("upload.no_errors", lang), className="text-success")], className="mb-3")
    # words for the severity and the message (with the form's advice, not the CLI's); the code on hover over
    # the message, and in the JSON report
    frame = problem_table(problems, lang)
    shown = frame[["severity", "row", "column", "value", "message"]]
    table = dash_table.DataTable(
        id=f"{PAGE}-problems", data=frame.astype(object).where(frame.notna(), None).to_dict("records"),
        columns=_columns(shown, lang), page_size=15, sort_action="native",
        tooltip_data=[{"message": {"value": f"{t('upload.code', lang)}: `{code}`", "type": "markdown"}}
                      for code in frame["code"]],
        tooltip_delay=300, tooltip_duration=None,
        style_cell={"fontFamily": TABLE_FONT, "textAlign": "left", "whiteSpace": "normal", "height": "auto", "fontSize": "13px"},
        style_data_conditional=[{"if": {"filter_query": '{severity_code} = "error"'}, "backgroundColor": "#fde2d6"},
                                {"if": {"filter_query": '{severity_code} = "warning"'}, "backgroundColor": "#fff6d5"}],
    )
    return html.Div([head, table], className="mb-3")


def _diff_table(parsed, snap, lang: str):
    diff = parsed.diff
    counts = diff["status"].value_counts()
    summary = " · ".join(f"{t('upload.' + s, lang)} {int(counts.get(s, 0))}" for s in ("new", "revised", "unchanged"))
    changed = diff[diff["status"] != "unchanged"].head(PREVIEW_ROWS)
    frame = pd.DataFrame({
        "status": changed["status"].map(lambda s: t("upload." + s, lang)),
        "indicator": changed["indicator_code"].map(lambda c: snap.catalog.indicators[c].short_name.pick(lang)),
        "region": changed["region_code"].map(lambda c: snap.region_name(c, lang)),
        "year": changed["year"].astype("int64"),
        "old": changed["old_value"].astype(float),
        "new": changed["value"].astype(float),
    })
    return html.Div([html.H2(t("upload.diff", lang), className="h6"), html.P(summary, id=f"{PAGE}-diff-summary"),
                     dash_table.DataTable(id=f"{PAGE}-diff", data=frame.astype(object).where(frame.notna(), None)
                                          .to_dict("records"),
                                          columns=_columns(frame, lang), page_size=10,
                                          style_cell={"fontFamily": TABLE_FONT, "textAlign": "left", "fontSize": "13px"})], className="mb-3")


def _rows_table(parsed, snap, lang: str):
    rows = parsed.rows.head(PREVIEW_ROWS)
    catalog = snap.catalog

    def indicator_name(code):
        return catalog.indicators[code].short_name.pick(lang) if code in catalog.indicators else ""

    frame = pd.DataFrame({
        "row": rows["row"], "status": rows["status"].map(lambda s: ROW_STATUS[s].pick(lang) if s in ROW_STATUS else s),
        "raw": rows["raw"],
        "indicator": rows["indicator_code"].map(indicator_name),
        "region": rows["region_code"].map(lambda c: snap.region_name(c, lang) if isinstance(c, str) else ""),
        "year": rows["year"], "value": rows["value"],
        "unit": rows["indicator_code"].map(
            lambda c: catalog.units[catalog.indicators[c].unit].name.pick(lang) if c in catalog.indicators else ""),
        # as understood: the flags in words; the codes stored ("p u") on hover and in the row's data
        "flags": rows["flag"].map(lambda f: flag_words(f, lang)) if "flag" in rows else None,
        "flag_codes": rows["flag"] if "flag" in rows else None,
        "publication": rows["publication_id"] if "publication_id" in rows else None,
        "source": rows["source"],
    })
    return html.Div([html.H2(t("upload.rows", lang), className="h6"),
                     dash_table.DataTable(id=f"{PAGE}-rows", data=frame.astype(object).where(frame.notna(), None)
                                          .to_dict("records"),
                                          columns=_columns(frame.drop(columns="flag_codes"), lang), page_size=10,
                                          tooltip_data=[{"flags": f"`{code}`"} if isinstance(code, str) and code
                                                        else {} for code in frame["flag_codes"]],
                                          style_cell={"fontFamily": TABLE_FONT, "textAlign": "left", "whiteSpace": "normal", "height": "auto",
                                                      "fontSize": "13px", "maxWidth": "320px"})])


@callback(Output(f"{PAGE}-report-file", "data"), Input(f"{PAGE}-report-download", "n_clicks"),
          State(f"{PAGE}-file", "contents"), State(f"{PAGE}-file", "filename"), State(f"{PAGE}-encoding", "value"),
          State(f"{PAGE}-source", "value"), State(f"{PAGE}-confidence", "value"), State(f"{PAGE}-year", "value"),
          prevent_initial_call=True)
def download_report(_n, contents, file_name, encoding, source, confidence, year):
    if editor_or_none() is None or not contents:
        raise dash.exceptions.PreventUpdate
    parsed = parse_upload(contents, file_name, encoding, source, confidence, year)
    return dcc.send_string(json.dumps(parsed.report.to_dict(), ensure_ascii=False, indent=1, default=str),
                           f"{file_name or 'upload'}.report.json")


@callback(Output(f"{PAGE}-result", "children"), Input(f"{PAGE}-commit", "n_clicks"),
          State(f"{PAGE}-file", "contents"), State(f"{PAGE}-file", "filename"), State(f"{PAGE}-encoding", "value"),
          State(f"{PAGE}-source", "value"), State(f"{PAGE}-confidence", "value"), State(f"{PAGE}-note", "value"),
          State(f"{PAGE}-skip", "value"), State(f"{PAGE}-lang", "data"), State(f"{PAGE}-year", "value"),
          prevent_initial_call=True)
def commit(_n, contents, file_name, encoding, source, confidence, note, skip, lang, year):
    lang = normalise_lang(lang)
    editor = editor_or_none()
    if editor is None:  # the server decides, whatever the page showed
        return dbc.Alert(t("auth.need_editor", lang), color="danger", id=f"{PAGE}-denied")
    if not contents:
        raise dash.exceptions.PreventUpdate
    try:
        parsed = parse_upload(contents, file_name, encoding, source, confidence, year)  # the preview's, if kept
    except Exception as exc:  # noqa: BLE001 - a database or system failure, said on the page
        return failed(exc, lang)
    refused = users.refused_indicators(editor, parsed.observations()["indicator_code"], current().catalog)
    if refused:  # an editor scoped to an agency commits only what that agency owns, checked here on the server
        return dbc.Alert(users.OTHER_AGENCY.format(name=editor.name, agency=editor.agency,
                                                   codes=", ".join(refused)).pick(lang),
                         color="danger", id=f"{PAGE}-scope-refused")
    return commit_parsed(parsed, editor.name, note, bool(skip), lang)


def commit_parsed(parsed: ingest.ParsedFile, user: str, note: str | None, skip_invalid: bool, lang: str):
    snap = current()
    try:
        result = ingest.commit(snap.engine, parsed, user=user, note=(note or "").strip() or None,
                               skip_invalid=skip_invalid)
    except ingest.UploadRejected as exc:
        return dbc.Alert([html.Div(exc.message_zh), html.Div(exc.message_en)], color="danger", id=f"{PAGE}-rejected")
    except Exception as exc:  # noqa: BLE001 - locked, full, read-only...: the transaction rolled back
        return failed(exc, lang)
    if result.batch_id is None:
        return dbc.Alert(t("upload.already", lang, batch=result.already_loaded_as), color="info", id=f"{PAGE}-already")
    codes = sorted(set(parsed.observations()["indicator_code"]))
    links = [dcc.Link(snap.catalog.indicators[c].short_name.pick(lang), href=nav_href("/trend", lang, indicator=c),
                      className="me-3") for c in codes]
    return dbc.Alert([html.Div(t("upload.committed", lang, batch=result.batch_id, new=result.n_new,
                                  revised=result.n_revised, unchanged=result.n_unchanged)),
                      html.Div([t("upload.see_trend", lang), " ", *links])], color="success", id=f"{PAGE}-committed")
