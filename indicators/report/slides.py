"""The work report as a PowerPoint deck (python-pptx), 16:9.

What belongs here: the deck's slides (title; overview; the scorecard as tables of at most
:data:`SCORECARD_ROWS` rows a slide; one slide per indicator with its briefing chart, which carries the finding
and the source footer, and the finding, caveats and sources again as the slide's notes; the tasks; the data
version), their fonts (Noto Sans CJK SC declared as the East Asian font of every run) and the core properties.
What it says comes from ``content``.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR
from pptx.oxml.ns import qn
from pptx.presentation import Presentation as PresentationObject
from pptx.slide import Slide
from pptx.util import Emu, Inches, Pt

from indicators import briefing, export
from indicators.report import content
from indicators.report.content import FONT, Extras, ReportSpec, word
from indicators.snapshot import Snapshot

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)  # 16:9, the chart's 1280 x 720
MARGIN = Inches(0.5)
BLANK = 6  # the default template's blank layout: every slide draws its own boxes
NAVY = RGBColor(0x12, 0x3B, 0x63)
GREY = RGBColor(0x55, 0x55, 0x55)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
SCORECARD_ROWS = 7  # a slide's table rows beyond the header: caveats run to four lines
TASK_ROWS = 12
SCORECARD_WIDTHS = [1.6, 1.9, 1.9, 2.2, 1.8, 0.0]  # inches; caveats (last) take the rest


def build_pptx(snap: Snapshot, spec: ReportSpec, extras: Extras,
               on_progress: Callable[[int, int, str], None] | None = None) -> bytes:
    """The deck as .pptx bytes."""
    lang = spec.lang
    rows = briefing.scorecard_rows(snap)
    codes = [c for s in content.pillar_sections(snap, rows, lang) for c in s.charts]
    total = len(codes) + 1
    prov = content.provenance(snap, spec)
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDTH, HEIGHT
    content.describe(deck.core_properties, snap, spec, prov)
    _title_slide(deck, snap, spec, prov)
    _bullets_slide(deck, word("summary", lang), content.summary(snap, rows, lang), lang)
    table = content.scorecard_table(snap, rows, lang)
    parts = [table.iloc[i:i + SCORECARD_ROWS] for i in range(0, len(table), SCORECARD_ROWS)]
    for n, part in enumerate(parts, start=1):
        heading = word("scorecard", lang) + (f" ({n}/{len(parts)})" if len(parts) > 1 else "")
        _table_slide(deck, heading, part.drop(columns="colour"), content.headers(content.SCORECARD_HEADERS, lang),
                     SCORECARD_WIDTHS, lang, fills=[briefing._tint(c) for c in part["colour"]], fill_column=4)
    charts = []
    for chart, png in content.rendered_charts(snap, codes, lang=lang, fmt="pptx", on_progress=on_progress,
                                              total=total):
        _chart_slide(deck, chart, png, lang)
        charts.append(chart)
    if on_progress:
        on_progress(total, total, "pptx")
    if extras.tasks is not None:
        tasks = content.task_table(snap, extras.tasks, lang).head(TASK_ROWS)
        _table_slide(deck, word("tasks", lang), tasks, content.headers(content.TASK_HEADERS, lang),
                     [1.2, 4.6, 1.8, 2.2, 1.2, 0.0], lang)
    _bullets_slide(deck, word("provenance", lang), [f"{label}: {value}" for label, value in prov.lines(lang)]
                   + [word("rebuild_note", lang)], lang, size=14)
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def _declare_fonts(run, lang: str) -> None:
    """Noto Sans CJK SC as the run's Latin, East Asian and complex-script font, Chinese as its language."""
    rpr = run._r.get_or_add_rPr()
    rpr.set("lang", "zh-CN" if lang == "zh" else "en-US")
    rpr.set("altLang", "en-US" if lang == "zh" else "zh-CN")
    latin = rpr.get_or_add_latin()
    latin.set("typeface", FONT)
    previous = latin
    for tag in ("a:ea", "a:cs"):  # in the schema's order, right after a:latin
        element = rpr.find(qn(tag))
        if element is None:
            element = rpr.makeelement(qn(tag), {})
            previous.addnext(element)
        element.set("typeface", FONT)
        previous = element


def _write(frame, text: str, lang: str, *, size: float, bold: bool = False, colour: RGBColor | None = None,
           align=None, new_paragraph: bool = False) -> None:
    paragraph = frame.add_paragraph() if new_paragraph else frame.paragraphs[0]
    run = paragraph.add_run()
    run.text = text
    run.font.size = Pt(size)
    run.font.bold = bold
    if colour is not None:
        run.font.color.rgb = colour
    _declare_fonts(run, lang)
    if align is not None:
        paragraph.alignment = align


def _box(slide: Slide, left, top, width, height, *, wrap: bool = True):
    frame = slide.shapes.add_textbox(left, top, width, height).text_frame
    frame.word_wrap = wrap
    return frame


def _heading(slide: Slide, text: str, lang: str) -> None:
    band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, Emu(0), Emu(0), WIDTH, Inches(0.12))
    band.fill.solid()
    band.fill.fore_color.rgb = NAVY
    band.line.fill.background()
    _write(_box(slide, MARGIN, Inches(0.3), WIDTH - 2 * MARGIN, Inches(0.8)), text, lang, size=26, bold=True,
           colour=NAVY)


