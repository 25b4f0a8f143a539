"""What a work report says, whatever file it is written to: its words, tables and charts, and its provenance.

What belongs here: the report's period, the summary generated from the numbers, the scorecard of every target
(those without data included) with status and caveats, the sections by pillar and their rendered charts, the
sources, the data version it was built from, and the later sections' tables (the task register, the overdue
data by owner, the changes since the last report) made from the DataFrames their modules give. What does not:
Word or PowerPoint objects (``word``, ``slides``), reading the database, deciding statuses.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from indicators import briefing, export, progress
from indicators import tasks as tasks_module
from indicators.i18n import Text
from indicators.progress.statuses import STATUS_ORDER
from indicators.snapshot import Snapshot

FONT = "Noto Sans CJK SC"  # the East Asian (and Latin) font of every run, as the charts' FONT_FAMILY
CHART_SIZE = {"docx": "page", "pptx": "slide"}  # export.SIZES: a document page's width, a 16:9 slide
FINGERPRINT_COLUMNS = ["indicator", "region", "year", "value", "flags"]
ZH_NUMERALS = "一二三四五六七八九十"

WORDS: dict[str, Text] = {
    "report": Text("工作报告", "Work report"),
    "period": Text("报告期", "Period"),
    "data_as_of": Text("数据截至", "Data as of"),
    "built": Text("生成于", "Built"),
    "data_version": Text("数据版本", "Data version"),
    "version_value": Text("批次 {batch}(数据库共 {count} 个批次,本报告所用数值来自截至批次 {used} 的数据)",
                          "batch {batch} ({count} batches in the database; the values used come from batches up "
                          "to {used})"),
    "fingerprint": Text("数值指纹", "Fingerprint of the values"),
    "rebuild": Text("重建命令", "Rebuild with"),
    "rebuild_note": Text("以同一截至日期重建,得到相同的数值;指纹不同说明此后补录了发布日期更早的数值。",
                         "Rebuilt with the same as-of date, the report shows the same numbers; a different "
                         "fingerprint means values with an earlier publication date were loaded since."),
    "summary": Text("总体情况", "Overview"),
    "scorecard": Text("目标进展记分卡", "Scorecard of the targets"),
    "scorecard_note": Text("每项指标一行(含尚无数据的指标),按领域排列,领域内状态较差者在前。⚠ 暂定:状态依据较弱。",
                           "One row per indicator (those without data included), by pillar, worst status first "
                           "within a pillar. ⚠ tentative: the status rests on a weak basis."),
    "pillars": Text("分领域进展", "Progress by pillar"),
    "changes": Text("自上次报告以来的变化", "Changes since the last report"),
    "changes_since": Text("{since} 至 {as_of} 之间到达、修订或撤回的数值,以及状态、排名和任务状态的变化。",
                          "Values that arrived, were revised or retracted between {since} and {as_of}, and the "
                          "statuses, ranks and task statuses that changed."),
    "tasks": Text("重点任务进展", "Progress of the plan's tasks"),
    "tasks_note": Text("延误和有风险的任务在前。", "Delayed and at-risk tasks first."),
    "overdue": Text("数据报送情况", "Data expected by owner"),
    "overdue_note": Text("按数据责任单位列出应发布而尚未入库的数据。", "Data expected from each owner and not yet loaded."),
    "sources": Text("数据来源", "Sources"),
    "provenance": Text("数据版本说明", "Data version"),
    "no_data_list": Text("尚无数据:{names}。", "No data yet: {names}."),
    "caveats": Text("提示", "Caveats"),
    "source": Text("来源", "Source"),
    "page": Text("第 {page} 页", "Page {page}"),
    "contents": Text("目录", "Contents"),
}

SCORECARD_HEADERS: dict[str, Text] = {
    "pillar": Text("领域", "Pillar"), "name": Text("指标", "Indicator"), "latest": Text("最新值", "Latest"),
    "target": Text("目标", "Target"), "status": Text("状态", "Status"), "caveats": Text("提示", "Caveats"),
}

# The task register's status codes (indicators.tasks), worst first: the order the task table shows them in.
# The task statuses' words and reading order are the register's own (``indicators.tasks``).
TASK_STATUS: dict[str, Text] = {code: tasks_module.STATUS_LABELS[code] for code in tasks_module.STATUS_ORDER}
TASK_HEADERS: dict[str, Text] = {
    "task": Text("编号", "Task"), "title": Text("任务", "Title"), "pillar": Text("领域", "Pillar"),
    "lead": Text("牵头单位", "Lead"), "due": Text("完成时限", "Due"), "status": Text("状态", "Status"),
}
OVERDUE_HEADERS: dict[str, Text] = {
    "owner": Text("责任单位", "Owner"), "indicator": Text("指标", "Indicator"),
    "next_release": Text("预计发布", "Expected"), "overdue": Text("是否逾期", "Overdue"),
}
CHANGES_HEADERS: dict[str, Text] = {"what": Text("内容", "What"), "change": Text("变化(原 → 新)", "Change (old → new)")}
YES_NO = {True: Text("逾期", "overdue"), False: Text("未到期", "not yet due")}


def word(key: str, lang: str, **params: object) -> str:
    text = WORDS[key].pick(lang)
    return text.format(**params) if params else text


@dataclass(frozen=True)
class ReportSpec:
    """What a report is asked for: language, period ("2026Q4"), the as-of date of its data (None: everything
    loaded), the date of the last report (``--since``) and the file name the rebuild command names."""

    lang: str
    period: str
    as_of: date | None = None
    since: date | None = None
    file_name: str = "report.docx"


@dataclass(frozen=True)
class Extras:
    """The sections other modules supply, as DataFrames; a section is written only when its frame is given.

    - ``tasks``: task, title, pillar, lead, due, status (``indicators.tasks``);
    - ``overdue``: indicator, owner, next_release, overdue (``indicators.calendar``);
    - ``changes``: what, old, new (``indicators.changes``, between ``ReportSpec.since`` and the as-of date).
    """

    tasks: pd.DataFrame | None = None
    overdue: pd.DataFrame | None = None
    changes: pd.DataFrame | None = None


PERIOD = re.compile(r"\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*")


def parse_period(text: str | None) -> str | None:
    """"2026Q4" (also "2026q4", "2026-Q4") as "2026Q4"; None when it is not a year and a quarter."""
    found = PERIOD.fullmatch(text or "")
    return f"{found[1]}Q{found[2]}" if found else None


def period_of(day: date) -> str:
    """The quarter a day falls in, as "2026Q4"."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def period_label(period: str, lang: str) -> str:
    """"2026年第四季度" / "Q4 2026"."""
    year, quarter = period.split("Q")
    return f"{year}年第{ZH_NUMERALS[int(quarter) - 1]}季度" if lang == "zh" else f"Q{quarter} {year}"


