"""Chart inputs assembled from a snapshot: what the trend page, the PNG export and the CLI all draw.

What belongs here: picking the rows, target layers (milestones, required path, projection), vintages and
edition breaks for a chart, and the one-sentence finding for a chart's subtitle. The drawing itself is in
``figures``; the numbers in ``progress``; the page wiring in ``dashboards``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pandas as pd
import plotly.graph_objects as go

from indicators import figures, flags, progress, queries
from indicators.i18n import Text, fmt_number, fmt_value, t
from indicators.snapshot import Snapshot


@dataclass
class TrendView:
    spec: dict  # the figure in plotly's JSON form (``figures.trend_spec``): what the trend page sends
    series: pd.DataFrame
    assessment: pd.DataFrame  # the home region's rows for this indicator
    title: str

    @cached_property
    def figure(self) -> go.Figure:
        """The figure as a validated ``go.Figure`` (for the PNG export, the briefing and the CLI)."""
        return go.Figure(self.spec)


def year_bounds(snap: Snapshot, indicator: str) -> tuple[int, int]:
    years = snap.series(indicator)["year"]
    stones = [m.year for tg in snap.catalog.indicators[indicator].targets for m in tg.milestones if m.year <= 2035]
    lo = int(years.min()) if len(years) else 2015
    hi = max([int(years.max()) if len(years) else 2025, *stones])
    return lo, hi


def chart_title(snap: Snapshot, indicator: str, lang: str) -> str:
    ind = snap.catalog.indicators[indicator]
    unit = snap.catalog.units[ind.unit].name.pick(lang)
    return f"{ind.name.pick(lang)}({unit})" if lang == "zh" else f"{ind.name.pick(lang)} ({unit})"


def trend_view(snap: Snapshot, indicator: str, *, lang: str, regions: list[str] | None = None,
               years: tuple[int, int] | list[int] | None = None, vintages: bool = False) -> TrendView:
    catalog = snap.catalog
    ind = catalog.indicators[indicator]
    home = catalog.programme.home_region
    regions = regions or [home]
    lo, hi = years or year_bounds(snap, indicator)
    series = snap.series(indicator)
    series = snap.with_citations(series[series["region"].isin(regions) & series["year"].between(lo, hi)], lang)
    # what depends only on the indicator and the language is worked out once per data version
    rows, layers, editions, title = snap.memo(("trend_view", indicator, lang),
                                              lambda: _indicator_parts(snap, indicator, lang))
    unit = catalog.units[ind.unit]
    milestones, path, projection = layers if home in regions else ([], None, None)
    if years:  # the chosen years bound everything drawn: targets, path and projection too
        milestones = [m for m in milestones if lo <= m["year"] <= hi]
        path = None if path is None else path[path["year"].between(lo, hi)]
        projection = None if projection is None else projection[projection["year"].between(lo, hi)]
    vintage_rows = None
    if vintages:
        history = queries.observations(snap.engine, indicator=indicator, region=regions, history=True)
        vintage_rows = history[(history["status"] == "superseded") & history["year"].between(lo, hi)]
        vintage_rows = snap.with_citations(vintage_rows, lang)
    editions = [e for e in editions if lo < e["year"] <= hi]
    if series.empty:
        layout = figures.base_layout_spec(title=title)
        layout.update(annotations=[{"text": t("empty.no_data", lang), "showarrow": False, "x": 0.5, "y": 0.5,
                                    "xref": "paper", "yref": "paper"}],
                      xaxis={"visible": False}, yaxis={"visible": False})
        spec: dict = {"data": [], "layout": layout}
    else:
        spec = figures.trend_spec(
            series, lang=lang, indicator_name=ind.name.pick(lang), unit_code=ind.unit, unit_name=unit.name.pick(lang),
            region_names={c: snap.region_name(c, lang) for c in regions}, home_region=home,
            milestones=milestones, path=path, projection=projection, vintages=vintage_rows, editions=editions,
            rank=ind.kind == "rank", title=title,
        )
        if years:
            spec["layout"]["xaxis"]["range"] = [lo - 0.5, hi + 0.5]
    return TrendView(spec=spec, series=series, assessment=rows, title=title)


def _indicator_parts(snap: Snapshot, indicator: str, lang: str):
    """What a trend view of ``indicator`` in ``lang`` draws whatever the regions and years: the home region's
    assessment rows, its target layers, the series breaks and the title. The callers filter these and never
    change them."""
    ind = snap.catalog.indicators[indicator]
    assessment = snap.assessment
    rows = assessment[(assessment["indicator"] == indicator) & (assessment["region"] == snap.catalog.programme.home_region)]
    # one line per year: a catalog break's words where a ranking's new edition falls in the same year
    marks = {e["year"]: e for e in (edition_breaks(ind, lang) if ind.kind == "rank" else [])}
    for b in series_breaks(ind, lang):
        edition = marks.get(b["year"])
        marks[b["year"]] = b if edition is None else {**b, "label": f"{b['label']}: {edition['label']}"}
    editions = [marks[y] for y in sorted(marks)]
    return rows, target_layers(ind, rows, lang), editions, chart_title(snap, indicator, lang)


def edition_breaks(ind, lang: str) -> list[dict]:
    """Methodology breaks of a ranking: every edition after the first, labelled with its field size."""
    breaks = []
    for edition in sorted(ind.editions, key=lambda e: e.year)[1:]:
        if edition.field:
            label = f"{edition.field}城" if lang == "zh" else f"{edition.field} cities"
        else:
            label = edition.note.pick(lang)
        breaks.append({"year": edition.year, "label": label, "note": edition.note.pick(lang)})
    return breaks


BREAK_KINDS: dict[str, Text] = {
    "gdp_census_revision": Text("GDP普查修订", "GDP census revision"),
    "change_of_scope": Text("口径变化", "change of scope"),
    "method_change": Text("方法变化", "method change"),
    "field_change": Text("评价范围变化", "field change"),
    "definition_change": Text("定义变化", "definition change"),
}


def series_breaks(ind, lang: str) -> list[dict]:
    """The indicator's series breaks (catalog ``breaks``) as chart marks: year, short label, full text."""
    return [{"year": b.year, "label": BREAK_KINDS[b.kind].pick(lang), "note": b.text.pick(lang)}
            for b in sorted(ind.breaks, key=lambda b: b.year)]


