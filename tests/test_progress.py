"""Target-gap analytics: every status, target kind and guard against values computed by hand.

Each table below is a set of cases: the given series and target on the left, the expected figures on the
right (computed with a calculator from the formulas of METHODS.md, rounded to 4 decimals). Every case becomes
a small indicator in a test catalog built from the shipped programme, plans and regions.
"""

from __future__ import annotations

import io
import string
from datetime import date

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from indicators import i18n
from indicators.catalog import Base, Catalog, Edition, Milestone, Target, Text
from indicators.progress import (
    ASSESSMENT_COLUMNS,
    EXPECTED_STATUS_ORDER,
    ROLLUP_COLUMNS,
    SENTENCES,
    STATUS_DESCRIPTIONS,
    STATUS_LABELS,
    STATUS_ORDER,
    assess,
    explain,
    mirror_status,
    projection,
    required_path,
    rollup,
    status_label,
    status_rank,
)

from .support import make_catalog, make_indicator, text

TODAY = date(2026, 6, 1)
GIVEN = ["case", "kind", "direction", "growth", "qualifier", "tolerance", "base", "milestones", "points"]
TEXT_COLUMNS = ("case", "status", "guard", "expected_status", "edition_breaks", "baseline_source")


# --------------------------------------------------------------------------------------------- helpers


def make_target(qualifier: str, milestones: str, *, base: str = "", tolerance: float | None = None,
                period: str = "", evidence=()) -> Target:
    """``milestones`` like '2025:200 2030:300' (or '2025:some text' for a goal); ``base`` like '2020:100'."""
    stones = []
    for item in milestones.split():
        year, value = item.split(":")
        try:
            stones.append(Milestone(year=int(year), value=float(value)))
        except ValueError:
            stones.append(Milestone(year=int(year), text=text(value)))
    base_obj = None
    if base:
        year, value = base.split(":")
        base_obj = Base(year=int(year), value=float(value) if value else None)
    return Target(plan="bj-14fyp-iscc", region="beijing", qualifier=qualifier, tolerance=tolerance,
                  base=base_obj,
                  milestones=stones, wording=text(f"{qualifier} {milestones}"), quote="test", source="test",
                  confidence="medium", evidence=list(evidence),
                  period_average=tuple(int(y) for y in period.split("-")) if period else None)


def parse_points(code: str, points: str, region: str = "beijing") -> list[dict]:
    return [{"indicator": code, "region": region, "year": int(y), "value": float(v)}
            for y, v in (p.split(":") for p in points.split())]


def read_table(csv_text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(csv_text.strip()), skipinitialspace=True, keep_default_na=False,
                       na_values=[""], dtype={"points": str, "base": str})


def run_table(shipped: Catalog, csv_text: str, *, today: date = TODAY, editions=()) -> tuple:
    """Build one indicator per case, assess, and return (expected, actual) on the expected columns."""
    spec = read_table(csv_text)
    indicators, obs = [], []
    for case in spec.itertuples(index=False):
        targets = []
        if isinstance(case.qualifier, str):
            tol = None if pd.isna(case.tolerance) else float(case.tolerance)
            milestones = case.milestones if isinstance(case.milestones, str) else ""
            base = case.base if isinstance(case.base, str) else ""
            targets.append(make_target(case.qualifier, milestones, base=base, tolerance=tol))
        growth = case.growth if isinstance(case.growth, str) else None
        eds = editions if case.kind == "rank" else ()
        indicators.append(make_indicator(case.case, kind=case.kind, direction=case.direction, growth=growth,
                                         targets=targets, editions=eds))
        if isinstance(case.points, str):
            obs += parse_points(case.case, case.points)
    catalog = make_catalog(shipped, indicators)
    frame = pd.DataFrame(obs, columns=["indicator", "region", "year", "value"])
    result = assess(frame, catalog, today=today, region="beijing")
    keys = ["case", "milestone_year"] if "milestone_year" in spec else ["case"]
    result = result.rename(columns={"indicator": "case"})
    checked = [c for c in spec.columns if c not in GIVEN and c != "milestone_year"]
    actual = result.set_index(keys).loc[spec.set_index(keys).index, checked].reset_index()
    expected = spec[keys + checked]
    return _normalise(expected), _normalise(actual)


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as floats rounded to 4 decimals; text with '-' for empty, so both sides compare alike."""
    out = {}
    for col in frame.columns:
        values = frame[col]
        numeric = pd.to_numeric(values.astype(object).where(values.notna(), np.nan), errors="coerce")
        if col not in TEXT_COLUMNS and (numeric.notna() | values.isna()).all():
            out[col] = numeric.astype(float).round(4)
        else:
            present = values.notna() & (values.astype(str) != "")
            out[col] = values.astype(object).where(present, "-").astype(str)
    return pd.DataFrame(out)


def check(shipped: Catalog, csv_text: str, **kwargs) -> None:
    expected, actual = run_table(shipped, csv_text, **kwargs)
    assert_frame_equal(actual, expected, check_dtype=False, atol=1e-9, rtol=0)


def _placeholders(template: str) -> set[str]:
    """The {names} a sentence template fills in."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


