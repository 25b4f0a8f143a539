"""The task register (catalog, statuses with history and revert, CSV upload with its report, the `tasks`
command) and the zones and districts it is carried out in (the `regions` command)."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from indicators import tasks
from indicators.catalog import TASK_STATUSES
from indicators.store import RevertRefused, revert_batch

from .support import invoke

TODAY = date(2026, 12, 1)


def _env(url: str, tmp_path) -> dict:
    return {"DATABASE_URL": url, "INNOVATION_MONITOR_INSTANCE": str(tmp_path / "instance")}


def _rows(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text.strip()), dtype=str, keep_default_na=False, skipinitialspace=True)


def _upload(engine, catalog, text: str, user: str = "editor"):
    upload = tasks.check_rows(_rows(text), catalog, today=TODAY)
    assert upload.ok, upload.problems
    return tasks.set_statuses(engine, upload, user=user)


# --- the register in the catalog


def test_the_register_holds_the_plans_tasks_with_sources(catalog):
    assert len(catalog.tasks) >= 25
    for task in catalog.tasks.values():
        assert task.title.zh and task.title.en and task.source.startswith("《北京市“十四五”时期国际科技创新中心建设规划》")
        assert all(m.source for m in task.milestones)
    zgc = catalog.tasks["T7-2"]
    assert [m.year for m in zgc.milestones] == [2025, 2027, 2035]
    assert "全面建成世界领先科技园区" in zgc.milestones[-1].text.zh


# --- status rows: one row per failure mode, every code of the validator exercised

BAD_ROWS = """
task, status,      date,       note, evidence
T3-1, on_schedule, 2026-11-01, ok,   https://example.org/a
T9-9, done,        2026-11-01, ok,   https://example.org/a
T3-2, late,        2026-11-01, ok,   https://example.org/a
T3-3, done,        2026/11/01, ok,   https://example.org/a
T3-4, done,        2027-01-01, ok,   https://example.org/a
T3-5, done,        2026-11-01, ,     https://example.org/a
T4-1, done,        2026-11-01, ok,   ftp://example.org/a
T4-2, done,        2026-11-01, ok,
T3-1, done,        2026-11-01, ok,   nbs-rd-communique-2024
"""
BAD_EXPECTED = """
row, column,   code
3,   task,     TASK_UNKNOWN
4,   status,   TASK_STATUS_UNKNOWN
5,   date,     TASK_DATE_INVALID
6,   date,     TASK_DATE_FUTURE
7,   note,     TASK_NOTE_MISSING
8,   evidence, TASK_EVIDENCE_INVALID
9,   evidence, TASK_EVIDENCE_MISSING
10,  task,     TASK_DUPLICATE
"""


def test_each_bad_row_is_named_by_line_column_and_reason(catalog):
    upload = tasks.check_rows(_rows(BAD_ROWS), catalog, today=TODAY)
    assert not upload.ok and upload.rows == []
    found = pd.DataFrame(upload.problems)[["row", "column", "code"]].astype({"row": "int64"})
    assert_frame_equal(found.reset_index(drop=True), _rows(BAD_EXPECTED).astype({"row": "int64"}))
    first = upload.problems[0]
    assert first["message_zh"] == "第 3 行:没有编号为“T9-9”的任务。" and first["message_en"] == "line 3: no task 'T9-9'."


@pytest.mark.parametrize(("content", "codes"), [
    (b"task,status,date,note\nT3-1,done,2026-11-01,x\n", ["TASK_COLUMN_MISSING"]),
    (b"task,status,date,note,evidence,owner\n", ["TASK_COLUMN_UNKNOWN", "TASK_FILE_EMPTY"]),
    (b"", ["TASK_FILE_EMPTY"]),
    (b"\xff\xfe\x00\xd8\x00", ["TASK_FILE_UNREADABLE"]),
])
def test_file_level_problems(catalog, content, codes):
    upload = tasks.read_csv(content, catalog, today=TODAY, file_name="s.csv")
    assert [p["code"] for p in upload.problems] == codes and not upload.ok


def test_a_scoped_editor_may_set_only_its_agencys_tasks(catalog):
    text = "task,status,date,note,evidence\nT3-2,at_risk,2026-11-01,x,https://example.org\n" \
           "T3-1,done,2026-11-01,x,https://example.org\n"
    upload = tasks.check_rows(_rows(text), catalog, today=TODAY, agency="bj-kw")  # bj-kw leads T3-2 only
    assert [(p["row"], p["code"]) for p in upload.problems] == [(3, "TASK_NOT_YOURS")]
    assert tasks.check_rows(_rows(text), catalog, today=TODAY).ok  # not scoped: both


def test_every_problem_code_is_exercised():
    tested = set(_rows(BAD_EXPECTED)["code"]) | {"TASK_COLUMN_MISSING", "TASK_COLUMN_UNKNOWN", "TASK_FILE_EMPTY",
                                                  "TASK_FILE_UNREADABLE", "TASK_NOT_YOURS", "TASK_NOTE_TOO_LONG"}
    assert tested == set(tasks.PROBLEMS)


def test_a_note_too_long_is_refused(catalog):
    text = f"task,status,date,note,evidence\nT3-1,done,2026-11-01,{'x' * 2001},https://example.org\n"
    assert [p["code"] for p in tasks.check_rows(_rows(text), catalog, today=TODAY).problems] == ["TASK_NOTE_TOO_LONG"]


# --- statuses in the database: history, as-of and revert


def test_status_history_as_of_and_revert(seeded_engine, catalog):
    first = _upload(seeded_engine, catalog, "task,status,date,note,evidence\n"
                    "T3-1,on_schedule,2026-03-01,145 全国重点实验室,bjstats-2026-01-25-iscc-review\n")
    second = _upload(seeded_engine, catalog, "task,status,date,note,evidence\n"
                     "T3-1,delayed,2026-09-01,进度滞后,https://example.org/b\n"
                     "T3-2,at_risk,2026-09-02,验收推迟,https://example.org/c\n")
    register = tasks.register(seeded_engine, catalog, lang="en")
    assert register[["task", "status"]].head(3).values.tolist() == [
        ["T3-1", "delayed"], ["T3-2", "at_risk"], ["T3-3", "unreported"]]
    assert register.set_index("task").loc["T3-2", "status_label"] == "at risk"
    earlier = tasks.register(seeded_engine, catalog, as_of=date(2026, 6, 30)).set_index("task")
    assert earlier.loc["T3-1", "status"] == "on_schedule" and earlier.loc["T3-2", "status"] == "unreported"

    with seeded_engine.begin() as conn, pytest.raises(RevertRefused, match=str(second.batch_id)):
        revert_batch(conn, first.batch_id, user="editor")
    with seeded_engine.begin() as conn:
        reverted = revert_batch(conn, second.batch_id, user="editor")
    now = tasks.current_statuses(seeded_engine)
    assert now[["task", "status", "batch"]].values.tolist() == [["T3-1", "on_schedule", first.batch_id]]
    history = tasks.status_history(seeded_engine)
    assert history[["task", "status", "retracted"]].values.tolist() == [
        ["T3-1", "on_schedule", False], ["T3-1", "delayed", True], ["T3-2", "at_risk", True]]
    with seeded_engine.begin() as conn, pytest.raises(RevertRefused, match=str(reverted.batch_id)):
        revert_batch(conn, second.batch_id, user="editor")


def test_an_unchanged_status_writes_no_batch(seeded_engine, catalog):
    text = "task,status,date,note,evidence\nT5-1,not_started,2026-01-05,尚未启动,https://example.org\n"
    assert _upload(seeded_engine, catalog, text).batch_id is not None
    again = _upload(seeded_engine, catalog, text)
    assert (again.batch_id, again.n_unchanged) == (None, 1)


# --- the commands


def test_tasks_command_lists_the_register_as_csv(seeded_url, tmp_path):
    env = _env(seeded_url, tmp_path)
    out = invoke("tasks", "--format", "csv", env=env, check=True).stdout
    frame = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["task", "title", "pillar", "lead", "due", "status"]
    assert len(frame) >= 25 and set(frame["status"]) == {"unreported"}
    assert frame.set_index("task").loc["T7-2", "due"] == "2025-12-31"


def test_tasks_load_is_all_or_nothing_and_revert_takes_it_back(seeded_url, tmp_path):
    env = _env(seeded_url, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("task,status,date,note,evidence\nT3-1,delayed,2026-01-05,滞后,https://example.org\n"
                   "T3-2,stalled,2026-01-05,?,https://example.org\n", encoding="utf-8")
    before = invoke("batches", "--format", "csv", env=env, check=True).stdout
    result = invoke("tasks", "load", str(bad), env=env)
    assert result.returncode == 1 and "TASK_STATUS_UNKNOWN" in result.stderr
    assert invoke("batches", "--format", "csv", env=env, check=True).stdout == before

    good = tmp_path / "good.csv"
    good.write_text("task,status,date,note,evidence\nT3-1,delayed,2026-01-05,滞后,https://example.org\n",
                    encoding="utf-8")
    loaded = invoke("tasks", "load", str(good), "--user", "ops", env=env, check=True).stdout
    batch = loaded.split("批次 ")[1].split(":")[0]
    listed = invoke("tasks", "--status", "delayed", "--format", "csv", env=env, check=True).stdout
    assert listed.splitlines()[1].startswith("T3-1,")
    assert "already loaded" in invoke("tasks", "load", str(good), env=env, check=True).stdout
    invoke("revert", batch, env=env, check=True)
    assert "delayed" not in invoke("tasks", "--format", "csv", env=env, check=True).stdout
    assert invoke("tasks", "set", "T3-1", "done", "--date", "2026-02-01", "--note", "x", "--evidence", "no-such-pub",
                  env=env).returncode == 1


# --- zones and districts


def test_zones_and_districts_lie_in_beijing(catalog):
    zones = {r.name.zh: r for r in catalog.children("beijing", "zone")}
    assert {"中关村科学城", "怀柔科学城", "未来科学城", "创新型产业集群示范区", "中关村国家自主创新示范区"} == set(zones)
    assert len(catalog.children("beijing", "district")) == 16
    assert catalog.find_region("海淀") == "bj_haidian" and catalog.find_region("110105") == "bj_chaoyang"
    assert catalog.find_region("Huairou Science City") == "bj_huairou_science_city"
    assert catalog.find_region("中关村示范区") == "bj_zgc_demo_zone"
    assert catalog.find_region("北京") == "beijing"  # the city keeps its names


def test_regions_command_shows_kind_and_parent(seeded_url, tmp_path):
    out = invoke("regions", "--parent", "北京", "--kind", "zone", "--format", "csv", env=_env(seeded_url, tmp_path),
                 check=True).stdout
    frame = pd.read_csv(io.StringIO(out), dtype=str)
    assert list(frame.columns) == ["code", "name", "kind", "parent"]
    assert {"中关村科学城", "怀柔科学城", "未来科学城"} <= set(frame["name"]) and set(frame["parent"]) == {"beijing"}


def test_an_upload_may_name_a_zone(seeded_url, tmp_path):
    env = _env(seeded_url, tmp_path)
    path = tmp_path / "zone.csv"
    path.write_text("indicator,region,year,value,unit,source,confidence\n"
                    "TECH_CONTRACT_TURNOVER,中关村科学城,2024,1000,亿元,test source,low\n", encoding="utf-8")
    invoke("ingest", str(path), env=env, check=True)
    out = invoke("observations", "--region", "bj_zgc_science_city", "--format", "csv", env=env, check=True).stdout
    assert "TECH_CONTRACT_TURNOVER,bj_zgc_science_city,2024,1000.0" in out


def test_statuses_are_the_catalogs():
    assert set(TASK_STATUSES) | {tasks.UNREPORTED} == set(tasks.STATUS_LABELS) == set(tasks.STATUS_ORDER)
