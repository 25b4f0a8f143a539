"""The catalog: every entry complete, every reference resolvable, and bad files named precisely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from indicators.catalog import QUANTIFIED_QUALIFIERS, CatalogError, load_catalog, normalise_name

from .support import CATALOG_DIR, REFERENCE_DIR


def test_every_indicator_is_complete(catalog):
    assert len(catalog.indicators) >= 20
    for ind in catalog.indicators.values():
        assert ind.unit in catalog.units, ind.code
        assert ind.pillar in catalog.pillars, ind.code
        assert ind.direction in ("higher", "lower", "band"), ind.code
        assert ind.name.zh and ind.name.en and ind.short_name.zh and ind.short_name.en, ind.code
        assert ind.description.zh and ind.measurement.en and ind.publisher.zh, ind.code
        for target in ind.targets:
            assert target.source and target.quote and target.confidence, ind.code
            if target.qualifier in QUANTIFIED_QUALIFIERS:
                assert all(m.value is not None for m in target.milestones), ind.code


def test_plan_targets_match_the_reference_table(catalog):
    """The targets the users quote most, as the plan states them."""
    rd = catalog.indicators["RD_GDP_RATIO"].targets[0]
    assert (rd.qualifier, rd.base.year, rd.milestones[0].year, rd.milestones[0].value) == ("about", 2020, 2025, 6.0)
    br = catalog.indicators["BASIC_RESEARCH_SHARE"].targets[0]
    assert (br.qualifier, br.base.year, br.milestones[0].value) == ("about", 2020, 17.0)
    assert catalog.indicators["TECH_CONTRACT_TURNOVER"].targets[0].qualifier == "exceed"
    assert catalog.indicators["HIGHTECH_VA"].targets[0].milestones[0].value == 12000
    assert catalog.indicators["RD_GDP_RATIO"].external_codes["wdi"] == "GB.XPD.RSDV.GD.ZS"


def test_a_base_value_is_only_one_the_plan_states(catalog):
    """No plan text read states a base value: observed values (with their publication) serve as baselines, and a
    context entry (no target) carries no base at all, so the code labels the baseline as observed."""
    for ind, target in catalog.targets():
        assert target.base is None or target.base.value is None, ind.code
        if target.qualifier == "none":
            assert target.base is None, ind.code


def test_series_breaks_and_disclosures(catalog):
    """The breaks a reader must know about, each with its source; who paid for the rankings that do."""
    breaks = {code: {(b.year, b.kind) for b in ind.breaks} for code, ind in catalog.indicators.items()}
    assert {(2019, "gdp_census_revision"), (2024, "gdp_census_revision")} <= breaks["RD_GDP_RATIO"]
    assert (2024, "change_of_scope") in breaks["HIGHTECH_VA"]
    assert {(2021, "field_change"), (2022, "field_change"), (2023, "field_change")} <= breaks["GIHI_RANK"]
    assert breaks["GIHI_SCIENCE_CENTER_RANK"] == breaks["GIHI_RANK"]
    assert (2023, "method_change") in breaks["NATURE_INDEX_CITY_RANK"] & breaks["NATURE_INDEX_SHARE"]
    assert (2025, "method_change") in breaks["WIPO_CLUSTER_RANK"]
    assert all(b.source.strip() for ind in catalog.indicators.values() for b in ind.breaks)
    for code in ("GIHI_RANK", "GIHI_SCIENCE_CENTER_RANK", "NATURE_INDEX_CITY_RANK", "NATURE_INDEX_SHARE"):
        sponsor = catalog.indicators[code].sponsorship
        assert sponsor is not None and "Beijing" in sponsor.en and "北京市科" in sponsor.zh, code
    quantified = [i for i in catalog.indicators.values() if i.kind != "qualitative"]
    assert sum(i.release is not None for i in quantified) >= len(quantified) - 2


def test_reference_indicators_are_all_shipped(catalog):
    """Every indicator of the reference table and observation file (tests/data/reference) has a catalog entry."""
    import csv

    with (REFERENCE_DIR / "indicators_plan.csv").open(encoding="utf-8") as fh:
        plan_codes = {row["code"] for row in csv.DictReader(fh)}
    with (REFERENCE_DIR / "observations.csv").open(encoding="utf-8") as fh:
        obs_codes = {row["indicator_code"] for row in csv.DictReader(fh)}
    assert plan_codes and obs_codes, "the reference files name no indicator"
    assert plan_codes | obs_codes <= set(catalog.indicators)


@pytest.mark.parametrize(
    ("name", "code"),
    [("北京市", "beijing"), ("Beijing", "beijing"), ("BJ", "beijing"), ("CN-BJ", "beijing"), ("全国", "china"),
     ("San Francisco-San Jose", "sf_san_jose"), ("San Francisco Bay", "sf_bay"),
     ("San Francisco Bay Area", "sf_bay_area"), ("Silicon Valley", "silicon_valley"), ("旧金山湾区", None)],
)
def test_region_aliases_keep_different_areas_apart(catalog, name, code):
    assert catalog.find_region(name) == code


def test_indicator_aliases_in_both_languages(catalog):
    assert catalog.find_indicator("研发投入强度") == "RD_GDP_RATIO"
    assert catalog.find_indicator("Ｒ＆Ｄ intensity") == "RD_GDP_RATIO"  # full-width
    assert catalog.find_indicator("GB.XPD.RSDV.GD.ZS") == "RD_GDP_RATIO"
    assert catalog.find_indicator("技术合同成交额") == "TECH_CONTRACT_TURNOVER"
    assert normalise_name(" R&D 强度 ") == "r&d强度"


def _copy_catalog(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, root)
    return root


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "change", "expected"),
    [
        ("indicators/RD_GDP_RATIO.yaml", lambda d: d.pop("unit"),
         "indicators/RD_GDP_RATIO.yaml › RD_GDP_RATIO › unit: Field required"),
        ("indicators/RD_GDP_RATIO.yaml", lambda d: d.update(direction="up"),
         "indicators/RD_GDP_RATIO.yaml › RD_GDP_RATIO › direction: Input should be 'higher', 'lower' or 'band'"),
        ("indicators/RD_GDP_RATIO.yaml", lambda d: d.update(pillar="space"),
         "indicators/RD_GDP_RATIO.yaml › RD_GDP_RATIO › pillar: unknown pillar 'space'"),
        ("indicators/RD_GDP_RATIO.yaml", lambda d: d["targets"][0].update(region="atlantis"),
         "indicators/RD_GDP_RATIO.yaml › RD_GDP_RATIO › targets.0 › region: unknown region 'atlantis'"),
        ("indicators/RD_GDP_RATIO.yaml", lambda d: d["targets"][0]["milestones"][0].pop("value"),
         "indicators/RD_GDP_RATIO.yaml › RD_GDP_RATIO › targets.0.milestones.0: Value error, a milestone needs"),
        ("indicators/HIGHTECH_VA.yaml", lambda d: d["targets"][0].update(tolerance=1),
         "indicators/HIGHTECH_VA.yaml › HIGHTECH_VA › targets.0: Value error, a tolerance only applies"),
        ("regions.yaml", lambda d: d[1]["aliases"].append("北京市"),
         "regions.yaml › china › aliases: '北京市' also names 'beijing'"),
        ("regions.yaml", lambda d: d[0].update(kind="planet"),
         "regions.yaml › beijing › kind: Input should be"),
        ("catalog.yaml", lambda d: d.update(home_region="atlantis"),
         "catalog.yaml › home_region: unknown region 'atlantis'"),
    ],
)
def test_invalid_catalog_names_file_entry_and_field(tmp_path, file, change, expected):
    root = _copy_catalog(tmp_path)
    _edit(root / file, change)
    with pytest.raises(CatalogError) as info:
        load_catalog(root)
    assert any(p.startswith(expected) for p in info.value.problems), info.value.problems


def test_broken_yaml_is_reported(tmp_path):
    root = _copy_catalog(tmp_path)
    (root / "units.yaml").write_text("- code: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(root)
    assert info.value.problems[0].startswith("units.yaml: cannot read YAML")


def test_missing_catalog_folder(tmp_path):
    with pytest.raises(CatalogError, match="no catalog.yaml"):
        load_catalog(tmp_path)