def target_layers(ind, rows: pd.DataFrame, lang: str):
    """Milestone markers (with the 'about' band), the required path from the baseline, and the projection."""
    milestones, paths, projections = [], [], []
    for row in rows.itertuples(index=False):
        if pd.isna(row.milestone_year) or pd.isna(row.target):
            continue
        band = "" if pd.isna(row.tolerance) else f" ({fmt_number(row.band_low)}–{fmt_number(row.band_high)})"
        milestones.append({"year": int(row.milestone_year), "value": float(row.target),
                           "label": target_wording(ind, row.plan, lang) + band,  # the band's edges, always
                           "band_low": _num(row.band_low), "band_high": _num(row.band_high)})
        if ind.kind == "rank" or _truthy(row.period_average):
            continue  # no rates on ranks; a period-average target has no path for single years
        if pd.notna(row.baseline_year) and pd.notna(row.baseline_value) and not bool(row.maintain):
            # "keep at about X" from inside the band asks for no movement: no path to draw
            paths.append(progress.required_path(int(row.baseline_year), float(row.baseline_value),
                                                int(row.milestone_year), float(row.target), row.growth))
        if pd.notna(row.latest_year) and pd.notna(row.actual_rate) and int(row.latest_year) < int(row.milestone_year):
            projections.append(progress.projection(int(row.latest_year), float(row.latest_value),
                                                   int(row.milestone_year), float(row.actual_rate), row.growth))
    path = pd.concat(paths).drop_duplicates("year") if paths else None
    projection = pd.concat(projections).drop_duplicates("year") if projections else None
    return milestones, path, projection


def target_wording(ind, plan: str, lang: str) -> str:
    for tg in ind.targets:
        if tg.plan == plan:
            return tg.wording.pick(lang)
    return ""


def _truthy(value) -> bool:
    return bool(value) if value is not None and not (isinstance(value, float) and pd.isna(value)) else False


def _num(value):
    return None if value is None or pd.isna(value) else float(value)


