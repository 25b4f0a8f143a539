"""Words and number formats in Chinese and English, shared by the pages, the PNG export and the CLI.

What belongs here: interface strings (``t(key, lang)``), number formatting that follows the language
(``fmt_value``), and picking the language of catalog texts. Status labels live with the methods in
``progress``; indicator, region and unit names live in the catalog.
"""

from __future__ import annotations

import math
from typing import NamedTuple

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


class Text(NamedTuple):
    """A text in Chinese and English: the one shape bilingual words take everywhere in the code base.

    ``Text("总览", "Overview").pick("en") == "Overview"``; ``str()`` gives "zh / en" for logs and exception
    messages; ``format`` fills the same placeholders in both languages.
    """

    zh: str
    en: str

    def pick(self, lang: str | None) -> str:
        return self.en if lang == "en" else self.zh

    def format(self, **params: object) -> Text:
        return Text(self.zh.format(**params), self.en.format(**params))

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


class BilingualError(Exception):
    """The base of every error a person may read: its ``text`` says what happened in both languages.

    ``detail`` is for logs (a path, a library's own message); it is appended to ``str(error)``, not to the
    text shown on a page.
    """

    def __init__(self, text: Text, detail: str = ""):
        self.text = text
        self.detail = detail
        super().__init__(str(text) + (f" ({detail})" if detail else ""))

    @property
    def message_zh(self) -> str:
        return self.text.zh

    @property
    def message_en(self) -> str:
        return self.text.en

    def pick(self, lang: str | None) -> str:
        return self.text.pick(lang)


