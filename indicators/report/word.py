"""The work report as a Word document (python-docx), in the shape of a government work report.

What belongs here: the document's layout (A4, headings numbered 一、(一) / 1. a., tables, pictures, the page
footer), its fonts (Noto Sans CJK SC declared for East Asian text on the styles and on every run, so Word and
WPS use it rather than a fallback) and its core properties. What it says comes from ``content``.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import _Cell

from indicators import briefing
from indicators.report import content
from indicators.report.content import FONT, Extras, ReportSpec, word
from indicators.snapshot import Snapshot

PAGE_WIDTH, PAGE_HEIGHT = Cm(21.0), Cm(29.7)  # A4
MARGIN = Cm(2.5)
TEXT_WIDTH_CM = 16.0
NAVY = RGBColor(0x12, 0x3B, 0x63)
GREY = RGBColor(0x55, 0x55, 0x55)
HEADING_SIZES = {"Title": 22, "Subtitle": 14, "Heading 1": 16, "Heading 2": 14, "Heading 3": 12}
SCORECARD_WIDTHS_CM = [2.0, 2.5, 2.4, 2.6, 2.3, 4.2]  # pillar, indicator, latest, target, status, caveats
TABLE_FONT_PT = 9
THEME_FONT_ATTRIBUTES = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def build_docx(snap: Snapshot, spec: ReportSpec, extras: Extras,
               on_progress: Callable[[int, int, str], None] | None = None) -> bytes:
    """The report as .docx bytes: title, period and data as-of; overview; scorecard table; changes since the
    last report; one section per pillar with its charts and findings; tasks; overdue data; sources; data
    version. Sections whose data ``extras`` does not give are left out."""
    lang = spec.lang
    rows = briefing.scorecard_rows(snap)
    sections = content.pillar_sections(snap, rows, lang)
    codes = [c for s in sections for c in s.charts]
    total = len(codes) + 1
    rendered = dict(zip(codes, content.rendered_charts(snap, codes, lang=lang, fmt="docx", on_progress=on_progress,
                                                       total=total), strict=True))
    if on_progress:
        on_progress(total, total, "docx")
    prov = content.provenance(snap, spec)
    doc = Document()
    _set_up(doc, lang)
    content.describe(doc.core_properties, snap, spec, prov)
    _cover(doc, snap, spec, prov)
    number = iter(range(1, 100))

    _heading(doc, content.section_number(next(number), lang) + word("summary", lang), 1)
    _paragraph(doc, "".join(content.summary(snap, rows, lang)) if lang == "zh"
               else " ".join(content.summary(snap, rows, lang)))

    _heading(doc, content.section_number(next(number), lang) + word("scorecard", lang), 1)
    _paragraph(doc, word("scorecard_note", lang), size=9, colour=GREY)
    _scorecard(doc, content.scorecard_table(snap, rows, lang), lang)

    if extras.changes is not None:
        _heading(doc, content.section_number(next(number), lang) + word("changes", lang), 1)
        if spec.since:
            _paragraph(doc, word("changes_since", lang, since=spec.since.isoformat(), as_of=prov.data_as_of))
        _table(doc, content.changes_table(extras.changes, lang), content.headers(content.CHANGES_HEADERS, lang),
               [6.0, 10.0])

    _heading(doc, content.section_number(next(number), lang) + word("pillars", lang), 1)
    figure = iter(range(1, 1000))
    for n, section in enumerate(sections, start=1):
        _heading(doc, content.subsection_number(n, lang) + section.name, 2)
        _paragraph(doc, section.description)
        for code in section.charts:
            chart, png = rendered[code]
            _chart(doc, chart, png, next(figure), lang)
        if section.without_data:
            names = [snap.catalog.indicators[c].short_name.pick(lang) for c in section.without_data]
            _paragraph(doc, word("no_data_list", lang, names=("、" if lang == "zh" else ", ").join(names)))

    if extras.tasks is not None:
        _heading(doc, content.section_number(next(number), lang) + word("tasks", lang), 1)
        _paragraph(doc, word("tasks_note", lang), size=9, colour=GREY)
        _table(doc, content.task_table(snap, extras.tasks, lang), content.headers(content.TASK_HEADERS, lang),
               [1.6, 5.6, 2.2, 2.8, 1.8, 2.0])
    if extras.overdue is not None:
        _heading(doc, content.section_number(next(number), lang) + word("overdue", lang), 1)
        _paragraph(doc, word("overdue_note", lang), size=9, colour=GREY)
        _table(doc, content.overdue_table(snap, extras.overdue, lang), content.headers(content.OVERDUE_HEADERS, lang),
               [4.4, 5.6, 3.2, 2.8])

    _heading(doc, content.section_number(next(number), lang) + word("sources", lang), 1)
    for source in content.sources(snap, [c for c, _ in rendered.values()], rows, lang):
        _paragraph(doc, source, style="List Number", size=9)

    _heading(doc, content.section_number(next(number), lang) + word("provenance", lang), 1)
    _table(doc, pd.DataFrame(prov.lines(lang), columns=["label", "value"]), None, [3.6, 12.4])
    _paragraph(doc, word("rebuild_note", lang), size=9, colour=GREY)

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _set_up(doc: DocumentObject, lang: str) -> None:
    """A4 portrait with 2.5 cm margins, a page number in the footer, and the styles' fonts and sizes."""
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = MARGIN
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _declare_fonts(rpr, lang)
    for style in doc.styles:
        element = style.element
        if element.get(qn("w:type")) in ("paragraph", "character", "table"):
            _declare_fonts(element.get_or_add_rPr(), lang)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)  # 五号
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.35
    for name, size in HEADING_SIZES.items():
        style = doc.styles[name]
        style.font.size = Pt(size)
        style.font.bold = name != "Subtitle"
        style.font.italic = False
        style.font.color.rgb = NAVY if name != "Subtitle" else GREY
        style.paragraph_format.space_before = Pt(14 if name.startswith("Heading") else 0)
        style.paragraph_format.space_after = Pt(6)
    for name in ("Title", "Subtitle"):
        doc.styles[name].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _drop_border(doc.styles["Title"].element)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    before, after = content.WORDS["page"].pick(lang).split("{page}")  # the page number is a field between
    _run(footer, before, size=9, colour=GREY)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    inner = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    inner.append(text)
    field.append(inner)
    footer._p.append(field)
    _run(footer, after, size=9, colour=GREY)