FINDINGS: dict[str, Text] = {
    "achieved": Text("{year}年:{value},已实现“{wording}”({target_year}年目标)", "{year}: {value}, '{wording}' ({target_year} target) already achieved"),
    "within_band": Text("{year}年:{value},处于“{wording}”目标区间内({target_year}年)", "{year}: {value}, within the '{wording}' band for {target_year}"),
    "above_band": Text("{year}年:{value},高于“{wording}”目标区间({target_year}年)", "{year}: {value}, above the '{wording}' band for {target_year}"),
    "below_band": Text("{year}年:{value},低于“{wording}”目标区间({target_year}年)", "{year}: {value}, below the '{wording}' band for {target_year}"),
    "on_track": Text("{year}年:{value},按当前速度可于{target_year}年实现“{wording}”", "{year}: {value}, on track for '{wording}' by {target_year}"),
    "moderate": Text("{year}年:{value},实现“{wording}”({target_year}年)需加快进度", "{year}: {value}, must speed up to reach '{wording}' by {target_year}"),
    "insufficient": Text("{year}年:{value},按当前速度难以在{target_year}年实现“{wording}”", "{year}: {value}, too slow to reach '{wording}' by {target_year}"),
    "moving_away": Text("{year}年:{value},正偏离“{wording}”({target_year}年)", "{year}: {value}, moving away from '{wording}' ({target_year})"),
    "insufficient_data": Text("{year}年:{value},数据不足,无法判断进度", "{year}: {value}, too few data points to judge progress"),
    "not_comparable": Text("{year}年:{value},与基期口径不同,无法判断进度(“{wording}”,{target_year}年)", "{year}: {value}, on another basis than the baseline: progress towards '{wording}' ({target_year}) cannot be judged"),
}
TENTATIVE = Text("(暂定:{why})", " (tentative: {why})")
NO_TARGET = Text("{year}年:{value}({status})", "{year}: {value} ({status})")


def finding(snap: Snapshot, indicator: str, lang: str) -> str:
    """One sentence for a chart subtitle: the latest value and where it stands against the nearest target."""
    catalog = snap.catalog
    ind = catalog.indicators[indicator]
    unit = catalog.units[ind.unit]
    home = catalog.programme.home_region
    a = snap.assessment
    rows = a[(a["indicator"] == indicator) & (a["region"] == home)]
    series = snap.series(indicator, [home]).sort_values("year")
    if series.empty:
        return t("empty.no_data", lang)
    latest = series.iloc[-1]
    value = flags.with_flags(fmt_value(float(latest["value"]), ind.unit, unit.name.pick(lang), lang), latest.get("flags"))
    year = int(latest["year"])
    quantified = rows[rows["milestone_year"].notna() & rows["target"].notna()].sort_values("milestone_year")
    if len(quantified):
        row = quantified.iloc[0]
        template = FINDINGS.get(row["status"])
        if template:
            return template.pick(lang).format(year=year, value=value, wording=target_wording(ind, row["plan"], lang),
                               target_year=int(row["milestone_year"])) + _tentative(row, lang)
    status = rows.iloc[0]["status"] if len(rows) else None
    label = progress.status_label(status, lang) if status else ""
    sentence = NO_TARGET.pick(lang).format(year=year, value=value, status=label).replace("()", "").replace("( )", "")
    return sentence.strip() + (_tentative(rows.iloc[0], lang) if len(rows) else "")


def _tentative(row: pd.Series, lang: str) -> str:
    """'(暂定:只有一个数据点)' after a finding whose status rests on a weak basis; else nothing."""
    codes = progress.tentative_codes(row.get("caveats"), row.get("status"))
    if not codes:
        return ""
    why = ("、" if lang == "zh" else ", ").join(t(f"caveat.short.{c}", lang) for c in codes)
    return TENTATIVE.pick(lang).format(why=why)


QUANTIFIED = ("about", "at_least", "exceed", "at_most", "top_n")


def gap_rows(snap: Snapshot, pillar: str | None = None, milestone: int | None = None) -> pd.DataFrame:
    """The home region's quantified targets (optionally one pillar, one milestone year)."""
    a = snap.assessment
    rows = a[(a["region"] == snap.catalog.programme.home_region) & a["qualifier"].isin(QUANTIFIED)]
    if pillar and pillar != "all":
        rows = rows[rows["pillar"] == pillar]
    if milestone is not None:
        rows = rows[rows["milestone_year"] == milestone]
    return rows


