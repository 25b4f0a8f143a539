"""CSV ingestion on SQLite and PostgreSQL: every layout, encoding and number format, loading as a batch with
history, re-uploads, reverts, skip-invalid, new regions, flags as codes, publications (cited, kept, or named
by publisher and title and created), the CLI command, and a load killed half-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import get_args

import pandas as pd
import pytest

from indicators import queries
from indicators.catalog import PublicationKind
from indicators.ingest import (
    IngestOptions,
    UploadRejected,
    commit,
    commit_many,
    normalise_date,
    parse_file,
    parse_number,
    parse_path,
)
from indicators.ingest.fields import PUBLICATION_KINDS, REGION_KINDS, kind_of
from indicators.ingest.interpret import read_flags
from indicators.seed import read_shipped_file
from indicators.store import KEY, PAYLOAD, revert_batch
from indicators.tables import csv_safe

from .support import BAD, CATALOG_DIR, GOOD, INGEST_DATA, PROJECT, SHIPPED_DIR, YEARS, database_dump, invoke

EXPECTED_ROWS = INGEST_DATA / "expected-rows"

STORED = ["indicator", "region", "year", "value", "source", "confidence", "note", "flags", "published_on"]


def as_table(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[STORED].astype(object).where(frame[STORED].notna(), "")
    out = out.astype({c: str for c in STORED if c not in ("year", "value")})
    return out.astype({"year": "int64", "value": "float64"}).reset_index(drop=True)


def expected(csv_text: str) -> pd.DataFrame:
    frame = pd.read_csv(StringIO(csv_text), dtype=str, keep_default_na=False)
    return frame.astype({"year": "int64", "value": "float64"})


def stored_for(engine, parsed) -> pd.DataFrame:
    """The current stored rows for the keys the file holds, sorted by indicator, region, year."""
    keys = parsed.observations()[KEY].rename(columns={"indicator_code": "indicator", "region_code": "region"})
    frame = queries.observations(engine).merge(keys, on=["indicator", "region", "year"])
    return as_table(frame.sort_values(["indicator", "region", "year"]))


def load(engine, catalog, name: str, **options):
    parsed = parse_path(GOOD / name, catalog, engine, IngestOptions(year_range=YEARS, **options))
    return parsed, commit(engine, parsed, user="tester")


# file, options, (encoding, delimiter, layout), warnings; the rows stored are in data/ingest/expected-rows/<file>
GOOD_FILES = [
    ("long-english.csv", {}, ("utf-8", ",", "long"), []),
    ("long-chinese-bom-crlf.csv", {}, ("utf-8-sig", ",", "long"), []),
    ("long-gb18030.csv", {}, ("gb18030", ",", "long"), []),
    ("long-tab.csv", {}, ("utf-8", "\t", "long"), ["CONFIDENCE_DEFAULTED"]),
    ("long-semicolon.csv", {"confidence": "low"}, ("utf-8", ";", "long"), []),
    ("wide.csv", {}, ("utf-8", ",", "wide"), []),
    ("wide-gb18030.csv", {}, ("gb18030", ",", "wide"), []),
    ("worldbank.csv", {"confidence": "high"}, ("utf-8-sig", ",", "worldbank"), []),
    ("numbers.csv", {"confidence": "medium"}, ("utf-8", ",", "long"), []),
    ("new-regions.csv", {"confidence": "medium"}, ("utf-8", ",", "long"), []),
    ("preamble.csv", {}, ("utf-8", ",", "long"), ["PREAMBLE_SKIPPED", "CONFIDENCE_DEFAULTED"]),
    ("header-unit.csv", {"confidence": "high"}, ("utf-8", ",", "long"), []),
    ("formula-text.csv", {"confidence": "low"}, ("utf-8", ",", "long"), []),
    ("ambiguous-encoding.csv", {"confidence": "low"}, ("gb18030", ",", "long"), ["ENCODING_AMBIGUOUS"]),
    ("excel-unicode-text-utf16.csv", {"confidence": "high"}, ("utf-16", "\t", "long"), []),
    ("rare-characters-gb18030.csv", {}, ("gb18030", ",", "long"), ["ENCODING_ASSUMED"]),
]


@pytest.mark.parametrize(("name", "options", "how", "warnings"), GOOD_FILES, ids=[f[0] for f in GOOD_FILES])
def test_good_file_is_stored_exactly(name, options, how, warnings, seeded_engine, catalog):
    rows = (EXPECTED_ROWS / name).read_text(encoding="utf-8")
    parsed, result = load(seeded_engine, catalog, name, **options)
    report = parsed.report
    assert (report.file["encoding"], report.file["delimiter"], report.file["layout"]) == how
    assert report.ok and report.codes() == warnings
    assert result.batch_id is not None and result.n_new + result.n_revised == len(expected(rows))
    pd.testing.assert_frame_equal(stored_for(seeded_engine, parsed), expected(rows))


def test_numbers_conversions_are_reported(seeded_engine, catalog):
    parsed, result = load(seeded_engine, catalog, "numbers.csv", confidence="medium")
    assert [
        (c["indicator"], c["from_unit"], c["factor"], c["count"], c["first_row"], c["example"])
        for c in parsed.report.conversions
    ] == [
        ("TECH_CONTRACT_TURNOVER", "万亿", 10000.0, 1, 5, "1.2万亿 -> 12000 亿元"),
        ("TECH_CONTRACT_TURNOVER", "万元", 0.0001, 1, 6, "8536.9万元 -> 0.85369 亿元"),
        ("NATL_HIGHTECH_ENTERPRISES", "万家", 10000.0, 1, 7, "2.9万家 -> 29000 家"),
    ]
    assert parsed.report.counts["missing"] == 5 and result.n_skipped == 5
    assert queries.batches(seeded_engine).set_index("id").loc[result.batch_id, "n_skipped"] == 5


def test_line_numbers_count_quoted_line_breaks_and_blank_lines(seeded_engine, catalog):
    parsed, _ = load(seeded_engine, catalog, "quoted.csv", confidence="high")
    assert parsed.rows["row"].tolist() == [2, 5]
    stored = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="hangzhou").set_index("year")
    assert stored.loc[2022, "source"] == 'Hangzhou "statistical" bulletin'
    assert stored.loc[2022, "note"] == "first line\r\nsecond line"


def test_world_bank_file_creates_the_new_country(seeded_engine, catalog):
    parsed, _ = load(seeded_engine, catalog, "worldbank.csv", confidence="high")
    assert parsed.report.counts["missing"] == 6  # Korea 2022 and the empty 'World' line
    assert parsed.report.file["header_row"] == 5
    regions = queries.regions(seeded_engine).set_index("code")
    assert regions.loc["kor", ["name_zh", "name_en", "kind", "iso3", "from_upload"]].tolist() == [
        "Korea, Rep.",
        "Korea, Rep.",
        "country",
        "KOR",
        True,
    ]
    assert "wld" not in regions.index  # only missing values: nothing to create it for


def test_new_regions_are_created_in_the_same_batch_and_found_by_name_later(seeded_engine, catalog):
    parsed, _ = load(seeded_engine, catalog, "new-regions.csv", confidence="medium")
    assert [
        (r["code"], r["name_zh"], r["name_en"], r["kind"], r["kind_assumed"], r["row"])
        for r in parsed.report.new_regions
    ] == [("xian", "西安", "西安", "city", True, 2), ("chengdu", "成都", "成都", "city", True, 5)]
    regions = queries.regions(seeded_engine).set_index("code")
    assert regions.loc[["chengdu", "xian"], "from_upload"].tolist() == [True, True]
    later = parse_file(
        "指标,地区,年份,数值,来源\n研发投入强度,西安,2024,5.3,陕西省统计局\n".encode(),
        "later.csv",
        catalog,
        seeded_engine,
        IngestOptions(confidence="high"),
    )
    assert later.report.ok and later.observations()["region_code"].tolist() == ["xian"]


def test_text_is_stored_as_written_and_neutralised_for_csv_download(seeded_engine, catalog):
    load(seeded_engine, catalog, "formula-text.csv", confidence="low")
    frame = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="guangzhou")
    frame = frame[["year", "source", "note", "flags"]]
    safe = csv_safe(frame)
    assert safe.to_dict("records") == [
        {"year": 2022, "source": "'-official bulletin", "note": "'@risk", "flags": "e"},
        {
            "year": 2023,
            "source": '\'=HYPERLINK("http://example.com","click")',
            "note": "'+86 10 1234",
            "flags": "p u",  # flags are codes ('U, provisional' in the file)
        },
    ]
    assert frame["note"].tolist() == ["@risk", "+86 10 1234"]  # the stored text is untouched


def test_flags_are_stored_as_codes_and_come_back_in_the_history_and_the_csv_download(cli, seeded_engine, catalog):
    for value, written in (("6.7", "初步数, Low Reliability"), ("6.8", "R")):
        content = f"indicator,region,year,value,source,flag\nRD_GDP_RATIO,beijing,2025,{value},s,\"{written}\"\n"
        parsed = parse_file(content.encode(), f"flags-{value}.csv", catalog, seeded_engine)
        assert parsed.report.ok, parsed.report.errors
        commit(seeded_engine, parsed, user="tester")
    history = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="beijing", history=True)
    assert history[history["year"] == 2025][["flags", "status"]].values.tolist() == [
        ["p u", "superseded"],
        ["r", "current"],
    ]
    code, out = cli("observations", "--indicator", "RD_GDP_RATIO", "--region", "beijing", "--history",
                    "--format", "csv")
    downloaded = pd.read_csv(StringIO(out), dtype=str, keep_default_na=False)
    assert code == 0 and downloaded[downloaded["year"] == "2025"]["flags"].tolist() == ["p u", "r"]


# a flags cell as written -> as stored (the text itself when it is not flags: reported as FLAG_UNKNOWN)
FLAG_CELLS = [
    ("p", "p"),
    ("U P", "p u"),
    ("p,u", "p u"),
    ("ｐ，ｕ", "p u"),
    ("初步数、可靠性低", "p u"),
    ("Break in series estimated", "e b"),
    ("low reliability; revised", "r u"),
    ("p p", "p"),
    (",", None),
    ("pu", "pu"),
    ("p x", "p x"),
    ("low", "low"),
]


@pytest.mark.parametrize(("cell", "stored"), FLAG_CELLS)
def test_flags_cells_are_read_as_codes(cell, stored):
    assert read_flags(cell) == stored


@pytest.mark.parametrize(("words", "text", "kind"), [
    (REGION_KINDS, "Metropolitan Area", "metropolitan_area"),
    (REGION_KINDS, "都市圈", "metropolitan_area"),
    (PUBLICATION_KINDS, "Statistical Communique", "statistical_communique"),
    (PUBLICATION_KINDS, "research-report", "research_report"),
    (PUBLICATION_KINDS, "统计年鉴", "yearbook"),
    (PUBLICATION_KINDS, "press", None),
])
def test_kinds_are_matched_as_headers_are(words, text, kind):
    assert kind_of(words, text) == kind


def test_every_publication_kind_has_its_words():
    assert set(PUBLICATION_KINDS.values()) == set(get_args(PublicationKind))


def test_csv_safe_leaves_numbers_and_plain_text_alone():
    frame = pd.DataFrame(
        {
            "value": [-1.5, 2.0],
            "text": pd.Series(["a=b", None], dtype=object),
            "tab": ["\tx", "@"],
            "code": pd.Series(["=cmd", "ok"], dtype="str"),
        }
    )
    safe = csv_safe(frame)
    assert safe["value"].tolist() == [-1.5, 2.0]
    assert safe["text"].tolist() == ["a=b", None]
    assert safe["tab"].tolist() == ["'\tx", "'@"]
    assert safe["code"].tolist() == ["'=cmd", "ok"]
    assert frame["code"].tolist() == ["=cmd", "ok"]  # a copy, not in place


def test_shipped_files_read_the_same_as_init_reads_them(catalog):
    for path in sorted(SHIPPED_DIR.glob("*.csv")):
        parsed = parse_path(path, catalog, None, IngestOptions(year_range=YEARS))
        assert parsed.report.ok and parsed.report.codes() == [], path.name
        ours = parsed.observations().sort_values(KEY).reset_index(drop=True)
        theirs = read_shipped_file(path, catalog).sort_values(KEY).reset_index(drop=True)
        pd.testing.assert_frame_equal(
            ours[KEY + PAYLOAD].astype(object).where(ours.notna(), None),
            theirs[KEY + PAYLOAD].astype(object).where(theirs.notna(), None),
        )


def test_reupload_is_a_no_op_that_says_so(seeded_engine, catalog):
    _, first = load(seeded_engine, catalog, "long-english.csv")
    before = database_dump(seeded_engine)
    parsed, again = load(seeded_engine, catalog, "long-english.csv")
    assert parsed.already_loaded_as == first.batch_id
    assert (again.batch_id, again.already_loaded_as) == (None, first.batch_id)
    assert database_dump(seeded_engine) == before


def test_revision_keeps_history_and_revert_restores_observations_byte_for_byte(seeded_engine, catalog):
    before = queries.table_dump(seeded_engine, "observations")
    content = (
        b"indicator,region,year,value,source,confidence\n"
        b"RD_GDP_RATIO,beijing,2024,6.6,revised bulletin,high\n"
        b"RD_GDP_RATIO,beijing,2025,6.7,new bulletin,high\n"
    )
    parsed = parse_file(content, "revision.csv", catalog, seeded_engine)
    preview = parsed.diff.set_index("year")
    assert preview.loc[2024, ["status", "old_value", "value", "changed"]].tolist() == [
        "revised",
        6.58,
        6.6,
        "value,source,confidence,note,flag,publication_id,published_on",  # a new value cites its own source
    ]
    assert preview.loc[2025, "status"] == "new"
    assert queries.table_dump(seeded_engine, "observations") == before  # parsing wrote nothing
    result = commit(seeded_engine, parsed, user="tester")
    assert (result.n_new, result.n_revised, result.n_unchanged) == (1, 1, 0)
    history = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="beijing", history=True)
    assert history[history["year"] == 2024][["value", "status"]].values.tolist() == [
        [6.58, "superseded"],
        [6.6, "current"],
    ]
    with seeded_engine.begin() as conn:
        revert_batch(conn, result.batch_id, user="tester")
    assert queries.table_dump(seeded_engine, "observations") == before


def test_load_reads_the_database_again_when_it_changed_after_parsing(seeded_engine, catalog):
    content = b"indicator,region,year,value,source,confidence\nRD_GDP_RATIO,beijing,2025,6.7,a,high\n"
    parsed = parse_file(content, "late.csv", catalog, seeded_engine)
    assert parsed.diff["status"].tolist() == ["new"]
    other = parse_file(content.replace(b"6.7", b"6.8"), "other.csv", catalog, seeded_engine)
    commit(seeded_engine, other, user="someone else")
    result = commit(seeded_engine, parsed, user="tester")
    assert (result.n_new, result.n_revised) == (0, 1)  # against the value stored meanwhile, not the preview
    history = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="beijing", history=True)
    assert history[history["year"] == 2025][["value", "status"]].values.tolist() == [
        [6.8, "superseded"],
        [6.7, "current"],
    ]


def test_a_file_without_publication_or_flags_keeps_them_also_when_loaded_after_another(seeded_engine, catalog):
    stored = queries.observations(seeded_engine)
    row = stored[stored["publication_id"].notna() & stored["flags"].notna()].iloc[0]
    again = pd.DataFrame([row[["indicator", "region", "year", "value", "source", "confidence", "note", "published_on"]]])
    parsed = parse_file(again.to_csv(index=False).encode(), "again.csv", catalog, seeded_engine)
    assert parsed.report.to_dict()["file"]["keeps_stored"] == ["publication_id", "flag"]
    assert parsed.diff["status"].tolist() == ["unchanged"]
    other = parse_file(b"indicator,region,year,value,source\nRD_GDP_RATIO,beijing,2025,6.7,a\n", "other.csv", catalog,
                       seeded_engine)
    commit(seeded_engine, other, user="someone else")  # the stored values changed since: compared again
    assert commit(seeded_engine, parsed, user="tester").n_unchanged == 1
    now = queries.observations(seeded_engine, indicator=row["indicator"], region=row["region"])
    assert now.set_index("year").loc[row["year"], ["publication_id", "flags"]].tolist() == [
        row["publication_id"], row["flags"]]


def test_skip_invalid_loads_the_valid_values_and_counts_the_rest(seeded_engine, catalog):
    parsed = parse_path(
        BAD / "unknown-indicator.csv", catalog, seeded_engine, IngestOptions(confidence="high")
    )
    with pytest.raises(UploadRejected):
        commit(seeded_engine, parsed, user="tester")
    result = commit(seeded_engine, parsed, user="tester", skip_invalid=True)
    assert (result.n_new, result.n_revised, result.n_rejected) == (1, 0, 1)
    batch = queries.batches(seeded_engine).set_index("id").loc[result.batch_id]
    assert (batch["kind"], batch["file_name"], batch["n_new"], batch["n_rejected"]) == (
        "upload",
        "unknown-indicator.csv",
        1,
        1,
    )
    stored = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region="beijing").set_index("year")
    assert stored.loc[2025, "value"] == 6.6


def test_value_jumps_against_the_stored_series_are_warnings(seeded_engine, catalog):
    content = (
        b"indicator,region,year,value,source,confidence\n"
        b"RD_GDP_RATIO,beijing,2024,65.8,typo,high\n"
        b"TECH_CONTRACT_TURNOVER,beijing,2024,85369,wrong unit,high\n"
        b"TECH_CONTRACT_TURNOVER,beijing,2025,9400,fine,high\n"
        b"GIHI_RANK,beijing,2025,40,ranks are not compared,high\n"
    )
    parsed = parse_file(content, "jumps.csv", catalog, seeded_engine, IngestOptions(year_range=YEARS))
    jumps = parsed.report.problems
    assert jumps[["severity", "row", "code"]].values.tolist() == [
        ["warning", 2, "VALUE_JUMP"],
        ["warning", 3, "VALUE_JUMP"],
    ]
    assert jumps["message_en"].tolist() == [
        "Value 65.8 is far from the stored 2024 value 6.58 (+59.2 percentage points); check the unit and the "
        "decimal point.",
        "Value 85369 is far from the stored 2023 value 8536.9 (×10); check the unit and the decimal point.",
    ]
    assert (
        jumps["message_zh"].iloc[1]
        == "数值 85369 与已存的 2023 年数值 8536.9 相比变化过大(×10),请核对单位和小数点。"
    )
    assert parsed.report.ok  # warnings do not stop the load
    assert commit(seeded_engine, parsed, user="tester").n_revised == 2  # 2024 R&D share, 2025 GIHI rank


PUBLISHED = (
    "indicator,region,year,value,source,confidence,发布机构,文献标题,文献类型,发布日期\n"
    "RD_GDP_RATIO,beijing,2025,6.7,s,high,北京市统计局,北京市2025年科技统计公报,统计公报,2026-03-20\n"
    "RD_GDP_RATIO,shanghai,2025,4.5,s,high,上海市统计局,上海市2025年统计公报,,2026-03\n"
    "RD_GDP_RATIO,beijing,2020,6.44,s,high,国家统计局;科学技术部;财政部,2020年全国科技经费投入统计公报,,2021-09-22\n"
)


def _publications(engine) -> dict[str, dict]:
    frame = queries.publications(engine)
    return {r["id"]: r for r in frame.to_dict("records")}


def test_an_upload_names_new_publications_by_publisher_and_title(seeded_engine, catalog):
    before = _publications(seeded_engine)
    parsed = parse_file(PUBLISHED.encode(), "published.csv", catalog, seeded_engine)
    assert parsed.report.ok, parsed.report.errors
    new = {p["publisher"]: p for p in parsed.report.to_dict()["new_publications"]}
    assert sorted(new) == ["上海市统计局", "北京市统计局"]  # the third is the catalog's own: cited, not created
    assert (new["北京市统计局"]["kind"], new["北京市统计局"]["kind_assumed"]) == ("statistical_communique", False)
    assert (new["上海市统计局"]["kind"], new["上海市统计局"]["kind_assumed"]) == ("repost", True)
    assert _publications(seeded_engine) == before  # parsing wrote nothing
    commit(seeded_engine, parsed, user="tester")

    after = _publications(seeded_engine)
    created = {k: after[k] for k in after.keys() - before.keys()}
    assert sorted(created) == sorted(p["id"] for p in new.values())
    beijing = created[new["北京市统计局"]["id"]]
    assert beijing["id"].startswith("upload-") and beijing["from_upload"]
    assert (beijing["publisher_zh"], beijing["title_en"], beijing["published_on"], beijing["date_basis"]) == (
        "北京市统计局", "北京市2025年科技统计公报", "2026-03-20", "stated")
    assert created[new["上海市统计局"]["id"]]["notes"] == "kind not given in the upload: assumed"
    stored = queries.observations(seeded_engine, indicator="RD_GDP_RATIO", region=["beijing", "shanghai"])
    cites = stored.set_index(["region", "year"])[["publication_id", "publication"]]
    assert cites.loc[("beijing", 2025)].tolist() == [beijing["id"], "北京市2025年科技统计公报"]
    assert cites.loc[("beijing", 2020), "publication_id"] == "nbs-rd-communique-2020"

    # Named again, in other words (width, case, spaces), or by the id given it: the same record.
    again = ("indicator,region,year,value,source,confidence,publisher,title of publication,published on\n"
             "RD_GDP_RATIO,beijing,2024,6.6,s,high,北京市统计局 ,北京市2025年科技统计公报,2026-03-20\n"
             "RD_GDP_RATIO,shanghai,2024,4.4,s,high,,,\n")
    later = parse_file(again.encode(), "again.csv", catalog, seeded_engine)
    assert later.report.ok and later.report.new_publications == []
    assert later.observations()["publication_id"].astype(object).fillna("(none)").tolist() == [beijing["id"], "(none)"]
    by_id = f"indicator,region,year,value,source,publication\nRD_GDP_RATIO,beijing,2023,6.73,s,{beijing['id']}\n"
    assert parse_file(by_id.encode(), "by-id.csv", catalog, seeded_engine).report.ok


def test_new_publications_are_written_with_the_batch_or_not_at_all(seeded_engine, catalog):
    before, observations = _publications(seeded_engine), queries.table_dump(seeded_engine, "observations")
    good = parse_file(PUBLISHED.encode(), "published.csv", catalog, seeded_engine)
    bad = parse_path(BAD / "publication-incomplete.csv", catalog, seeded_engine)
    with pytest.raises(UploadRejected):
        commit_many(seeded_engine, [good, bad], user="tester")
    assert _publications(seeded_engine) == before
    assert queries.table_dump(seeded_engine, "observations") == observations
    # With --skip-invalid the valid lines load, and only the publications they cite are created.
    result = commit(seeded_engine, bad, user="tester", skip_invalid=True)
    assert result.n_new == 1
    after = _publications(seeded_engine)
    assert [after[k]["publisher_zh"] for k in after.keys() - before.keys()] == ["广州市统计局"]


def test_report_as_json(seeded_engine, catalog):
    parsed = parse_path(BAD / "rank-invalid.csv", catalog, seeded_engine, IngestOptions(confidence="high"))
    report = json.loads(parsed.report.to_json())
    assert report["ok"] is False
    assert report["file"]["encoding"] == "utf-8" and report["file"]["layout"] == "long"
    assert report["counts"]["values"] == 3 and report["counts"]["errors"] == 3
    assert report["problem_codes"] == {"RANK_INVALID": 3}
    assert report["problems"][0] == {
        "severity": "error",
        "row": 2,
        "column": "value",
        "value": "0",
        "code": "RANK_INVALID",
        "message_zh": "排名 0 不是正整数。",
        "message_en": "Rank 0 is not a positive whole number.",
    }
    assert len(json.loads(parsed.report.to_json(limit=1))["problems"]) == 1


@pytest.mark.parametrize(
    ("text", "digits", "suffix"),
    [
        ("6.44", "6.44", ""),
        ("6.44%", "6.44", "%"),
        ("６.４４％", "6.44", "%"),
        ("8,536.9", "8536.9", ""),
        ("1,234,567", "1234567", ""),
        ("1.2万亿", "1.2", "万亿"),
        ("8536.9 万元", "8536.9", "万元"),
        ("第3名", "3", "rank"),
        ("3rd", "3", "rank"),
        ("21st", "21", "rank"),
        ("No. 7", "7", "rank"),
        ("#12", "12", "rank"),
        ("-1.2", "-1.2", ""),
        ("−1.2", "-1.2", ""),
        ("+3", "+3", ""),
        ("1.2e3", "1.2e3", ""),
        (".5", ".5", ""),
    ],
)
def test_parse_number(text, digits, suffix):
    assert parse_number(text) == (digits, suffix)


@pytest.mark.parametrize("text", ["abc", "6,44", "1,2345", "1.2.3", "", "inf", "NaN", "=1+2"])
def test_parse_number_refuses(text):
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2025-01-06", "2025-01-06"),
        ("2025/1/6", "2025-01-06"),
        ("2025.1.6", "2025-01-06"),
        ("2025年1月6日", "2025-01-06"),
        ("20250106", "2025-01-06"),
        ("2025-01", "2025-01"),
        ("2025年1月", "2025-01"),
        ("2025", "2025"),
        ("2025-02-30", "2025-02-30"),
        ("soon", "soon"),
    ],
)
def test_normalise_date(text, iso):
    assert normalise_date(text) == iso


# --- the command line ---------------------------------------------------------------------------------


@pytest.fixture
def cli(seeded_engine):
    """Run ``innovation-monitor`` against the test database; returns (exit code, stdout)."""
    env = {"DATABASE_URL": seeded_engine.url.render_as_string(hide_password=False), "USER": "tester"}

    def run(*args: str) -> tuple[int, str]:
        result = invoke(*args, env=env)
        return result.returncode, result.stdout

    return run


def test_cli_loads_a_file_and_says_so(cli, seeded_engine):
    code, out = cli("ingest", str(GOOD / "long-gb18030.csv"), "--note", "March bulletins")
    assert code == 0
    assert "编码 encoding: gb18030" in out and "loaded as batch" in out
    batch = queries.batches(seeded_engine).iloc[-1]
    assert (batch["kind"], batch["user"], batch["note"], batch["n_new"]) == (
        "upload",
        "tester",
        "March bulletins",
        3,
    )
    code, out = cli("ingest", str(GOOD / "long-gb18030.csv"))
    assert code == 0 and f"already loaded as batch {batch['id']}" in out


def test_cli_rejects_a_bad_file_with_the_report_and_changes_nothing(cli, seeded_engine):
    before = database_dump(seeded_engine)
    code, out = cli("ingest", str(BAD / "share-out-of-range.csv"))
    assert code == 1
    assert "SHARE_OUT_OF_RANGE" in out and "比重 101.5 不在 0–100 的范围内。" in out
    assert "rejected; nothing was written" in out
    assert database_dump(seeded_engine) == before


def test_cli_json_report(cli):
    code, out = cli("ingest", str(BAD / "bad-year.csv"), "--format", "json", "--confidence", "high")
    assert code == 1
    [outcome] = json.loads(out)
    assert outcome["status"] == "rejected" and outcome["batch"] is None
    assert [(p["row"], p["column"], p["value"], p["code"]) for p in outcome["report"]["problems"]] == [
        (2, "year", "2020-21", "YEAR_INVALID"),
        (3, "year", "二〇二〇", "YEAR_INVALID"),
    ]
    assert all(p["message_zh"] and p["message_en"] for p in outcome["report"]["problems"])


def test_cli_dry_run_prints_the_diff_and_writes_nothing(cli, seeded_engine):
    before = database_dump(seeded_engine)
    code, out = cli("ingest", str(GOOD / "worldbank.csv"), "--dry-run", "--confidence", "high")
    assert code == 0 and "dry run: checked, nothing was written" in out
    assert "新增 new 6, 修订 revised 3, 不变 unchanged 0" in out
    assert "2.23 -> 2.24" in out  # China 2019 as stored, and as the file has it
    code, out = cli(
        "ingest", str(GOOD / "worldbank.csv"), "--dry-run", "--confidence", "high", "--format", "json"
    )
    [outcome] = json.loads(out)
    revised = [d for d in outcome["diff"] if d["status"] == "revised"]
    assert [(d["region"], d["year"], d["old_value"], d["value"]) for d in revised] == [
        ("china", 2019, 2.23, 2.24),
        ("china", 2020, 2.4, 2.41),
        ("china", 2022, 2.54, 2.56),
    ]
    assert database_dump(seeded_engine) == before


def test_cli_skip_invalid(cli, seeded_engine):
    code, out = cli("ingest", str(BAD / "region-name-conflict.csv"), "--skip-invalid", "--confidence", "high")
    assert code == 0 and "loaded as batch" in out
    batch = queries.batches(seeded_engine).iloc[-1]
    assert (batch["n_new"], batch["n_rejected"]) == (1, 1)
    assert queries.observations(seeded_engine, region="xian")["year"].tolist() == [2023]


def test_cli_several_files_are_all_or_nothing(cli, seeded_engine):
    before = database_dump(seeded_engine)
    code, out = cli("ingest", str(GOOD / "long-english.csv"), str(BAD / "unknown-region.csv"))
    assert code == 1 and "not written, because another file was rejected" in out
    assert database_dump(seeded_engine) == before
    code, _ = cli("ingest", str(GOOD / "long-english.csv"), str(GOOD / "wide.csv"))
    assert code == 0
    assert queries.batches(seeded_engine)["file_name"].tolist()[-2:] == ["long-english.csv", "wide.csv"]


@pytest.mark.parametrize(
    "args",
    [
        ["ingest"],
        ["ingest", "no-such-file.csv"],
        ["ingest", str(GOOD / "wide.csv"), "--encoding", "klingon"],
        ["ingest", str(GOOD / "wide.csv"), "--format", "xml"],
        ["ingest", str(GOOD / "wide.csv"), "--confidence", "sure"],
        ["ingest", str(GOOD / "wide.csv"), "--max-size", "0"],
    ],
)
def test_cli_usage_errors_exit_2(cli, seeded_engine, args):
    before = database_dump(seeded_engine)
    code, _ = cli(*args)
    assert code == 2
    assert database_dump(seeded_engine) == before


def test_cli_encoding_and_size_options(cli, seeded_engine):
    code, out = cli("ingest", str(GOOD / "long-gb18030.csv"), "--encoding", "utf-8")
    assert code == 1 and "ENCODING_INVALID" in out
    code, out = cli("ingest", str(GOOD / "long-gb18030.csv"), "--max-size", "0.0001")
    assert code == 1 and "FILE_TOO_LARGE" in out
    code, out = cli("ingest", str(GOOD / "long-gb18030.csv"), "--encoding", "GBK")
    assert code == 0 and "loaded as batch" in out


def test_cli_source_option_fills_missing_sources(cli, seeded_engine):
    code, _ = cli(
        "ingest",
        str(BAD / "missing-source.csv"),
        "--source",
        "北京市统计局 2025 年统计公报",
        "--confidence",
        "high",
    )
    assert code == 0
    stored = queries.observations(seeded_engine, indicator="RD_GDP_RATIO").set_index(["region", "year"])
    assert stored.loc[("beijing", 2025), "source"] == "北京市统计局 2025 年统计公报"


# --- killed half-way ----------------------------------------------------------------------------------

# Loads a file in parts and, once the writing process has written the second part inside the batch's open
# transaction, prints that process's id and waits to be killed (see ``load_path``'s ``on_part_written``).
LOAD_UNTIL_HALF_WAY = """
import multiprocessing, sys
from indicators import db, ingest
from indicators.catalog import load_catalog