def _declare_fonts(rpr, lang: str | None = None) -> None:
    """Noto Sans CJK SC for every script of a run or style (w:eastAsia included, theme fonts removed, which
    would win over it); with ``lang``, the languages too: Latin text as English (so words and numbers wrap
    whole, as Word sets Chinese documents) and East Asian text as Simplified Chinese."""
    fonts = rpr.get_or_add_rFonts()
    for attribute in THEME_FONT_ATTRIBUTES:
        fonts.attrib.pop(qn(attribute), None)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONT)
    if lang is None:
        return
    lang_element = rpr.find(qn("w:lang"))
    if lang_element is None:
        lang_element = OxmlElement("w:lang")
        rpr.append(lang_element)  # w:lang is the last but a few optional elements of w:rPr
    lang_element.set(qn("w:val"), "en-US" if lang == "zh" else "en-GB")
    lang_element.set(qn("w:eastAsia"), "zh-CN")


def _drop_border(style_element) -> None:
    ppr = style_element.find(qn("w:pPr"))
    if ppr is not None and ppr.find(qn("w:pBdr")) is not None:
        ppr.remove(ppr.find(qn("w:pBdr")))


def _run(paragraph, text: str, *, size: float | None = None, bold: bool = False, colour: RGBColor | None = None):
    run = paragraph.add_run(text)
    _declare_fonts(run._r.get_or_add_rPr())  # the languages come from the styles
    run.font.name = FONT
    if size:
        run.font.size = Pt(size)
    if bold:
        run.font.bold = True
    if colour is not None:
        run.font.color.rgb = colour
    return run


def _paragraph(container, text: str, *, style: str | None = None, size: float | None = None, bold: bool = False,
               colour: RGBColor | None = None, align=None):
    paragraph = container.add_paragraph(style=style)
    _run(paragraph, text, size=size, bold=bold, colour=colour)
    if align is not None:
        paragraph.alignment = align
    return paragraph


def _heading(doc: DocumentObject, text: str, level: int) -> None:
    paragraph = doc.add_heading(level=level)
    _run(paragraph, text)