# --------------------------------------------------------------------------------------------- ratio method

RATIO_METHOD = """
case,      kind, direction, growth,   qualifier, tolerance, base,     milestones, points,   status,      actual_rate, required_rate, ratio,   score
C_ON,      level, higher,   compound, at_least,  ,          2020:100, 2025:200,   2023:150, on_track,    14.4714,     14.8698,       0.9732,  2.6658
C_MOD,     level, higher,   compound, at_least,  ,          2020:100, 2025:200,   2023:130, moderate,    9.1393,      14.8698,       0.6146,  0.1045
C_INS,     level, higher,   compound, at_least,  ,          2020:100, 2025:200,   2023:110, insufficient, 3.2280,     14.8698,       0.2171,  -1.5955
C_AWAY,    level, higher,   compound, at_least,  ,          2020:100, 2025:200,   2023:90,  moving_away, -3.4511,     14.8698,       -0.2321, -3.4670
L_EDGE95,  share, higher,   linear,   at_least,  ,          2020:100, 2030:200,   2024:138, on_track,    9.5,         10,            0.95,    2.5001
L_EDGE60,  share, higher,   linear,   at_least,  ,          2020:100, 2030:200,   2024:124, moderate,    6,           10,            0.6,     0.0000
L_EDGE0,   share, higher,   linear,   at_least,  ,          2020:100, 2030:200,   2024:100, insufficient, 0,          10,            0,       -2.5
L_AWAY,    share, higher,   linear,   at_least,  ,          2020:100, 2030:200,   2024:99.6, moving_away, -0.1,       10,            -0.01,   -2.5417
"""  # noqa: E501


def test_ratio_method_statuses_and_threshold_edges(catalog):
    """R = d * actual / |required|; bands 0.95 / 0.60 / 0 with the lower edge inclusive; Open SDG score."""
    check(catalog, RATIO_METHOD)


QUALIFIERS = """
case,      kind,  direction, growth,   qualifier, tolerance, base,    milestones, points,    status,      ratio,   score
LEAST_EQ,  level, higher,    compound, at_least,  ,          2020:100, 2025:200,  2024:200,  achieved,    1.2724,  5
EXCEED_EQ, level, higher,    compound, exceed,    ,          2020:100, 2025:200,  2024:200,  on_track,    1.2724,  4.8031
EXCEED_GT, level, higher,    compound, exceed,    ,          2020:100, 2025:200,  2024:200.5, achieved,   ,        5
MOST_EQ,   level, lower,     compound, at_most,   ,          2020:50,  2025:40,   2023:40,   achieved,    ,        5
MOST_AWAY, level, lower,     compound, at_most,   ,          2020:50,  2025:40,   2023:55,   moving_away, -0.7396, -5
EXCEED_LO, level, lower,     compound, exceed,    ,          2020:50,  2025:40,   2023:39,   achieved,    ,        5
"""  # noqa: E501


def test_target_kinds_and_exceed_is_strict(catalog):
    """'At least' is met at equality, 'exceed' only strictly beyond (in the desired direction)."""
    expected, actual = run_table(catalog, QUALIFIERS)
    # the ratio is reported for achieved rows too; only compare where the table gives one
    given = expected["ratio"].notna()
    assert_frame_equal(actual[given], expected[given], check_dtype=False, atol=1e-9, rtol=0)
    rest = ["case", "status", "score"]
    assert_frame_equal(actual[rest], expected[rest], check_dtype=False, atol=1e-9, rtol=0)


