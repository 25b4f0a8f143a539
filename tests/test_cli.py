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
