"""What an upload may hold and the words people use for it: the options a reading takes, the fields a
file may have and the column headers they go by, and the words for missing values, confidence levels,
region kinds, publication kinds and value flags.

What belongs here: those tables, and matching one header cell to a field (:func:`match_header`). What
does not: finding the header line in a file (``table``), deciding the layout from the header
(``layout``), interpreting the cells (``interpret``, ``numbers``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from indicators.catalog import normalise_name
from indicators.flags import FLAGS
from indicators.i18n import Text
from indicators.validation import DEFAULT_MAX_BYTES

DEFAULT_CONFIDENCE = "medium"
YEAR_MIN = 1900
# Work limits, checked on the bytes before a table is built (``table``): columns in a file (a World Bank
# download has 69), and cells (lines x columns), one per CELL_BYTES of the size limit: 5.2 million for the
# default 50 MB, which a long file of 50 MB stays under (about 7 cells per line of 70 bytes or more).
MAX_COLUMNS = 500
CELL_BYTES = 10


@dataclass
class IngestOptions:
    """How to read a file: an encoding to force, defaults for missing source and confidence, the limits
    (size, columns, cells, the latest year and publication date), the year of a published table."""

    encoding: str | None = None
    source: str | None = None
    confidence: str | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    year: int | None = None  # the year of a table as published, when its title gives none (``published``)
    # Observations are of years that have begun: a year after the present one is an error.
    year_range: tuple[int, int] = field(default_factory=lambda: (YEAR_MIN, date.today().year))
    # A publication date after this is an error; a day beyond today, for the time zones east of the server.
    latest_date: date = field(default_factory=lambda: date.today() + timedelta(days=1))
    max_columns: int = MAX_COLUMNS
    max_cells: int | None = None  # None: one per CELL_BYTES of max_bytes (see ``table.check_work``)

    def cell_limit(self) -> int:
        return self.max_cells if self.max_cells is not None else max(self.max_bytes // CELL_BYTES, 1)


class Field(NamedTuple):
    """A column a file may have: its name in the report's messages, and the headers people give it."""

    name: Text
    aliases: list[str]


# Column header -> field. Matched after folding width, case, spaces, underscores and hyphens.
# fmt: off
FIELDS: dict[str, Field] = {
    "indicator": Field(Text("指标", "indicator"), [
        "指标", "指标代码", "指标编码", "指标编号", "指标项", "indicator", "indicator code", "indicator id",
        "series", "series code"]),
    "indicator_name": Field(Text("指标名称", "indicator name"), ["指标名称", "指标名", "indicator name", "series name"]),
    "region": Field(Text("地区", "region"), [
        "地区", "城市", "区域", "国家", "国家或地区", "国家/地区", "地区/城市", "region", "city", "country",
        "area", "economy", "location"]),
    "region_code": Field(Text("地区代码", "region code"), [
        "地区代码", "地区编码", "区划代码", "行政区划代码", "城市代码", "国家代码", "region code",
        "region id", "city code", "country code", "iso3", "iso code"]),
    "region_name": Field(Text("地区名称", "region name"), [
        "地区名称", "城市名称", "国家名称", "region name", "city name", "country name"]),
    "region_name_zh": Field(Text("地区中文名称", "region name in Chinese"), [
        "地区中文名称", "地区中文名", "中文名称", "中文名", "region name zh", "name zh"]),
    "region_name_en": Field(Text("地区英文名称", "region name in English"), [
        "地区英文名称", "地区英文名", "英文名称", "英文名", "region name en", "name en", "english name"]),
    "region_kind": Field(Text("地区类型", "region kind"), ["地区类型", "地区类别", "region kind", "region type"]),
    "year": Field(Text("年份", "year"), [
        "年份", "年度", "年", "统计年度", "数据年份", "时间", "year", "period", "time", "yr"]),
    "value": Field(Text("数值", "value"), [
        "数值", "值", "数据", "指标值", "统计值", "数量", "排名", "名次", "位次", "value", "obs value",
        "observation", "amount", "rank", "data"]),
    "unit": Field(Text("单位", "unit"), ["单位", "计量单位", "unit", "units", "unit of measure"]),
    "source": Field(Text("来源", "source"), [
        "来源", "数据来源", "资料来源", "出处", "source", "data source", "sources"]),
    "confidence": Field(Text("可信度", "confidence"), [
        "可信度", "置信度", "可靠性", "可靠程度", "confidence", "reliability"]),
    "note": Field(Text("备注", "note"), [
        "备注", "说明", "注释", "附注", "注", "note", "notes", "remark", "remarks", "comment"]),
    "flag": Field(Text("标记", "flag"), ["标记", "标志", "状态", "flag", "flags", "status", "obs status"]),
    "publication": Field(Text("出处文献", "publication"), [
        "出处文献", "文献", "发布文献", "出处文献编号", "文献编号", "publication", "publication id", "publication_id"]),
    "publisher": Field(Text("发布机构", "publisher"), ["发布机构", "发布单位", "publisher"]),
    "publication_title": Field(Text("文献标题", "title of publication"), [
        "文献标题", "出处标题", "title of publication", "publication title"]),
    "publication_kind": Field(Text("文献类型", "kind of publication"), [
        "文献类型", "出处类型", "kind of publication", "publication kind", "publication type"]),
    "published_on": Field(Text("发布日期", "published date"), [
        "发布日期", "公布日期", "发布时间", "发布", "published", "published on", "publication date",
        "release date", "date published"]),
}

