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
BASIC_RESEARCH_SHARE,          2025,           below_band,        2019,          plan,            2025,        16
DIGITAL_ECON_VA_GROWTH,        2025,           within_band,       2024,          observed,        2024,        7.7
GOAL_2025,                     2025,           qualitative,       ,              ,                ,
GOAL_2035,                     2035,           qualitative,       ,              ,                ,
HIGHTECH_VA,                   2025,           achieved,          2023,          observed,        2024,        14900
RD_GDP_RATIO,                  2025,           within_band,       2020,          plan,            2024,        6.58
RD_PERSONNEL_PER_10K_EMPLOYED, 2025,           insufficient_data, ,              ,                ,
SCI_LITERACY,                  2025,           within_band,       2023,          observed,        2023,        27.68
TECH_CONTRACT_TURNOVER,        2025,           achieved,          2022,          observed,        2023,        8536.9
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
    assert (row["band_low"], row["band_high"]) == pytest.approx((16.15, 17.85))
    assert row["actual_rate"] == pytest.approx(0.1 / 6) and row["required_rate"] == pytest.approx(1.1 / 6)
    assert row["ratio"] == pytest.approx(1 / 11) and row["ratio_status"] == "insufficient"
    assert row["score"] == pytest.approx(4.1667 / 11 - 2.5)
    assert row["expected_at_target"] == pytest.approx(16)
    assert row["expected_status"] == "stagnation_or_regression"
    assert row["method_disagreement"] and row["attainment_year"] == 2034


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
    # the 2021 R&D intensity was published in September 2022: only the plan's 2020 base was known
    known = rows.loc["RD_GDP_RATIO", ["latest_year", "n_points", "status"]].tolist()
    assert known == [2020, 1, "within_band"]


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
        "within_band", "achieved", "below_band"]
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