BANDS = """
case,      kind,  direction, growth, qualifier, tolerance, base,     milestones, points,     status,      band_low, band_high, maintain, ratio,   score,   status_rank
B_LOW_IN,  share, higher,    linear, about,     1,         2020:6.44, 2025:6,    2024:5,     within_band, 5,        7,         1,        ,        5,       1
B_HIGH_IN, share, higher,    linear, about,     1,         2020:6.44, 2025:6,    2024:7,     within_band, 5,        7,         1,        ,        5,       1
B_ABOVE,   share, higher,    linear, about,     1,         2020:6.44, 2025:6,    2024:7.01,  above_band,  5,        7,         1,        ,        5,       1
B_BELOW,   share, higher,    linear, about,     1,         2020:6.44, 2025:6,    2024:4.99,  below_band,  5,        7,         1,        ,        ,        11
R_EDGE_IN, share, higher,    linear, about,     ,          2019:15.9, 2025:17,   2025:16.15, within_band, 16.15,    17.85,     0,        0.2273,  5,       1
R_BELOW,   share, higher,    linear, about,     ,          2019:15.9, 2025:17,   2025:16.14, below_band,  16.15,    17.85,     0,        0.2182,  -1.5909, 11
R_TOP_IN,  share, higher,    linear, about,     ,          2019:15.9, 2025:17,   2025:17.85, within_band, 16.15,    17.85,     0,        1.7727,  5,       1
R_ABOVE,   share, higher,    linear, about,     ,          2019:15.9, 2025:17,   2025:17.86, above_band,  16.15,    17.85,     0,        1.7818,  5,       1
R_REACH,   share, higher,    linear, about,     ,          2019:15.9, 2025:17,   2025:16,    below_band,  16.15,    17.85,     0,        0.0909,  -2.1212, 11
LO_ABOVE,  share, lower,     linear, about,     1,         2020:20,  2025:10,    2022:12,    above_band,  9,        11,        0,        2,       5,       11
LO_BELOW,  share, lower,     linear, about,     1,         2020:20,  2025:10,    2022:8.5,   below_band,  9,        11,        0,        2.875,   5,       1
"""  # noqa: E501


def test_about_bands_edges_tolerance_and_the_ratio(catalog):
    """Edges inclusive; default tolerance 5 % of X; a baseline inside the band means 'maintain' (no ratio);
    overshooting on the favourable side ranks with within_band, the other side with below_band."""
    check(catalog, BANDS)
    assert STATUS_ORDER.index("within_band") == 1 and STATUS_ORDER.index("below_band") == 11


GUARDS = """
case,        kind,  direction, growth,   qualifier, tolerance, base,     milestones, points,    status,            guard,        ratio,   score
G_ONE,       level, higher,    compound, at_least,  ,          2020:,    2025:200,   2021:150,  insufficient_data, one_point,    ,
G_NODATA,    level, higher,    compound, at_least,  ,          2020:,    2025:200,   ,          insufficient_data, no_data,      ,
G_ONE_MET,   level, higher,    compound, exceed,    ,          2020:,    2025:100,   2022:120,  achieved,          one_point,    ,        5
G_ZERO_BASE, level, higher,    compound, at_least,  ,          2020:0,   2025:10,    2022:1,    on_track,          zero_base,    5.7675,  5
G_SIGN,      level, higher,    compound, at_least,  ,          2020:-5,  2025:10,    2022:3,    insufficient_data, sign_change,  ,
G_ZERO_TGT,  level, lower,     compound, at_most,   ,          2020:10,  2025:0,     2022:5,    insufficient,      zero_target,  0.3481,  -1.0498
G_TGT_SIGN,  level, lower,     compound, at_most,   ,          2020:5,   2025:-5,    2022:2,    insufficient_data, target_sign,  ,
G_FLAT,      level, higher,    compound, at_least,  ,          2020:100, 2025:100,   2022:90,   moving_away,       -,            ,
G_NEG_BASE,  level, higher,    compound, at_least,  ,          2020:-100, 2025:-50,  2023:-80,  insufficient,      -,            0.5537,  -0.1927
"""  # noqa: E501