def section_number(n: int, lang: str) -> str:
    """The number of a top-level section as a government report writes it: "一、" / "1. "."""
    if lang != "zh":
        return f"{n}. "
    return (ZH_NUMERALS[n - 1] if n <= 10 else "十" + ZH_NUMERALS[n - 11]) + "、"


def subsection_number(n: int, lang: str) -> str:
    """"(一)" / "a. " for the pillars under a section."""
    return f"({ZH_NUMERALS[n - 1]})" if lang == "zh" and n <= 10 else f"{chr(ord('a') + n - 1)}. "


@dataclass(frozen=True)
class Provenance:
    """The data a report was built from, so the same command rebuilds the same numbers."""

    data_as_of: str  # the as-of date asked for, else the day of the newest batch
    version: tuple[int, int]  # (newest batch id, number of batches) of the database when it was built
    newest_used: int  # the newest batch any value of the report comes from
    fingerprint: str  # sha256 (first 16 hex digits) of the values: indicator, region, year, value, flags
    built: datetime
    command: str  # the command line that rebuilds it

    def lines(self, lang: str) -> list[tuple[str, str]]:
        """(label, value) pairs for the report's text."""
        batch, count = self.version
        return [
            (word("data_as_of", lang), self.data_as_of),
            (word("data_version", lang), word("version_value", lang, batch=batch, count=count, used=self.newest_used)),
            (word("fingerprint", lang), self.fingerprint),
            (word("built", lang), f"{self.built:%Y-%m-%d %H:%M}"),
            (word("rebuild", lang), self.command),
        ]

    def properties(self) -> dict[str, str]:
        """What the file's core properties hold: ``version`` and ``identifier`` and a one-line ``comments``."""
        batch, count = self.version
        return {
            "version": f"data batch {batch} of {count}; values up to batch {self.newest_used}",
            "identifier": f"sha256:{self.fingerprint}",
            "comments": (f"data as of {self.data_as_of}; data version {batch}/{count}; values up to batch "
                         f"{self.newest_used}; fingerprint sha256:{self.fingerprint}; rebuild: {self.command}"),
        }


