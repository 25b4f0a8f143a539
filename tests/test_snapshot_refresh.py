"""The snapshot of a new data version built from the previous one (``snapshot._refreshed``) equals a full read.

Every test applies batches through ``store`` and the ingest path (values added, revised, retracted by a
revert or withdrawn, regions created and removed) and compares the refreshed snapshot's observations with
``queries.observations`` read in full, on SQLite and PostgreSQL. Where the refresh must not be trusted (a
date ``as_of``, changed units, batches the held snapshot did not count) the tests check that everything is
read again. A test also checks that threads asking for the same new version build it once.
"""

from __future__ import annotations

import threading
from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from indicators import progress, queries, store
from indicators import snapshot as snapshots
from indicators.models import Indicator, table_of
from indicators.store import apply_batch, record_task_statuses, revert_batch, withdraw_values

from .support import batch_frame

SOURCE = "test fixture - not a statistic"
HEADER = "indicator_code,region_code,year,value,source,confidence,note,flag\n"


@pytest.fixture
def reads(monkeypatch):
    """Counts the full reads of the current observations a snapshot makes (``reads["full"]``), the reads of
    changes, and the number of observations each assessment is made of (``reads["assessed"]``)."""
    counts: dict = {"full": 0, "changes": 0, "assessed": []}
    full, changes, whole = queries.observations, queries.observation_changes, progress.assess

    def counted_assess(observations, *args, **kwargs):
        counts["assessed"].append(len(observations))
        return whole(observations, *args, **kwargs)

    def counted_full(*args, **kwargs):
        counts["full"] += 1
        return full(*args, **kwargs)

    def counted_changes(*args, **kwargs):
        counts["changes"] += 1
        return changes(*args, **kwargs)

    monkeypatch.setattr(snapshots.queries, "observations", counted_full)
    monkeypatch.setattr(snapshots.queries, "observation_changes", counted_changes)
    monkeypatch.setattr(progress, "assess", counted_assess)
    counts["read"], counts["assess"] = full, whole  # the plain read and assessment, for the comparisons
    return counts


def _same_as_full_read(engine, catalog, reads, *, refreshed: bool = True) -> snapshots.Snapshot:
    """The snapshot now, after checking it equals a full read (and was, or was not, refreshed), and so does
    its assessment (made again only for the series that changed when the previous one had one)."""
    before = reads["full"]
    snap = snapshots.snapshot(engine, catalog)
    assert (reads["full"] == before) == refreshed
    full = reads["read"](engine)
    pd.testing.assert_frame_equal(snap.observations, full, check_exact=True)
    assert snap.version == queries.data_version(engine)
    for code in ("RD_GDP_RATIO", "BASIC_RESEARCH_SHARE", "NO_SUCH_INDICATOR"):
        pd.testing.assert_frame_equal(snap.series(code).reset_index(drop=True),
                                      full[full["indicator"] == code].reset_index(drop=True))
    pd.testing.assert_frame_equal(snap.home_observations,
                                  full[full["region"] == catalog.programme.home_region])
    partly = refreshed and snap._assessment is None and snap._assessment_from is not None
    reads["assessed"].clear()
    assessment = snap.assessment
    assert all(n < len(full) for n in reads["assessed"]) if partly else reads["assessed"] in ([], [len(full)])
    pd.testing.assert_frame_equal(assessment, reads["assess"](full, catalog, today=snap._assessed_on),
                                  check_exact=True)
    return snap


def _load(engine, rows: str, *, kind: str = "upload") -> int:
    with engine.begin() as conn:
        return apply_batch(conn, batch_frame(HEADER + rows), kind=kind, user="tester").batch_id


def _revert(engine, batch_id: int) -> int:
    with engine.begin() as conn:
        return revert_batch(conn, batch_id, user="tester").batch_id


def _upload(engine, catalog, text: str, name: str) -> int:
    from indicators.ingest import IngestOptions, commit, parse_file

    parsed = parse_file(text.encode(), name, catalog, engine, IngestOptions(confidence="low"))
    assert parsed.report.ok, parsed.report.errors.head(3).to_dict("records")
    return commit(engine, parsed, user="tester").batch_id