def test_guards_one_point_zero_base_sign_change_and_target_met(catalog):
    """Open SDG's guards: < 2 points, zero base or target (±0.001), sign changes; negative bases by sign."""
    check(catalog, GUARDS)


NO_TARGET = """
case,     kind,  direction, growth,   qualifier, tolerance, base, milestones, points,                status,               annual_growth_pct, baseline_year, baseline_source, rank_change, edition_breaks
N_SIG,    level, higher,    compound, ,          ,          ,     ,           2020:100 2022:103,     significant_progress, 1.4889,            2020,          observed,        ,            -
N_MOD,    level, higher,    compound, ,          ,          ,     ,           2020:100 2022:101,     moderate_progress,    0.4988,            2020,          observed,        ,            -
N_FLAT,   level, higher,    compound, ,          ,          ,     ,           2020:100 2022:100,     moderate_progress,    0,                 2020,          observed,        ,            -
N_AWAY,   level, higher,    compound, ,          ,          ,     ,           2020:100 2022:99,      moderate_away,        -0.5013,           2020,          observed,        ,            -
N_FAR,    level, higher,    compound, ,          ,          ,     ,           2020:100 2022:97,      significant_away,     -1.5114,           2020,          observed,        ,            -
N_LOWER,  level, lower,     compound, ,          ,          ,     ,           2020:100 2022:97,      significant_progress, -1.5114,           2020,          observed,        ,            -
N_SHARE,  share, higher,    linear,   ,          ,          ,     ,           2020:10 2025:10.5,     significant_progress, 1.0,               2020,          observed,        ,            -
N_WINDOW, level, higher,    compound, ,          ,          ,     ,           2018:50 2020:100 2022:103, significant_progress, 1.4889,        2020,          observed,        ,            -
N_ONE,    level, higher,    compound, ,          ,          ,     ,           2021:5,                insufficient_data,    ,                  2021,          observed,        ,            -
N_CTX,    level, higher,    compound, none,      ,          2020:50, ,        2020:40 2022:55,       significant_progress, 4.8809,            2020,          plan,            ,            -
K_UP,     rank,  lower,     ,         ,          ,          ,     ,           2020:5 2021:4 2023:3,  rank_improved,        ,                  2020,          observed,        -2,          2021;2022
K_SAME,   rank,  lower,     ,         ,          ,          ,     ,           2020:3 2023:3,         rank_unchanged,       ,                  2020,          observed,        0,           2021;2022
K_DOWN,   rank,  lower,     ,         ,          ,          ,     ,           2021:3 2022:5,         rank_worsened,        ,                  2021,          observed,        2,           2022
K_TOP,    rank,  lower,     ,         top_n,     ,          2020:8, 2025:5,   2023:6,                rank_improved,        ,                  2020,          plan,            -2,          2021;2022
K_TOP_MET, rank, lower,     ,         top_n,     ,          2020:8, 2025:5,   2023:5,                achieved,             ,                  2020,          plan,            -3,          2021;2022
"""  # noqa: E501


def test_no_target_classification_and_ranks(catalog):
    """Eurostat's cut-offs 1 / 0 / -1 %/yr in the desired direction (0 counts as progress); a share's linear
    change relative to its base; ranks by the change of position only, with edition breaks in the window."""
    editions = [Edition(year=year, field=field, note=text(f"{field} cities"))
                for year, field in ((2020, 30), (2021, 50), (2022, 100))]
    check(catalog, NO_TARGET, editions=editions)


