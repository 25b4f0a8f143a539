"""Loading while reading (``ingest.load_path``) against the whole-file path (``parse_path`` then ``commit``).

Every file is loaded both ways into two copies of the same database, in parts of a few values so that every
file is split: the outcome (report, counts, batch) and every row of the tables an upload touches must be
the same. Clean files must take the overlapped path; files with anything for the whole file to decide
(errors, keys or new regions repeated across parts) must fall back to the whole-file path and end the
same. A writing process that dies or fails leaves the database as it was.
"""

from __future__ import annotations

import os
import random
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from sqlalchemy import select

from indicators import queries, store
from indicators.ingest import IngestOptions, commit, entry, load_path, parse_path
from indicators.models import Base

from .support import BAD, DUMPED, GOOD, YEARS, database_dump

FROZEN = datetime(2026, 11, 28, 3, 0, 0)
NOT_CSV = {"binary.csv", "excel-97-renamed.csv", "excel-workbook-renamed.csv", "image-renamed.csv"}


@pytest.fixture
def frozen(monkeypatch):
    """Both loads stamp their batch and values with the same time (the writing process inherits this)."""
    monkeypatch.setattr(store, "utcnow", lambda: FROZEN)


@pytest.fixture
def twins(seeded_engine, clone_database, frozen):
    """Two databases in the same state: the seeded one and a copy of it."""
    return seeded_engine, clone_database(seeded_engine)


def _status(result) -> str:
    if result is None:
        return "rejected"
    return "already_loaded" if result.already_loaded_as is not None else "loaded"


def _whole_file(engine, path: Path, catalog, options) -> dict:
    parsed = parse_path(path, catalog, engine, options)
    result = None if parsed.rejected() else commit(engine, parsed, user="tester", note="n")
    return parsed.outcome(_status(result), result)


def _overlapped(engine, path: Path, catalog, options, part_values: int) -> dict:
    parsed, result = load_path(
        engine, path, catalog, options, user="tester", note="n", part_values=part_values, min_values=0
    )
    return parsed.outcome(_status(result), result)


def assert_same_both_ways(twins, path: Path, catalog, *, part_values: int = 3, must_overlap: bool,
                          monkeypatch, options: IngestOptions | None = None) -> dict:
    whole_engine, overlapped_engine = twins
    options = options or IngestOptions(year_range=YEARS)
    expected = _whole_file(whole_engine, path, catalog, options)
    if must_overlap:  # falling back would call parse_path: make that fail
        monkeypatch.setattr(entry, "parse_path", _must_not_fall_back)
    got = _overlapped(overlapped_engine, path, catalog, options, part_values)
    if must_overlap or overlapped_engine.dialect.name == "sqlite":
        assert got == expected
        assert database_dump(overlapped_engine) == database_dump(whole_engine)
    else:
        # PostgreSQL: an overlapped attempt that wrote parts before it fell back has used up sequence
        # values (sequences ignore rollbacks), so ids may differ; everything else may not.
        assert {**got, "batch": None} == {**expected, "batch": None}
        assert _dump_without_ids(overlapped_engine) == _dump_without_ids(whole_engine)
    return got


def _dump_without_ids(engine) -> dict[str, list[tuple]]:
    out = {}
    with engine.connect() as conn:
        for name in DUMPED:
            table = Base.metadata.tables[name]
            columns = [c for c in table.columns if not (c.name == "id" or c.name.endswith("_id"))]
            out[name] = sorted(tuple(map(str, r)) for r in conn.execute(select(*columns)).all())
    return out


def _must_not_fall_back(*_args, **_kwargs):
    raise AssertionError("the overlapped load fell back to the whole-file path")


GOOD_FILES = sorted(p.name for p in GOOD.glob("*.csv"))
BAD_FILES = sorted(p.name for p in BAD.glob("*.csv"))
# Every file on SQLite; a few on PostgreSQL too, to keep the suite quick.
ON_POSTGRESQL = {"new-regions.csv", "wide.csv", "numbers.csv", "duplicate-key.csv", "region-name-conflict.csv"}