MISSING_MARKERS = {
    "", "-", "--", "---", "—", "——", "–", "..", "...", "…", "……", "n.a.", "n.a", "na", "n/a", "nan", "null",
    "none", "#n/a", "/", "无", "暂无", "空", "不详", "缺", "缺失",
}
CONFIDENCE_WORDS = {
    "high": "high", "h": "high", "高": "high", "较高": "high",
    "medium": "medium", "med": "medium", "m": "medium", "中": "medium", "中等": "medium", "一般": "medium",
    "low": "low", "l": "low", "低": "low", "较低": "low",
}
REGION_KINDS = {
    "city": "city", "城市": "city", "市": "city",
    "province": "province", "省": "province", "省份": "province",
    "country": "country", "国家": "country",
    "metropolitan_area": "metropolitan_area", "metropolitan area": "metropolitan_area",
    "都市圈": "metropolitan_area", "城市群": "metropolitan_area",
}
PUBLICATION_KINDS = {
    "statistical_communique": "statistical_communique", "statistical communique": "statistical_communique",
    "统计公报": "statistical_communique", "公报": "statistical_communique",
    "yearbook": "yearbook", "年鉴": "yearbook", "统计年鉴": "yearbook",
    "index_report": "index_report", "index report": "index_report", "指数报告": "index_report",
    "government_release": "government_release", "government release": "government_release",
    "政府发布": "government_release", "政府文件": "government_release", "新闻发布": "government_release",
    "news_report": "news_report", "news report": "news_report", "新闻报道": "news_report", "报道": "news_report",
    "repost": "repost", "转载": "repost",
    "research_report": "research_report", "research report": "research_report", "研究报告": "research_report",
}
# fmt: on
DEFAULT_REGION_KIND = {"worldbank": "country"}  # otherwise 'city', and the report says it was assumed
# A publication an upload names by publisher and title without its kind: recorded as the kind that claims
# least about the document (the report and the record's notes say it was assumed).
DEFAULT_PUBLICATION_KIND = "repost"
# Flag codes and their names in Chinese and English (indicators.flags), as matched: folded as names are.
FLAG_WORDS = {
    normalise_name(word): code
    for code, words in FLAGS.items()
    for word in (code, words.zh, words.en)
}
FLAG_SEPARATORS = re.compile(r"[,，、;；]")

_HEADER_FOLD = re.compile(r"[\s_\-]+")
_HEADER_UNIT = re.compile(r"^(?P<base>.+?)\s*[(（\[【](?P<unit>[^()（）\[\]【】]+)[)）\]】]\s*$")
_YEAR_HEADER = re.compile(r"^(?:y|yr|fy)?(\d{4})(?:年|年度)?(?:\[yr\d{4}\])?$")


def _fold(text: str) -> str:
    return _HEADER_FOLD.sub("", normalise_name(text))


HEADER_ALIASES = {_fold(alias): name for name, spec in FIELDS.items() for alias in spec.aliases}


def kind_of(words: dict[str, str], text: str) -> str | None:
    """The kind a cell names in ``words`` (:data:`REGION_KINDS` or :data:`PUBLICATION_KINDS`), matched as
    headers are: 'Metropolitan Area', 'metropolitan_area' and '都市圈' alike."""
    folded = _fold(text)
    return next((kind for word, kind in words.items() if _fold(word) == folded), None)


def match_header(cell: str) -> tuple[str, str | int, str | None] | None:
    """('field', name, unit) or ('year', year, None) for a header cell; None if not recognised."""
    text = cell.strip().lstrip("\ufeff")
    if not text:
        return None
    year = _YEAR_HEADER.match(_fold(text))
    if year:
        return "year", int(year.group(1)), None
    if _fold(text) in HEADER_ALIASES:
        return "field", HEADER_ALIASES[_fold(text)], None
    with_unit = _HEADER_UNIT.match(text)
    if with_unit and _fold(with_unit["base"]) in HEADER_ALIASES:
        return "field", HEADER_ALIASES[_fold(with_unit["base"])], with_unit["unit"].strip()
    return None
