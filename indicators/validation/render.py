"""A report as text for people: the same words on the command line and on the upload page.

What belongs here: the summary of a report (the file's facts, its counts, each unit conversion, each new
region and new publication) in Chinese, in English, or in both (``lang=None``, as the CLI prints it). What
does not: the report's problems (each carries its own message, see ``report``), terminal tables and colours
(``cli``), the page's layout (``dashboards/upload.py``).

The words are the same on both surfaces; only a problem's advice differs (``messages.for_web``): the page
names its form's fields where the CLI names its options. :func:`problem_table` is the page's table of problems.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from indicators.i18n import Text
from indicators.validation.messages import for_web
from indicators.validation.report import Report

SHOWN = 100  # new regions listed; the JSON report lists all

FACTS = {
    "encoding": Text("编码", "encoding"),
    "delimiter": Text("分隔符", "delimiter"),
    "layout": Text("格式", "layout"),
    "header_row": Text("表头行", "header line"),
}
COUNTS = {
    "rows": Text("数据行", "lines"),
    "values": Text("数值", "values"),
    "missing": Text("缺失(跳过)", "missing (skipped)"),
    "duplicates": Text("重复(跳过)", "repeats (skipped)"),
    "valid": Text("有效", "valid"),
    "rejected": Text("有错误的数值", "values with errors"),
    "errors": Text("错误", "errors"),
    "warnings": Text("警告", "warnings"),
}
LAYOUTS = {
    "long": Text("长表", "long"),
    "wide": Text("宽表", "wide"),
    "worldbank": Text("世界银行下载格式", "World Bank download"),
    "published": Text("公布的统计表", "table as published"),
}
SEVERITIES = {"error": Text("错误", "error"), "warning": Text("警告", "warning")}
DELIMITERS = {",": Text("逗号", "comma"), "\t": Text("制表符", "tab"), ";": Text("分号", "semicolon")}
CONVERSION = Text(
    "单位换算:{indicator} 的 {count} 个数值由 {from_unit} 换算为 {to_unit_zh}(×{factor:g}),首见第 {first_row} 行:"
    "{example}",
    "Converted: {count} value(s) of {indicator} from {from_unit} to {to_unit_en} (×{factor:g}), first on "
    "line {first_row}: {example}",
)
NEW_REGION = Text(
    "新地区 {code}:{name_zh} / {name_en},{kind}{assumed_zh},第 {row} 行",
    "New region {code}: {name_zh} / {name_en}, {kind}{assumed_en}, line {row}",
)
KIND_ASSUMED = Text("(类型未给出,按此记录)", " (kind not given: assumed)")
NEW_PUBLICATION = Text(
    "新出处文献 {id}:{publisher}《{title}》,{date},{kind}{assumed_zh},第 {row} 行",
    "New publication {id}: {publisher}, '{title}', {date}, {kind}{assumed_en}, line {row}",
)
MORE_NEW_REGIONS = Text("… 另有 {count} 个新地区(JSON 报告列出全部)", "… {count} more new regions (the JSON report lists all)")
NOTHING = "–"


class Summary(NamedTuple):
    """A report's summary as lines of text, each part a list so a page can lay them out as it likes."""

    facts: list[str]  # "编码: gb18030"
    counts: list[str]  # "2 数值"
    conversions: list[str]
    new_regions: list[str]  # at most SHOWN, then how many more
    new_publications: list[str] = []  # each one a file names by publisher and title, created on commit


def summarise(report: Report | dict, lang: str | None = None) -> Summary:
    """The summary of ``report`` (a :class:`Report` or its ``to_dict()``) in ``lang``; both languages when
    ``lang`` is None."""
    data = report.to_dict(limit=0) if isinstance(report, Report) else report
    info, counts = data["file"], data["counts"]
    facts = []
    for key, label in FACTS.items():
        value = info.get(key)
        if key == "delimiter" and value in DELIMITERS:
            value = _label(DELIMITERS[value], lang)
        if key == "layout" and value in LAYOUTS:
            value = _label(LAYOUTS[value], lang)
        facts.append(f"{_label(label, lang)}: {NOTHING if value in (None, '') else value}")
    regions = data["new_regions"]
    new_regions = [_sentence(_new_region(r), lang) for r in regions[:SHOWN]]
    if len(regions) > SHOWN:
        new_regions.append(_sentence(MORE_NEW_REGIONS.format(count=len(regions) - SHOWN), lang))
    return Summary(
        facts=facts,
        counts=[f"{counts.get(key, 0)} {_label(label, lang)}" for key, label in COUNTS.items()],
        conversions=[_sentence(CONVERSION.format(**c), lang) for c in data["conversions"]],
        new_regions=new_regions,
        new_publications=[_sentence(_new_publication(p), lang) for p in data.get("new_publications", [])],
    )


def report_lines(report: Report | dict, lang: str | None = None) -> list[str]:
    """The summary as lines: the facts, the counts, then one line per conversion and per new region."""
    summary = summarise(report, lang)
    return ["  ".join(summary.facts), "  ".join(summary.counts), *summary.conversions, *summary.new_regions,
            *summary.new_publications]


def problem_table(problems: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The problems as the upload page lists them in ``lang``: severity in words, the message with the web
    form's advice; ``code`` stays beside them (the page shows it on hover; the JSON report keeps it)."""
    message = problems["message_en" if lang == "en" else "message_zh"].map(lambda m: for_web(m, lang))
    severity = problems["severity"].map(lambda s: SEVERITIES[s].pick(lang) if s in SEVERITIES else s)
    return problems.assign(severity_code=problems["severity"], severity=severity, message=message)[
        ["severity", "row", "column", "value", "message", "code", "severity_code"]]


def _new_region(region: dict) -> Text:
    assumed = KIND_ASSUMED if region.get("kind_assumed") else Text("", "")
    return NEW_REGION.format(**region, assumed_zh=assumed.zh, assumed_en=assumed.en)


def _new_publication(publication: dict) -> Text:
    assumed = KIND_ASSUMED if publication.get("kind_assumed") else Text("", "")
    return NEW_PUBLICATION.format(**publication, date=publication.get("published_on") or NOTHING,
                                  assumed_zh=assumed.zh, assumed_en=assumed.en)


def _label(text: Text, lang: str | None) -> str:
    """A label in ``lang``, or both as '编码 encoding'."""
    return f"{text.zh} {text.en}" if lang is None else text.pick(lang)


def _sentence(text: Text, lang: str | None) -> str:
    """A sentence in ``lang``, or both as 'zh / en'."""
    return str(text) if lang is None else text.pick(lang)
