"""Words and number formats in Chinese and English, shared by the pages, the PNG export and the CLI.

What belongs here: interface strings (``t(key, lang)``), number formatting that follows the language
(``fmt_value``), and picking the language of catalog texts. Status labels live with the methods in
``progress``; indicator, region and unit names live in the catalog.
"""

from __future__ import annotations

import math

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

STRINGS: dict[str, tuple[str, str]] = {
    "app.title": ("北京国际科技创新中心建设监测", "Beijing International S&T Innovation Center monitor"),
    "app.short": ("创新监测", "Innovation monitor"),
    "nav.overview": ("总览", "Overview"),
    "nav.trend": ("趋势", "Trend"),
    "nav.gaps": ("目标差距", "Target gaps"),
    "nav.compare": ("对标比较", "Compare"),
    "nav.data": ("数据", "Data"),
    "nav.methodology": ("方法说明", "Methodology"),
    "nav.upload": ("上传数据", "Upload"),
    "nav.briefing": ("简报导出", "Briefing"),
    "nav.batches": ("批次记录", "Batches"),
    "lang.switch": ("English", "中文"),
    "common.indicator": ("指标", "Indicator"),
    "common.region": ("地区", "Region"),
    "common.regions": ("地区", "Regions"),
    "common.year": ("年份", "Year"),
    "common.years": ("年份范围", "Years"),
    "common.value": ("数值", "Value"),
    "common.unit": ("单位", "Unit"),
    "common.source": ("来源", "Source"),
    "common.confidence": ("可信度", "Confidence"),
    "common.batch": ("批次", "Batch"),
    "common.note": ("备注", "Note"),
    "common.published": ("发布日期", "Published"),
    "common.status": ("状态", "Status"),
    "common.pillar": ("领域", "Pillar"),
    "common.all": ("全部", "All"),
    "common.target": ("目标", "Target"),
    "common.latest": ("最新值", "Latest"),
    "common.gap": ("差距", "Gap"),
    "common.milestone": ("目标年份", "Milestone"),
    "common.baseline": ("基期", "Baseline"),
    "common.none": ("无", "none"),
    "common.projection": ("按当前速度预测", "Projection at current pace"),
    "common.required_path": ("达标所需路径", "Required path"),
    "common.earlier_vintage": ("早期发布值", "Earlier vintage"),
    "common.show_vintages": ("显示修订前的早期发布值", "Show earlier vintages (before revision)"),
    "common.edition_break": ("榜单口径变化", "Edition break"),
    "common.rank": ("排名", "Rank"),
    "common.download_csv": ("下载CSV", "Download CSV"),
    "common.download_xlsx": ("下载Excel", "Download Excel"),
    "common.rows": ("行", "rows"),
    "confidence.high": ("高", "high"),
    "confidence.medium": ("中", "medium"),
    "confidence.low": ("低", "low"),
    "empty.no_data": ("该地区暂无此指标数据。可在“上传数据”页面导入。",
                      "No data for this indicator and region yet. Upload it on the Upload page."),
    "empty.no_rows": ("没有符合筛选条件的数据。", "No rows match the filters."),
    "overview.title": ("规划目标总览", "The plan at a glance"),
    "overview.subtitle": ("按领域列出各指标的最新值、2025年目标、差距与状态;点击卡片查看趋势。",
                          "Latest value, 2025 target, gap and status of every indicator by pillar; click a card for its trend."),
    "overview.freshness": ("数据更新", "Data freshness"),
    "overview.latest_batch": ("最近一次导入", "Last load"),
    "overview.stale": ("数据可能过期", "possibly stale"),
    "overview.no_target": ("无量化目标", "no quantified target"),
    "overview.counts": ("各领域状态统计", "Status counts by pillar"),
    "overview.demo_note": ("所有数值均来自公开来源,鼠标悬停可查看来源与可信度。",
                           "Every value comes from a public source; hover for source and confidence."),
    "trend.title": ("指标趋势", "Indicator trend"),
    "trend.why": ("状态依据", "Why this status"),
    "trend.sources": ("数据点来源", "Source of every point"),
    "gaps.title": ("目标差距", "Gap to target"),
    "gaps.progress": ("完成进度(基期到目标的距离中已完成的比例)", "Progress (share of the distance from baseline to target covered)"),
    "gaps.pace": ("实际速度与所需速度", "Actual versus required pace"),
    "gaps.actual": ("实际年均变化", "Actual annual change"),
    "gaps.required": ("所需年均变化", "Required annual change"),
    "gaps.ratio": ("实际/所需(R)", "Actual / required (R)"),
    "guard.partial_period": ("初步", "provisional"),
    "guard.partial_period.why": ("目标为多年平均,目前只有部分年份的数据", "The target is a multi-year average and only part of the period has data"),
    "guard.one_point": ("仅一个数据点", "one value only"),
    "guard.one_point.why": ("只有一个数值,无法计算变化速度", "A single value: no pace can be computed"),
    "compare.title": ("对标比较", "Compare"),
    "compare.bump": ("排名变化", "Rank over time"),
    "compare.latest": ("最新年份对比", "Latest year"),
    "data.title": ("数据明细", "Data"),
    "data.history": ("显示全部版本(含被修订和已撤销的值)", "Show every version (incl. revised and retracted values)"),
    "method.title": ("方法说明", "Methodology"),
    "export.png_slide": ("下载PNG(幻灯片16:9)", "PNG (slide 16:9)"),
    "export.png_page": ("下载PNG(文档页)", "PNG (document page)"),
    "export.svg": ("下载SVG", "SVG"),
    "export.hint": ("按简报模板在服务器端生成(标题、结论、来源、日期)。", "Rendered on the server in the briefing template (title, finding, sources, dates)."),
    "brief.title": ("简报导出", "Briefing pack"),
    "brief.subtitle": ("选择领域、指标和语言,生成包含各指标图表(PNG)、总览记分卡、状态表(CSV)和索引的压缩包。",
                       "Choose pillar, indicators and language to build a zip with a PNG per indicator, the scorecard, the status table (CSV) and an index."),
    "brief.build": ("生成简报包", "Build the pack"),
    "brief.size": ("图片尺寸", "Image size"),
    "brief.size_slide": ("幻灯片 16:9", "Slide 16:9"),
    "brief.size_page": ("文档页", "Document page"),
    "brief.language": ("简报语言", "Language of the pack"),
    "brief.building": ("正在生成", "Building"),
    "brief.ready": ("简报包已生成:", "The pack is ready:"),
    "brief.download": ("下载简报包", "Download the pack"),
    "brief.failed": ("生成失败", "Failed"),
    "brief.peers": ("同时绘制的对比地区", "Regions drawn beside the home region"),
    "auth.sign_in": ("登录", "Sign in"),
    "auth.sign_out": ("退出", "Sign out"),
    "auth.role.viewer": ("查看", "viewer"),
    "auth.role.editor": ("编辑", "editor"),
    "auth.role.admin": ("管理员", "admin"),
    "auth.need_editor": ("上传、提交和撤销需要以编辑身份登录。", "Uploading, committing and reverting need an editor to sign in."),
    "upload.title": ('上传统计数据', 'Upload statistics'),
    "upload.subtitle": ('支持长表、宽表和世界银行下载格式;UTF-8或GB18030编码;逗号、制表符或分号分隔。先预览,确认无误后再提交。', 'Long, wide and World Bank download layouts; UTF-8 or GB18030; comma, tab or semicolon. Preview first, then commit.'),
    "upload.drop": ('拖放CSV文件到此处,或点击选择文件', 'Drop a CSV file here, or click to choose one'),
    "upload.limit": ('文件大小上限:{mb} MB', 'Size limit: {mb} MB'),
    "upload.encoding": ('编码', 'Encoding'),
    "upload.auto": ('自动检测', 'Detect'),
    "upload.source": ('默认来源(文件无来源列时使用)', 'Default source (when the file has no source column)'),
    "upload.confidence": ('默认可信度', 'Default confidence'),
    "upload.detected": ('识别结果', 'Detected'),
    "upload.layout": ('格式', 'Layout'),
    "upload.delimiter": ('分隔符', 'Delimiter'),
    "upload.values": ('数值', 'values'),
    "upload.errors": ('错误', 'errors'),
    "upload.warnings": ('警告', 'warnings'),
    "upload.report": ('校验报告', 'Validation report'),
    "upload.report_download": ('下载报告(JSON)', 'Download the report (JSON)'),
    "upload.rows": ('解析结果(按系统理解)', 'Rows as understood'),
    "upload.diff": ('与数据库的差异', 'Difference from the database'),
    "upload.new": ('新增', 'new'),
    "upload.revised": ('修订', 'revised'),
    "upload.unchanged": ('不变', 'unchanged'),
    "upload.new_regions": ('将新建的地区', 'Regions that will be created'),
    "upload.note": ('备注(可选)', 'Note (optional)'),
    "upload.skip_invalid": ('只导入有效行(跳过有错误的行)', 'Load valid rows only (skip rows with errors)'),
    "upload.commit": ('提交入库', 'Commit'),
    "upload.committed": ('已导入为批次 {batch}:新增 {new},修订 {revised},不变 {unchanged}。', 'Loaded as batch {batch}: {new} new, {revised} revised, {unchanged} unchanged.'),
    "upload.already": ('该文件已导入(批次 {batch}),未重复导入。', 'This file was loaded before (batch {batch}); nothing was loaded again.'),
    "upload.rejected": ('文件有错误,未写入任何数据。', 'The file has errors; nothing was written.'),
    "upload.see_trend": ('查看趋势:', 'See the trend:'),
    "upload.history": ('批次记录', 'Batch history'),
    "upload.no_errors": ('未发现问题。', 'No problems found.'),
    "batches.title": ('批次记录', 'Batch history'),
    "batches.subtitle": ('每次导入和撤销都记录为一个批次。选择一个批次查看其数值;编辑人员可撤销批次。', 'Every load and revert is a batch. Choose one to see its values; editors can revert it.'),
    "batches.choose": ('选择批次', 'Choose a batch'),
    "batches.values": ('该批次带来的数值', 'Values this batch brought'),
    "batches.revert": ('撤销该批次', 'Revert this batch'),
    "batches.confirm": ('确定撤销批次 {batch}?其数值将被移除,被它替换的原值将恢复。此操作本身也会记录为一个批次。', 'Revert batch {batch}? Its values are removed and the values it replaced come back. The revert is recorded as a batch.'),
    "batches.reverted": ('已撤销批次 {batch}(撤销记录为批次 {revert}),恢复 {restored} 个原值。', 'Batch {batch} reverted (recorded as batch {revert}); {restored} earlier values restored.'),
    "upload.conversions": ("单位换算:", "Unit conversions:"),
    "upload.conversion": ("{example}(共{count}个数值,首见第{row}行)", "{example} ({count} value(s), first on line {row})"),
    "upload.old": ("原值", "old value"),
    "upload.new_value": ("新值", "new value"),
    "upload.row": ("行", "line"),
    "upload.raw": ("原文", "as written"),
    "upload.severity": ("级别", "severity"),
    "upload.column": ("列", "column"),
    "upload.code": ("代码", "code"),
    "upload.message": ("说明", "message"),
    "footer.source": ("来源", "Source"),
    "footer.data_as_of": ("数据截至", "Data as of"),
    "footer.exported": ("导出于", "Exported"),
}