def _title_slide(deck: PresentationObject, snap: Snapshot, spec: ReportSpec, prov: content.Provenance) -> None:
    lang = spec.lang
    slide = deck.slides.add_slide(deck.slide_layouts[BLANK])
    band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, Emu(0), Inches(2.0), WIDTH, Inches(2.6))
    band.fill.solid()
    band.fill.fore_color.rgb = NAVY
    band.line.fill.background()
    frame = _box(slide, MARGIN, Inches(2.2), WIDTH - 2 * MARGIN, Inches(2.2))
    frame.vertical_anchor = MSO_ANCHOR.MIDDLE
    _write(frame, snap.catalog.programme.name.pick(lang), lang, size=34, bold=True, colour=WHITE)
    _write(frame, word("report", lang), lang, size=28, colour=WHITE, new_paragraph=True)
    sep = ":" if lang == "zh" else ": "
    batch, count = prov.version
    lines = [f"{word('period', lang)}{sep}{content.period_label(spec.period, lang)}",
             f"{word('data_as_of', lang)}{sep}{prov.data_as_of} · {word('data_version', lang)}{sep}{batch}/{count} · "
             f"{word('fingerprint', lang)}{sep}{prov.fingerprint}",
             f"{word('built', lang)}{sep}{prov.built:%Y-%m-%d} · innovation-monitor"]
    info = _box(slide, MARGIN, Inches(5.0), WIDTH - 2 * MARGIN, Inches(1.6))
    for n, line in enumerate(lines):
        _write(info, line, lang, size=20 if n == 0 else 14, bold=n == 0, colour=NAVY if n == 0 else GREY,
               new_paragraph=n > 0)


def _bullets_slide(deck: PresentationObject, heading: str, lines: list[str], lang: str, *, size: float = 18) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[BLANK])
    _heading(slide, heading, lang)
    frame = _box(slide, MARGIN, Inches(1.4), WIDTH - 2 * MARGIN, HEIGHT - Inches(2.0))
    for n, line in enumerate(lines):
        _write(frame, f"• {line}", lang, size=size, new_paragraph=n > 0)
        frame.paragraphs[-1].space_after = Pt(10)


def _table_slide(deck: PresentationObject, heading: str, frame: pd.DataFrame, header: list[str],
                 widths_in: list[float], lang: str, *, fills: list[str] | None = None,
                 fill_column: int | None = None) -> None:
    """A slide with a heading and a table of ``frame``'s text; a width of 0 takes the rest of the slide."""
    slide = deck.slides.add_slide(deck.slide_layouts[BLANK])
    _heading(slide, heading, lang)
    usable = (WIDTH - 2 * MARGIN) / 914400
    widths = [w or usable - sum(widths_in) for w in widths_in]
    shape = slide.shapes.add_table(len(frame) + 1, len(header), MARGIN, Inches(1.3), WIDTH - 2 * MARGIN,
                                   Inches(0.4) * (len(frame) + 1))
    table = shape.table
    for col, width in enumerate(widths):
        table.columns[col].width = Emu(int(Inches(width)))
    for col, text in enumerate(header):
        cell = table.cell(0, col)
        cell.fill.solid()
        cell.fill.fore_color.rgb = NAVY
        _write(cell.text_frame, text, lang, size=12, bold=True, colour=WHITE)
    for r, values in enumerate(frame.itertuples(index=False), start=1):
        for col, value in enumerate(values):
            cell = table.cell(r, col)
            cell.fill.solid()
            cell.fill.fore_color.rgb = WHITE
            if fills is not None and col == fill_column:
                cell.fill.fore_color.rgb = RGBColor.from_string(fills[r - 1].lstrip("#").upper())
            cell.margin_top = cell.margin_bottom = Inches(0.03)
            _write(cell.text_frame, "" if value is None else str(value), lang, size=_cell_size(value))
        table.rows[r].height = Emu(int(Inches(_row_height(values, widths))))


def _cell_size(value: object) -> float:
    return 11 if len(str(value)) < 40 else 9


def _row_height(values: tuple, widths_in: list[float]) -> float:
    """A row's height in inches for its longest cell: LibreOffice keeps a table row's stated height when it
    exports a PDF, so text that wraps to more lines would run into the next row."""
    lines = 1.0
    for value, width in zip(values, widths_in, strict=True):
        size = _cell_size(value)
        ems = export._width(str(value)) / 2  # a CJK character is one em, a Latin one about half
        lines = max(lines, -(-ems * size // ((width - 0.2) * 72)))
    return max(0.4, lines * _cell_size("") * 1.3 / 72 + 0.12)


def _chart_slide(deck: PresentationObject, chart: briefing.Chart, png: bytes, lang: str) -> None:
    """The indicator's briefing chart over the whole slide (title, finding, chart, caveats and source footer
    are drawn in it, as in the pack); the same words as the slide's notes, to edit and to read out."""
    slide = deck.slides.add_slide(deck.slide_layouts[BLANK])
    picture = slide.shapes.add_picture(io.BytesIO(png), Emu(0), Emu(0), width=WIDTH, height=HEIGHT)
    picture._element.nvPicPr.cNvPr.set("descr", f"{chart.title}: {chart.finding}")
    notes = slide.notes_slide.notes_text_frame
    sep = ":" if lang == "zh" else ": "
    lines = [chart.title, chart.finding, *(f"⚠ {c}" for c in chart.caveats)]
    if chart.disclosure:
        lines.append(f"ⓘ {chart.disclosure}")
    lines.append(word("source", lang) + sep + "; ".join(chart.sources))
    for n, line in enumerate(lines):
        _write(notes, line, lang, size=12, new_paragraph=n > 0)