OUTLOOK = """
case,    kind,  direction, growth,   qualifier, tolerance, base,     milestones,         points,                    milestone_year, latest_year, gap, progress_share, path_value_latest, gap_to_path, required_rate_from_latest, expected_at_target, expected_score, expected_status,          method_disagreement, attainment_year
C_PATH,  level, higher,    compound, at_least,  ,          2020:100, 2025:200,           2023:150,                  2025,           2023,        50,  0.5,            151.5717,          1.5717,      15.4701,                   196.5556,           0.9656,         on_track,                 0,                   2026
M_TWO,   level, higher,    compound, at_least,  ,          2020:100, 2025:150 2030:300,  2023:130 2027:200,         2025,           2023,        20,  0.6,            127.5425,          -2.4575,     7.4172,                    154.8480,           1.0970,         on_track,                 0,                   2025
M_TWO,   level, higher,    compound, at_least,  ,          2020:100, 2025:150 2030:300,  2023:130 2027:200,         2030,           2027,        100, 0.5,            215.7669,          15.7669,     14.4714,                   269.1800,           0.8459,         acceleration_needed,      0,                   2032
L_SLOW,  share, higher,    linear,   at_least,  ,          2020:10,  2025:20,            2023:10.3,                 2025,           2023,        9.7, 0.03,           16,                5.7,         4.85,                      10.5,               0.05,           stagnation_or_regression, 1,
RUN,     level, higher,    compound, at_least,  ,          2020:90,  2025:100,           2021:101 2022:99 2023:102 2024:105, 2025,  2024,        -5,  1.5,            97.9148,           -7.0852,     -4.7619,                   109.1254,           1.9125,         achieved,                 0,                   2023
"""  # noqa: E501


def test_gap_path_projection_and_un_expected_value(catalog):
    """Gap to the target and to the required path; the UN expected value and score; the ratio and UN
    methods disagree when R is in [0, 0.1); attainment at the current pace (or the first year of the run
    of years meeting it); later observations do not count towards an earlier milestone."""
    check(catalog, OUTLOOK)


def test_period_average_target_uses_the_geometric_mean_of_the_years_observed(catalog):
    ind = make_indicator("AVG", kind="growth_rate", growth="linear", targets=[
        make_target("about", "2025:7.5", base="2020:", period="2021-2025")])
    cat = make_catalog(catalog, [ind])
    obs = pd.DataFrame(parse_points("AVG", "2019:5 2021:7 2022:8"))
    row = assess(obs, cat, today=TODAY).iloc[0]
    # sqrt(1.07 * 1.08) - 1 = 7.4988 %, within 7.5 ± 0.375; two of five years seen, so provisional
    assert (row["status"], round(row["period_mean"], 4), row["n_points"], row["guard"]) == (
        "within_band", 7.4988, 2, "partial_period")
    band = (row["band_low"], row["band_high"])
    assert (row["latest_year"], row["latest_value"], band) == (2022, 8.0, (7.125, 7.875))
    assert np.isnan(row["ratio"]) and np.isnan(row["actual_rate"]) and pd.isna(row["attainment_year"])


def test_qualitative_goals_are_listed_with_their_evidence(catalog):
    goal = make_indicator("GOAL", kind="qualitative", targets=[
        make_target("qualitative", "2025:basically_formed 2035:globally_leading", evidence=["C_ON"])])
    cat = make_catalog(catalog, [goal, make_indicator("C_ON")])
    rows = assess(pd.DataFrame(columns=["indicator", "region", "year", "value"]), cat, today=TODAY)
    expected = pd.DataFrame({"indicator": ["GOAL", "GOAL"], "milestone_year": [2025, 2035],
                             "status": ["qualitative", "qualitative"],
                             "target_text": ["basically_formed", "globally_leading"],
                             "evidence": ["C_ON", "C_ON"]})
    assert_frame_equal(rows[expected.columns], expected, check_dtype=False)
    assert rows["score"].isna().all() and not rows["stale"].any()


@pytest.mark.parametrize(("frequency", "latest", "stale"), [
    ("annual", 2024, False), ("annual", 2023, True), ("quarterly", 2025, False), ("quarterly", 2024, True),
    ("once", 2001, False),
])
def test_stale_flag_follows_the_frequency(catalog, frequency, latest, stale):
    cat = make_catalog(catalog, [make_indicator("X", frequency=frequency)])
    obs = pd.DataFrame(parse_points("X", f"2020:1 {latest}:2"))
    assert assess(obs, cat, today=TODAY).iloc[0]["stale"] == stale