def wait_to_be_killed(parts):
    if parts == 2:
        (writer,) = multiprocessing.active_children()
        print(writer.pid, flush=True)
        sys.stdin.read()

url, catalog_dir, path = sys.argv[1:]
ingest.load_path(db.make_engine(url), path, load_catalog(catalog_dir), user="tester", part_values=100,
                 min_values=0, on_part_written=wait_to_be_killed)
"""


def _big_upload(path: Path, rows: int) -> None:
    """Synthetic values for new regions (so the load also creates regions), several parts' worth."""
    lines = ["indicator,region_code,region_name,year,value,source,confidence"]
    for i in range(rows):
        lines.append(
            f"RD_GDP_RATIO,synthetic_{i // 25:05d},合成地区{i // 25:05d},{2000 + i % 25},{1 + i % 97 / 10},"
            "synthetic test data,low"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _ended(pid: int) -> bool:
    """The process runs no more: gone, or a zombie that nobody has reaped yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def test_a_load_killed_half_way_leaves_the_database_unchanged(seeded_engine, tmp_path, wait_for):
    upload = tmp_path / "big.csv"
    _big_upload(upload, 1_000)  # ten parts of 100 values
    before = database_dump(seeded_engine)
    url = seeded_engine.url.render_as_string(hide_password=False)
    proc = subprocess.Popen(
        [sys.executable, "-c", LOAD_UNTIL_HALF_WAY, url, str(CATALOG_DIR), str(upload)],
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        said = proc.stdout.readline().strip()
        assert said.isdigit(), "the load ended without stopping half-way"
        writer = int(said)
        assert proc.poll() is None, "the load finished before it could be interrupted"
        assert database_dump(seeded_engine) == before  # two parts written, none of it visible yet
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # The writing process sees the pipe from the killed one close and rolls back; wait until it has.
    assert wait_for(lambda: _ended(writer), timeout=60)
    assert database_dump(seeded_engine) == before
