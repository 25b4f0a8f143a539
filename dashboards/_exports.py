"""Server routes for downloads that are not Dash callbacks: chart images and finished briefing packs.

``/export/chart?view=trend|gaps|compare&format=png|svg&size=slide|page&lang=..`` renders the chart of a
view (same builders as the page) in the briefing template; ``/export/brief/<job>.zip`` hands out a pack and
``/export/report/<job>.docx|pptx`` a work report, built in the background by the briefing page. Errors are
plain bilingual text, never a stack trace; when the renderer is busy or restarting, 503 with ``Retry-After``
(the render server bounds how long a request waits).
"""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, Response, request

from dashboards._common import current, split_param
from indicators import briefing, export, report, tables, views
from indicators.i18n import normalise_lang
from indicators.jobs import JOBS

blueprint = Blueprint("exports", __name__)


def _text(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(message, status=status, mimetype="text/plain; charset=utf-8", headers=headers)


@blueprint.get("/export/chart")
def chart() -> Response:
    args = request.args
    lang = normalise_lang(args.get("lang"))
    size = args.get("size", "slide")
    fmt = args.get("format", "png")
    if size not in export.SIZES or fmt not in ("png", "svg"):
        return _text("size: slide|page; format: png|svg / 参数错误", 400)
    snap = current()
    catalog = snap.catalog
    view = args.get("view", "trend")
    indicator = args.get("indicator")
    known = set(snap.regions["code"])
    regions = [r for r in split_param(args.get("regions"))[:50] if r in known] or None
    years = export.parse_years(args.get("years"))  # the page's chosen years; malformed: all years
    if view in ("trend", "compare") and indicator not in catalog.indicators:
        return _text(f"unknown indicator / 未知指标: {indicator}", 404)
    if view == "trend":
        chart_ = briefing.indicator_chart(snap, indicator, lang=lang, regions=regions, size=size, years=years,
                                          vintages=args.get("vintages") == "1")
        name = indicator
    elif view == "compare":
        chart_ = briefing.compare_chart(snap, indicator, lang=lang, regions=regions, size=size)
        name = f"{indicator}-compare"
    elif view == "gaps":
        milestone = args.get("milestone", "")
        chart_ = briefing.gaps_chart(snap, lang=lang, pillar=args.get("pillar"), size=size,
                                     milestone=int(milestone) if re.fullmatch(r"\d{4}", milestone) else None)
        name = "target-gaps" + (f"-{milestone}" if re.fullmatch(r"\d{4}", milestone) else "")
        years = None
    else:
        return _text(f"unknown view / 未知视图: {view}", 404)
    try:
        image = export.to_image(chart_.figure, size=size, fmt=fmt)
    except export.ExportError as exc:
        retry = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return _text(str(exc.text), 503, retry)
    mimetype = "image/png" if fmt == "png" else "image/svg+xml"
    filename = export.file_name(name, lang=lang, size=size, fmt=fmt, regions=regions, years=years)
    return Response(image, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blueprint.get("/export/table")
def table() -> Response:
    """The numbers of a trend view as CSV (``scope=view``: its regions, years and vintages) or the full
    series of the indicator (``scope=series``), headed in the page's language, UTF-8 with BOM."""
    args = request.args
    lang = normalise_lang(args.get("lang"))
    snap = current()
    indicator = args.get("indicator")
    if indicator not in snap.catalog.indicators:
        return _text(f"unknown indicator / 未知指标: {indicator}", 404)
    known = set(snap.regions["code"])
    full = args.get("scope") == "series"
    regions = None if full else [r for r in split_param(args.get("regions"))[:50] if r in known] or [
        snap.catalog.programme.home_region]
    years = None if full else export.parse_years(args.get("years"))
    frame = views.view_table(snap, indicator, lang=lang, regions=regions, years=years,
                             vintages=not full and args.get("vintages") == "1")
    name = export.file_name(indicator + ("_series" if full else ""), lang=lang, size="table", fmt="csv",
                            regions=regions, years=years)
    return Response(tables.csv_bytes(frame), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blueprint.get("/export/brief/<job_id>.zip")
def brief(job_id: str) -> Response:
    """A briefing pack the briefing page built, from whichever server process built it."""
    job = JOBS.get(job_id)
    if job is None or not job.finished or job.kind != "pack":
        return _text("no such pack, or not ready yet / 简报包不存在或尚未生成", 404)
    return _job_result(job, f"briefing-pack_{date.today():%Y-%m-%d}.zip", "application/zip")


@blueprint.get("/export/report/<job_id>.<fmt>")
def work_report(job_id: str, fmt: str) -> Response:
    """A work report the briefing page built: only a finished report job, in the format it was built in."""
    job = JOBS.get(job_id)
    if job is None or not job.finished or job.kind != "report" or report.format_of(job.name) != fmt:
        return _text("no such report, or not ready yet / 报告不存在或尚未生成", 404)
    return _job_result(job, job.name, report.MIMETYPES[fmt])


def _job_result(job, name: str, mimetype: str) -> Response:
    if job.error:
        return _text(job.error, 500)
    data = JOBS.result(job.id)
    if data is None:  # deleted after its keeping time between the two reads
        return _text("no such file any more / 文件已不存在", 404)
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})
