"""What changed between two dates: values arrived, revised and retracted, target statuses, ranks and task
statuses (old -> new), in both languages, and the `changes` command."""

from __future__ import annotations

import io
from datetime import date, datetime

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from indicators import store
from indicators.changes import FLAT_COLUMNS, changes
from indicators.store import apply_batch, record_task_statuses, revert_batch

from .support import batch_frame, invoke

START, END = date(2027, 3, 1), date(2027, 9, 30)
COLUMNS = "indicator_code,region_code,year,value,source,confidence,published_on\n"

# Known at START: R&D 2025 = 6.5 (published 2026-10), tech contracts 2026 (published 2027-01, retracted on
# 2027-06-15). Between: R&D 2025 revised to 6.55 and 2026 published, basic-research share 2025 = 14 (far below
# the band of "about 17 %"), GIHI 2027 = 2 (2025 was 3).
VALUES = """
indicator,              region,  year, change,    old_value, new_value
BASIC_RESEARCH_SHARE,   beijing, 2025, arrived,   ,          14.0
GIHI_RANK,              beijing, 2027, arrived,   ,          2.0
RD_GDP_RATIO,           beijing, 2025, revised,   6.5,       6.55
RD_GDP_RATIO,           beijing, 2026, arrived,   ,          6.6
TECH_CONTRACT_TURNOVER, beijing, 2026, retracted, 9000.0,
"""
TASKS = """
task, old_status,  new_status, old_label, new_label
T3-1, on_schedule, delayed,    按计划推进, 滞后
T3-2, unreported,  at_risk,    未填报,     存在风险
"""


def _table(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text.strip()), skipinitialspace=True)


@pytest.fixture
def history(seeded_engine, monkeypatch):
    """The seeded database with the changes above written in batches."""
    with seeded_engine.begin() as conn:
        apply_batch(conn, batch_frame(COLUMNS + "RD_GDP_RATIO,beijing,2025,6.5,first,high,2026-10-01\n"),
                    kind="upload", user="t")
        retracted = apply_batch(conn, batch_frame(
            COLUMNS + "TECH_CONTRACT_TURNOVER,beijing,2026,9000,tm,high,2027-01-20\n"), kind="upload", user="t")
        apply_batch(conn, batch_frame(
            COLUMNS + "RD_GDP_RATIO,beijing,2025,6.55,revised,high,2027-06-01\n"
            "RD_GDP_RATIO,beijing,2026,6.6,new,high,2027-05-01\n"
            "BASIC_RESEARCH_SHARE,beijing,2025,14,new,high,2027-05-01\n"
            "GIHI_RANK,beijing,2027,2,GIHI2027,high,2027-04-01\n"), kind="upload", user="t")
        record_task_statuses(conn, [{"task": "T3-1", "status": "on_schedule", "date": "2026-11-01", "note": "a",
                                     "evidence": "https://example.org/1"}], user="t")
        record_task_statuses(conn, [
            {"task": "T3-1", "status": "delayed", "date": "2027-05-01", "note": "b", "evidence": "https://e.org/2"},
            {"task": "T3-2", "status": "at_risk", "date": "2027-04-01", "note": "c", "evidence": "https://e.org/3"},
        ], user="t")
    monkeypatch.setattr(store, "utcnow", lambda: datetime(2027, 6, 15, 9, 0))  # the revert happens in between
    with seeded_engine.begin() as conn:
        revert_batch(conn, retracted.batch_id, user="t")
    return seeded_engine


def test_values_that_arrived_were_revised_or_retracted(history, catalog):
    result = changes(history, catalog, START, END, region="beijing")
    actual = result.values[["indicator", "region", "year", "change", "old_value", "new_value"]]
    assert_frame_equal(actual, _table(VALUES), check_dtype=False)
    assert result.values["change_label"].tolist() == ["新增", "新增", "修订", "新增", "撤回"]
    english = changes(history, catalog, START, END, lang="en", region="beijing").values
    assert english["change_label"].tolist() == ["arrived", "arrived", "revised", "arrived", "retracted"]


def test_statuses_ranks_and_tasks_old_to_new(history, catalog):
    result = changes(history, catalog, START, END, region="beijing")
    share = result.statuses.set_index("indicator").loc["BASIC_RESEARCH_SHARE"]
    assert (share["old_status"], share["new_status"]) == ("within_band", "below_band")
    assert (result.ranks[["indicator", "old_year", "old_rank", "new_year", "new_rank", "places"]]
            .values.tolist() == [["GIHI_RANK", 2025, 3.0, 2027, 2.0, 1.0]])
    tasks = result.tasks[["task", "old_status", "new_status", "old_label", "new_label"]]
    assert_frame_equal(tasks, _table(TASKS), check_dtype=False)
    flat = changes(history, catalog, START, END, lang="en", region="beijing").flat("en")
    assert list(flat.columns) == FLAT_COLUMNS
    assert flat[flat["section"] == "ranks"]["detail"].tolist() == ["up 1"]
    assert flat[flat["section"] == "tasks"]["new"].tolist() == ["delayed", "at risk"]


def test_nothing_changed_on_one_day(history, catalog):
    result = changes(history, catalog, END, END)
    assert result.values.empty and result.statuses.empty and result.ranks.empty and result.tasks.empty
    assert result.flat().empty
    with pytest.raises(ValueError):
        changes(history, catalog, END, START)


def test_changes_command(seeded_url, tmp_path):
    env = {"DATABASE_URL": seeded_url, "INNOVATION_MONITOR_INSTANCE": str(tmp_path / "instance")}
    path = tmp_path / "new.csv"
    path.write_text("indicator,region,year,value,unit,source,confidence,published_on\n"
                    "RD_GDP_RATIO,海淀区,2025,9.9,%,district bulletin,high,2026-03-01\n", encoding="utf-8")
    invoke("ingest", str(path), env=env, check=True)
    out = invoke("changes", "--from", "2026-01-01", "--to", "2026-06-30", "--region", "海淀", "--section", "values",
                 "--lang", "en", "--format", "csv", env=env, check=True).stdout
    frame = pd.read_csv(io.StringIO(out))
    assert list(frame.columns) == FLAT_COLUMNS
    assert frame[["item", "region", "year", "new", "detail"]].values.tolist() == [
        ["RD_GDP_RATIO", "bj_haidian", 2025, 9.9, "arrived"]]
    assert invoke("changes", "--from", "2027-09-30", "--to", "2027-03-01", env=env).returncode == 2
