"""The CSV reader driven by random bytes and by random well-formed but hostile tables: every outcome is a
report (the file refused, with its problems) or a clean load, never an exception, and the memory a file
of a few KB takes stays bounded.

Hostile: numbers huge, tiny, odd or in other scripts' digits, units that overflow, NUL characters, byte
order marks, encodings mixed in one file, quotes and delimiters inside cells, very long cells, many
columns, formula text, right-to-left marks, dates in the future. Run on SQLite (a seeded copy shared by
the examples); each example small, so the whole test takes a few seconds.
"""

from __future__ import annotations

import codecs
import os
import tracemalloc
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicators import db
from indicators.ingest import IngestOptions, ParsedFile, UploadRejected, commit, parse_file

from .support import YEARS, copy_sqlite

MEMORY_LIMIT = 48 * 2**20  # traced bytes per example (a few KB of input; pandas and numpy included)
OPTIONS = IngestOptions(year_range=YEARS, latest_date=date(YEARS[1], 12, 31))
# A few seconds in the suite, the same examples every run; FUZZ_EXAMPLES=5000 (say) searches further, at random.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0")) or None
SETTINGS = settings(max_examples=EXAMPLES or 80, deadline=None, derandomize=EXAMPLES is None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

HEADERS = ["indicator", "指标", "region", "地区", "region_code", "region_name", "year", "年份", "value", "数值",
           "数值(亿元)", "unit", "source", "来源", "confidence", "note", "flag", "published_on", "publisher",
           "publication_title", "publication", "2023", "2024年", "", "extra", "=cmd|' /C calc'!A0"]
NUMBERS = ["6.6", "1e400", "1e-400", "-1e308", "1e300万亿", "1e99999999999万元", "9" * 400, "0." + "0" * 400 + "1",
           "-0", "nan", "inf", "-inf", "1,234,567.8", "１２３．４％", "٣٫٥", "३४", "2.5e", "1e+", "0x1F", "1_000",
           "第3名", "3rd", "#1", "", "-", "..", "12%", "1.2万亿", "8536.9万元", "−5", "+.5", "5e-324", "1.7976931348623157e308"]
TEXTS = ["北京", "beijing", "RD_GDP_RATIO", "TECH_CONTRACT_TURNOVER", "研发投入强度", "2024", "2024年", "high", "低",
         "p", "初步数", "2025-01-06", "2099-12-31", "2024-02-30", "=1+1", "+SUM(A1)", "@cmd", "-2+3",
         "\u202eevil\u202c", "\u200f", "\ufeff", "\x00", "a\x00b", '"', '""', 'a "quoted" b', "a,b", "a;b", "a\tb",
         "line\nbreak", "\r", "x" * 2500, "名" * 300, "upload-123", "statistical_communique", "xian"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "gb18030", "big5", "cp1252"]


@pytest.fixture(scope="module")
def fuzz_engine(seeded_sqlite, tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3"
    copy_sqlite(seeded_sqlite, path)
    engine = db.make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def read_and_maybe_load(content: bytes, catalog, engine) -> ParsedFile:
    """Parse (and, when the report allows, load) under tracemalloc; fail on any exception but a refusal."""
    tracemalloc.start()
    try:
        parsed = parse_file(content, "fuzz.csv", catalog, engine, OPTIONS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, f"{peak / 2**20:.1f} MB traced for {len(content)} bytes"
    report = parsed.report.to_dict()
    assert report["ok"] == parsed.report.ok
    assert all(p["message_zh"] and p["message_en"] for p in report["problems"])
    if parsed.report.ok:
        try:
            commit(engine, parsed, user="fuzz")
        except UploadRejected:
            assert parsed.rejected()  # refused only when the report says so (no valid value)
    else:
        with pytest.raises(UploadRejected):
            commit(engine, parsed, user="fuzz")
    return parsed


@SETTINGS
@given(content=st.binary(max_size=3000))
def test_random_bytes_give_a_report(content, catalog, fuzz_engine):
    read_and_maybe_load(content, catalog, fuzz_engine)


@SETTINGS
@given(content=st.binary(max_size=400).map(lambda tail: b"indicator,region,year,value,source\n" + tail))
def test_random_bytes_under_a_real_header_give_a_report(content, catalog, fuzz_engine):
    read_and_maybe_load(content, catalog, fuzz_engine)


def cells():
    return st.one_of(st.sampled_from(NUMBERS), st.sampled_from(TEXTS),
                     st.text(st.characters(codec="utf-8"), max_size=12))


@st.composite
def hostile_tables(draw) -> bytes:
    """A table as a writer of CSV would write it (quoted where needed), with hostile contents, encoded in
    one encoding or several."""
    delimiter = draw(st.sampled_from([",", "\t", ";"]))
    width = draw(st.sampled_from([1, 2, 4, 5, 7, 12, 40, 499, 501, 700]))
    header = [draw(st.sampled_from(HEADERS)) for _ in range(min(width, 12))] + [f"c{i}" for i in range(max(0, width - 12))]
    lines = draw(st.integers(0, 6))
    rows = [[draw(cells()) for _ in range(min(width, 12))] + [""] * max(0, width - 12) for _ in range(lines)]
    if draw(st.booleans()) and rows:  # a line wider or narrower than the header
        rows[-1] = rows[-1] + ["x"] * draw(st.sampled_from([1, 3, 600]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))

    def field(text: str) -> str:
        if any(c in text for c in (delimiter, '"', "\n", "\r")):
            return '"' + text.replace('"', '""') + '"'
        return text

    text_lines = [delimiter.join(field(c) for c in line) for line in [header, *rows]]
    if draw(st.booleans()):
        text_lines.insert(0, draw(st.sampled_from(["2023年各地区研究与试验发展(R&D)经费情况", "单位:亿元", "Data Source,WDI"])))
    encoding = draw(st.sampled_from(ENCODINGS))
    if draw(st.booleans()):  # mixed: each line in an encoding of its own
        parts = [line.encode(draw(st.sampled_from(ENCODINGS)), errors="replace") for line in text_lines]
        content = newline.encode().join(parts)
    else:
        content = newline.join(text_lines).encode(encoding, errors="replace")
    if draw(st.booleans()):
        content = draw(st.sampled_from([codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b""])) + content
    return content


@SETTINGS
@given(content=hostile_tables())
def test_hostile_tables_give_a_report_or_a_clean_load(content, catalog, fuzz_engine):
    read_and_maybe_load(content, catalog, fuzz_engine)


@settings(SETTINGS, max_examples=EXAMPLES or 25)  # each loads a value: the slowest part
@given(value=st.one_of(st.sampled_from(NUMBERS), st.text(st.characters(codec="utf-8"), max_size=20),
                       st.floats().map(repr), st.integers(-10**400, 10**400).map(str)),
       unit=st.sampled_from(["", "万亿", "万元", "%", "亿元", "名"]))
def test_any_number_is_stored_finite_and_in_range_or_reported(value, unit, catalog, fuzz_engine):
    """Whatever is written as a value: a finite number within the limit, or a problem on its line."""
    content = f"indicator,region,year,value,source,confidence\nTECH_CONTRACT_TURNOVER,beijing,2024,\"{value.replace(chr(34), '')}{unit}\",s,high\n"
    parsed = read_and_maybe_load(content.encode("utf-8", errors="replace"), catalog, fuzz_engine)
    ok = parsed.rows[parsed.rows["status"] == "ok"]
    assert ok["value"].abs().le(1e15).all()
    assert ((ok["value"] == 0) <= ok["raw"].astype(str).str.contains("0")).all()  # a 0 comes from a 0