def test_uploads_and_reverts_are_spliced_in_as_a_full_read_gives_them(seeded_engine, catalog, reads):
    _same_as_full_read(seeded_engine, catalog, reads, refreshed=False)  # nothing held yet: read in full
    added = _load(seeded_engine, f"RD_GDP_RATIO,beijing,1990,1.5,{SOURCE},low,,\n"
                                 f"RD_GDP_RATIO,china,2030,9.5,{SOURCE},low,a note,p\n")
    _same_as_full_read(seeded_engine, catalog, reads)
    revised = _load(seeded_engine, f"RD_GDP_RATIO,beijing,2016,6.1,{SOURCE},low,,\n"  # a shipped value revised
                                   f"RD_GDP_RATIO,beijing,1990,1.75,{SOURCE},medium,,\n")
    _same_as_full_read(seeded_engine, catalog, reads)
    _revert(seeded_engine, revised)  # the shipped value and the first upload's value come back
    _same_as_full_read(seeded_engine, catalog, reads)
    _revert(seeded_engine, added)
    _same_as_full_read(seeded_engine, catalog, reads)
    assert reads["changes"] == 4


def test_a_revert_that_removes_the_regions_its_upload_created(seeded_engine, catalog, reads):
    _same_as_full_read(seeded_engine, catalog, reads, refreshed=False)
    text = ("指标,地区代码,地区名称,年份,数值,来源\n"
            f"RD_GDP_RATIO,testville,测试城,2022,5.5,{SOURCE}\n"
            f"RD_GDP_RATIO,testburg,测试堡,2022,4.5,{SOURCE}\n"
            f"RD_GDP_RATIO,beijing,北京,2022,6.9,{SOURCE}\n")
    batch = _upload(seeded_engine, catalog, text, "new.csv")
    snap = _same_as_full_read(seeded_engine, catalog, reads)
    assert {"testville", "testburg"} <= set(snap.regions["code"])
    _revert(seeded_engine, batch)  # the regions go, and with them the history of their values
    snap = _same_as_full_read(seeded_engine, catalog, reads)
    assert "testville" not in set(snap.regions["code"]) and "testville" not in set(snap.observations["region"])


def test_a_revert_restores_a_value_whose_successor_was_withdrawn(seeded_engine, catalog, reads):
    """The restored value's key is found only in the history of the reverted batch: its own value for that
    key was withdrawn before the revert, so the revert neither removes it nor records that key."""
    first = _load(seeded_engine, f"RD_GDP_RATIO,china,2031,1.0,{SOURCE},low,,\n"
                                 f"RD_GDP_RATIO,china,2032,2.0,{SOURCE},low,,\n", kind="seed_test")
    second = _load(seeded_engine, f"RD_GDP_RATIO,china,2031,1.5,{SOURCE},low,,\n"
                                  f"RD_GDP_RATIO,china,2032,2.0,{SOURCE},low,,\n", kind="seed_test")
    assert second == first + 1
    with seeded_engine.begin() as conn:  # 2031 left the files: withdrawn
        keep = batch_frame(HEADER + f"RD_GDP_RATIO,china,2032,2.0,{SOURCE},low,,\n")
        assert withdraw_values(conn, keep, batch_kind="seed_test", user="tester", note="withdrawn") == 1
    _same_as_full_read(seeded_engine, catalog, reads, refreshed=False)
    _revert(seeded_engine, second)  # brings back the first value of 2031
    snap = _same_as_full_read(seeded_engine, catalog, reads)
    china = snap.series("RD_GDP_RATIO", ["china"]).set_index("year")["value"]
    assert china[2031] == 1.0


def test_a_batch_that_changes_no_value_shares_the_observations_and_the_assessment(seeded_engine, catalog, reads):
    held = _same_as_full_read(seeded_engine, catalog, reads, refreshed=False)
    assessment = held.assessment
    task = next(iter(catalog.tasks))
    with seeded_engine.begin() as conn:
        record_task_statuses(conn, [{"task": task, "status": "in_progress", "date": "2026-01-05",
                                     "note": "test", "evidence": "https://example.org"}], user="tester")
    snap = _same_as_full_read(seeded_engine, catalog, reads)
    assert snap is not held and snap.observations is held.observations
    if held._assessed_on == date.today():
        assert snap.assessment is assessment