def test_filters_and_rows(catalog):
    """A series with a target gets no no-target row; other regions' series do; plan and region filter."""
    ind = make_indicator("T", targets=[make_target("at_least", "2025:200", base="2020:100")])
    cat = make_catalog(catalog, [ind])
    obs = pd.DataFrame(parse_points("T", "2022:120") + parse_points("T", "2020:1 2022:2", region="shanghai"))
    rows = assess(obs, cat, today=TODAY)
    assert rows[["region", "qualifier", "status"]].values.tolist() == [
        ["beijing", "at_least", "moderate"], ["shanghai", "none", "significant_progress"]]
    assert assess(obs, cat, region="shanghai")["region"].tolist() == ["shanghai"]
    assert assess(obs, cat, plan="bj-14fyp-iscc")["region"].tolist() == ["beijing"]
    assert assess(obs, cat, plan="bj-2035-vision").empty
    assert list(assess(obs.iloc[:0], cat, plan="bj-2035-vision").columns) == ASSESSMENT_COLUMNS
    with pytest.raises(ValueError, match="unknown plan"):
        assess(obs, cat, plan="nope")


def test_observations_of_unknown_indicators_are_ignored_and_duplicates_take_the_last(catalog):
    cat = make_catalog(catalog, [make_indicator("X")])
    obs = parse_points("X", "2020:100 2022:100 2022:103") + parse_points("UNKNOWN", "2020:1 2021:2")
    obs = pd.DataFrame(obs)
    rows = assess(obs, cat, today=TODAY)
    assert rows[["indicator", "latest_value", "n_points"]].values.tolist() == [["X", 103.0, 2]]


# --------------------------------------------------------------------------------------------- trajectories

PATHS = """
growth,   baseline_year, baseline_value, milestone_year, target, year, value
compound, 2020,          100,            2023,           800,    2020, 100
compound, 2020,          100,            2023,           800,    2021, 200
compound, 2020,          100,            2023,           800,    2022, 400
compound, 2020,          100,            2023,           800,    2023, 800
linear,   2020,          6.44,           2024,           6,      2020, 6.44
linear,   2020,          6.44,           2024,           6,      2021, 6.33
linear,   2020,          6.44,           2024,           6,      2022, 6.22
linear,   2020,          6.44,           2024,           6,      2023, 6.11
linear,   2020,          6.44,           2024,           6,      2024, 6
compound, 2020,          -2,             2022,           2,      2020, -2
compound, 2020,          -2,             2022,           2,      2021, 0
compound, 2020,          -2,             2022,           2,      2022, 2
"""  # noqa: E501


def test_required_path_compound_linear_and_no_compound_path():
    table = read_table(PATHS)
    for (growth, y0year, y0, ty, target), expected in table.groupby(
            ["growth", "baseline_year", "baseline_value", "milestone_year", "target"], sort=False):
        path = required_path(y0year, y0, ty, target, growth)
        expected = expected[["year", "value"]].reset_index(drop=True)
        assert_frame_equal(path.round(6), expected, check_dtype=False)
    assert required_path(2025, 1, 2020, 2, "linear").empty


def test_projection_carries_the_current_pace_forward():
    compound = projection(2023, 100.0, 2025, 10.0, "compound")
    assert_frame_equal(compound, pd.DataFrame({"year": [2023, 2024, 2025], "value": [100.0, 110.0, 121.0]}),
                       check_dtype=False)
    linear = projection(2023, 6.5, 2025, -0.25, "linear")
    assert linear["value"].tolist() == [6.5, 6.25, 6.0]
    assert projection(2023, 1.0, 2025, float("nan"), "linear").empty


# --------------------------------------------------------------------------------------------- roll-up

ASSESSED = """
indicator, region,  plan, pillar,  milestone_year, status,       score
A,         beijing, p,    science, 2025,           on_track,     3
A,         beijing, p,    science, 2035,           moderate,     1
B,         beijing, p,    science, 2020,           achieved,     5
C,         beijing, ,     science, ,               significant_progress,
D,         beijing, p,    talent,  2025,           below_band,   -2
E,         beijing, p,    talent,  2025,           insufficient_data,
"""  # noqa: E501


def test_rollup_counts_each_series_once_with_its_next_milestone():
    frame = read_table(ASSESSED).astype({"milestone_year": "Int64"})
    table = rollup(frame, today=date(2026, 1, 1))
    assert list(table.columns) == ROLLUP_COLUMNS and table["level"].tolist() == ["pillar", "pillar", "all"]
    result = table.set_index("pillar")
    # A counts with 2035 (2025 has passed), B with its only (past) milestone
    science = ["n", "moderate", "achieved", "significant_progress", "on_track"]
    assert result.loc["science", science].tolist() == [3, 1, 1, 1, 0]
    assert result.loc["science", "mean_score"] == 3.0  # (1 + 5) / 2
    talent = ["n", "below_band", "insufficient_data", "n_scored", "mean_score"]
    assert result.loc["talent", talent].tolist() == [2, 1, 1, 1, -2.0]
    assert result.loc["all", ["n", "n_scored", "mean_score"]].tolist() == [5, 3, pytest.approx(4 / 3)]


