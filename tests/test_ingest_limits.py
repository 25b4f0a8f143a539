"""The limits an upload is held to, beyond the bad files of ``test_ingest_problems.py``: work (columns and
cells, checked before a table is built), NUL characters on both databases, decoding that never guesses,
and the limits that depend on today's date (the present year, today's date)."""

from __future__ import annotations

import tracemalloc
from datetime import date, timedelta

import pytest

from indicators import queries
from indicators.ingest import IngestOptions, UploadRejected, commit, parse_file, parse_path
from indicators.ingest import table as table_module
from indicators.ingest.fields import CELL_BYTES, MAX_COLUMNS
from indicators.validation import DEFAULT_MAX_BYTES

from .support import BAD, GOOD, YEARS, database_dump, invoke

HEADER = "indicator,region,year,value,source,confidence\n"


def csv_bytes(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\n" for line in lines)).encode("utf-8")


def codes(parsed) -> list[str]:
    return parsed.report.codes()


def test_a_wide_header_is_refused_without_building_its_columns(catalog, monkeypatch):
    """The issue's 20 KB file with 10,000 columns: refused by its problem code, pandas never asked to read
    it, and the memory it took stays far below what 10,000 columns take (130 MB traced before the limit)."""
    content = (BAD / "too-many-columns.csv").read_bytes()
    assert len(content) < 21_000 and content.split(b"\n")[0].count(b",") + 1 == 10_000

    def no_table(*args, **kwargs):
        raise AssertionError("a table was built")

    monkeypatch.setattr(table_module.pd, "read_csv", no_table)
    tracemalloc.start()
    try:
        parsed = parse_file(content, "wide.csv", catalog, None, IngestOptions(year_range=YEARS))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert codes(parsed) == ["TOO_MANY_COLUMNS"] and parsed.rows.empty
    assert peak < 4 * 2**20, f"{peak / 2**20:.1f} MB traced"
    problem = parsed.report.problems.iloc[0]
    assert "Line 1 has 10,000 columns" in problem["message_en"] and "上限 500 列" in problem["message_zh"]


def test_a_data_line_wider_than_the_limit_is_refused_before_reading(catalog, monkeypatch):
    """A long line of delimiters under a short header (what made pandas and the csv module hold millions of
    fields): found on the bytes, with its line."""
    content = csv_bytes("RD_GDP_RATIO,beijing,2024,6.6,s,high", "RD_GDP_RATIO,shanghai,2024,4.4,s,high" + "," * 200_000)
    monkeypatch.setattr(table_module.pd, "read_csv", lambda *a, **k: pytest.fail("a table was built"))
    parsed = parse_file(content, "line.csv", catalog, None)
    assert parsed.report.problems[["row", "code"]].values.tolist() == [[3, "TOO_MANY_COLUMNS"]]


@pytest.mark.parametrize(("columns", "refused"), [(MAX_COLUMNS, False), (MAX_COLUMNS + 1, True)])
def test_the_column_limit_is_exact(catalog, columns, refused):
    extra = columns - 6
    header = HEADER.rstrip("\n") + "".join(f",{year}x" for year in range(extra)) + "\n"
    content = (header + "RD_GDP_RATIO,beijing,2024,6.6,s,high" + "," * extra + "\n").encode()
    parsed = parse_file(content, "edge.csv", catalog, None, IngestOptions(year_range=YEARS))
    assert ("TOO_MANY_COLUMNS" in codes(parsed)) == refused


def test_too_many_cells_are_refused_before_reading(catalog, monkeypatch):
    lines = [f"RD_GDP_RATIO,beijing,{year},6.6,s,high" for year in range(1990, 2020)]
    content = csv_bytes(*lines)
    # 6 columns x 32 lines (the header, 30 lines, and the empty one after the last line break): just fits
    options = IngestOptions(year_range=YEARS, max_cells=6 * 32)
    assert parse_file(content, "cells.csv", catalog, None, options).report.ok
    monkeypatch.setattr(table_module.pd, "read_csv", lambda *a, **k: pytest.fail("a table was built"))
    options = IngestOptions(year_range=YEARS, max_cells=6 * 32 - 1)
    parsed = parse_file(content, "cells.csv", catalog, None, options)
    assert parsed.report.problems[["code", "message_en"]].values.tolist() == [[
        "TOO_MANY_CELLS",
        "The file has about 192 cells (lines x columns), above the limit of 191; the file was not read. Split it "
        "into smaller files.",
    ]]


def test_the_cell_limit_follows_the_size_limit():
    assert IngestOptions().cell_limit() == DEFAULT_MAX_BYTES // CELL_BYTES == 5_242_880
    assert IngestOptions(max_bytes=200 * 2**20).cell_limit() == 20_971_520  # the CLI's --max-size raises both
    assert IngestOptions(max_cells=10).cell_limit() == 10


def test_a_nul_character_after_the_first_64_kb_is_refused_on_both_databases(seeded_engine, catalog):
    """Stored on SQLite and a crash of the commit on PostgreSQL before (after a dry run that said OK); the
    same file without the NUL loads on both, so the NUL is all that is refused."""
    content = (BAD / "nul-after-64kb.csv").read_bytes()
    before = database_dump(seeded_engine)
    parsed = parse_file(content, "nul.csv", catalog, seeded_engine, IngestOptions(year_range=YEARS,
                                                                                  confidence="low"))
    assert parsed.report.problems[["row", "code"]].values.tolist() == [[38, "NUL_CHARACTER"]]
    with pytest.raises(UploadRejected):
        commit(seeded_engine, parsed, user="tester")
    assert database_dump(seeded_engine) == before
    clean = parse_file(content.replace(b"\x00", b"x"), "clean.csv", catalog, seeded_engine,
                       IngestOptions(year_range=YEARS, confidence="low"))
    assert clean.report.ok
    result = commit(seeded_engine, clean, user="tester")
    assert result.n_new + result.n_revised == 40  # some years of Beijing are stored


def test_the_dry_run_refuses_a_nul_character_as_the_load_does(seeded_engine):
    env = {"DATABASE_URL": seeded_engine.url.render_as_string(hide_password=False), "USER": "tester"}
    result = invoke("ingest", str(BAD / "nul-after-64kb.csv"), "--dry-run", "--confidence", "low", env=env)
    assert result.returncode == 1 and "NUL_CHARACTER" in result.stdout


def test_a_nul_character_in_utf16_text_is_found_and_its_zero_bytes_are_not(catalog):
    text = HEADER + "RD_GDP_RATIO,beijing,2024,6.6,s,high\n"
    assert parse_file(text.encode("utf-16"), "u16.csv", catalog, None, IngestOptions(year_range=YEARS)).report.ok
    broken = parse_file((text + "RD_GDP_RATIO,shanghai,2024,4.4,s\x00,high\n").encode("utf-16"), "u16.csv",
                        catalog, None, IngestOptions(year_range=YEARS))
    assert broken.report.problems[["row", "code"]].values.tolist() == [[3, "NUL_CHARACTER"]]


def test_an_encoding_that_is_only_guessed_is_refused_and_loads_when_given(seeded_engine, catalog):
    """Windows-1252 text was read by a silent guess; now the report names the byte and the option, and the
    file loads once the encoding is given."""
    path = BAD / "not-utf8-cp1252.csv"
    problem = parse_path(path, catalog, None).report.problems.iloc[0]
    assert "byte 0xE9 on line 3 (byte 134 of the file)" in problem["message_en"]
    assert "--encoding cp1252" in problem["message_en"] and "--encoding cp1252" in problem["message_zh"]
    parsed = parse_path(path, catalog, seeded_engine, IngestOptions(encoding="cp1252", year_range=YEARS,
                                                                    confidence="low"))
    assert parsed.report.ok and commit(seeded_engine, parsed, user="tester").batch_id is not None
    notes = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="shanghai").set_index("year")
    assert notes.loc[2024, "note"] == "café crème"