def _cases(names):
    return [("sqlite", n) for n in names] + [("postgresql", n) for n in names if n in ON_POSTGRESQL]


@pytest.mark.parametrize(("backend", "name"), _cases(GOOD_FILES), indirect=["backend"])
def test_a_good_file_loads_the_same_in_parts(name, twins, catalog, monkeypatch):
    outcome = assert_same_both_ways(twins, GOOD / name, catalog, must_overlap=True, monkeypatch=monkeypatch)
    assert outcome["status"] == "loaded"


@pytest.mark.parametrize(("backend", "name"), _cases(BAD_FILES), indirect=["backend"])
def test_a_bad_file_is_rejected_the_same_in_parts(name, twins, catalog, monkeypatch):
    before = database_dump(twins[1])
    outcome = assert_same_both_ways(twins, BAD / name, catalog, must_overlap=False, monkeypatch=monkeypatch)
    if outcome["status"] == "rejected":
        assert database_dump(twins[1]) == before


# --- generated files that span many parts --------------------------------------------------------------

HEADER = "indicator,region_code,region_name,year,value,unit,source,note,published_on"


def _synthetic_lines(seed: int, regions: int = 6) -> list[str]:
    """Synthetic values (not statistics) for new regions: levels in 万元 (converted), shares, notes and
    publication dates on some lines, no confidence column (the default is applied and reported)."""
    rng = random.Random(seed)
    lines = []
    for r in range(regions):
        for year in range(2010, 2020):
            lines.append(f"RD_GDP_RATIO,synth_{r:02d},合成{r:02d},{year},{rng.uniform(0.5, 6):.2f},,synthetic test,,")
            lines.append(
                f"RD_EXPENDITURE,synth_{r:02d},合成{r:02d},{year},{rng.uniform(1000, 90000):.1f},万元,"
                f"synthetic test,{'revised' if year % 4 == 0 else ''},{'2021-06-01' if year % 3 == 0 else ''}"
            )
    return lines


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("part_values", [7, 50])
def test_a_generated_file_across_many_parts(twins, catalog, tmp_path, monkeypatch, part_values):
    path = _write(tmp_path / "synthetic.csv", _synthetic_lines(1))
    outcome = assert_same_both_ways(twins, path, catalog, part_values=part_values, must_overlap=True,
                                    monkeypatch=monkeypatch)
    report = outcome["report"]
    assert outcome["batch_counts"]["new"] == 120
    assert report["conversions"] and report["conversions"][0]["count"] == 60
    assert len(report["new_regions"]) == 6
    assert "CONFIDENCE_DEFAULTED" in report["problem_codes"]


def _with_value(line: str, value: str) -> str:
    cells = line.split(",")
    cells[4] = value
    return ",".join(cells)


def test_a_revision_across_parts_keeps_history_and_warns_of_jumps(twins, catalog, tmp_path, monkeypatch):
    first = _write(tmp_path / "first.csv", _synthetic_lines(1))
    for engine in twins:
        _whole_file(engine, first, catalog, IngestOptions(year_range=YEARS))
    lines = _synthetic_lines(1)
    lines[5] = lines[5].replace("synthetic test", "synthetic test (corrected)")  # a revised source
    lines[10] = _with_value(lines[10], "60.00")  # a share 50 points higher than stored: a warning
    second = _write(tmp_path / "second.csv", lines)
    outcome = assert_same_both_ways(twins, second, catalog, part_values=9, must_overlap=True,
                                    monkeypatch=monkeypatch)
    assert outcome["batch_counts"]["revised"] == 2
    assert outcome["batch_counts"]["unchanged"] == 118
    assert outcome["report"]["problem_codes"].get("VALUE_JUMP") == 1
    assert len(database_dump(twins[1])["observation_history"]) == len(database_dump(twins[0])[
        "observation_history"]) > 0