def pick(text: Text | tuple[str, str] | dict[str, str] | str | None, lang: str | None) -> str:
    """The text in ``lang`` of a bilingual value (a :class:`Text`, a (zh, en) pair, {"zh", "en"} or plain)."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    if isinstance(text, dict):
        return text.get("en" if lang == "en" else "zh") or text.get("zh") or text.get("en") or ""
    return text[1] if lang == "en" else text[0]


STRINGS: dict[str, Text] = {
    "app.title": Text("北京国际科技创新中心建设监测", "Beijing International S&T Innovation Center monitor"),
    "app.short": Text("创新监测", "Innovation monitor"),
    "nav.overview": Text("总览", "Overview"),
    "nav.trend": Text("趋势", "Trend"),
    "nav.gaps": Text("目标差距", "Target gaps"),
    "nav.compare": Text("对标比较", "Compare"),
    "nav.data": Text("数据", "Data"),
    "nav.methodology": Text("方法说明", "Methodology"),
    "nav.upload": Text("上传数据", "Upload"),
    "nav.briefing": Text("简报导出", "Briefing"),
    "nav.batches": Text("批次记录", "Batches"),
    "lang.switch": Text("English", "中文"),
    "common.indicator": Text("指标", "Indicator"),
    "common.region": Text("地区", "Region"),
    "common.regions": Text("地区", "Regions"),
    "common.year": Text("年份", "Year"),
    "common.years": Text("年份范围", "Years"),
    "common.value": Text("数值", "Value"),
    "common.unit": Text("单位", "Unit"),
    "common.source": Text("来源", "Source"),
    "common.confidence": Text("可信度", "Confidence"),
    "common.batch": Text("批次", "Batch"),
    "common.note": Text("备注", "Note"),
    "common.published": Text("发布日期", "Published"),
    "common.status": Text("状态", "Status"),
    "common.pillar": Text("领域", "Pillar"),
    "common.all": Text("全部", "All"),
    "common.target": Text("目标", "Target"),
    "common.latest": Text("最新值", "Latest"),
    "common.gap": Text("差距", "Gap"),
    "common.milestone": Text("目标年份", "Milestone"),
    "common.baseline": Text("基期", "Baseline"),
    "common.none": Text("无", "none"),
    "common.projection": Text("按当前速度预测", "Projection at current pace"),
    "common.required_path": Text("达标所需路径", "Required path"),
    "common.earlier_vintage": Text("早期发布值", "Earlier vintage"),
    "common.show_vintages": Text("显示修订前的早期发布值", "Show earlier vintages (before revision)"),
    "common.edition_break": Text("榜单口径变化", "Edition break"),
    "common.rank": Text("排名", "Rank"),
    "common.download_csv": Text("下载CSV", "Download CSV"),
    "common.download_xlsx": Text("下载Excel", "Download Excel"),
    "common.rows": Text("行", "rows"),
    "confidence.high": Text("高", "high"),
    "confidence.medium": Text("中", "medium"),
    "confidence.low": Text("低", "low"),
    "empty.no_data": Text("该地区暂无此指标数据。可在“上传数据”页面导入。",
                      "No data for this indicator and region yet. Upload it on the Upload page."),
    "empty.no_rows": Text("没有符合筛选条件的数据。", "No rows match the filters."),
    "overview.title": Text("规划目标总览", "The plan at a glance"),
    "overview.subtitle": Text("按领域列出各指标的最新值、2025年目标、差距与状态;点击卡片查看趋势。",
                          "Latest value, 2025 target, gap and status of every indicator by pillar; click a card for its trend."),
    "overview.freshness": Text("数据更新", "Data freshness"),
    "overview.latest_batch": Text("最近一次导入", "Last load"),
    "overview.stale": Text("数据可能过期", "possibly stale"),
    "overview.overdue": Text("逾期未到的数据 {n} 项(按发布单位):", "{n} data releases overdue, by owner:"),
    "overview.no_target": Text("无量化目标", "no quantified target"),
    "overview.counts": Text("各领域状态统计", "Status counts by pillar"),
    "overview.demo_note": Text("所有数值均来自公开出版物,鼠标悬停可查看出处文献、标记与可信度;⚠ 表示状态依据较弱(暂定)。",
                           "Every value comes from a public publication; hover for its publication, flags and confidence. "
                           "⚠ marks a status that rests on a weak basis (tentative)."),
    "trend.title": Text("指标趋势", "Indicator trend"),
    "trend.why": Text("状态依据", "Why this status"),
    "trend.sources": Text("数据点来源", "Source of every point"),
    "gaps.title": Text("目标差距", "Gap to target"),
    "gaps.progress": Text("完成进度(基期到目标的距离中已完成的比例)", "Progress (share of the distance from baseline to target covered)"),
    "gaps.pace": Text("实际速度与所需速度", "Actual versus required pace"),
    "gaps.actual": Text("实际年均变化", "Actual annual change"),
    "gaps.required": Text("所需年均变化", "Required annual change"),
    "gaps.ratio": Text("实际/所需(R)", "Actual / required (R)"),
    # what a status rests on (indicators/progress/caveats.py has the full sentences)
    "common.caveats": Text("提示", "Caveats"),
    "common.flags": Text("标记", "Flags"),
    "common.publication": Text("出处文献", "Publication"),
    "common.publisher": Text("发布机构", "Publisher"),
    "common.tentative": Text("暂定", "tentative"),
    "legend.title": Text("状态图例(点击展开)", "Status legend (tap to open)"),
    "legend.tentative": Text("状态依据较弱(可信度低、仅一个数据点或跨序列断点),仅供参考",
                             "the status rests on a weak basis (low confidence, one value, or across a series break)"),
    "common.gap_bridge": Text("虚线:其间年份无数据", "dotted: no data in between"),
    "common.tolerance": Text("容差", "tolerance"),
    "caveat.short.low_confidence": Text("可信度低", "low confidence"),
    "caveat.short.single_point": Text("仅一个数据点", "a single value"),
    "caveat.short.crosses_break": Text("跨序列断点", "across a series break"),
    "caveat.short.provisional": Text("初步数", "provisional"),
    "caveat.short.estimated": Text("估计数", "estimated"),
    "caveat.short.definition_differs": Text("口径不同", "definition differs"),
    "caveat.short.partial_period": Text("部分年份", "part of the period"),
    "caveat.short.stale": Text("数据较旧", "old data"),
    "guard.partial_period": Text("初步", "provisional"),
    "guard.partial_period.why": Text("目标为多年平均,目前只有部分年份的数据", "The target is a multi-year average and only part of the period has data"),
    "guard.one_point": Text("仅一个数据点", "one value only"),
    "guard.one_point.why": Text("只有一个数值,无法计算变化速度", "A single value: no pace can be computed"),
    "compare.title": Text("对标比较", "Compare"),
    "compare.bump": Text("排名变化", "Rank over time"),
    "compare.latest": Text("最新年份对比", "Latest year"),
    "nav.group.cycle": Text("监测周期", "Monitoring"),
    "nav.group.manage": Text("数据管理", "Data management"),
    "compare.all_regions": Text("全部有数据的地区(可选择以缩小范围)", "Every region with data (choose some to narrow)"),
    "compare.parts": Text("{region}的园区和各区", "{region}'s zones and districts"),
    "compare.share": Text("占全市比重", "Share of the whole"),
    "data.title": Text("数据明细", "Data"),
    "data.history": Text("显示全部版本(含被修订和已撤销的值)", "Show every version (incl. revised and retracted values)"),
    "method.title": Text("方法说明", "Methodology"),
    "export.png_slide": Text("下载PNG(幻灯片16:9)", "PNG (slide 16:9)"),
    "export.png_page": Text("下载PNG(文档页)", "PNG (document page)"),
    "export.svg": Text("下载SVG", "SVG"),
    "export.csv_view": Text("下载CSV(当前视图)", "CSV (this view)"),
    "export.csv_series": Text("下载CSV(完整序列)", "CSV (full series)"),
    "export.cite": Text("引用本图", "Cite this chart"),
    "export.hint": Text("按简报模板在服务器端生成(标题、结论、来源、日期)。", "Rendered on the server in the briefing template (title, finding, sources, dates)."),
    "brief.title": Text("简报导出", "Briefing pack"),
    "brief.subtitle": Text("选择领域、指标和语言,生成包含各指标图表(PNG)、总览记分卡、状态表(CSV)和索引的压缩包。",
                       "Choose pillar, indicators and language to build a zip with a PNG per indicator, the scorecard, the status table (CSV) and an index."),
    "brief.build": Text("生成简报包", "Build the pack"),
    "brief.size": Text("图片尺寸", "Image size"),
    "brief.size_slide": Text("幻灯片 16:9", "Slide 16:9"),
    "brief.size_page": Text("文档页", "Document page"),
    "brief.language": Text("简报语言", "Language of the pack"),
    "brief.building": Text("正在生成", "Building"),
    "brief.ready": Text("简报包已生成:", "The pack is ready:"),
    "brief.download": Text("下载简报包", "Download the pack"),
    "brief.failed": Text("生成失败", "Failed"),
    "brief.peers": Text("同时绘制的对比地区", "Regions drawn beside the home region"),
    "report.title": Text("工作报告", "Work report"),
    "report.subtitle": Text("生成一期工作报告:Word 文档(总体情况、目标进展记分卡、分领域图表与结论、数据来源)或 PowerPoint 演示文稿,"
                            "并记录所用的数据版本。",
                            "Build a period's work report: a Word document (overview, scorecard of the targets, charts "
                            "and findings by pillar, sources) or a PowerPoint deck, recording the data version it uses."),
    "report.period": Text("报告期(季度)", "Period (quarter)"),
    "report.language": Text("报告语言", "Language of the report"),
    "report.format": Text("格式", "Format"),
    "report.build": Text("生成报告", "Build the report"),
    "report.ready": Text("报告已生成:", "The report is ready:"),
    "report.download": Text("下载报告", "Download the report"),
    "report.bad_period": Text("报告期“{period}”无效,请按“2026Q4”的格式填写。",
                              "“{period}” is not a period: write a year and a quarter, such as 2026Q4."),
    "auth.sign_in": Text("登录", "Sign in"),
    "auth.sign_out": Text("退出", "Sign out"),
    "auth.role.viewer": Text("查看", "viewer"),
    "auth.role.editor": Text("编辑", "editor"),
    "auth.role.admin": Text("管理员", "admin"),
    "auth.need_editor": Text("上传、提交和撤销需要以编辑身份登录。", "Uploading, committing and reverting need an editor to sign in."),
    "upload.title": Text('上传统计数据', 'Upload statistics'),
    "upload.subtitle": Text('支持长表、宽表和世界银行下载格式;UTF-8或GB18030编码;逗号、制表符或分号分隔。先预览,确认无误后再提交。', 'Long, wide and World Bank download layouts; UTF-8 or GB18030; comma, tab or semicolon. Preview first, then commit.'),
    "upload.drop": Text('拖放CSV文件到此处,或点击选择文件', 'Drop a CSV file here, or click to choose one'),
    "upload.limit": Text('文件大小上限:{mb} MB', 'Size limit: {mb} MB'),
    "upload.encoding": Text('编码', 'Encoding'),
    "upload.auto": Text('自动检测', 'Detect'),
    "upload.source": Text('默认来源(文件无来源列时使用)', 'Default source (when the file has no source column)'),
    "upload.confidence": Text('默认可信度', 'Default confidence'),
    "upload.detected": Text('识别结果', 'Detected'),
    "upload.report": Text('校验报告', 'Validation report'),
    "upload.report_download": Text('下载报告(JSON)', 'Download the report (JSON)'),
    "upload.rows": Text('解析结果(按系统理解)', 'Rows as understood'),
    "upload.diff": Text('与数据库的差异', 'Difference from the database'),
    "upload.new": Text('新增', 'new'),
    "upload.revised": Text('修订', 'revised'),
    "upload.unchanged": Text('不变', 'unchanged'),
    "upload.note": Text('备注(可选)', 'Note (optional)'),
    "upload.skip_invalid": Text('只导入有效行(跳过有错误的行)', 'Load valid rows only (skip rows with errors)'),
    "upload.commit": Text('提交入库', 'Commit'),
    "upload.committed": Text('已导入为批次 {batch}:新增 {new},修订 {revised},不变 {unchanged}。', 'Loaded as batch {batch}: {new} new, {revised} revised, {unchanged} unchanged.'),
    "upload.already": Text('该文件已导入(批次 {batch}),未重复导入。', 'This file was loaded before (batch {batch}); nothing was loaded again.'),
    "upload.see_trend": Text('查看趋势:', 'See the trend:'),
    "upload.history": Text('批次记录', 'Batch history'),
    "upload.no_errors": Text('未发现问题。', 'No problems found.'),
    "batches.title": Text('批次记录', 'Batch history'),
    "batches.subtitle": Text('每次导入和撤销都记录为一个批次。选择一个批次查看其数值;编辑人员可撤销批次。', 'Every load and revert is a batch. Choose one to see its values; editors can revert it.'),
    "batches.choose": Text('选择批次', 'Choose a batch'),
    "batches.values": Text('该批次带来的数值', 'Values this batch brought'),
    "batches.revert": Text('撤销该批次', 'Revert this batch'),
    "batches.confirm": Text('确定撤销批次 {batch}?其数值将被移除,被它替换的原值将恢复。此操作本身也会记录为一个批次。', 'Revert batch {batch}? Its values are removed and the values it replaced come back. The revert is recorded as a batch.'),
    "batches.reverted": Text('已撤销批次 {batch}(撤销记录为批次 {revert}),恢复 {restored} 个原值。', 'Batch {batch} reverted (recorded as batch {revert}); {restored} earlier values restored.'),
    "upload.old": Text("原值", "old value"),
    "upload.new_value": Text("新值", "new value"),
    "upload.row": Text("行", "line"),
    "upload.raw": Text("原文", "as written"),
    "upload.severity": Text("级别", "severity"),
    "upload.column": Text("列", "column"),
    "upload.code": Text("代码", "code"),
    "upload.message": Text("说明", "message"),
    "footer.source": Text("来源", "Source"),
    "footer.data_as_of": Text("数据截至", "Data as of"),
    "footer.exported": Text("导出于", "Exported"),
    # the indicator metadata page (dashboards/metadata.py) and its data (indicators/metadata.py)
    "meta.title": Text("指标元数据", "Indicator metadata"),
    "meta.index_title": Text("指标元数据索引", "Indicator metadata"),
    "meta.index_subtitle": Text("每个指标的定义、单位、测算方法、发布机构、序列断点、规划目标,以及其数值所依据的出版物。",
                                "Each indicator's definition, unit, measurement, publisher, series breaks and targets, "
                                "and the publications its values come from."),
    "meta.link": Text("元数据", "Metadata"),
    "meta.link_title": Text("定义、来源与处理说明", "Definition, sources and processing"),
    "meta.links": Text("指标元数据:", "Indicator metadata:"),
    "meta.unknown": Text("没有代码为“{code}”的指标。请从下列指标中选择。",
                         "There is no indicator with the code '{code}'. Choose one from the list below."),
    "meta.all": Text("全部指标", "All indicators"),
    "meta.see_trend": Text("查看趋势", "See the trend"),
    "meta.see_data": Text("查看数据", "See the data"),
    "meta.code": Text("代码", "Code"),
    "meta.about": Text("指标说明", "About this indicator"),
    "meta.definition": Text("定义", "Definition"),
    "meta.measurement": Text("测算与数据来源", "Measurement"),
    "meta.publisher": Text("发布机构", "Publisher"),
    "meta.release": Text("发布周期", "Release"),
    "meta.not_recorded": Text("未记录", "not recorded"),
    "meta.aliases": Text("别名", "Also called"),
    "meta.external_codes": Text("外部代码", "External codes"),
    "meta.frequency": Text("频率", "Frequency"),
    "meta.model": Text("类型与计算", "Type and computation"),
    "meta.kind": Text("指标类型", "Kind"),
    "meta.direction": Text("方向", "Direction"),
    "meta.growth": Text("增速计算", "Growth model"),
    "meta.kind.level": Text("水平值", "level"),
    "meta.kind.share": Text("比重", "share"),
    "meta.kind.growth_rate": Text("增长率", "growth rate"),
    "meta.kind.count": Text("数量", "count"),
    "meta.kind.rank": Text("排名", "rank"),
    "meta.kind.qualitative": Text("定性目标", "qualitative"),
    "meta.direction.higher": Text("越高越好", "higher is better"),
    "meta.direction.lower": Text("越低越好", "lower is better"),
    "meta.direction.band": Text("保持在区间内", "within a band"),
    "meta.growth.compound": Text("复合增长(年均增长率)", "compound (annual growth rate)"),
    "meta.growth.linear": Text("线性(每年变化量)", "linear (change per year)"),
    "meta.frequency.annual": Text("年度", "annual"),
    "meta.frequency.quarterly": Text("季度", "quarterly"),
    "meta.frequency.monthly": Text("月度", "monthly"),
    "meta.frequency.once": Text("一次性", "once"),
    "meta.sponsorship": Text("资助与委托说明", "Sponsorship disclosure"),
    "meta.breaks": Text("序列断点", "Series breaks"),
    "meta.breaks_none": Text("未记录序列断点。", "No series break recorded."),
    "meta.break_kind": Text("类型", "Kind"),
    "meta.break_kind.gdp_census_revision": Text("经济普查后GDP修订", "GDP revised after an economic census"),
    "meta.break_kind.change_of_scope": Text("统计范围变化", "change of scope"),
    "meta.break_kind.method_change": Text("方法变化", "change of method"),
    "meta.break_kind.field_change": Text("参评范围变化", "change of field"),
    "meta.break_kind.definition_change": Text("定义变化", "change of definition"),
    "meta.comparable": Text("前后可比,需注意", "comparable, with a caveat"),
    "meta.not_comparable": Text("前后不可比,不跨断点计算速度", "not comparable: no pace across it"),
    "meta.editions": Text("榜单各期", "Ranking editions"),
    "meta.field": Text("参评数量", "Field"),
    "meta.targets": Text("规划目标", "Targets"),
    "meta.targets_none": Text("该指标没有规划目标,仅作背景参考。", "No plan target: a context indicator."),
    "meta.plan": Text("规划", "Plan"),
    "meta.also_in": Text("另见", "Also in"),
    "meta.wording": Text("目标表述", "Wording"),
    "meta.milestones": Text("目标值", "Milestones"),
    "meta.quote": Text("规划原文", "Quote"),
    "meta.publications": Text("数值所依据的出版物", "Publications behind the values"),
    "meta.publications_note": Text("每行一个出版物:发布机构、标题、发布日期(及日期如何得知)、它提供的年份和地区、官方网址,以及实际阅读的镜像或转载页面。",
                                   "One row per publication: its publisher, title, date (and how the date is known), "
                                   "the years and regions it supplies, its official address and the mirror or repost "
                                   "pages where it was read."),
    "meta.publication": Text("出版物", "Publication"),
    "meta.date": Text("发布日期", "Date"),
    "meta.supplies": Text("提供的数值", "Supplies"),
    "meta.official": Text("官方网址", "Official address"),
    "meta.read_at": Text("阅读页面", "Read at"),
    "meta.addresses": Text("网址", "Addresses"),
    "meta.cited_as": Text("数值来源记录", "As cited"),
    "meta.values": Text("{n}个数值", "{n} values"),
    "meta.value_one": Text("1个数值", "1 value"),
    "meta.no_publication": Text("未记录出版物", "no publication recorded"),
    "meta.no_values": Text("该指标暂无数值。", "No values for this indicator yet."),
    "meta.basis.stated": Text("出版物载明", "stated in it"),
    "meta.basis.from_address": Text("据网址中的日期", "from its address"),
    "meta.basis.repost_bound": Text("以最早转载或引用日期为界", "bound by the earliest repost or citation"),
    "meta.basis.unknown": Text("无法确定", "not known"),
    "meta.pubkind.statistical_communique": Text("统计公报", "statistical communiqué"),
    "meta.pubkind.yearbook": Text("统计年鉴", "yearbook"),
    "meta.pubkind.index_report": Text("指数报告", "index report"),
    "meta.pubkind.government_release": Text("政府发布", "government release"),
    "meta.pubkind.news_report": Text("新闻报道", "news report"),
    "meta.pubkind.repost": Text("转载", "repost"),
    "meta.pubkind.research_report": Text("研究报告", "research report"),
    # texts Dash's own controls write (dcc.Dropdown's labels, DataTable's filter row): dashboards/_common.py
    "dropdown.select_all": Text("全选", "Select all"),
    "dropdown.deselect_all": Text("全部取消", "Deselect all"),
    "dropdown.selected_count": Text("已选 {num_selected} 项", "{num_selected} selected"),
    "dropdown.search": Text("搜索", "Search"),
    "dropdown.clear_search": Text("清除搜索", "Clear search"),
    "dropdown.clear_selection": Text("清除选择", "Clear selection"),
    "dropdown.no_options_found": Text("没有匹配的选项", "No options found"),
    # the batch history (dashboards/batches.py): its headers and the words for a batch's kind and state
    "batches.kind": Text("类型", "Kind"),
    "batches.file": Text("文件", "File"),
    "batches.created_at": Text("时间(UTC)", "Time (UTC)"),
    "batches.user": Text("操作人", "By"),
    "batches.n_new": Text("新增", "New"),
    "batches.n_revised": Text("修订", "Revised"),
    "batches.n_unchanged": Text("不变", "Unchanged"),
    "batches.n_skipped": Text("跳过", "Skipped"),
    "batches.n_rejected": Text("有错误", "With errors"),
    "batches.kind.seed": Text("内置数据", "shipped data"),
    "batches.kind.upload": Text("上传", "upload"),
    "batches.kind.revert": Text("撤销", "revert"),
    "batches.kind.revert_of": Text("撤销(批次 {batch})", "revert of batch {batch}"),
    "batches.in_force": Text("有效", "in force"),
    "batches.reverted_by": Text("已撤销(由批次 {batch})", "reverted (by batch {batch})"),
    "batches.system_user": Text("系统", "system"),
    "batches.state.current": Text("现行值", "current"),
    "batches.state.superseded": Text("已被修订", "superseded"),
    "batches.state.retracted": Text("已撤销", "retracted"),
    # the data page (dashboards/data.py)
    "data.count": Text("{n} 行", "{n} rows"),
    # phones
    "phone.tap_hint": Text("点按或点击图中的点,在此查看它的数值与来源。", "Tap or click a point to see its value and source here."),
    # the plan's monitoring pages (issue 15): tasks, release calendar, changes (dashboards/tasks.py,
    # dashboards/calendar.py, dashboards/changes.py)
    "nav.tasks": Text("任务进展", "Tasks"),
    "nav.calendar": Text("发布日历", "Calendar"),
    "nav.changes": Text("近期变化", "Changes"),
    "tasks.title": Text("规划任务进展", "Plan tasks"),
    "tasks.subtitle": Text("规划各项任务的牵头单位、时间节点与最新状态;滞后和存在风险的任务排在最前。",
                           "Each task of the plan with its lead, milestones and latest status; delayed and "
                           "at-risk tasks first."),
    "tasks.agency": Text("牵头或参与单位", "Lead or partner agency"),
    "tasks.no_lead": Text("未载明牵头单位", "no lead named"),
    "tasks.task": Text("任务", "Task"),
    "tasks.lead": Text("牵头 / 参与", "Lead / partners"),
    "tasks.partners": Text("参与", "Partners"),
    "tasks.due": Text("时间节点", "Milestones"),
    "tasks.no_milestone": Text("规划未载明时间节点", "no dated milestone in the plan"),
    "tasks.latest": Text("最新说明", "Latest note"),
    "tasks.no_status": Text("尚无编辑填报状态", "no status reported yet"),
    "tasks.evidence": Text("证据", "evidence"),
    "tasks.evidence_indicators": Text("证据指标", "Evidence indicators"),
    "tasks.trend": Text("趋势", "trend"),
    "tasks.count": Text("共 {n} 项任务", "{n} tasks"),
    "tasks.summary": Text("{label} {n} 项", "{label}: {n}"),
    "tasks.history": Text("状态记录({n} 条)", "Status history ({n})"),
    "tasks.history_empty": Text("尚无状态记录。", "No status recorded yet."),
    "tasks.retracted": Text("已撤销", "reverted"),
    "tasks.by": Text("填报人", "By"),
    "tasks.set_status": Text("设置状态", "Set status"),
    "tasks.date": Text("日期", "Date"),
    "tasks.note": Text("说明", "Note"),
    "tasks.evidence_link": Text("证据链接(网址或出版物编号)", "Evidence link (address or publication id)"),
    "tasks.save": Text("保存状态", "Save status"),
    "tasks.saved": Text("任务 {task} 的状态已设为“{status}”(批次 {batch})。可在“批次记录”页撤销。",
                        "Task {task} set to '{status}' (batch {batch}). It can be reverted on the Batches page."),
    "tasks.refused": Text("未保存,请修改后重试:", "Not saved; correct these and try again:"),
    "tasks.need_editor": Text("设置任务状态需要以编辑身份登录。", "Setting a task's status needs an editor to sign in."),
    "tasks.not_yours": Text("本账号({agency})不能设置任务 {task} 的状态:该任务不由本机构牵头或参与。",
                            "This account ({agency}) may not set the status of task {task}: its agency neither "
                            "leads nor shares it."),
    "tasks.no_task": Text("没有这项任务。", "There is no such task."),
    "calendar.title": Text("数据发布日历", "Release calendar"),
    "calendar.subtitle": Text("各发布机构应提供的数据:已逾期的和即将发布的,按 {today} 计算。",
                              "What each owner is due to publish: overdue and upcoming data, as of {today}."),
    "calendar.owner": Text("发布机构", "Owner"),
    "calendar.no_owner": Text("未指定发布机构", "no owner named"),
    "calendar.latest_year": Text("已有最新年份", "Latest year held"),
    "calendar.next": Text("下一期", "Next"),
    "calendar.next_release": Text("预计发布", "Expected by"),
    "calendar.rule": Text("发布规律", "Release rule"),
    "calendar.state": Text("状态", "State"),
    "calendar.overdue_days": Text("逾期 {days} 天", "overdue {days} days"),
    "calendar.overdue_years": Text("缺 {n} 个年度", "{n} years missing"),
    "calendar.upcoming": Text("待发布", "upcoming"),
    "calendar.no_rule": Text("无固定发布", "no regular release"),
    "calendar.counts": Text("逾期 {overdue} 项 · 待发布 {upcoming} 项", "{overdue} overdue · {upcoming} upcoming"),
    "calendar.year_of": Text("{year} 年度", "year {year}"),
    "changes.title": Text("近期变化", "Changes since a date"),
    "changes.subtitle": Text("两个日期之间新增、修订或撤回的数值,以及目标状态、排名和任务状态的变化(原 → 新)。",
                             "Values that arrived, were revised or retracted between two dates, and the target "
                             "statuses, ranks and task statuses that changed (old → new)."),
    "changes.from": Text("起始日期(当日结束时)", "From (end of day)"),
    "changes.to": Text("截止日期(当日结束时)", "To (end of day)"),
    "changes.swapped": Text("起始日期晚于截止日期,已对调。", "The start date was after the end date; they were swapped."),
    "changes.none": Text("这段时间内没有变化。", "Nothing changed in this period."),
    "changes.count": Text("{n} 项", "{n}"),
    "changes.change": Text("变化", "Change"),
    "changes.move": Text("原 → 新", "Old → new"),
    "changes.places": Text("名次变化", "Places"),
    "changes.last_30": Text("近30天", "Last 30 days"),
    "changes.last_90": Text("近90天", "Last 90 days"),
    "changes.last_365": Text("近一年", "Last year"),
    "changes.last_batch": Text("最近一批数据以来", "Since the last batch"),
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


def rate_unit_words(unit: object, lang: str) -> str:
    """A rate's unit as words: "%/yr" as "%/年", "pp/yr" as "百分点/年" ("percentage points a year")."""
    text = "" if unit is None or (isinstance(unit, float) and math.isnan(unit)) else str(unit)
    if lang == "zh":
        return text.replace("pp/yr", "百分点/年").replace("%/yr", "%/年").replace("/yr", "/年")
    return text.replace("pp/yr", "percentage points a year").replace("%/yr", "% a year").replace("/yr", " a year")
