"""Two editors committing at the same time lose nothing, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading

from indicators import db, ingest, queries

SOURCE = "测试数据(非真实统计) test fixture - not a statistic"


def _file(indicator: str, years: range, base: float) -> bytes:
    lines = ["indicator,region,year,value,source,confidence"]
    lines += [f"{indicator},beijing,{y},{base + y / 1000:.3f},{SOURCE},low" for y in years]
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_concurrent_commits_both_land_with_history_intact(seeded_engine, catalog, seeded_url):
    files = {
        "alice": ("a.csv", _file("RD_GDP_RATIO", range(2000, 2026), 1.0)),   # revises 10 stored values
        "bob": ("b.csv", _file("TECH_CONTRACT_TURNOVER", range(2000, 2026), 5000.0)),
    }
    before = queries.observations(seeded_engine)
    barrier = threading.Barrier(len(files))
    results, errors = {}, []

    def editor(user: str) -> None:
        engine = db.make_engine(seeded_url)  # each editor its own connection pool, as two server threads
        try:
            name, content = files[user]
            parsed = ingest.parse_file(content, name, catalog, engine)
            barrier.wait()
            results[user] = ingest.commit(engine, parsed, user=user)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(exc))
        finally:
            engine.dispose()

    threads = [threading.Thread(target=editor, args=(u,)) for u in files]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    assert all(r.batch_id is not None for r in results.values())

    after = queries.observations(seeded_engine)
    for user, indicator in (("alice", "RD_GDP_RATIO"), ("bob", "TECH_CONTRACT_TURNOVER")):
        rows = after[(after["indicator"] == indicator) & (after["region"] == "beijing")]
        assert len(rows) == 26 and set(rows["batch"]) == {results[user].batch_id}
    untouched = before[~before["indicator"].isin(["RD_GDP_RATIO", "TECH_CONTRACT_TURNOVER"])
                       | (before["region"] != "beijing")]
    assert len(after) == len(before) - len(before[before["region"].eq("beijing") & before["indicator"].isin(
        ["RD_GDP_RATIO", "TECH_CONTRACT_TURNOVER"])]) + 52
    kept = after.merge(untouched[["indicator", "region", "year", "value", "batch"]], how="inner")
    assert len(kept) == len(untouched)
    history = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="beijing", history=True)
    assert (history["status"] == "superseded").sum() == 11  # 10 revised by alice + the 2016 vintage
    batches = queries.batches(seeded_engine)
    assert set(batches["user"]) >= {"alice", "bob"}