def test_what_the_refresh_cannot_vouch_for_is_read_in_full(seeded_engine, catalog, reads):
    held = _same_as_full_read(seeded_engine, catalog, reads, refreshed=False)
    _load(seeded_engine, f"RD_GDP_RATIO,beijing,1991,1.5,{SOURCE},low,,\n")
    before = reads["full"]
    snapshots.snapshot(seeded_engine, catalog, as_of=date(2020, 1, 1))  # a date: always read
    assert reads["full"] == before + 1

    with seeded_engine.begin() as conn:  # the catalog's units rewritten, as `init` may: no batch
        conn.execute(update(table_of(Indicator)).where(Indicator.code == "RD_GDP_RATIO").values(unit_en="per cent"))
    snap = _same_as_full_read(seeded_engine, catalog, reads, refreshed=False)
    assert set(snap.series("RD_GDP_RATIO")["unit"]) == {"per cent"}

    _load(seeded_engine, f"RD_GDP_RATIO,beijing,1992,1.5,{SOURCE},low,,\n")
    snap.version = (snap.version[0], snap.version[1] - 1)  # as if a batch it counted had gone
    _same_as_full_read(seeded_engine, catalog, reads, refreshed=False)
    assert held.version != snap.version


def test_a_batch_committed_below_the_held_newest_id_is_read_in_full(seeded_engine, catalog, reads):
    """PostgreSQL gives ids in the order batches begin, not in the order they commit: a batch may appear with
    an id below the newest one a snapshot counted."""
    _load(seeded_engine, f"RD_GDP_RATIO,beijing,1991,1.5,{SOURCE},low,,\n")
    held = _same_as_full_read(seeded_engine, catalog, reads, refreshed=False)
    held.version = (held.version[0] + 1, held.version[1])  # it counted up to a higher id than there was
    with seeded_engine.begin() as conn:
        store.open_batch(conn, kind="upload", user="tester")  # takes that id
    _same_as_full_read(seeded_engine, catalog, reads, refreshed=False)


def test_threads_asking_for_a_new_version_build_it_once(seeded_engine, catalog, reads):
    _same_as_full_read(seeded_engine, catalog, reads, refreshed=False)
    _load(seeded_engine, f"RD_GDP_RATIO,beijing,1993,1.5,{SOURCE},low,,\n")
    start = threading.Barrier(8)
    got: list = []

    def ask():
        start.wait()
        got.append(snapshots.snapshot(seeded_engine, catalog))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and all(s is got[0] for s in got)
    assert reads["changes"] == 1 and reads["full"] == 1
    pd.testing.assert_frame_equal(got[0].observations, reads["read"](seeded_engine))


# Random sequences of uploads and reverts: after each, the refreshed snapshot equals a full read.

KEYS = [(ind, reg, year) for ind in ("RD_GDP_RATIO", "BASIC_RESEARCH_SHARE") for reg in ("beijing", "shanghai")
        for year in (2015, 2016, 2023, 2031)]
VALUE = st.sampled_from([1.0, 2.5, 7.25])
UPLOAD = st.tuples(st.just("upload"), st.dictionaries(st.sampled_from(range(len(KEYS))), st.tuples(
    VALUE, st.sampled_from(["", "a note"]), st.sampled_from(["", "p"])), min_size=1, max_size=5))
REVERT = st.tuples(st.just("revert"), st.integers(0, 5))


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.one_of(UPLOAD, REVERT), min_size=1, max_size=6))
def test_random_uploads_and_reverts(seeded_engine, catalog, reads, steps):
    """The database is the test's own for every example: each step is checked against it as it is then."""
    snapshots.snapshot(seeded_engine, catalog)
    uploads: list[int] = []
    for step, detail in steps:
        if step == "upload":
            rows = "".join(f"{KEYS[k][0]},{KEYS[k][1]},{KEYS[k][2]},{v},{SOURCE},low,{note},{flag}\n"
                           for k, (v, note, flag) in sorted(detail.items()))
            uploads.append(_load(seeded_engine, rows))
        elif uploads:
            batch = uploads[detail % len(uploads)]
            try:
                _revert(seeded_engine, batch)
                uploads.remove(batch)
            except store.RevertRefused:
                continue
        _same_as_full_read(seeded_engine, catalog, reads)