# --------------------------------------------------------------------------------------------- labels


def test_every_status_has_labels_descriptions_and_a_rank():
    codes = set(STATUS_ORDER) | set(EXPECTED_STATUS_ORDER)
    assert codes == set(STATUS_LABELS) == set(STATUS_DESCRIPTIONS)
    for code in codes:
        assert STATUS_LABELS[code].zh and STATUS_LABELS[code].en
        assert STATUS_DESCRIPTIONS[code].zh and STATUS_DESCRIPTIONS[code].en
    assert STATUS_LABELS["on_track"] == Text(zh="按期推进", en="On track")
    assert status_rank("above_band", "higher") == status_rank("within_band")
    assert status_rank("within_band") < status_rank("above_band", "lower")
    assert status_rank("below_band", "band") == status_rank("above_band", "band")
    assert mirror_status("above_band") == "below_band" and mirror_status("on_track") == "on_track"
    for key, sentence in SENTENCES.items():
        assert isinstance(sentence, i18n.Text) and sentence.zh and sentence.en, key
        assert _placeholders(sentence.zh) == _placeholders(sentence.en), key


def test_status_label_picks_the_language_and_shows_an_unknown_code_as_it_is():
    assert status_label("on_track", "zh") == "按期推进"
    assert status_label("on_track", "en") == "On track"
    assert status_label("stagnation_or_regression", "en") == "Stagnation or regression"
    assert status_label("no_such_status", "zh") == status_label("no_such_status", "en") == "no_such_status"
    assert all(isinstance(label, i18n.Text) for label in (*STATUS_LABELS.values(), *STATUS_DESCRIPTIONS.values()))


def test_explain_states_the_numbers_in_both_languages(catalog):
    ind = make_indicator("C_ON", targets=[make_target("at_least", "2025:200", base="2020:100")])
    cat = make_catalog(catalog, [ind])
    row = assess(pd.DataFrame(parse_points("C_ON", "2023:150")), cat, today=TODAY).iloc[0]
    en, zh = explain(row, "en", cat.methods), explain(row, "zh")
    assert en[0] == "Status: On track." and zh[0] == "状态:按期推进。"
    joined_en, joined_zh = " ".join(en), " ".join(zh)
    for figure in ("+14.47 %/yr", "+14.87 %/yr", "R = 0.973", "196.6", "2026", "100 in 2020", "150 in 2023"):
        assert figure in joined_en, figure
    for figure in ("+14.47%/年", "+14.87%/年", "R = 0.973", "196.6", "2026年", "2020年100"):
        assert figure in joined_zh, figure


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_explain_has_a_sentence_for_every_guard_and_status(catalog, lang):
    spec = read_table(GUARDS)
    cat = make_catalog(catalog, [make_indicator(c.case, direction=c.direction, targets=[
        make_target(c.qualifier, c.milestones, base=c.base)]) for c in spec.itertuples()])
    obs = [p for c in spec.itertuples() if isinstance(c.points, str) for p in parse_points(c.case, c.points)]
    rows = assess(pd.DataFrame(obs), cat, today=TODAY)
    for _, row in rows.iterrows():
        sentences = explain(row, lang)
        assert sentences[0].endswith(("。", ".")) and STATUS_LABELS[row["status"]].pick(lang) in sentences[0]
        if row["guard"]:
            assert SENTENCES[row["guard"]].pick(lang) in sentences


# --------------------------------------------------------------------------------------------- what a status rests on