def _cover(doc: DocumentObject, snap: Snapshot, spec: ReportSpec, prov: content.Provenance) -> None:
    lang = spec.lang
    title = doc.add_paragraph(style="Title")
    _run(title, snap.catalog.programme.name.pick(lang))
    title.add_run().add_break()
    _run(title, word("report", lang))
    subtitle = doc.add_paragraph(style="Subtitle")
    _run(subtitle, f"{word('period', lang)}:{content.period_label(spec.period, lang)}" if lang == "zh"
         else f"{word('period', lang)}: {content.period_label(spec.period, lang)}")
    batch, count = prov.version
    sep = ":" if lang == "zh" else ": "
    line = (f"{word('data_as_of', lang)}{sep}{prov.data_as_of} · {word('data_version', lang)}{sep}"
            f"{batch}/{count} · {word('fingerprint', lang)}{sep}{prov.fingerprint} · "
            f"{word('built', lang)}{sep}{prov.built:%Y-%m-%d}")
    _paragraph(doc, line, size=9, colour=GREY, align=WD_ALIGN_PARAGRAPH.CENTER)


def _shade(cell: _Cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill.lstrip("#"))
    tcpr.append(shading)


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    trpr.append(header)


def _cell_text(cell: _Cell, text: str, *, bold: bool = False, colour: RGBColor | None = None) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.1
    _run(paragraph, text, size=TABLE_FONT_PT, bold=bold, colour=colour)


def _table(doc: DocumentObject, frame: pd.DataFrame, header: list[str] | None, widths_cm: list[float],
           fills: list[str] | None = None, fill_column: int | None = None):
    """A Word table of ``frame``'s text (``header`` as its repeated first row, navy), widths in cm; with
    ``fills``, the cells of ``fill_column`` are shaded row by row."""
    table = doc.add_table(rows=0, cols=len(widths_cm), style="Table Grid")
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    if header is not None:
        cells = table.add_row().cells
        _repeat_header(table.rows[0])
        for cell, text in zip(cells, header, strict=True):
            _shade(cell, "#123b63")
            _cell_text(cell, text, bold=True, colour=RGBColor(0xFF, 0xFF, 0xFF))
    for n, values in enumerate(frame.itertuples(index=False)):
        cells = table.add_row().cells
        for col, (cell, value) in enumerate(zip(cells, values, strict=True)):
            _cell_text(cell, "" if value is None else str(value))
            if fills is not None and col == fill_column:
                _shade(cell, fills[n])
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)  # the grid, which LibreOffice and WPS follow
        for cell in column.cells:
            cell.width = Cm(width)  # each cell's, which Word follows
    doc.add_paragraph()
    return table


def _scorecard(doc: DocumentObject, table: pd.DataFrame, lang: str) -> None:
    fills = [briefing._tint(c) for c in table["colour"]]  # the scorecard image's light status colours
    _table(doc, table.drop(columns="colour"), content.headers(content.SCORECARD_HEADERS, lang),
           SCORECARD_WIDTHS_CM, fills=fills, fill_column=4)


def _chart(doc: DocumentObject, chart: briefing.Chart, png: bytes, n: int, lang: str) -> None:
    """One indicator: its title as a heading, the finding, the chart, its caveats, sponsorship and sources."""
    _heading(doc, f"{n}. {chart.title}" if lang != "zh" else f"{n}.{chart.title}", 3)
    _paragraph(doc, chart.finding).paragraph_format.keep_with_next = True  # not alone at a page's foot
    doc.add_picture(io.BytesIO(png), width=Cm(TEXT_WIDTH_CM))
    picture = doc.inline_shapes[-1]
    picture._inline.docPr.set("descr", f"{chart.title}: {chart.finding}")
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    if chart.disclosure:
        _paragraph(doc, f"ⓘ {chart.disclosure}", size=9, colour=GREY)
    for caveat in chart.caveats:
        _paragraph(doc, f"⚠ {caveat}", size=9, colour=RGBColor(0x6B, 0x4E, 0x00))
    sep = ":" if lang == "zh" else ": "
    if chart.sources:
        _paragraph(doc, word("source", lang) + sep + ("; ".join(chart.sources)), size=9, colour=GREY)
