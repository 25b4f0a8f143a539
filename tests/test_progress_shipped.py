"""Target-gap analytics on the shipped data (SQLite and PostgreSQL), the status command, and the methodology
page's worked example checked against the computed figures."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from pandas.testing import assert_frame_equal

from indicators import queries
from indicators.cli import main
from indicators.progress import EXPECTED_STATUS_ORDER, STATUS_LABELS, STATUS_ORDER, assess, explain

METHODOLOGY = Path(__file__).resolve().parent.parent / "indicators" / "methodology"
TODAY = date(2026, 6, 1)

# Checked by hand against data/observations and the catalog (see methodology section 12).
BEIJING_TARGETS = """
indicator,                     milestone_year, status,            baseline_year, baseline_source, latest_year, latest_value
BASIC_RESEARCH_SHARE,          2025,           within_band,       2021,          observed,        2022,        16.6
DIGITAL_ECON_VA_GROWTH,        2025,           above_band,        2021,          observed,        2024,        7.7
GOAL_2025,                     2025,           qualitative,       ,              ,                ,
GOAL_2035,                     2035,           qualitative,       ,              ,                ,
HIGHTECH_VA,                   2025,           not_comparable,    2023,          observed,        2024,        14900
RD_GDP_RATIO,                  2025,           within_band,       2020,          observed,        2024,        6.58
RD_PERSONNEL_PER_10K_EMPLOYED, 2025,           insufficient_data, ,              ,                ,
SCI_LITERACY,                  2025,           within_band,       2020,          observed,        2023,        27.68
TECH_CONTRACT_TURNOVER,        2025,           achieved,          2020,          observed,        2023,        8536.9
UNICORN_WORLD_RANK,            2025,           qualitative,       2025,          observed,        2025,        3
ZGC_REVENUE,                   2025,           qualitative,       ,              ,                ,
"""  # noqa: E501


def _table(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text.strip()), skipinitialspace=True, keep_default_na=False,
                       na_values=[""])


def _beijing(engine, catalog) -> pd.DataFrame:
    return assess(queries.observations(engine), catalog, today=TODAY, region="beijing")


def test_beijing_has_a_row_per_milestone_with_the_expected_status(seeded_engine, catalog):
    rows = _beijing(seeded_engine, catalog)
    milestones = sorted((ind.code, m.year) for ind, t in catalog.targets() if t.region == "beijing"
                        for m in t.milestones)
    targeted = rows[rows["milestone_year"].notna()]
    pairs = zip(targeted["indicator"], targeted["milestone_year"].astype(int), strict=True)
    assert sorted(pairs) == milestones
    expected = _table(BEIJING_TARGETS)
    actual = targeted[expected.columns].reset_index(drop=True)
    actual = actual.astype({"baseline_year": "float64", "latest_year": "float64", "milestone_year": "int64"})
    actual["baseline_source"] = actual["baseline_source"].replace("", None)
    assert_frame_equal(actual, expected, check_dtype=False)


def test_worked_example_figures(seeded_engine, catalog):
    row = _beijing(seeded_engine, catalog).set_index("indicator").loc["BASIC_RESEARCH_SHARE"]
    # no 2020 value and no base value in the plan: the first observation (2021) is the baseline
    assert (row["baseline_year"], row["baseline_value"], row["baseline_basis"]) == (2021, 16.1, "first_observation")
    assert (row["latest_year"], row["latest_value"], row["status"]) == (2022, 16.6, "within_band")
    assert (row["band_low"], row["band_high"]) == pytest.approx((16.15, 17.85))
    assert row["actual_rate"] == pytest.approx(0.5) and row["required_rate"] == pytest.approx(0.9 / 4)
    assert row["ratio"] == pytest.approx(0.5 / 0.225) and row["ratio_status"] == "on_track"
    assert row["score"] == pytest.approx(5.0)  # 7.1429 R - 4.2857 = 11.59, capped
    assert row["expected_at_target"] == pytest.approx(18.1)
    assert row["expected_status"] == "on_track"
    assert not row["method_disagreement"] and row["attainment_year"] == 2022
    assert row["stale"]


def test_withdrawn_period_phrase_is_not_a_value(seeded_engine):
    """'基础研究经费占比保持在16%左右' (January 2026) describes the plan period: no 2025 value is stored."""
    shares = queries.observations(seeded_engine, indicator="BASIC_RESEARCH_SHARE", region="beijing")
    assert 2025 not in set(shares["year"]) and shares["year"].max() == 2022


def test_methodology_pages_cover_every_status_and_quote_the_computed_example(seeded_engine, catalog):
    row = _beijing(seeded_engine, catalog).set_index("indicator").loc["BASIC_RESEARCH_SHARE"]
    figures = [f"{row['actual_rate']:.4f}", f"{row['required_rate']:.4f}", f"{row['ratio']:.3f}",
               f"{row['score']:.2f}".replace("-", "−"), str(row["attainment_year"]), "16.15", "17.85"]
    for lang in ("zh", "en"):
        page = (METHODOLOGY / f"methodology.{lang}.md").read_text(encoding="utf-8")
        for code in set(STATUS_ORDER) | set(EXPECTED_STATUS_ORDER):
            assert f"`{code}`" in page, (lang, code)
            assert STATUS_LABELS[code].pick(lang) in page, (lang, code)
        for figure in figures:
            assert figure in page, (lang, figure)


def test_explanations_of_every_shipped_row(seeded_engine, catalog):
    rows = assess(queries.observations(seeded_engine), catalog, today=TODAY)
    for _, row in rows.iterrows():
        for lang in ("zh", "en"):
            sentences = explain(row, lang, catalog.methods)
            assert sentences and STATUS_LABELS[row["status"]].pick(lang) in sentences[0]


def test_as_of_assesses_what_was_known_then(seeded_engine, catalog):
    obs = queries.observations(seeded_engine, as_of=date(2022, 1, 1))
    rows = assess(obs, catalog, today=date(2022, 1, 1), region="beijing").set_index("indicator")
    # the 2021 R&D intensity was published in September 2022: only the 2020 value (NBS, 2021-09-22) was known
    known = rows.loc["RD_GDP_RATIO", ["latest_year", "n_points", "status", "baseline_source"]].tolist()
    assert known == [2020, 1, "within_band", "observed"]


def test_as_of_gives_the_preliminary_vintage_before_the_final_communique(seeded_engine):
    """China 2024: NBS preliminary estimate (2025-01-23) until the communiqué of 2025-09-29."""
    def value_on(day):
        frame = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="china", as_of=day)
        return frame.set_index("year").loc[2024, ["value", "flags"]].tolist()
    assert value_on(date(2025, 6, 1)) == [2.68, "p"]
    assert value_on(date(2025, 10, 1)) == [2.69, "b r"]


@pytest.fixture
def cli_instance(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "INNOVATION_MONITOR_CATALOG", "INNOVATION_MONITOR_DATA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INNOVATION_MONITOR_INSTANCE", str(tmp_path))
    runner = CliRunner()
    result = runner.invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    return runner


def test_status_command_csv_json_and_table(cli_instance):
    result = cli_instance.invoke(main, ["status", "--region", "北京", "--format", "csv", "--lang", "en"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout))
    required = ["indicator", "region", "milestone_year", "target", "qualifier", "baseline_year",
                "baseline_value", "latest_year", "latest_value", "gap", "progress_share", "actual_rate",
                "required_rate", "required_rate_from_latest", "ratio", "status", "expected_at_target",
                "attainment_year", "stale", "method_disagreement"]
    assert set(required) <= set(frame.columns) and set(frame["region"]) == {"beijing"}
    status = frame[frame["milestone_year"].notna()].set_index("indicator")["status"]
    assert status[["RD_GDP_RATIO", "TECH_CONTRACT_TURNOVER", "BASIC_RESEARCH_SHARE"]].tolist() == [
        "within_band", "achieved", "within_band"]
    assert frame.set_index("indicator").loc["RD_GDP_RATIO", "status_label"] == "Within the band"

    output = cli_instance.invoke(main, ["status", "--region", "beijing", "--format", "json"]).stdout
    records = json.loads(output)
    labels = {r["indicator"]: r["status_label"] for r in records}
    assert labels["TECH_CONTRACT_TURNOVER"] == "已实现" and len(records) == len(frame)

    table = cli_instance.invoke(main, ["status", "--region", "beijing", "--plan", "bj-2035-vision"])
    assert table.exit_code == 0 and "目标进展" in table.stdout and "定性" in table.stdout  # cells fold
    plan = cli_instance.invoke(main, ["status", "--plan", "bj-2035-vision", "--format", "csv"])
    assert pd.read_csv(io.StringIO(plan.stdout))["indicator"].tolist() == ["GOAL_2035"]


def test_status_command_rejects_unknown_plan_and_region(cli_instance):
    assert cli_instance.invoke(main, ["status", "--plan", "nope"]).exit_code == 2
    assert cli_instance.invoke(main, ["status", "--region", "atlantis"]).exit_code == 2