@pytest.mark.parametrize(
    "change",
    ["same key and value twice", "same key, two values", "one new region, two names"],
)
def test_what_spans_parts_is_decided_on_the_whole_file(twins, catalog, tmp_path, monkeypatch, change):
    lines = _synthetic_lines(2, regions=1)
    if change == "same key and value twice":
        lines.append(lines[0])
    elif change == "same key, two values":
        lines.append(_with_value(lines[0], "9.99"))
    else:
        lines.append("RD_GDP_RATIO,synth_00,另一个名字,2030,1.5,,synthetic test,,")
    path = _write(tmp_path / "spanning.csv", lines)
    assert_same_both_ways(twins, path, catalog, part_values=5, must_overlap=False, monkeypatch=monkeypatch)


@pytest.mark.parametrize("second", ["unchanged", "revised"])
def test_a_stored_key_in_two_parts_is_decided_on_the_whole_file(twins, catalog, tmp_path, monkeypatch, second):
    """A stored key given twice: the database's unique key cannot catch it when a part leaves it as it is."""
    base = _synthetic_lines(5, regions=1)
    for engine in twins:
        _whole_file(engine, _write(tmp_path / "base.csv", base), catalog, IngestOptions(year_range=YEARS))
    repeat = base[0] if second == "unchanged" else _with_value(base[0], "5.55")
    path = _write(tmp_path / "again.csv", [*base, repeat])
    outcome = assert_same_both_ways(twins, path, catalog, part_values=7, must_overlap=False,
                                    monkeypatch=monkeypatch)
    assert outcome["status"] == ("loaded" if second == "unchanged" else "rejected")


def test_a_file_without_publication_or_flags_keeps_the_stored_ones_in_parts(twins, catalog, tmp_path,
                                                                          monkeypatch):
    """Stored values given again with the same number and source by a file that has no publication or flag
    column keep their publication and flags, on either path; a value that changed takes neither."""
    stored = queries.observations(twins[0])
    cited = stored[stored["publication_id"].notna() & stored["flags"].notna()].head(12).reset_index(drop=True)
    assert len(cited) == 12
    lines = cited[["indicator", "region", "year", "value", "source", "confidence", "note", "published_on"]].copy()
    lines.loc[0, "value"] += 1  # a revision: says nothing of the old publication and flags either
    path = tmp_path / "again-without-publications.csv"
    lines.to_csv(path, index=False)
    outcome = assert_same_both_ways(twins, path, catalog, part_values=5, must_overlap=True, monkeypatch=monkeypatch)
    assert (outcome["batch_counts"]["unchanged"], outcome["batch_counts"]["revised"]) == (11, 1)
    after = queries.observations(twins[1]).merge(cited[["indicator", "region", "year"]])
    after = after.set_index(["indicator", "region", "year"]).loc[list(zip(cited["indicator"], cited["region"],
                                                                         cited["year"], strict=True))]
    assert after["publication_id"].tolist()[1:] == cited["publication_id"].tolist()[1:]
    assert after["flags"].tolist()[1:] == cited["flags"].tolist()[1:]
    assert after.iloc[0][["publication_id", "flags"]].isna().all()


def _with_publications(lines: list[str], title=lambda date: f"合成公报 {date or '未注明日期'}") -> list[str]:
    """Each line naming its publication by publisher and title: one per publication date (none included)."""
    return [f"{line},合成统计局,{title(line.split(',')[8])}" for line in lines]


def _publications_of(engine) -> list[tuple]:
    frame = queries.publications(engine)
    return sorted(map(tuple, frame.astype(str).to_numpy().tolist()))


def test_publications_named_across_parts_are_created_once(twins, catalog, tmp_path, monkeypatch):
    path = tmp_path / "named.csv"
    path.write_text("\n".join([f"{HEADER},publisher,publication_title",
                               *_with_publications(_synthetic_lines(7, regions=2))]) + "\n", encoding="utf-8")
    outcome = assert_same_both_ways(twins, path, catalog, part_values=6, must_overlap=True, monkeypatch=monkeypatch)
    assert [(p["title"], p["published_on"]) for p in outcome["report"]["new_publications"]] == [
        ("合成公报 未注明日期", None), ("合成公报 2021-06-01", "2021-06-01")]
    assert _publications_of(twins[1]) == _publications_of(twins[0])
    assert len(_publications_of(twins[1])) == len(catalog.publications) + 2