def gap_figures(snap: Snapshot, rows: pd.DataFrame, lang: str) -> tuple[go.Figure, go.Figure | None]:
    """The progress bullet chart and, where growth is compound, actual versus required pace."""
    labels = {c: snap.catalog.indicators[c].short_name.pick(lang) for c in rows["indicator"]}
    status_labels = {k: progress.status_label(k, lang) for k in progress.STATUS_LABELS}
    progress_fig = figures.progress_bars(rows, lang=lang, labels=labels, status_labels=status_labels,
                                         title=t("gaps.progress", lang))
    paced = rows[rows["actual_rate"].notna() & rows["required_rate"].notna() & (rows["growth"] == "compound")]
    pace_fig = figures.pace_bars(paced, lang=lang, labels=labels, title=t("gaps.pace", lang)) if len(paced) else None
    return progress_fig, pace_fig


def compare_figures(snap: Snapshot, indicator: str, regions: list[str] | None, lang: str
                    ) -> tuple[go.Figure, go.Figure, pd.DataFrame] | None:
    """Rank over time (bump) or series, and the latest-year bars, for the home region and its peers."""
    catalog = snap.catalog
    ind = catalog.indicators[indicator]
    home = catalog.programme.home_region
    series = snap.series(indicator, regions or None)
    if series.empty:
        return None
    series = snap.with_citations(series, lang)
    names = {c: snap.region_name(c, lang) for c in series["region"].unique()}
    unit = catalog.units[ind.unit]
    latest = series.sort_values("year").groupby("region").tail(1)
    rank = ind.kind == "rank"
    if rank:
        # the newest edition that ranks at least two of the regions shown (a later one may name only Beijing)
        per_year = series.groupby("year")["region"].nunique()
        shared = per_year[per_year >= 2]
        edition = int(shared.index.max()) if len(shared) else int(series["year"].max())
        latest = series[series["year"] == edition]
        editions = edition_breaks(ind, lang)
        over_time = figures.bump(series, lang=lang, region_names=names, home_region=home, editions=editions,
                                 title=f"{ind.name.pick(lang)} · {t('compare.bump', lang)}")
    else:
        over_time = figures.trend(series, lang=lang, indicator_name=ind.name.pick(lang), unit_code=ind.unit,
                                  unit_name=unit.name.pick(lang), region_names=names, home_region=home,
                                  editions=series_breaks(ind, lang), title=chart_title(snap, indicator, lang))
    bars = figures.latest_bars(latest, lang=lang, region_names=names, home_region=home, unit_code=ind.unit,
                               unit_name=unit.name.pick(lang), rank=rank, title=t("compare.latest", lang))
    return over_time, bars, series


# The columns of a chart's table (the "Table" of a view and its CSV), headed in the page's language.
VIEW_COLUMNS: dict[str, Text] = {
    "indicator_name": Text("指标", "Indicator"), "region_name": Text("地区", "Region"), "year": Text("年份", "Year"),
    "value": Text("数值", "Value"), "unit": Text("单位", "Unit"), "flags": Text("标记", "Flags"),
    "citation": Text("出处文献", "Publication"), "published_on": Text("发布日期", "Published"),
    "confidence": Text("可信度", "Confidence"), "vintage": Text("版本", "Vintage"), "source": Text("来源", "Source"),
}


def view_table(snap: Snapshot, indicator: str, *, lang: str, regions: list[str] | None = None,
               years: tuple[int, int] | None = None, vintages: bool = False) -> pd.DataFrame:
    """The numbers a trend view draws, one row per value, headed in ``lang``: what its CSV download holds.

    ``regions=None`` with ``years=None`` is the full series (every region with data, every year).
    """
    catalog = snap.catalog
    ind = catalog.indicators[indicator]
    chosen = regions if regions is not None else None
    series = snap.series(indicator, chosen).assign(vintage="current")
    if years:
        series = series[series["year"].between(*years)]
    if vintages:
        history = queries.observations(snap.engine, indicator=indicator, region=chosen, history=True)
        old = history[history["status"] == "superseded"].assign(vintage="superseded")
        if years:
            old = old[old["year"].between(*years)]
        series = pd.concat([series, old], ignore_index=True)
    series = snap.with_citations(series, lang).sort_values(["region", "year", "vintage"], kind="stable")
    words = {"current": Text("现行值", "current"), "superseded": Text("早期发布值", "earlier vintage")}
    frame = pd.DataFrame({
        "indicator_name": ind.name.pick(lang),
        "region_name": series["region"].map(lambda c: snap.region_name(c, lang)),
        "year": series["year"], "value": series["value"],
        "unit": catalog.units[ind.unit].name.pick(lang),
        "flags": series["flags"].fillna("") if "flags" in series else "",
        "citation": series["citation"], "published_on": series["published_on"],
        "confidence": series["confidence"].map(lambda c: t(f"confidence.{c}", lang)),
        "vintage": series["vintage"].map(lambda v: words[v].pick(lang)), "source": series["source"],
    })
    return frame.rename(columns={k: v.pick(lang) for k, v in VIEW_COLUMNS.items()}).reset_index(drop=True)