def fingerprint(observations: pd.DataFrame) -> str:
    """A short hash of the values a report shows (every value of the snapshot), independent of row order."""
    if observations.empty:
        return hashlib.sha256(b"").hexdigest()[:16]
    frame = observations[FINGERPRINT_COLUMNS].astype({"year": int, "value": float})
    frame = frame.assign(flags=frame["flags"].fillna("").astype(str), value=frame["value"].map(repr))
    text = frame.sort_values(["indicator", "region", "year"]).to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def provenance(snap: Snapshot, spec: ReportSpec, built: datetime | None = None) -> Provenance:
    """The data version of ``snap`` and the command that rebuilds the report of ``spec`` from it.

    The rebuild names an as-of date even when none was asked for (the build day): a report of "everything
    loaded" would otherwise change with the next upload.
    """
    built = built or datetime.now()
    as_of = spec.as_of or built.date()
    used = snap.observations["batch"]
    args = ["innovation-monitor", "report", "--period", spec.period, "--as-of", as_of.isoformat()]
    if spec.since:
        args += ["--since", spec.since.isoformat()]
    args += ["--lang", spec.lang, "-o", spec.file_name]
    return Provenance(data_as_of=briefing.data_as_of(snap), version=snap.version,
                      newest_used=int(used.max()) if len(used) else 0, fingerprint=fingerprint(snap.observations),
                      built=built, command=shlex.join(args))


def describe(props, snap: Snapshot, spec: ReportSpec, prov: Provenance) -> None:
    """Fill a document's core properties (python-docx's and python-pptx's have the same fields): title,
    period, language, and the data version in ``version``, ``identifier`` and ``comments``."""
    props.title = title(snap, spec.lang)
    props.subject = period_label(spec.period, spec.lang)
    props.author = props.last_modified_by = "innovation-monitor"
    props.language = "zh-CN" if spec.lang == "zh" else "en"
    props.keywords = f"{spec.period}; {prov.data_as_of}"
    props.category = word("report", spec.lang)
    props.created = props.modified = prov.built
    for key, value in prov.properties().items():
        setattr(props, key, value)
    props.revision = 1


def title(snap: Snapshot, lang: str) -> str:
    return snap.catalog.programme.name.pick(lang) + ("工作报告" if lang == "zh" else " · work report")


def _names(snap: Snapshot, codes: list[str], lang: str) -> str:
    names = [snap.catalog.indicators[c].short_name.pick(lang) for c in codes]
    return ("、" if lang == "zh" else ", ").join(names)