def t(key: str, lang: str, **params) -> str:
    """The interface string ``key`` in ``lang`` (``params`` fill its ``{placeholders}``); the key itself if it
    is missing (visible, not silent)."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**params) if params else text


def normalise_lang(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


def fmt_number(value: float | None, *, decimals: int | None = None) -> str:
    """Thousands separators, and as many decimals as the value needs (at most 2 unless asked)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if decimals is None:
        decimals = 0 if float(value).is_integer() else (1 if abs(value) >= 1000 else 2)
        text = f"{value:,.{decimals}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{value:,.{decimals}f}"


def fmt_value(value: float | None, unit_code: str, unit_name: str, lang: str) -> str:
    """A value with its unit as a reader expects it: '6.44 %', '8,536.9 亿元', '第3位' / 'No. 3'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit_code == "rank":
        return f"第{int(value)}位" if lang == "zh" else f"No. {int(value)}"
    if unit_code == "cny_100m" and lang == "en":  # '853.69 billion yuan' reads better than '8,536.9 100 million yuan'
        return f"{fmt_number(value / 10)} billion yuan"
    number = fmt_number(value)
    if unit_code in ("percent", "percent_per_year"):
        return f"{number}%" if lang == "zh" else f"{number} %"
    return f"{number} {unit_name}" if lang == "en" else f"{number}{unit_name}"


def fmt_gap(value: float | None, unit_code: str, unit_name: str, lang: str, *, signed: bool = False) -> str:
    """A difference: percentage points for shares and rates ('1.2个百分点' / '1.2 pp'), places for ranks.

    ``signed``: a positive gap (still short of the target) reads '差…' / 'short by …', a negative one (beyond
    the target) '超出…' / 'ahead by …'.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    number = fmt_number(abs(value))
    if unit_code in ("percent", "percent_per_year"):
        text = f"{number}个百分点" if lang == "zh" else f"{number} pp"
    elif unit_code == "rank":
        text = f"{number}位" if lang == "zh" else f"{number} places"
    else:
        text = fmt_value(abs(value), unit_code, unit_name, lang)
    if not signed or value == 0:
        return text
    if lang == "zh":
        return ("差" if value > 0 else "超出") + text
    return ("short by " if value > 0 else "ahead by ") + text
