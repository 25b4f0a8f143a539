"""The words of the progress methods in Chinese and English: status labels, descriptions, "why this status".

What belongs here: the label and the one-line description of every status code and the sentence templates
of :func:`explain`, all as :class:`indicators.i18n.Text`; :func:`status_label` for a status in one language;
how a sentence writes its numbers and rates. What does not: deciding a status or computing a figure
(``method``), interface strings of the pages (``i18n``), or the methodology page's prose
(``indicators/methodology``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import pandas as pd

from indicators.catalog import Methods
from indicators.i18n import Text
from indicators.progress.caveats import caveat_codes, caveat_sentences
from indicators.progress.method import ATTAINMENT_HORIZON, GUARDS, SCORE_MAX

# How the parts of explain add a sentence: say(key, **values).
Say = Callable[..., None]

STATUS_LABELS: dict[str, Text] = {
    "achieved": Text("已实现", "Achieved"),
    "on_track": Text("按期推进", "On track"),
    "moderate": Text("进展中,需加快", "Moderate progress – acceleration needed"),
    "insufficient": Text("进展不足", "Insufficient progress"),
    "moving_away": Text("偏离目标", "Moving away"),
    "insufficient_data": Text("数据不足", "Insufficient data"),
    "not_comparable": Text("前后不可比", "Not comparable"),
    "within_band": Text("处于目标区间", "Within the band"),
    "above_band": Text("高于目标区间", "Above the band"),
    "below_band": Text("低于目标区间", "Below the band"),
    "qualitative": Text("定性目标", "Qualitative goal"),
    "significant_progress": Text("显著进展", "Significant progress"),
    "moderate_progress": Text("温和进展", "Moderate progress"),
    "moderate_away": Text("小幅偏离", "Moderate movement away"),
    "significant_away": Text("明显偏离", "Significant movement away"),
    "rank_improved": Text("排名上升", "Rank improved"),
    "rank_unchanged": Text("排名持平", "Rank unchanged"),
    "rank_worsened": Text("排名下降", "Rank fell"),
    "acceleration_needed": Text("有进展,需加快", "Progress, acceleration needed"),
    "stagnation_or_regression": Text("停滞或倒退", "Stagnation or regression"),
}

STATUS_DESCRIPTIONS: dict[str, Text] = {
    "achieved": Text(
        "最新值已达到目标(“超过”须严格高于目标值)。",
        "The latest value meets the target ('exceed' needs a value strictly beyond it).",
    ),
    "on_track": Text(
        "实际年均增速不低于所需增速的95%(R ≥ 0.95)。",
        "Actual annual growth is at least 95 % of the growth required (R ≥ 0.95).",
    ),
    "moderate": Text(
        "实际增速为所需增速的60%至95%(0.60 ≤ R < 0.95),需要加快。",
        "Actual growth is 60 % to 95 % of the growth required (0.60 ≤ R < 0.95): speed up.",
    ),
    "insufficient": Text(
        "方向正确,但实际增速不到所需增速的60%(0 ≤ R < 0.60)。",
        "Moving the right way at under 60 % of the growth required (0 ≤ R < 0.60).",
    ),
    "moving_away": Text(
        "自基期以来向目标的反方向变化(R < 0)。",
        "Moving in the opposite direction to the target since the baseline (R < 0).",
    ),
    "insufficient_data": Text(
        "数据点不足两个,或基期与最新值符号不同,无法计算增速。",
        "Fewer than two data points, or a sign change since the baseline: no pace computed.",
    ),
    "not_comparable": Text(
        "基期与最新值之间统计口径改变(序列断点),两者不是同一数量,不计算增速、比率和得分。",
        ("The scope changed between the baseline and the latest value (a series break): they are not the same "
         "quantity, so no rate, ratio or score is computed."),
    ),
    "within_band": Text(
        "“左右”目标:最新值处于目标值±容差的区间内(含边界)。",
        "'About X' target: the latest value lies within X ± tolerance (edges included).",
    ),
    "above_band": Text(
        "“左右”目标:最新值高于区间上限;越高越好的指标不视为差于区间内。",
        "'About X' target: above the band; not worse than within it when higher is better.",
    ),
    "below_band": Text("“左右”目标:最新值低于区间下限。", "'About X' target: the latest value is below the band."),
    "qualitative": Text(
        "定性目标,不计算状态;列出证明其进展的指标。",
        "A qualitative goal: no status is computed; the indicators that evidence it are listed.",
    ),
    "significant_progress": Text(
        "无数值目标:期望方向上的年均增长不低于1%。",
        "No target: annual growth in the desired direction of 1 % or more.",
    ),
    "moderate_progress": Text(
        "无数值目标:期望方向上的年均增长为0至1%。",
        "No target: annual growth in the desired direction from 0 % to under 1 %.",
    ),
    "moderate_away": Text("无数值目标:向不期望方向年均变化不到1%。", "No target: moving the undesired way by less than 1 % a year."),
    "significant_away": Text("无数值目标:向不期望方向年均变化1%或以上。", "No target: moving the undesired way by 1 % a year or more."),
    "rank_improved": Text(
        "排名类指标:位次较基期上升(数字变小)。排名不计算增速。",
        "Rank: a better position than at the baseline (a smaller number). No growth rate on ranks.",
    ),
    "rank_unchanged": Text("排名类指标:位次与基期相同。", "Rank: the same position as at the baseline."),
    "rank_worsened": Text("排名类指标:位次较基期下降(数字变大)。", "Rank: a worse position than at the baseline (a larger number)."),
    "acceleration_needed": Text(
        "联合国方法:按当前速度,到目标年份可完成距离的10%至95%。",
        "UN method: at the current pace, 10 % to 95 % of the distance is covered by the target year.",
    ),
    "stagnation_or_regression": Text(
        "联合国方法:按当前速度,到目标年份完成距离不到10%。",
        "UN method: at the current pace, under 10 % of the distance is covered by the target year.",
    ),
}

# Sentences of "why this status"; the numbers are filled in by :func:`explain`.
SENTENCES: dict[str, Text] = {
    "status": Text("状态:{label}。", "Status: {label}."),
    "goal": Text(
        "{year}年目标:{text}。不可直接计算,以证据指标的进展说明。",
        "Goal for {year}: {text}. Not computable; judged by the indicators that evidence it.",
    ),
    "evidence": Text("证据指标:{codes}。", "Evidence: {codes}."),
    "no_target": Text(
        "无数值目标:按基期以来的变化趋势分类(欧盟统计局方法)。",
        "No quantified target: classified by the trend since the baseline (Eurostat).",
    ),
    "target_about": Text(
        "目标({plan}):{year}年{target}左右(“{wording}”)。",
        "Target ({plan}): about {target} by {year} ('{wording}').",
    ),
    "target_top_n": Text("目标({plan}):{year}年进入前{target}位。", "Target ({plan}): top {target} by {year}."),
    "target_at_least": Text(
        "目标({plan}):{year}年不低于{target}(“{wording}”)。",
        "Target ({plan}): at least {target} by {year} ('{wording}').",
    ),
    "target_exceed": Text(
        "目标({plan}):{year}年超过{target}(“{wording}”)。",
        "Target ({plan}): more than {target} by {year} ('{wording}').",
    ),
    "target_at_most": Text(
        "目标({plan}):{year}年不高于{target}(“{wording}”)。",
        "Target ({plan}): at most {target} by {year} ('{wording}').",
    ),
    "period": Text(
        "该目标为{period}年的年均增速:用已有年份增速的几何平均值与目标区间比较。",
        ("The target is the average annual growth over {period}: the geometric mean of the yearly rates observed "
         "so far is compared with the band."),
    ),
    "base_plan": Text("基期值:{year}年{value}(规划给出)。", "Baseline: {value} in {year}, as stated in the plan."),
    "base_observed": Text(
        "基期值:{year}年{value}——规划未给出基期值,取{base_year}年及以后的首个观测值。",
        ("Baseline: {value} in {year}, the first observed value at or after the base year {base_year} (the plan "
         "states no base value)."),
    ),
    "base_first": Text(
        "基期值:{year}年{value}——规划未给出基期值,{base_year}年无观测值,取其后的首个观测值。",
        ("Baseline: {value} in {year}, the first observation after the base year: the plan states no base value "
         "and there is no {base_year} value."),
    ),
    "no_points": Text("评估区间内没有观测值。", "No observation in the assessment window."),
    "latest": Text("最新值:{year}年{value}(区间内共{n}个数据点)。", "Latest: {value} in {year} ({n} data point(s) in the window)."),
    "latest_period": Text(
        "已观测该期间{n}个年份,最新为{year}年{value};目前平均为{mean}。",
        "Observed: {n} year(s) of the period, latest {value} in {year}; average so far {mean}.",
    ),
    "band_within_band": Text(
        "目标区间:{low}至{high}(目标值±{tol},含边界);{value}处于区间内。",
        "Band: {low} to {high} (target ± {tol}, edges included); {value} is within it.",
    ),
    "band_above_band": Text(
        "目标区间:{low}至{high}(目标值±{tol},含边界);{value}高于区间。",
        "Band: {low} to {high} (target ± {tol}, edges included); {value} is above it.",
    ),
    "band_below_band": Text(
        "目标区间:{low}至{high}(目标值±{tol},含边界);{value}低于区间。",
        "Band: {low} to {high} (target ± {tol}, edges included); {value} is below it.",
    ),
    "maintain": Text(
        "基期值已在区间内:规划要求保持,因此不计算所需增速和比值。",
        ("The baseline is already within the band: the plan asks to stay there, so no required growth and no ratio "
         "are computed."),
    ),
    "gap_short": Text("差距:距目标还差{gap}({rel})。", "Gap: {gap} still to go ({rel})."),
    "gap_met": Text("差距:已达到或超过目标{gap}({rel})。", "Gap: the target is met or passed by {gap} ({rel})."),
    "share": Text("已完成从基期到目标距离的{share}。", "{share} of the distance from the baseline to the target is covered."),
    "path_behind": Text(
        "{year}年的所需路径值为{path},最新值落后路径{gap}。",
        "Required path in {year}: {path}; the latest value is {gap} behind it.",
    ),
    "path_ahead": Text(
        "{year}年的所需路径值为{path},最新值领先路径{gap}。",
        "Required path in {year}: {path}; the latest value is {gap} ahead of it.",
    ),
    "pace_compound": Text("{year}年以来的复合年均增速:{rate}。", "Compound annual growth since {year}: {rate}."),
    "pace_linear": Text("{year}年以来的年均变化量(线性):{rate}。", "Average annual change since {year} (linear): {rate}."),
    "no_target_growth": Text(
        "期望方向上的年均增长{growth}%,对照欧盟统计局分界点{sig}% / {mod}% / {away}%。",
        "Annual growth in the desired direction {growth} %, against Eurostat's cut-offs {sig} % / {mod} % / {away} %.",
    ),
    "ratio": Text(
        "自基期所需:{rate};比值R = {ratio} → {label}(阈值{on} / {mod} / {ins})。",
        "Required from the baseline: {rate}; ratio R = {ratio} → {label} (thresholds {on} / {mod} / {ins}).",
    ),
    "from_latest": Text("从{year}年到{milestone}年所需:{rate}。", "Required from {year} to {milestone}: {rate}."),
    "score": Text("Open SDG得分:{score}(-5至5)。", "Open SDG score: {score} (from -5 to 5)."),
    "rank": Text(
        "排名:{base_year}年第{base}位 → {year}年第{latest}位,{moved}。排名不计算增速。",
        "Rank {base} in {base_year} → {latest} in {year}: {moved}. No growth rate is computed on ranks.",
    ),
    "rank_up": Text("上升{n}位", "up {n} place(s)"),
    "rank_down": Text("下降{n}位", "down {n} place(s)"),
    "rank_same": Text("不变", "unchanged"),
    "breaks": Text(
        "区间内的版本变化(评价范围或方法调整):{years};排名不完全可比。",
        "Edition breaks in the window (field or method changed): {years}; ranks are not fully comparable.",
    ),
    "expected": Text(
        "联合国预期值方法:按当前速度,{year}年预期为{value}。",
        "UN expected-value method: {value} expected in {year} at the current pace.",
    ),
    "expected_score": Text(
        "联合国预期值方法:按当前速度,{year}年预期为{value},得分{score} → {label}。",
        "UN expected-value method: {value} expected in {year} at the current pace, score {score} → {label}.",
    ),
    "disagree": Text("比值法与联合国预期值法的判断不一致。", "The ratio method and the UN method classify this differently."),
    "met_since": Text("自{year}年起已达到。", "Met since {year}."),
    "reach": Text("按当前速度,将于{year}年达到目标。", "At the current pace the target would be reached in {year}."),
    "reach_band": Text("按当前速度,将于{year}年进入目标区间。", "At the current pace the band would be reached in {year}."),
    "never": Text("按当前速度,{horizon}年前无法达到。", "Not reached at the current pace (before {horizon})."),
    "stale": Text("数据可能已过时:最新年份为{year}年。", "The data may be out of date: the latest year is {year}."),
    "no_data": Text("没有数据。", "No data."),
    "one_point": Text("只有一个数据点,无法计算增速。", "Only one data point: no pace can be computed."),
    "sign_change": Text(
        "基期值与最新值符号不同,不计算增速。",
        "The baseline and the latest value have different signs: growth is not computed.",
    ),
    "target_sign": Text(
        "基期值与目标值符号不同,无法计算复合增速。",
        "The baseline and the target have different signs: no compound growth can reach it.",
    ),
    "zero_base": Text(
        "基期值为0,按Open SDG的做法以±0.001代替后计算增速。",
        "The baseline is 0: replaced by ±0.001 to compute growth (as Open SDG does).",
    ),
    "zero_target": Text(
        "目标值为0,按Open SDG的做法以±0.001代替后计算增速。",
        "The target is 0: replaced by ±0.001 to compute growth (as Open SDG does).",
    ),
    "partial_period": Text(
        "平均期内尚有年份没有数据,平均值为初步结果。",
        "Not every year of the averaging period is observed yet: the average is provisional.",
    ),
    "no_direction": Text("该指标无期望方向,不做趋势分类。", "The indicator has no desired direction: no trend classification."),
}


def status_label(status: str | None, lang: str) -> str:
    """The label of a status code in ``lang`` (``en``, else Chinese); an unknown code reads as itself."""
    code = str(status)
    label = STATUS_LABELS.get(code)
    return label.pick(lang) if label else code


def explain(row: pd.Series | Mapping, lang: str = "zh", methods: Methods | None = None) -> list[str]:
    """The numbers behind a row's status, as sentences in Chinese (``zh``, default) or English (``en``).

    ``methods``: the catalog's thresholds (``catalog.methods``), quoted in the sentences; default Eurostat's.
    """
    r = dict(row)
    methods = methods or Methods()
    out: list[str] = []

    def say(key: str, **values) -> None:
        out.append(SENTENCES[key].pick(lang).format(**values))

    say("status", label=status_label(r.get("status"), lang))
    if r.get("status") == "qualitative":
        text = r.get("target_text_en" if lang == "en" else "target_text")
        say("goal", year=_i(r.get("milestone_year")), text=text)
        if r.get("evidence"):
            say("evidence", codes=", ".join(str(r["evidence"]).split(";")))
        return out
    _explain_target(r, say, lang)
    if _has(r.get("latest_value")):
        _explain_data(r, say, lang)
        _explain_pace(r, say, lang, methods)
        _explain_outlook(r, say, lang)
    else:
        say("no_points")
    if r.get("guard") in GUARDS:
        say(r["guard"])
    if r.get("stale") and _has(r.get("latest_year")):
        say("stale", year=_i(r["latest_year"]))
    # The caveats not said above: what the status rests on.
    said = {"stale", "partial_period"}
    if r.get("edition_breaks") and r.get("edition_breaks") == r.get("series_breaks"):
        said.add("crosses_break")
    pairs = zip(caveat_codes(r.get("caveats")), caveat_sentences(r, lang), strict=True)
    out.extend(sentence for code, sentence in pairs if code not in said)
    return out


BASELINE_LABELS: dict[str, Text] = {
    "plan": Text("规划给出", "plan"),
    "observed_base_year": Text("{year}年观测值", "observed {year}"),
    "first_observation": Text("首个观测值 {year}年(无{base_year}年数值)", "first observation {year} — no {base_year} value"),
}


def baseline_label(row: pd.Series | Mapping, lang: str) -> str:
    """Which value the baseline is: "plan", "observed 2020" or "first observation 2021 — no 2020 value"."""
    label = BASELINE_LABELS.get(str(row.get("baseline_basis") or ""))
    if label is None:
        return ""
    period = str(row.get("period_average") or "")
    base_year = period.split("-")[0] if period else _i(row.get("plan_base_year"))  # a period starts its window
    return label.pick(lang).format(year=_i(row.get("baseline_year")), base_year=base_year)


def _explain_target(r: dict, say: Say, lang: str) -> None:
    if _has(r.get("target")):
        wording = r.get("wording_en") if lang == "en" else r.get("wording")
        say(f"target_{r['qualifier']}", plan=r.get("plan"), target=_n(r["target"]),
            year=_i(r["milestone_year"]), wording=wording)
    else:
        say("no_target")
    if r.get("period_average"):
        say("period", period=r["period_average"])
    elif _has(r.get("baseline_value")):
        basis = r.get("baseline_basis")
        say("base_plan" if r.get("baseline_source") == "plan" else "base_first" if basis == "first_observation"
            else "base_observed",
            value=_n(r["baseline_value"], 6), year=_i(r.get("baseline_year")),
            base_year=_i(r.get("plan_base_year")))


def _explain_data(r: dict, say: Say, lang: str) -> None:
    value, year = _n(r["latest_value"], 6), _i(r["latest_year"])
    if r.get("period_average") and _has(r.get("period_mean")):
        say("latest_period", n=_i(r.get("n_points")), value=value, year=year, mean=_n(r["period_mean"]))
    else:
        say("latest", value=value, year=year, n=_i(r.get("n_points")))
    if r.get("qualifier") == "about" and r.get("status") in ("within_band", "above_band", "below_band"):
        judged = r["period_mean"] if r.get("period_average") else r["latest_value"]
        say(f"band_{r['status']}", low=_n(r["band_low"]), high=_n(r["band_high"]), tol=_n(r["tolerance"]),
            value=_n(judged))
        if r.get("maintain"):
            say("maintain")
    if _has(r.get("gap")):
        gap = float(r["gap"])
        rel = f"{abs(float(r['gap_relative'])) * 100:.1f} %" if _has(r.get("gap_relative")) else "–"
        say("gap_short" if gap > 0 else "gap_met", gap=_n(abs(gap)), rel=rel)
    if _has(r.get("progress_share")):
        say("share", share=f"{float(r['progress_share']) * 100:.0f} %")
    if _has(r.get("gap_to_path")):
        g = float(r["gap_to_path"])
        path = _n(r["path_value_latest"])
        say("path_behind" if g > 0 else "path_ahead", year=year, path=path, gap=_n(abs(g)))
    if r.get("kind") == "rank" and _has(r.get("rank_change")):
        change = float(r["rank_change"])
        moved = "rank_up" if change < 0 else "rank_down" if change > 0 else "rank_same"
        say("rank", base=_n(r["baseline_value"]), base_year=_i(r["baseline_year"]),
            latest=_n(r["latest_value"]), year=year, moved=SENTENCES[moved].pick(lang).format(n=_n(abs(change))))
    if r.get("edition_breaks"):
        say("breaks", years=", ".join(str(r["edition_breaks"]).split(";")))


def _explain_pace(r: dict, say: Say, lang: str, methods: Methods) -> None:
    if not _has(r.get("actual_rate")):
        return
    say("pace_compound" if r.get("growth") == "compound" else "pace_linear", year=_i(r["baseline_year"]),
        rate=_rate(r, r["actual_rate"], lang))
    if r.get("qualifier") == "none" and _has(r.get("annual_growth_pct")):
        cut = methods.no_target_cutoffs
        desired = float(r["annual_growth_pct"]) * (-1 if r.get("direction") == "lower" else 1)
        say("no_target_growth", growth=f"{desired:+.2f}", sig=f"{cut.significant:g}", mod=f"{cut.moderate:g}",
            away=f"{cut.moderate_away:g}")
    if _has(r.get("required_rate")):
        th = methods.ratio_thresholds
        say("ratio", rate=_rate(r, r["required_rate"], lang), ratio=_n(r.get("ratio"), 3),
            label=status_label(r.get("ratio_status"), lang), on=f"{th.on_track:g}", mod=f"{th.moderate:g}",
            ins=f"{th.insufficient:g}")
    if _has(r.get("required_rate_from_latest")):
        say("from_latest", year=_i(r["latest_year"]), milestone=_i(r["milestone_year"]),
            rate=_rate(r, r["required_rate_from_latest"], lang))
    if _has(r.get("score")) and float(r["score"]) < SCORE_MAX:
        say("score", score=f"{float(r['score']):.2f}")


def _explain_outlook(r: dict, say: Say, lang: str) -> None:
    if _has(r.get("expected_at_target")):
        values = {"value": _n(r["expected_at_target"]), "year": _i(r["milestone_year"])}
        if _has(r.get("expected_score")) and r.get("expected_status") not in (None, "achieved"):
            label = status_label(r["expected_status"], lang)
            say("expected_score", score=_n(r["expected_score"], 3), label=label, **values)
        else:
            say("expected", **values)
    if r.get("method_disagreement"):
        say("disagree")
    if r.get("qualifier") in (None, "none", "qualitative") or r.get("period_average"):
        return
    met = _has(r.get("score")) and float(r["score"]) == SCORE_MAX
    if _has(r.get("attainment_year")):
        year = _i(r["attainment_year"])
        say("met_since" if met else "reach_band" if r.get("qualifier") == "about" else "reach", year=year)
    elif _has(r.get("actual_rate")) and not met:
        say("never", horizon=ATTAINMENT_HORIZON)


def _has(x) -> bool:
    """A value is present: not None, NaN or NA."""
    if x is None or x is pd.NA:
        return False
    try:
        return not math.isnan(float(x))
    except (TypeError, ValueError):
        return True


def _n(x, digits: int = 4) -> str:
    """A number for a sentence: ``digits`` significant digits, thousands separators for big values."""
    if not _has(x):
        return "–"
    x = float(x)
    if abs(x) >= 10 ** digits:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def _i(x) -> str:
    return str(int(x)) if _has(x) else "–"


# A linear pace's unit is the indicator's unit code per year ("rank/yr"): the words for the codes whose
# pace a sentence states; a pace in a growth rate's unit is a change of percentage points a year.
RATE_WORDS = {
    "pp/yr": Text("个百分点/年", "pp/yr"),
    "percent_per_year/yr": Text("个百分点/年", "pp/yr"),
    "rank/yr": Text("位/年", "places/yr"),
}


def _rate(r: dict, x, lang: str) -> str:
    """A pace as a sentence writes it: '+14.47%/年', '+0.12个百分点/年', '+1,234 亿元/年' (never a unit code or a
    number in exponent notation)."""
    unit = r.get("rate_unit") or ""
    en = lang == "en"
    x = float(x)
    if unit == "%/yr":
        return f"{x:+.2f} %/yr" if en else f"{x:+.2f}%/年"
    sign = "+" if x >= 0 else "-"
    if unit in RATE_WORDS:
        words = RATE_WORDS[unit].pick(lang)
        return f"{sign}{_n(abs(x), 3)} {words}" if en else f"{sign}{_n(abs(x), 3)}{words}"
    plain = unit.removesuffix("/yr")
    return f"{sign}{_n(abs(x))} {plain}/yr" if en else f"{sign}{_n(abs(x))} {plain}/年"
