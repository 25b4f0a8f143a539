"""Round trip, property-based: generated observations written as CSV (long or wide; UTF-8 or GB18030; LF or
CRLF; Chinese or English headers) are ingested and read back out of the database unchanged. On SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicators import queries
from indicators.catalog import load_catalog
from indicators.flags import FLAGS
from indicators.ingest import IngestOptions, commit, parse_file
from indicators.seed import run_init
from indicators.store import PAYLOAD

from .support import CATALOG_DIR, YEARS

CATALOG = load_catalog(CATALOG_DIR)
INDICATORS = sorted(code for code, ind in CATALOG.indicators.items() if ind.kind != "qualitative")
REGIONS = sorted(CATALOG.regions)
HEADERS = {  # each field under one of the names people give it
    "indicator": ["indicator", "指标", "指标代码"],
    "region_code": ["region_code", "地区代码"],
    "region_name": ["region_name", "地区名称"],
    "year": ["year", "年份", "年度"],
    "value": ["value", "数值"],
    "source": ["source", "来源", "数据来源"],
    "confidence": ["confidence", "可信度"],
    "note": ["note", "备注"],
    "flag": ["flag", "标记"],
    "published_on": ["published_on", "发布日期"],
}
# Text as Chinese statisticians' files hold it: CJK, ASCII, full-width punctuation, quotes and delimiters.
GB_ALPHABET = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.sampled_from("，。：；“”（）、\n\t"),
)
UTF8_ALPHABET = st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), st.sampled_from('",;\n\t')
)


def texts(alphabet, max_size: int):
    """Text as stored: something left after stripping, nothing to strip."""
    return st.text(alphabet, min_size=1, max_size=max_size).filter(lambda t: t.strip() == t and t != "")


def values(kind: str):
    finite = {"allow_nan": False, "allow_infinity": False, "allow_subnormal": False}
    if kind == "share":
        return st.floats(0, 100, **finite)
    if kind == "rank":
        return st.integers(1, 500).map(float)
    if kind == "growth_rate":
        return st.floats(-100, 100, **finite)
    return st.floats(0, 1e12, **finite)


@st.composite
def flag_cells(draw):
    """A flags cell as people write it (codes in any case, names in Chinese or English, spaces or commas
    between them, in any order) and the codes stored: ``{"flag": text, "flag_codes": codes}``."""
    codes = draw(st.none() | st.lists(st.sampled_from(list(FLAGS)), min_size=1, max_size=4, unique=True))
    if codes is None:
        return {"flag": None, "flag_codes": None}
    forms = {"code": lambda c: c, "upper": str.upper, "zh": lambda c: FLAGS[c].zh, "en": lambda c: FLAGS[c].en,
             "title": lambda c: FLAGS[c].en.title()}
    words = [forms[draw(st.sampled_from(sorted(forms)))](c) for c in codes]
    text = draw(st.sampled_from([" ", ",", ", ", "，", "、"])).join(words)
    return {"flag": text, "flag_codes": " ".join(c for c in FLAGS if c in codes)}


@st.composite
def uploads(draw):
    """(observations, how to write them). Years are shared so a wide file has one column per year."""
    alphabet = draw(st.sampled_from([GB_ALPHABET, UTF8_ALPHABET]))
    encoding = "gb18030" if alphabet is GB_ALPHABET else "utf-8"
    new_region = st.from_regex(r"[a-z][a-z0-9_]{2,8}", fullmatch=True).filter(
        lambda c: CATALOG.find_region(c) is None
    )
    series = draw(
        st.lists(
            st.tuples(st.sampled_from(INDICATORS), st.sampled_from(REGIONS) | new_region),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    years = draw(st.lists(st.integers(1995, 2025), min_size=1, max_size=5, unique=True))
    rows = []
    for indicator, region in series:
        line = {
            "indicator": indicator,
            "region_code": region,
            "region_name": CATALOG.regions[region].name.zh
            if region in CATALOG.regions
            else f"{region} 新地区",
            "source": draw(texts(alphabet, 30)),
            "confidence": draw(st.sampled_from(["high", "medium", "low"])),
            "note": draw(st.none() | texts(alphabet, 30)),
            **draw(flag_cells()),
            "published_on": draw(
                st.none() | st.dates(date(1995, 1, 1), date(2030, 12, 31)).map(date.isoformat)
            ),
        }
        for year in draw(st.lists(st.sampled_from(years), min_size=1, unique=True)):
            rows.append({**line, "year": year, "value": draw(values(CATALOG.indicators[indicator].kind))})
    how = {
        "layout": draw(st.sampled_from(["long", "wide"])),
        "encoding": encoding,
        "newline": draw(st.sampled_from(["\n", "\r\n"])),
        "headers": {field: draw(st.sampled_from(names)) for field, names in HEADERS.items()},
        "year_suffix": draw(st.sampled_from(["", "年"])),
    }
    return pd.DataFrame(rows), sorted(years), how


def to_csv(frame: pd.DataFrame, years: list[int], how: dict) -> bytes:
    text = frame.assign(value=frame["value"].map(repr))
    line = ["indicator", "region_code", "region_name", "source", "confidence", "note", "flag", "published_on"]
    if how["layout"] == "wide":
        text = text.pivot(index=line, columns="year", values="value").reindex(columns=years).reset_index()
        text.columns = [how["headers"].get(c, f"{c}{how['year_suffix']}") for c in text.columns]
    else:
        text = text[line[:3] + ["year", "value"] + line[3:]].rename(columns=how["headers"], errors="raise")
    return text.to_csv(index=False, lineterminator=how["newline"]).encode(how["encoding"])


@pytest.fixture
def catalog_engine(engine, tmp_path):
    """A database with the catalog and no observations."""
    (tmp_path / "no-data").mkdir()
    run_init(engine, CATALOG, tmp_path / "no-data")
    return engine


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(upload=uploads())
def test_generated_observations_survive_csv_and_the_database(catalog_engine, upload):
    # The database is shared by the examples on purpose: each checks only its own keys, whatever came before.
    frame, years, how = upload
    content = to_csv(frame, years, how)
    # Dates up to the end of YEARS, as the years: nothing here depends on today's date.
    options = IngestOptions(year_range=YEARS, latest_date=date(YEARS[1], 12, 31))
    parsed = parse_file(content, "generated.csv", CATALOG, catalog_engine, options)
    assert parsed.report.ok, parsed.report.errors.to_dict("records")
    assert parsed.report.file["layout"] == how["layout"]
    commit(catalog_engine, parsed, user="hypothesis")

    stored = queries.observations(catalog_engine).rename(
        columns={"indicator": "indicator_code", "region": "region_code", "flags": "flag"}
    )
    got = (
        frame[["indicator", "region_code", "year"]]
        .rename(columns={"indicator": "indicator_code"})
        .merge(stored, on=["indicator_code", "region_code", "year"], how="left")
    )
    want = frame.rename(columns={"indicator": "indicator_code"}).assign(publication_id=None)  # none named
    want["flag"] = want["flag_codes"]  # stored as codes, however written
    for column in PAYLOAD:
        expected = want[column].astype(object).where(want[column].notna(), None).tolist()
        actual = got[column].astype(object).where(got[column].notna(), None).tolist()
        assert actual == expected, column