def summary(snap: Snapshot, rows: pd.DataFrame, lang: str) -> list[str]:
    """The overview paragraph's sentences, from the scorecard's rows: how many indicators and targets, the
    counts by status (best first), which statuses are tentative, which indicators have no data."""
    n = len(rows)
    targeted = int((rows["qualifier"].notna() & ~rows["qualifier"].isin(["none"])).sum())
    counts = rows["status"].value_counts()
    ordered = [s for s in STATUS_ORDER if s in counts] + [s for s in counts.index if s not in STATUS_ORDER]
    parts = [(progress.status_label(s, lang), int(counts[s])) for s in ordered]
    weak = [r.indicator for r in rows.itertuples() if progress.tentative(r.caveats, r.status)]
    missing = [r.indicator for r in rows.itertuples() if pd.isna(r.latest_year)]
    as_of = briefing.data_as_of(snap)
    if lang == "zh":
        out = [f"截至{as_of},本报告跟踪{n}项指标,其中{targeted}项对照规划的量化目标评估。",
               "状态分布:" + ",".join(f"{label}{k}项" for label, k in parts) + "。"]
        if weak:
            out.append(f"{len(weak)}项指标的状态为暂定(依据较弱,如可信度低、仅有一个数据点或跨越统计口径变化):"
                       f"{_names(snap, weak, lang)}。")
        out.append(f"{len(missing)}项指标尚无数据:{_names(snap, missing, lang)}。" if missing
                   else "所有指标均有数据。")
        return out
    out = [f"As of {as_of}, this report follows {n} indicators, {targeted} of them against a quantified target "
           "of the plan.",
           "Statuses: " + "; ".join(f"{label} {k}" for label, k in parts) + "."]
    if weak:
        out.append(f"{len(weak)} statuses are tentative (a weak basis: low confidence, a single data point or a "
                   f"break in the series): {_names(snap, weak, lang)}.")
    out.append(f"{len(missing)} indicator{'s have' if len(missing) > 1 else ' has'} no data yet: "
               f"{_names(snap, missing, lang)}." if missing else "Every indicator has data.")
    return out