def test_a_year_after_the_present_one_is_refused_by_default(catalog):
    this_year = date.today().year
    content = csv_bytes(f"RD_GDP_RATIO,beijing,{this_year},6.6,s,high", f"RD_GDP_RATIO,shanghai,{this_year + 1},4.4,s,high")
    parsed = parse_file(content, "years.csv", catalog, None)
    assert parsed.report.problems[["row", "value", "code"]].values.tolist() == [
        [3, str(this_year + 1), "YEAR_OUT_OF_RANGE"]
    ]
    assert f"outside 1900–{this_year}" in parsed.report.problems.iloc[0]["message_en"]


def test_a_publication_date_after_today_is_refused_by_default(catalog):
    today = date.today()
    dates = [today, today + timedelta(days=1), today + timedelta(days=2)]  # a day's slack for time zones
    content = (HEADER.rstrip("\n") + ",published_on\n" + "".join(
        f"RD_GDP_RATIO,{region},2024,6.6,s,high,{day.isoformat()}\n"
        for region, day in zip(("beijing", "shanghai", "shenzhen"), dates, strict=True)
    )).encode()
    parsed = parse_file(content, "dates.csv", catalog, None, IngestOptions(year_range=YEARS))
    assert parsed.report.problems[["row", "code"]].values.tolist() == [[4, "DATE_IN_FUTURE"]]


def test_long_cells_are_shown_cut_in_the_report(catalog):
    """A 5 MB source is refused, and neither its problem nor its message carries the 5 MB."""
    content = csv_bytes("RD_GDP_RATIO,beijing,2024,6.6," + "s" * 5_000_000 + ",high")
    report = parse_file(content, "long.csv", catalog, None, IngestOptions(year_range=YEARS)).report
    problem = report.problems.iloc[0]
    assert problem["code"] == "TEXT_TOO_LONG"
    assert problem["value"] == "s" * 200 + "… (5,000,000)"
    assert len(problem["message_en"]) < 200 and "5000000 characters" in problem["message_en"]
    assert len(report.to_json()) < 5_000


def test_checks_on_the_bytes_agree_with_pandas_on_a_good_wide_file(catalog):
    """The World Bank download (69 columns) is far under the limits, and reads as before."""
    parsed = parse_file((GOOD / "worldbank.csv").read_bytes(), "wb.csv", catalog, None,
                        IngestOptions(year_range=YEARS, confidence="high"))
    assert parsed.report.ok and parsed.report.file["layout"] == "worldbank"
