"""The command line against a real database: the commands run in this process (``support.invoke``), the
entry point a user runs as a process of its own (``support.run_command``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

from .support import PROJECT, CommandResult, invoke, run_command


def run_cli(*args: str, env: dict, check: bool = True) -> CommandResult:
    return invoke(*args, env=env, check=check)


def _env(database_url: str, instance: Path) -> dict:
    return {"DATABASE_URL": database_url, "INNOVATION_MONITOR_INSTANCE": str(instance)}


@pytest.fixture
def cli_env(database_url, tmp_path) -> dict:
    """The environment of a CLI run on an empty database."""
    return _env(database_url, tmp_path / "instance")


@pytest.fixture
def seeded_cli_env(seeded_url, tmp_path) -> dict:
    """The environment of a CLI run on a database after `init` (a copy, not `init` run again)."""
    return _env(seeded_url, tmp_path / "instance")


def test_the_command_runs_as_a_process_init_then_observations(tmp_path):
    """The entry point as a user runs it, once; the other tests call the same commands in this process."""
    env = _env(f"sqlite:///{tmp_path / 'monitor.sqlite3'}", tmp_path / "instance")
    init = run_command("init", env=env)
    assert init.returncode == 0, init.stderr
    assert "loaded as batch 2" in init.stdout
    out = run_command("observations", "--indicator", "RD_GDP_RATIO", "--region", "北京", "--format", "csv", env=env)
    assert out.returncode == 0, out.stderr
    assert pd.read_csv(StringIO(out.stdout)).set_index("year").loc[2024, "value"] == 6.58


def test_init_then_observations_prints_the_beijing_series_with_sources(cli_env):
    first = run_cli("init", env=cli_env)
    assert "loaded as batch 2" in first.stdout
    second = run_cli("init", env=cli_env)
    assert "Nothing to do" in second.stdout
    out = run_cli("observations", "--indicator", "RD_GDP_RATIO", "--region", "北京", "--format", "csv", env=cli_env)
    frame = pd.read_csv(StringIO(out.stdout))
    assert list(frame.columns[:8]) == ["indicator", "region", "year", "value", "unit", "source", "confidence", "batch"]
    assert frame.set_index("year").loc[[2016, 2020, 2024], "value"].tolist() == [5.78, 6.44, 6.58]
    assert frame["source"].notna().all()
    early = run_cli("observations", "--indicator", "RD_GDP_RATIO", "--region", "beijing", "--as-of", "2018-01-01",
                    "--format", "json", env=cli_env)
    assert [(r["year"], r["value"], r["batch"]) for r in json.loads(early.stdout)] == [(2016, 5.94, 1)]


def test_usage_errors_exit_2_and_unknown_names_are_explained(seeded_cli_env):
    bad_date = run_cli("observations", "--as-of", "yesterday", env=seeded_cli_env, check=False)
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr
    unknown = run_cli("observations", "--indicator", "NO_SUCH", env=seeded_cli_env, check=False)
    assert unknown.returncode == 2 and "未知指标" in unknown.stderr


def test_revert_of_unknown_batch_is_rejected_with_exit_1(seeded_cli_env):
    result = run_cli("revert", "999", env=seeded_cli_env, check=False)
    assert result.returncode == 1
    assert "批次 999 不存在" in result.stderr and "no batch 999" in result.stderr


def test_commands_before_init_say_what_to_do(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    result = run_cli("batches", env=env, check=False)
    assert result.returncode == 1 and "innovation-monitor init" in result.stderr


def test_every_command_the_readme_names_exists():
    from indicators.cli import main

    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"innovation-monitor ([a-z][a-z-]+)", readme))
    assert named, "the README names no commands"
    missing = named - set(main.commands)
    assert not missing, f"README names commands that do not exist: {missing}"


def test_indicators_package_never_imports_dash():
    code = ("import sys, importlib, pkgutil, indicators\n"
            "for m in pkgutil.walk_packages(indicators.__path__, 'indicators.'):\n"
            "    if m.name.startswith('indicators.migrations') or m.name == 'indicators.__main__':\n        continue\n"
            "    importlib.import_module(m.name)\n"
            "bad = sorted(n for n in sys.modules if n == 'dash' or n.startswith('dash.'))\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT, check=True)
    assert out.stdout.strip() == ""


def test_readme_and_ci_use_the_makefile():
    ci = (PROJECT / ".ci" / "run").read_text()
    assert "make test" in ci
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    assert Path(PROJECT / "Makefile").read_text().count("\ntest:") == 1


def test_csv_output_neutralises_formula_like_text(seeded_cli_env, tmp_path):
    upload = tmp_path / "formula.csv"
    upload.write_text("indicator,region,year,value,source,confidence,note\n"
                      'RD_GDP_RATIO,beijing,2025,6.6,test fixture - not a statistic,low,"=HYPERLINK(""http://x"")"\n',
                      encoding="utf-8")
    run_cli("ingest", str(upload), env=seeded_cli_env)
    out = run_cli("observations", "--indicator", "RD_GDP_RATIO", "--region", "beijing", "--format", "csv",
                  env=seeded_cli_env)
    frame = pd.read_csv(StringIO(out.stdout))
    assert frame.set_index("year").loc[2025, "note"] == "'=HYPERLINK(\"http://x\")"
    stored = run_cli("observations", "--indicator", "RD_GDP_RATIO", "--region", "beijing", "--format", "json",
                     env=seeded_cli_env)
    assert [r["note"] for r in json.loads(stored.stdout) if r["year"] == 2025] == ['=HYPERLINK("http://x")']


def test_as_of_answers_what_could_be_known_from_dated_vintages(seeded_cli_env, tmp_path):
    """Two uploads of the same value, a provisional then a revised vintage, each dated by its publication:
    ``--as-of`` gives the vintage published by that day, with its flags and publication; ``--history`` both."""
    head = "indicator,region,year,value,flags,published_on,publication,source,confidence\n"
    fixture = "test fixture - not a statistic"
    first, second = tmp_path / "preliminary.csv", tmp_path / "final.csv"
    first.write_text(head + f"RD_GDP_RATIO,wuhan,2023,3.0,,2024-10-02,nbs-rd-communique-2023,{fixture},high\n"
                            f"RD_GDP_RATIO,wuhan,2024,3.1,p,2025-01-23,nbs-rd-prelim-2024,{fixture},medium\n",
                     encoding="utf-8")
    second.write_text(head + f"RD_GDP_RATIO,wuhan,2024,3.2,r,2025-09-29,nbs-rd-communique-2024,{fixture},high\n",
                      encoding="utf-8")
    run_cli("ingest", str(first), env=seeded_cli_env)
    run_cli("ingest", str(second), env=seeded_cli_env)

    def known_on(day: str) -> pd.DataFrame:
        out = run_cli("observations", "--indicator", "RD_GDP_RATIO", "--region", "wuhan", "--as-of", day,
                      "--format", "csv", env=seeded_cli_env)
        return pd.read_csv(StringIO(out.stdout), keep_default_na=False).set_index("year")

    assert 2024 not in known_on("2024-12-31").index and 2023 in known_on("2024-12-31").index
    june = known_on("2025-06-01").loc[2024]
    assert (june["value"], june["flags"], june["published_on"]) == (3.1, "p", "2025-01-23")
    assert june["publisher"].startswith("国家统计局")
    october = known_on("2025-10-01").loc[2024]
    assert (october["value"], october["flags"], october["publication"]) == (3.2, "r", "2024年全国科技经费投入统计公报")
    history = run_cli("observations", "--indicator", "RD_GDP_RATIO", "--region", "wuhan", "--history",
                      "--format", "csv", env=seeded_cli_env)
    both = pd.read_csv(StringIO(history.stdout), keep_default_na=False)
    assert both[both["year"] == 2024][["value", "flags", "status"]].values.tolist() == [
        [3.1, "p", "superseded"], [3.2, "r", "current"]]
    # the status of that day rests on the provisional value, and says so
    status = run_cli("status", "--region", "wuhan", "--as-of", "2025-06-01", "--format", "csv", env=seeded_cli_env)
    row = pd.read_csv(StringIO(status.stdout), keep_default_na=False).set_index("indicator").loc["RD_GDP_RATIO"]
    assert (row["latest_value"], row["latest_flags"], row["latest_confidence"]) == (3.1, "p", "medium")
    assert "provisional" in row["caveats"].split(";")


def test_status_csv_says_what_each_status_rests_on(seeded_cli_env):
    """Every status resting on a low-confidence value or a single value carries a caveat that says so."""
    out = run_cli("status", "--format", "csv", "--lang", "en", env=seeded_cli_env)
    frame = pd.read_csv(StringIO(out.stdout), keep_default_na=False)
    for column in ("baseline_basis", "baseline_confidence", "latest_confidence", "latest_flags", "series_breaks",
                   "caveats"):
        assert column in frame.columns
    scored = frame[(frame["status"] != "qualitative") & (frame["n_points"] > 0)]
    caveats = scored["caveats"].str.split(";")
    low = (scored["baseline_confidence"] == "low") | (scored["latest_confidence"] == "low")
    assert low.any() and (scored["n_points"] == 1).any()  # the shipped data has both kinds
    assert caveats[low].map(lambda c: "low_confidence" in c).all()
    assert caveats[scored["n_points"] == 1].map(lambda c: "single_point" in c).all()
    # a baseline says which value it is
    assert set(scored["baseline_basis"]) <= {"plan", "observed_base_year", "first_observation"}


def test_an_exported_table_loads_back_unchanged(seeded_cli_env, tmp_path):
    """`observations --format csv` is a file a statistician edits and uploads again: read back as written
    (the publication's id in publication_id, its title in publication), it changes nothing."""
    out = run_cli("observations", "--indicator", "RD_GDP_RATIO", "--format", "csv", env=seeded_cli_env)
    exported = tmp_path / "export.csv"
    exported.write_text(out.stdout, encoding="utf-8")
    frame = pd.read_csv(StringIO(out.stdout), keep_default_na=False)
    assert {"publication", "publication_id", "publisher", "flags"} <= set(frame.columns)
    again = run_cli("ingest", str(exported), "--dry-run", "--format", "json", env=seeded_cli_env)
    outcome = json.loads(again.stdout)[0]
    assert outcome["report"]["ok"] and outcome["report"]["counts"]["errors"] == 0
    assert outcome["diff_counts"] == {"new": 0, "revised": 0, "unchanged": len(frame)}
    assert outcome["report"]["new_publications"] == []


def test_observations_finds_a_region_an_upload_created_until_its_upload_is_reverted(seeded_cli_env, tmp_path):
    """`--region` accepts regions created by uploads, by code or name; reverting the upload removes the
    region, and the name is unknown again (issue 13, item 9). Made-up values of a made-up city."""
    upload = tmp_path / "new-city.csv"
    upload.write_text("指标,地区代码,地区名称,年份,数值,来源,可信度\n"
                      "RD_GDP_RATIO,testville,测试城,2023,5.2,test fixture - not a statistic,low\n", encoding="utf-8")
    run_cli("ingest", str(upload), env=seeded_cli_env)
    for name in ("testville", "测试城"):
        out = run_cli("observations", "--region", name, "--format", "csv", env=seeded_cli_env)
        frame = pd.read_csv(StringIO(out.stdout))
        assert frame[["region", "year", "value"]].values.tolist() == [["testville", 2023, 5.2]]
    batch = int(pd.read_csv(StringIO(run_cli("batches", "--format", "csv", env=seeded_cli_env).stdout))["id"].max())
    run_cli("revert", str(batch), env=seeded_cli_env)
    gone = run_cli("observations", "--region", "testville", env=seeded_cli_env, check=False)
    assert gone.returncode == 2 and "未知地区" in gone.stderr


@pytest.mark.parametrize("batch", ["0", "-1", "2147483648", "9" * 30])
def test_revert_of_a_number_no_batch_can_have_is_rejected_with_exit_1(seeded_cli_env, batch):
    result = run_cli("revert", "--", batch, env=seeded_cli_env, check=False)
    assert result.returncode == 1 and "that is not a batch number" in result.stderr


@pytest.mark.parametrize("batch", ["abc", "1.5", "9" * 5000])
def test_revert_of_a_non_integer_is_a_usage_error(seeded_cli_env, batch):
    result = run_cli("revert", "--", batch, env=seeded_cli_env, check=False)
    assert result.returncode == 2 and "not a valid integer" in result.stderr