def scorecard_table(snap: Snapshot, rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The scorecard as text: the image's cells (``briefing.scorecard_cells``) and each row's caveats as
    sentences; columns :data:`SCORECARD_HEADERS` and ``colour`` (the status colour)."""
    cells = briefing.scorecard_cells(snap, rows, lang)
    cells["caveats"] = [" ".join(progress.caveat_sentences(r, lang)) for _, r in rows.iterrows()]
    return cells[[*SCORECARD_HEADERS, "colour"]].reset_index(drop=True)


@dataclass
class PillarSection:
    code: str
    name: str
    description: str
    charts: list[str]  # indicator codes drawn, in catalog order
    without_data: list[str] = field(default_factory=list)  # the pillar's indicators with no data


def pillar_sections(snap: Snapshot, rows: pd.DataFrame, lang: str) -> list[PillarSection]:
    """One section per pillar with an indicator in the scorecard, in the programme's order."""
    out = []
    for p in snap.catalog.programme.pillars:
        mine = rows[rows["pillar"] == p.code]
        if mine.empty:
            continue
        charts = briefing.charted_indicators(snap, p.code)
        missing = [c for c in mine["indicator"] if c not in set(charts)]
        out.append(PillarSection(p.code, p.name.pick(lang), p.description.pick(lang), charts, missing))
    return out


def rendered_charts(snap: Snapshot, codes: list[str], *, lang: str, fmt: str,
                    on_progress: Callable[[int, int, str], None] | None = None,
                    total: int | None = None) -> Iterator[tuple[briefing.Chart, bytes]]:
    """Each indicator's briefing chart and its PNG at the size of the report's format, as the PNG export
    draws them; ``on_progress(n, total, code)`` before each."""
    size = CHART_SIZE[fmt]
    for n, code in enumerate(codes, start=1):
        if on_progress:
            on_progress(n, total or len(codes), code)
        chart = briefing.indicator_chart(snap, code, lang=lang, size=size)
        yield chart, export.to_image(chart.figure, size=size)


def sources(snap: Snapshot, charts: list[briefing.Chart], rows: pd.DataFrame, lang: str) -> list[str]:
    """Every publication the charts cite, then the plans the targets come from; each once."""
    cited = [s for chart in charts for s in chart.sources]
    plans = [briefing.plan_citation(snap, plan, lang) for plan in rows["plan"].dropna().unique()
             if plan in snap.catalog.plans]
    return list(dict.fromkeys(s for s in [*cited, *plans] if s))


def gather_extras(snap: Snapshot, spec: ReportSpec) -> Extras:
    """The sections other modules supply, for the report's as-of date: the task register, the release
    calendar (overdue data by owner) and, when ``spec.since`` is given, the changes since the last report."""
    from indicators import calendar, changes

    day = spec.as_of or date.today()
    register = tasks_module.register(snap.engine, snap.catalog, lang=spec.lang, as_of=spec.as_of)
    overdue = calendar.calendar(snap.home_observations, snap.catalog, day, lang=spec.lang)
    found = None
    if spec.since is not None:
        flat = changes.changes(snap.engine, snap.catalog, spec.since, day, lang=spec.lang).flat(spec.lang)
        parts = flat[["section_label", "name", "region", "year"]].astype(object)
        parts["region"] = parts["region"].map(lambda c: snap.region_name(c, spec.lang) if isinstance(c, str) and c else c)
        what = [" · ".join(str(v) for v in row if not pd.isna(v) and str(v) != "")
                for row in parts.itertuples(index=False)]
        found = pd.DataFrame({"what": what, "old": flat["old"].to_numpy(), "new": flat["new"].to_numpy()})
    return Extras(tasks=register[["task", "title", "pillar", "lead", "due", "status"]],
                  overdue=overdue[["indicator", "owner", "next_release", "overdue"]], changes=found)


def _pick_all(mapping: dict[str, Text], lang: str) -> dict[str, str]:
    return {k: v.pick(lang) for k, v in mapping.items()}


def task_table(snap: Snapshot, tasks: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The task register for the report: delayed and at-risk tasks first (then not started, on schedule,
    done), by due date; pillar and status in words. Columns :data:`TASK_HEADERS`, as ``tasks --format csv``."""
    order = {code: n for n, code in enumerate(TASK_STATUS)}
    pillars = {p.code: p.name.pick(lang) for p in snap.catalog.programme.pillars}
    frame = tasks[list(TASK_HEADERS)].copy()
    frame["_order"] = frame["status"].map(order).fillna(len(order))
    frame = frame.sort_values(["_order", "due", "task"], kind="stable").drop(columns="_order")
    frame["pillar"] = frame["pillar"].map(lambda p: pillars.get(p, p))
    frame["status"] = frame["status"].map(lambda s: TASK_STATUS[s].pick(lang) if s in TASK_STATUS else s)
    return frame.fillna("").astype(str).reset_index(drop=True)


def overdue_table(snap: Snapshot, overdue: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The release calendar by owner, overdue data first within an owner; indicator names in ``lang``.
    Columns :data:`OVERDUE_HEADERS` (``calendar --format csv`` gives indicator, owner, next_release, overdue)."""
    names = {code: ind.short_name.pick(lang) for code, ind in snap.catalog.indicators.items()}
    frame = overdue[list(OVERDUE_HEADERS)].copy()
    late = frame["overdue"].map(lambda v: str(v).strip().lower() in ("true", "1", "yes"))
    frame = frame.assign(_late=~late).sort_values(["owner", "_late", "next_release"], kind="stable")
    frame["overdue"] = [YES_NO[not v].pick(lang) for v in frame.pop("_late")]
    frame["indicator"] = frame["indicator"].map(lambda c: names.get(c, c))
    return frame.fillna("").astype(str).reset_index(drop=True)


def changes_table(changes: pd.DataFrame, lang: str) -> pd.DataFrame:
    """What changed, "old → new" (an empty side reads "–": a value that arrived or was retracted)."""
    def side(v: object) -> str:
        return "–" if v is None or (isinstance(v, float) and pd.isna(v)) or str(v) == "" else str(v)

    return pd.DataFrame({"what": changes["what"].astype(str).to_numpy(),
                         "change": [f"{side(o)} → {side(n)}" for o, n in zip(changes["old"], changes["new"],
                                                                              strict=True)]})


def headers(mapping: dict[str, Text], lang: str) -> list[str]:
    return list(_pick_all(mapping, lang).values())