# Each case: a series with its values' confidence and flags ("year:value:confidence:flags"), a catalog break
# ("year:kind" or empty), and what the assessment must say. The same series without the break is C_PLAIN.
RESTS_ON = """
case,      qualifier, base,     milestones, points,                                   break,                  status,         ratio,  series_breaks, caveats
C_PLAIN,   at_least,  2020:100, 2025:200,   2023:150:high:,                            ,                       on_track,       0.9732, ,              -
C_GDP,     at_least,  2020:100, 2025:200,   2023:150:high:,                            2022:gdp_census_revision, on_track,     0.9732, 2022,          crosses_break
C_SCOPE,   exceed,    2020:100, 2025:120,   2023:150:high:,                            2022:change_of_scope,   not_comparable, ,       2022,          crosses_break
C_BEFORE,  at_least,  2020:100, 2025:200,   2023:150:high:,                            2020:change_of_scope,   on_track,       0.9732, ,              -
C_FLAG_B,  at_least,  ,         2025:200,   2020:100:high: 2023:150:high:b,            ,                       on_track,       0.9732, 2023,          crosses_break
C_LOW,     at_least,  ,         2025:200,   2020:100:high: 2023:150:low:p,             ,                       on_track,       0.9732, ,              low_confidence;provisional
C_ONE,     at_least,  ,         2025:200,   2021:150:medium:e,                         ,                       insufficient_data, ,    ,              single_point;estimated;stale
"""  # noqa: E501


def test_a_break_changes_the_status_as_documented_and_caveats_say_what_a_status_rests_on(catalog):
    """A break after the baseline is a caveat; a change of scope makes the status not_comparable (no ratio,
    no score, no attainment year); a break at the baseline's year is not crossed; low confidence, a
    provisional or estimated latest value and a single point are caveats, with a sentence in both languages."""
    from indicators.catalog import SeriesBreak
    from indicators.progress import caveat_sentences, tentative

    spec = read_table(RESTS_ON)
    indicators, obs = [], []
    for case in spec.itertuples(index=False):
        base = case.base if isinstance(case.base, str) else ""
        breaks = []
        if isinstance(case[5], str):
            year, kind = case[5].split(":")
            breaks.append(SeriesBreak(year=int(year), kind=kind, text=text(kind), source="test"))
        target = make_target(case.qualifier, case.milestones, base=base)
        indicators.append(make_indicator(case.case, targets=[target], breaks=breaks))
        for point in case.points.split():
            year, value, confidence, flags = point.split(":")
            obs.append({"indicator": case.case, "region": "beijing", "year": int(year), "value": float(value),
                        "confidence": confidence, "flags": flags})
    result = assess(pd.DataFrame(obs), make_catalog(catalog, indicators), today=date(2024, 6, 1), region="beijing")
    result = result.set_index("indicator").loc[spec["case"]]
    assert list(result["status"]) == list(spec["status"])
    assert np.allclose(result["ratio"].astype(float), spec["ratio"].astype(float), equal_nan=True, atol=1e-4)
    given = spec["series_breaks"].map(lambda v: "-" if pd.isna(v) else str(int(v)))
    assert list(result["series_breaks"].replace("", "-")) == list(given)
    assert list(result["caveats"].replace("", "-")) == list(spec["caveats"])
    scope = result.loc["C_SCOPE"]
    assert pd.isna(scope["score"]) and pd.isna(scope["actual_rate"]) and pd.isna(scope["attainment_year"])
    assert scope["gap"] == pytest.approx(-30)  # the gap to the target is still shown
    assert result.loc["C_LOW", "latest_confidence"] == "low" and result.loc["C_LOW", "latest_flags"] == "p"
    assert result.loc["C_LOW", "baseline_basis"] == "observed_base_year"
    assert result.loc["C_ONE", "baseline_basis"] == "first_observation"
    assert result.loc["C_PLAIN", "baseline_basis"] == "plan"
    assert tentative(result.loc["C_LOW", "caveats"], "on_track") and not tentative("provisional", "on_track")
    assert tentative("crosses_break", "on_track") and not tentative("crosses_break", "within_band")
    assert tentative("low_confidence", "within_band")
    zh, en = (caveat_sentences(result.loc["C_SCOPE"].to_dict() | {"caveats": "crosses_break"}, lang)
              for lang in ("zh", "en"))
    assert "2022" in zh[0] and "序列断点" in zh[0] and "series break" in en[0]
    # explain() says the caveats and the label of the status
    why = explain(result.loc["C_SCOPE"].to_dict() | {"indicator": "C_SCOPE"}, "en")
    assert why[0].endswith("Not comparable.") or "Not comparable" in why[0]
    assert any("series break" in s for s in why)