def test_a_publication_with_two_dates_in_two_parts_is_decided_on_the_whole_file(twins, catalog, tmp_path,
                                                                               monkeypatch):
    path = tmp_path / "two-dates.csv"
    lines = _with_publications(_synthetic_lines(8, regions=1), title=lambda _date: "合成公报")
    path.write_text("\n".join([f"{HEADER},publisher,publication_title", *lines]) + "\n", encoding="utf-8")
    before = _publications_of(twins[1])
    outcome = assert_same_both_ways(twins, path, catalog, part_values=5, must_overlap=False, monkeypatch=monkeypatch)
    assert outcome["status"] == "rejected" and "PUBLICATION_DATE_CONFLICT" in outcome["report"]["problem_codes"]
    assert _publications_of(twins[1]) == before


def test_a_file_loaded_before_is_not_loaded_again(twins, catalog, tmp_path, monkeypatch):
    path = _write(tmp_path / "twice.csv", _synthetic_lines(3, regions=2))
    for engine in twins:
        _whole_file(engine, path, catalog, IngestOptions(year_range=YEARS))
    outcome = assert_same_both_ways(twins, path, catalog, part_values=5, must_overlap=False,
                                    monkeypatch=monkeypatch)
    assert outcome["status"] == "already_loaded"


# --- the writing process failing --------------------------------------------------------------------------


def _dies(*_args, **_kwargs):
    os._exit(3)


def _fails(*_args, **_kwargs):
    raise OSError("disk full (simulated)")


@pytest.mark.parametrize("failure", [_dies, _fails], ids=["dies", "fails"])
def test_a_writer_that_dies_or_fails_changes_nothing(seeded_engine, catalog, tmp_path, monkeypatch, failure):
    path = _write(tmp_path / "doomed.csv", _synthetic_lines(4))
    before = database_dump(seeded_engine)
    monkeypatch.setattr(store, "write_changes", failure)  # the writing process inherits this
    with pytest.raises(RuntimeError, match="nothing was written"):
        load_path(seeded_engine, path, catalog, IngestOptions(year_range=YEARS), user="tester",
                  part_values=10, min_values=0)
    assert database_dump(seeded_engine) == before
    monkeypatch.undo()
    parsed, result = load_path(seeded_engine, path, catalog, IngestOptions(year_range=YEARS), user="tester",
                               part_values=10, min_values=0)  # the write lock was released
    assert result is not None and result.n_new == 120


def test_a_failure_to_send_a_part_changes_nothing_and_does_not_hang(seeded_engine, catalog, tmp_path,
                                                                   monkeypatch):
    """Sending a part to the writer fails (out of memory while pickling, say): the load stops with an error,
    the writer rolls back and lets go of the database."""
    path = _write(tmp_path / "unsent.csv", _synthetic_lines(6))
    before = database_dump(seeded_engine)
    send, calls = Connection.send, []

    def failing_send(self, obj):
        calls.append(obj[0] if isinstance(obj, tuple) else obj)
        if calls.count("part") == 2:
            raise MemoryError("simulated")
        return send(self, obj)

    monkeypatch.setattr(Connection, "send", failing_send)
    with pytest.raises(RuntimeError, match="nothing was written"):
        load_path(seeded_engine, path, catalog, IngestOptions(year_range=YEARS), user="tester",
                  part_values=10, min_values=0)
    monkeypatch.undo()
    assert database_dump(seeded_engine) == before
    parsed, result = load_path(seeded_engine, path, catalog, IngestOptions(year_range=YEARS), user="tester",
                               part_values=10, min_values=0)  # the write lock was released
    assert result is not None and result.n_new == 120
