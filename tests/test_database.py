"""The database on SQLite and PostgreSQL: migrations, idempotent init, history, as-of and revert."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import inspect

from indicators import db, flags, queries
from indicators.seed import run_init
from indicators.store import RevertRefused, apply_batch, revert_batch

from .support import SHIPPED_DIR, batch_frame


def test_migration_from_empty_creates_every_table(engine):
    assert db.schema_revision(engine) is None
    before, after = db.migrate(engine)
    assert (before, after) == (None, db.head_revision(engine))
    tables = set(inspect(engine).get_table_names())
    assert {"indicators", "regions", "targets", "milestones", "plans", "pillars", "observations",
            "observation_history", "batches", "alembic_version"} <= tables


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_init_loads_catalog_and_data_and_is_idempotent(engine, catalog):
    first = run_init(engine, catalog, SHIPPED_DIR)
    assert first.changed
    assert first.catalog_changes["indicators"] == len(catalog.indicators)
    dump = {t: queries.table_dump(engine, t) for t in ("observations", "observation_history", "batches",
                                                        "targets", "milestones", "indicators", "regions")}
    second = run_init(engine, catalog, SHIPPED_DIR)
    assert not second.changed
    assert [status for _, status, _, _ in second.files] == ["unchanged", "unchanged"]
    assert {t: queries.table_dump(engine, t) for t in dump} == dump


def test_a_value_withdrawn_from_the_shipped_files_leaves_the_current_data_but_not_the_history(engine, catalog,
                                                                                               tmp_path):
    """Like the basic-research '2025 = 16' row: in the shipped files once, withdrawn later. An upload's
    value is never withdrawn by init."""
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    head = "indicator,region,year,value,unit,flags,confidence,published_on,publication,source,note\n"
    row = "BASIC_RESEARCH_SHARE,beijing,{year},{value},percent,,low,2026-01-25,,test fixture - not a statistic,\n"
    (shipped / "01.csv").write_text(head + row.format(year=2024, value=16.1) + row.format(year=2025, value=16),
                                    encoding="utf-8")
    run_init(engine, catalog, shipped)
    with engine.begin() as conn:
        apply_batch(conn, batch_frame("indicator_code,region_code,year,value,source,confidence\n"
                                      "BASIC_RESEARCH_SHARE,shanghai,2025,9,test upload - not a statistic,low\n"),
                    kind="upload", user="t")
    (shipped / "01.csv").write_text(head + row.format(year=2024, value=16.1), encoding="utf-8")
    again = run_init(engine, catalog, shipped)
    assert again.changed and again.withdrawn == 1
    current = queries.observations(engine, indicator="BASIC_RESEARCH_SHARE")
    assert sorted(zip(current["region"], current["year"], strict=True)) == [("beijing", 2024), ("shanghai", 2025)]
    history = queries.observations(engine, indicator="BASIC_RESEARCH_SHARE", region="beijing", history=True)
    assert history[history["year"] == 2025]["status"].tolist() == ["retracted"]
    assert not run_init(engine, catalog, shipped).changed


def test_shipped_data_keeps_source_and_confidence(seeded_engine):
    frame = queries.observations(seeded_engine)
    assert len(frame) == 283  # 02 has 283 values; the 5 of 01 are earlier vintages of some of them
    assert frame["source"].str.len().min() > 0
    assert set(frame["confidence"]) == {"high", "medium", "low"}


def test_2016_rd_share_has_two_vintages(seeded_engine):
    current = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="beijing")
    assert current.set_index("year").loc[2016, "value"] == 5.78
    early = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="beijing", as_of=date(2018, 1, 1))
    assert early.set_index("year").loc[2016, ["value", "published_on"]].tolist() == [5.94, "2017-11-21"]
    before = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="beijing", as_of=date(2017, 11, 20))
    assert 2016 not in set(before["year"])
    history = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="beijing", history=True)
    vintages = history[history["year"] == 2016][["value", "status"]].values.tolist()
    assert vintages == [[5.94, "superseded"], [5.78, "current"]]


def test_revision_keeps_predecessor_and_revert_restores_exactly(seeded_engine):
    before = queries.table_dump(seeded_engine, "observations")
    update = batch_frame(
        "indicator_code,region_code,year,value,source,confidence,published_on,flag,publication_id\n"
        "RD_GDP_RATIO,beijing,2024,6.6,revised bulletin,high,2026-09-30,,\n"
        "RD_GDP_RATIO,beijing,2025,6.5,new bulletin,high,2026-09-30,,\n"
        "RD_GDP_RATIO,beijing,2023,6.73,智研 on NBS 2023 communique http://www.szxuejia.com/top/1199108.html ; "
        "China.org.cn 2025-01-06 (PKU Beijing Development Institute report) "
        "http://www.shenbo75.com/business/2025-01/06/content_117648245.htm,medium,2024-10-02,,"
        "nbs-rd-communique-2023\n"
    )
    with seeded_engine.begin() as conn:
        result = apply_batch(conn, update, kind="upload", user="tester", file_name="u.csv", checksum="x")
    assert (result.n_new, result.n_revised, result.n_unchanged) == (1, 1, 1)
    revised = result.diff.set_index("year").loc[2024]
    assert (revised["status"], revised["old_value"], revised["value"]) == ("revised", 6.58, 6.6)

    history = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="beijing", history=True)
    assert history[history["year"] == 2024][["value", "status"]].values.tolist() == [
        [6.58, "superseded"], [6.6, "current"]]
    assert queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="beijing",
                                as_of=date(2026, 1, 1)).set_index("year").loc[2024, "value"] == 6.58

    with seeded_engine.begin() as conn:
        revert = revert_batch(conn, result.batch_id, user="tester")
    assert revert.n_revised == 1
    assert queries.table_dump(seeded_engine, "observations") == before
    history = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="beijing", history=True)
    assert history[history["year"] == 2025]["status"].tolist() == ["retracted"]
    batches = queries.batches(seeded_engine).set_index("id")
    assert batches.loc[result.batch_id, "reverted_by_batch_id"] == revert.batch_id
    assert batches.loc[revert.batch_id, "kind"] == "revert"


def test_revert_refuses_when_a_later_batch_revised_the_values(seeded_engine):
    one = batch_frame("indicator_code,region_code,year,value,source,confidence\nRD_GDP_RATIO,beijing,2025,6.5,a,high\n")
    two = batch_frame("indicator_code,region_code,year,value,source,confidence\nRD_GDP_RATIO,beijing,2025,6.6,b,high\n")
    with seeded_engine.begin() as conn:
        first = apply_batch(conn, one, kind="upload", user="t")
        second = apply_batch(conn, two, kind="upload", user="t")
    with pytest.raises(RevertRefused, match=f"revised later by batch\\(es\\) {second.batch_id}"):
        with seeded_engine.begin() as conn:
            revert_batch(conn, first.batch_id, user="t")
    with seeded_engine.begin() as conn:
        revert_batch(conn, second.batch_id, user="t")
        revert_batch(conn, first.batch_id, user="t")
    assert 2025 not in set(queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="beijing")["year"])
    with pytest.raises(RevertRefused, match="already reverted"):
        with seeded_engine.begin() as conn:
            revert_batch(conn, first.batch_id, user="t")


def test_failed_batch_leaves_the_database_unchanged(seeded_engine):
    before = {t: queries.table_dump(seeded_engine, t) for t in ("observations", "observation_history", "batches")}
    bad = batch_frame("indicator_code,region_code,year,value,source,confidence\n"
                 "RD_GDP_RATIO,beijing,2024,7.0,a,high\nNOT_AN_INDICATOR,beijing,2024,1,a,high\n")
    with pytest.raises(Exception):  # noqa: B017 - the foreign key violation differs by driver
        with seeded_engine.begin() as conn:
            apply_batch(conn, bad, kind="upload", user="t")
    assert {t: queries.table_dump(seeded_engine, t) for t in before} == before


def test_shipped_values_cite_their_publication_with_its_date(seeded_engine, catalog):
    frame = queries.observations(seeded_engine)
    for column in ("published_on", "publisher", "publication", "flags", "confidence"):
        assert column in frame.columns
    cited = frame["publisher"].notna() & frame["publication"].notna() & frame["published_on"].notna()
    assert cited.mean() >= 0.95, frame.loc[~cited, ["indicator", "region", "year"]]
    for pub_id in frame.loc[~cited, "publication_id"]:  # the rest say why not
        pub = catalog.publications[pub_id]
        assert pub.date_basis == "unknown" and pub.notes
    first = frame.set_index(["indicator", "region", "year"]).loc[("RD_GDP_RATIO", "beijing", 2020)]
    assert (first["publisher"], first["published_on"]) == ("国家统计局;科学技术部;财政部", "2021-09-22")
    assert first["publication"] == "2020年全国科技经费投入统计公报"
    assert set(" ".join(frame["flags"].dropna()).split()) <= set(flags.FLAGS)


def test_an_upload_may_name_a_catalog_publication_and_keeps_it(seeded_engine, catalog):
    from indicators.ingest import commit, parse_file

    content = ("indicator,region,year,value,source,publication,flag\n"
               "RD_GDP_RATIO,shanghai,2024,4.35,国家统计局公报,nbs-rd-communique-2020,p\n").encode()
    parsed = parse_file(content, "pub.csv", catalog, seeded_engine)
    assert parsed.report.ok
    commit(seeded_engine, parsed, user="tester")
    row = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="shanghai").set_index("year").loc[2024]
    assert (row["publication_id"], row["flags"]) == ("nbs-rd-communique-2020", "p")
    assert flags.with_flags("4.35", row["flags"]) == "4.35 p"


# Revert removes the regions its upload created when nothing else uses them (issue 13, item 9). Test data:
# made-up values for made-up regions (test fixtures, not statistics).
NEW_REGIONS = ("指标,地区代码,地区名称,年份,数值,来源\n"
               "RD_GDP_RATIO,testville,测试城,2023,5.2,test fixture - not a statistic\n"
               "RD_GDP_RATIO,testburg,测试堡,2023,3.6,test fixture - not a statistic\n"
               "RD_GDP_RATIO,beijing,北京,2025,6.6,test fixture - not a statistic\n")
LATER = ("指标,地区代码,地区名称,年份,数值,来源\n"
         "RD_GDP_RATIO,testville,测试城,{year},{value},test fixture - not a statistic\n")
TOUCHED = ("observations", "observation_history", "regions")


def _upload(engine, catalog, text: str, name: str) -> int:
    from indicators.ingest import IngestOptions, commit, parse_file

    parsed = parse_file(text.encode(), name, catalog, engine, IngestOptions(confidence="low"))
    assert parsed.report.ok, parsed.report.errors.head(3).to_dict("records")
    return commit(engine, parsed, user="tester").batch_id


def _revert(engine, batch_id: int):
    with engine.begin() as conn:
        return revert_batch(conn, batch_id, user="tester")


def _dump(engine) -> dict:
    return {t: queries.table_dump(engine, t) for t in TOUCHED}


def _region_codes(engine) -> set[str]:
    return set(queries.regions(engine)["code"])


def test_revert_removes_the_regions_its_upload_created(seeded_engine, catalog):
    before = _dump(seeded_engine)
    batch = _upload(seeded_engine, catalog, NEW_REGIONS, "new.csv")
    assert {"testville", "testburg"} <= _region_codes(seeded_engine)
    _revert(seeded_engine, batch)
    assert _dump(seeded_engine) | {"observation_history": None} == before | {"observation_history": None}
    history = queries.observations(seeded_engine, history=True)
    assert history[history["batch"] == batch][["region", "status"]].values.tolist() == [["beijing", "retracted"]]
    note = queries.batches(seeded_engine).set_index("id").loc[batch + 1, "note"]
    assert "2 regions it created removed: testburg, testville" in note


def test_revert_keeps_a_created_region_another_standing_upload_uses(seeded_engine, catalog):
    first = _upload(seeded_engine, catalog, NEW_REGIONS, "new.csv")
    second = _upload(seeded_engine, catalog, LATER.format(year=2024, value=5.3), "later.csv")
    _revert(seeded_engine, first)
    assert "testville" in _region_codes(seeded_engine) and "testburg" not in _region_codes(seeded_engine)
    assert queries.observations(seeded_engine, region="testville")["year"].tolist() == [2024]
    _revert(seeded_engine, second)  # the last upload naming it: now nothing stands that uses it
    assert "testville" not in _region_codes(seeded_engine)
    assert queries.observations(seeded_engine, region="testville", history=True).empty


def test_revert_in_reverse_order_of_a_revision_removes_the_region(seeded_engine, catalog):
    """An upload revised by a second one: reverting both, newest first, leaves no trace of the region (the
    second's retracted values do not keep it: that batch no longer stands)."""
    before = _dump(seeded_engine)
    first = _upload(seeded_engine, catalog, NEW_REGIONS, "new.csv")
    second = _upload(seeded_engine, catalog, LATER.format(year=2023, value=5.25), "revision.csv")
    with pytest.raises(RevertRefused):
        _revert(seeded_engine, first)
    _revert(seeded_engine, second)
    assert "testville" in _region_codes(seeded_engine)  # the first upload still stands and uses it
    _revert(seeded_engine, first)
    assert {"testville", "testburg"}.isdisjoint(_region_codes(seeded_engine))
    assert _dump(seeded_engine)["regions"] == before["regions"]
    assert _dump(seeded_engine)["observations"] == before["observations"]


def test_revert_never_removes_a_catalog_region_or_one_a_current_value_names(seeded_engine, catalog):
    batch = _upload(seeded_engine, catalog, NEW_REGIONS, "new.csv")
    with seeded_engine.begin() as conn:  # a value of the seed batch's kind naming the region: current, standing
        apply_batch(conn, batch_frame("indicator_code,region_code,year,value,source,confidence\n"
                                      "RD_GDP_RATIO,testburg,2020,3.0,test fixture - not a statistic,low\n"),
                    kind="upload", user="t")
    _revert(seeded_engine, batch)
    codes = _region_codes(seeded_engine)
    assert "beijing" in codes and "testburg" in codes and "testville" not in codes


@pytest.mark.parametrize("batch_id", [0, -1, 2**31, 10**30])
def test_revert_of_a_number_no_batch_can_have_is_refused(seeded_engine, batch_id):
    before = _dump(seeded_engine)
    with pytest.raises(RevertRefused, match="not a batch number"):
        _revert(seeded_engine, batch_id)
    assert _dump(seeded_engine) == before
