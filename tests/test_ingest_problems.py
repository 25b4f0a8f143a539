"""Every failure mode of an upload: one small file each under tests/data/ingest/bad, the exact problems it
must report, and the database exactly as before after the rejected load (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pandas as pd
import pytest

from indicators.ingest import IngestOptions, UploadRejected, commit, parse_file, parse_path
from indicators.validation import MESSAGES

from .support import BAD, GOOD, INGEST_DATA, YEARS, database_dump

# file -> the problems it reports (severity, line, column, value, code), in report order: one file each in
# data/ingest/expected-problems, named as the bad file.
EXPECTED = {path.name: path.read_text(encoding="utf-8") for path in sorted((INGEST_DATA / "expected-problems").glob("*.csv"))}

# Codes tested elsewhere (they need options, a stored series or a good file).
TESTED_ELSEWHERE = {
    "FILE_TOO_LARGE",
    "ENCODING_INVALID",
    "ENCODING_AMBIGUOUS",
    "ENCODING_ASSUMED",
    "PREAMBLE_SKIPPED",
    "CONFIDENCE_DEFAULTED",
    "VALUE_JUMP",
    "TABLE_YEAR_MISSING",  # a table as published: test_ingest_published_table.py
    "TABLE_YEAR_CONFLICT",
    "TOO_MANY_CELLS",  # needs a cell limit below a small file's: test_ingest_limits.py
}


def problems_table(report) -> pd.DataFrame:
    """The report's problems as text, without the confidence warning most of these files also get."""
    frame = report.problems[report.problems["code"] != "CONFIDENCE_DEFAULTED"]
    frame = frame[["severity", "row", "column", "value", "code"]].astype(object)
    return frame.where(frame.notna(), "").astype(str).reset_index(drop=True)


def expected_table(text: str) -> pd.DataFrame:
    return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_reports_exactly_its_problems_and_changes_nothing(name, seeded_engine, catalog):
    before = database_dump(seeded_engine)
    # Fixed limits on years and dates (the end of YEARS), so that nothing here depends on today's date.
    options = IngestOptions(year_range=YEARS, latest_date=date(YEARS[1], 12, 31))
    parsed = parse_path(BAD / name, catalog, seeded_engine, options)
    pd.testing.assert_frame_equal(problems_table(parsed.report), expected_table(EXPECTED[name]))
    problems = parsed.report.problems
    assert (problems["message_zh"].str.len() > 0).all() and (problems["message_en"].str.len() > 0).all()
    if parsed.report.ok:  # warnings only: the file loads
        commit(seeded_engine, parsed, user="tester")
        return
    with pytest.raises(UploadRejected):
        commit(seeded_engine, parsed, user="tester")
    assert database_dump(seeded_engine) == before


def test_messages_name_the_value_in_both_languages(catalog):
    parsed = parse_path(BAD / "unit-mismatch.csv", catalog, None, IngestOptions(year_range=YEARS))
    first = parsed.report.errors.iloc[0]
    assert first["message_zh"] == "单位“件”与该指标的单位“亿元”不一致,且无法换算。"
    assert (
        first["message_en"] == "Unit '件' does not match the indicator's unit '亿元' and cannot be converted."
    )
    duplicate = parse_path(BAD / "duplicate-key.csv", catalog, None).report.problems
    assert duplicate[duplicate["code"] == "KEY_DUPLICATE"]["message_en"].tolist() == [
        "RD_GDP_RATIO / beijing / 2025 appears more than once with different contents (see also line(s) 3).",
        "RD_GDP_RATIO / beijing / 2025 appears more than once with different contents (see also line(s) 2).",
    ]
    excel = parse_path(BAD / "excel-workbook-renamed.csv", catalog, None).report.problems.iloc[0]
    assert "Excel" in excel["message_zh"] and "renamed to .csv" in excel["message_en"]


def test_not_csv_says_what_the_file_is(catalog):
    said = {
        name: parse_path(BAD / name, catalog, None).report.problems.iloc[0]["message_en"]
        for name in ("excel-97-renamed.csv", "image-renamed.csv", "web-page.csv", "binary.csv")
    }
    assert "Excel 97-2003 workbook" in said["excel-97-renamed.csv"]
    assert "PNG image" in said["image-renamed.csv"]
    assert "web page" in said["web-page.csv"]
    assert "binary file" in said["binary.csv"]


def test_file_over_the_size_limit_is_rejected_before_reading(seeded_engine, catalog):
    before = database_dump(seeded_engine)
    path = GOOD / "long-english.csv"
    options = IngestOptions(max_bytes=100)
    for parsed in (
        parse_path(path, catalog, seeded_engine, options),
        parse_file(path.read_bytes(), path.name, catalog, seeded_engine, options),
    ):
        assert problems_table(parsed.report).to_dict("records") == [
            {"severity": "error", "row": "", "column": "", "value": "", "code": "FILE_TOO_LARGE"}
        ]
        assert parsed.rows.empty
        with pytest.raises(UploadRejected):
            commit(seeded_engine, parsed, user="tester")
    message = parsed.report.problems.iloc[0]
    assert "上限 0.0 MB" in message["message_zh"] and "above the limit of 0.0 MB" in message["message_en"]
    assert database_dump(seeded_engine) == before


def test_forced_wrong_encoding_names_the_line(seeded_engine, catalog):
    before = database_dump(seeded_engine)
    parsed = parse_path(GOOD / "long-gb18030.csv", catalog, seeded_engine, IngestOptions(encoding="utf-8"))
    assert problems_table(parsed.report).to_dict("records") == [
        {"severity": "error", "row": "1", "column": "", "value": "0xC4", "code": "ENCODING_INVALID"}
    ]
    message = parsed.report.problems.iloc[0]
    assert "invalid byte 0xC4 on line 1 (byte 1 of the file)" in message["message_en"]
    assert "第 1 行有无效字节 0xC4" in message["message_zh"]
    with pytest.raises(UploadRejected):
        commit(seeded_engine, parsed, user="tester")
    assert database_dump(seeded_engine) == before


def test_skip_invalid_does_not_save_a_file_level_error(seeded_engine, catalog):
    before = database_dump(seeded_engine)
    for name in ("missing-column.csv", "no-values.csv", "excel-workbook-renamed.csv"):
        parsed = parse_path(BAD / name, catalog, seeded_engine)
        assert parsed.rejected(skip_invalid=True)
        with pytest.raises(UploadRejected):
            commit(seeded_engine, parsed, user="tester", skip_invalid=True)
    assert database_dump(seeded_engine) == before


def test_every_problem_code_has_messages_and_a_test():
    for code, message in MESSAGES.items():
        assert message.severity in ("error", "warning") and message.scope in ("file", "row"), code
        assert message.text.zh and message.text.en, code
    tested = {code for text in EXPECTED.values() for code in expected_table(text)["code"]} | TESTED_ELSEWHERE
    assert tested == set(MESSAGES)