def view_citation(snap: Snapshot, indicator: str, lang: str) -> str:
    """How to cite a chart: programme, indicator, data as of, the publications behind it."""
    return snap.memo(("view_citation", indicator, lang), lambda: _view_citation(snap, indicator, lang))


def _view_citation(snap: Snapshot, indicator: str, lang: str) -> str:
    ind = snap.catalog.indicators[indicator]
    day = snap.as_of.isoformat() if snap.as_of else (
        pd.Timestamp(snap.batches["created_at"].max()).strftime("%Y-%m-%d") if len(snap.batches) else "–")
    sources = "; ".join(snap.citations(snap.series(indicator, [snap.catalog.programme.home_region]), lang)[:3])
    if lang == "zh":
        return f"{snap.catalog.programme.name.zh}:{ind.name.zh}(数据截至{day})。来源:{sources}。"
    return f"{snap.catalog.programme.name.en}: {ind.name.en} (data as of {day}). Sources: {sources}."


ADDITIVE_KINDS = ("level", "count")  # the parts of a region add up to it; shares, rates and ranks do not


def breakdown(snap: Snapshot, indicator: str, *, lang: str, parent: str | None = None) -> tuple[pd.DataFrame, str]:
    """A region's parts (its zones or districts, catalog ``parent``) side by side for the latest year that has
    any of them: each part's value and, for an additive indicator with the parent's value that year, its share
    of the whole. Returns the table (region, name, kind, year, value, share) and a warning when the parts add
    up to more than the whole (overlapping zones, or values on another basis); empty when no part has data."""
    catalog = snap.catalog
    parent = parent or catalog.programme.home_region
    parts = {r.code: r for r in catalog.children(parent)}
    empty = pd.DataFrame(columns=["region", "name", "kind", "year", "value", "share"])
    series = snap.series(indicator, list(parts)) if parts else snap.series(indicator).iloc[0:0]
    if series.empty:
        return empty, ""
    year = int(series["year"].max())
    latest = series[series["year"] == year].sort_values("value", ascending=False)
    frame = pd.DataFrame({
        "region": latest["region"].to_numpy(),
        "name": [parts[c].name.pick(lang) for c in latest["region"]],
        "kind": [parts[c].kind for c in latest["region"]],
        "year": year, "value": latest["value"].to_numpy(dtype=float), "share": float("nan"),
    })
    whole = snap.series(indicator, [parent])
    whole = whole[whole["year"] == year]
    warning = ""
    if catalog.indicators[indicator].kind in ADDITIVE_KINDS and len(whole):
        total = float(whole["value"].iloc[0])
        frame["share"] = frame["value"] / total * 100 if total else float("nan")
        # zones overlap districts, so each kind is added up on its own
        over = [k for k, part in frame.groupby("kind") if total and part["value"].sum() > total * 1.0005]
        if over:
            warning = (f"注意:{year}年各{'、'.join(PART_KINDS[k].zh for k in over)}之和超过{snap.region_name(parent, 'zh')}"
                       "总量(范围重叠或口径不同),占比之和大于100%。" if lang == "zh" else
                       f"Note: in {year} the {' and '.join(PART_KINDS[k].en for k in over)} add up to more than "
                       f"{snap.region_name(parent, 'en')} as a whole (overlapping areas or another basis): "
                       "their shares exceed 100 %.")
    return frame, warning


PART_KINDS = {"zone": Text("园区", "zones"), "district": Text("区", "districts"), "city": Text("城市", "cities"),
              "province": Text("省份", "provinces")}
