"""The value cells to observations: indicator and region codes (and the new regions a file names), years,
values in the indicator's unit, the texts of each line (source, confidence, note, flags as codes, date), and
the publication each value cites (by id, or by publisher and title: a new one is created on commit).

What belongs here: :func:`interpret`, the resolvers of names, years, texts and publications,
:class:`RegionNames`, :class:`PublicationNames`, the limits on the length of the texts that are stored
(:data:`TEXT_LIMITS`), and the messages of the problems they find. What does not: reading numbers, units
and dates (``numbers``), the checks on the interpreted values (``validation.schema``), comparing with the
database (``diff``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from indicators import queries, store
from indicators.catalog import Catalog, normalise_name
from indicators.flags import FLAGS
from indicators.i18n import Text
from indicators.ingest.cells import Cells, Distinct
from indicators.ingest.fields import (
    CONFIDENCE_WORDS,
    DEFAULT_CONFIDENCE,
    DEFAULT_PUBLICATION_KIND,
    DEFAULT_REGION_KIND,
    FIELDS,
    FLAG_SEPARATORS,
    FLAG_WORDS,
    PUBLICATION_KINDS,
    REGION_KINDS,
    IngestOptions,
    kind_of,
)
from indicators.ingest.layout import Layout
from indicators.ingest.numbers import normalise_date, parse_values, resolve_values
from indicators.ingest.result import empty_new_regions, empty_rows
from indicators.store import is_missing
from indicators.validation import Message, Report, register

NEW_REGION_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_YEAR_CELL = re.compile(r"^(\d{4})(?:\.0+)?(?:年|年度)?$")
# The longest text stored per field, in characters: a source or a note is a sentence or a paragraph, a name
# a line, a title at most a few lines. Every page and export that shows a value shows its source: a longer
# one (5 MB were tried) would make each of them as big.
TEXT_LIMITS = {
    "source": 2000, "note": 2000, "publication_title": 500, "publisher": 200,
    "region": 200, "region_name": 200, "region_name_zh": 200, "region_name_en": 200,
}

PROBLEMS = register({
    "NO_VALUES": Message(
        "error",
        "file",
        Text(
            "文件中没有任何数值(所有数值单元格都为空或为缺失标记)。",
            "The file holds no values (every value cell is empty or a missing marker).",
        ),
    ),
    "CELL_EMPTY": Message("error", "row", Text("“{field_zh}”为空。", "The {field_en} is empty.")),
    "INDICATOR_UNKNOWN": Message(
        "error",
        "row",
        Text(
            "未知指标“{value}”:不是目录中的指标代码、名称或别名。",
            "Unknown indicator '{value}': not an indicator code, name or alias in the catalog.",
        ),
    ),
    "INDICATOR_MISMATCH": Message(
        "error",
        "row",
        Text(
            "指标代码“{value}”与指标名称“{other}”指的是不同的指标。",
            "Indicator code '{value}' and indicator name '{other}' name different indicators.",
        ),
    ),
    "INDICATOR_QUALITATIVE": Message(
        "error",
        "row",
        Text(
            "指标“{value}”是定性指标,没有数值观测,不能导入。",
            "Indicator '{value}' is qualitative: it has no numeric observations to load.",
        ),
    ),
    "REGION_UNKNOWN": Message(
        "error",
        "row",
        Text(
            "未知地区“{value}”。如是新地区,请同时提供“地区代码”和“地区名称”两列。",
            "Unknown region '{value}'. For a new region, give both a region code and a region name column.",
        ),
    ),
    "REGION_MISMATCH": Message(
        "error",
        "row",
        Text(
            "地区代码“{value}”与地区名称“{other}”指的是不同的地区。",
            "Region code '{value}' and region name '{other}' name different regions.",
        ),
    ),
    "REGION_CODE_INVALID": Message(
        "error",
        "row",
        Text(
            "新地区代码“{value}”无效:只能用小写英文字母、数字和下划线,并以字母开头(如 xian)。",
            "New region code '{value}' is not valid: use lower-case letters, digits and underscores, starting with "
            "a letter (e.g. xian).",
        ),
    ),
    "REGION_NAME_CONFLICT": Message(
        "error",
        "row",
        Text(
            "新地区“{code}”在文件中有两个名称:“{value}”和第 {other_row} 行的“{other}”。",
            "New region '{code}' has two names in the file: '{value}' and '{other}' on line {other_row}.",
        ),
    ),
    "YEAR_INVALID": Message(
        "error",
        "row",
        Text(
            "年份“{value}”无法识别(应为四位数字,如 2024 或 2024年)。",
            "Year '{value}' is not recognised (expected four digits, e.g. 2024).",
        ),
    ),
    "PUBLICATION_INCOMPLETE": Message(
        "error",
        "row",
        Text(
            "出处文献须同时给出发布机构和文献标题:本行有“{value}”,缺少{missing_zh}。",
            "A publication needs both a publisher and a title: this line gives '{value}' but no {missing_en}.",
        ),
    ),
    "PUBLICATION_CONFLICT": Message(
        "error",
        "row",
        Text(
            "出处文献“{publication}”的{field_zh}是“{other}”,与本行的“{value}”不一致。",
            "Publication '{publication}' has the {field_en} '{other}', not '{value}' as this line says.",
        ),
    ),
    "PUBLICATION_DATE_CONFLICT": Message(
        "error",
        "row",
        Text(
            "文献“{title}”({publisher})在文件中有两个发布日期:“{value}”和第 {other_row} 行的“{other}”。",
            "Publication '{title}' ({publisher}) has two publication dates in the file: '{value}' and '{other}' "
            "on line {other_row}.",
        ),
    ),
    "PUBLICATION_KIND_INVALID": Message(
        "error",
        "row",
        Text(
            "文献类型“{value}”无效(应为 {kinds} 之一,或 统计公报、年鉴、指数报告、政府发布、新闻报道、转载、研究报告)。",
            "Kind of publication '{value}' is not valid (use one of {kinds}).",
        ),
    ),
    "TEXT_TOO_LONG": Message(
        "error",
        "row",
        Text(
            "“{field_zh}”有 {length} 个字符,超过上限 {limit} 个字符。请缩短。",
            "The {field_en} has {length} characters, more than the limit of {limit}. Shorten it.",
        ),
    ),
    "CONFIDENCE_DEFAULTED": Message(
        "warning",
        "file",
        Text(
            "{count} 个数值没有注明可信度,已按“{confidence}”记录。可在文件中加“可信度”列,或用 --confidence 指定。",
            "{count} value(s) have no confidence and were recorded as '{confidence}'. Add a 'confidence' column, "
            "or give --confidence.",
        ),
    ),
})


class RegionNames:
    """Region look-up: the catalog's names and aliases, and the regions earlier uploads created."""

    def __init__(self, catalog: Catalog, conn: Connection | None):
        self.catalog = catalog
        self.uploaded: dict[str, str] = {}
        if conn is None:
            return
        for row in queries.uploaded_regions(conn):
            names = (
                row["code"],
                row["name_zh"],
                row["name_en"],
                row["iso3"],
                row["iso3166"],
                *(row["aliases"] or []),
            )
            for name in names:
                if name:
                    self.uploaded.setdefault(normalise_name(name), row["code"])

    def find(self, name: str) -> str | None:
        return self.catalog.find_region(name) or self.uploaded.get(normalise_name(name))


class PublicationNames:
    """Publication look-up: the catalog's publications and those stored (earlier uploads created some), by
    id, and by publisher, title and date in either language."""

    def __init__(self, catalog: Catalog, conn: Connection | None):
        self.records: dict[str, dict] = {
            p.id: {"publisher_zh": p.publisher.zh, "publisher_en": p.publisher.en, "title_zh": p.title.zh,
                   "title_en": p.title.en, "published_on": p.published_on}
            for p in catalog.publications.values()
        }
        for row in store.stored_publications(conn) if conn is not None else []:
            self.records.setdefault(row["id"], row)
        self._named: dict[tuple, str] = {}
        for pub_id, r in self.records.items():
            for publisher in (r["publisher_zh"], r["publisher_en"]):
                for title in (r["title_zh"], r["title_en"]):
                    self._named.setdefault(_publication_key(publisher, title, r["published_on"]), pub_id)

    def find(self, publisher: str, title: str, published_on: str | None) -> str | None:
        """The id of the publication with this publisher, title and date (as written in either language)."""
        return self._named.get(_publication_key(publisher, title, published_on))

    def differs(self, pub_id: str, part: str, text: str) -> str | None:
        """The publication's ``part`` ('publisher' or 'title') when ``text`` names neither its Chinese nor its
        English one (None when it does, or the id is not known: the schema check reports that)."""
        record = self.records.get(pub_id)
        if record is None:
            return None
        names = (record[f"{part}_zh"], record[f"{part}_en"])
        if normalise_name(text) in {normalise_name(n) for n in names if n}:
            return None
        return names[0] if names[0] == names[1] or not names[1] else f"{names[0]} / {names[1]}"

    def citable(self, report: Report) -> set[str]:
        """The ids a value of the file may cite: those known, and those the file creates."""
        return set(self.records) | {p["id"] for p in report.new_publications}


def _publication_key(publisher: str, title: str, published_on: str | None) -> tuple[str, str, str]:
    return normalise_name(publisher), normalise_name(title), published_on or ""


def upload_publication_id(publisher: str, title: str, published_on: str | None) -> str:
    """The id of a publication an upload names by publisher, title and date: the same words (folded as names
    are) give the same id in every file, so naming it again cites the one record."""
    key = "\n".join(_publication_key(publisher, title, published_on))
    return "upload-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def interpret(
    texts: pd.DataFrame,
    layout: Layout,
    catalog: Catalog,
    regions: RegionNames,
    publications: PublicationNames,
    options: IngestOptions,
    report: Report,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Resolve names, years, numbers and units of every value cell. Returns (rows, new regions); the new
    publications are in ``report.new_publications``."""
    numbers = parse_values(texts["raw"])
    report.counts["missing"] = int(numbers["missing"].sum())
    keep = ~numbers["missing"].to_numpy()
    if not keep.all():
        texts, numbers = texts[keep].reset_index(drop=True), numbers[keep].reset_index(drop=True)
    report.counts["values"] = len(texts)
    if texts.empty:
        report.add("NO_VALUES")
        return empty_rows(), empty_new_regions()
    # Columns are collected as arrays and framed once: adding them to a DataFrame one by one copies.
    rows = {
        "row": texts["row"].to_numpy(),
        "column": pd.Categorical(texts["column"]),
        "raw": texts["raw"].to_numpy(dtype=object),
    }
    cells = Cells(texts, layout, report)
    errors = _resolve_indicators(cells, catalog, rows)
    region_errors, new_regions = _resolve_regions(cells, regions, rows)
    errors |= region_errors
    errors |= _resolve_years(cells, rows)
    errors |= resolve_values(cells, numbers, catalog, rows)
    _resolve_texts(cells, options, rows)
    errors |= _check_lengths(cells, rows)
    errors |= _resolve_publications(cells, publications, rows)
    rows["status"] = np.where(errors, "error", "ok").astype(object)  # replaced after validation
    return pd.DataFrame(rows), new_regions


def _resolve_indicators(cells: Cells, catalog: Catalog, rows: dict) -> np.ndarray:
    """Indicator codes from a code or name column (either, or both: then they must agree)."""
    fields = [f for f in ("indicator", "indicator_name") if cells.has(f)]
    distinct = Distinct.of([cells.values(f) for f in fields])

    def resolve(*names):
        given = [n for n in names if n]
        found = [c for c in (catalog.find_indicator(n) for n in given) if c]
        if not given:
            return None, "CELL_EMPTY", None
        if not found:
            return None, "INDICATOR_UNKNOWN", given[0]
        if len(set(found)) > 1:
            return None, "INDICATOR_MISMATCH", given
        if catalog.indicators[found[0]].kind == "qualitative":
            return None, "INDICATOR_QUALITATIVE", given[0]
        return found[0], None, None

    results = [resolve(*key) for key in distinct.keys]
    rows["indicator_code"] = distinct.spread([r[0] for r in results])
    rows["kind"] = distinct.spread(
        [r[0] and catalog.indicators[r[0]].kind for r in results], categorical=True
    )
    rows["unit"] = distinct.spread(
        [r[0] and catalog.indicators[r[0]].unit for r in results], categorical=True
    )
    unknown = ("INDICATOR_UNKNOWN", "INDICATOR_QUALITATIVE")
    # A table as published names its indicators in its headings: a problem names the value's own heading.
    column = cells.texts["column"].to_numpy(dtype=object) if cells.layout.published else cells.column(fields[0])
    return _report_names(cells, distinct, results, column, "indicator", unknown, "INDICATOR_MISMATCH")


def _report_names(
    cells: Cells,
    distinct: Distinct,
    results: list[tuple],
    column: str | np.ndarray | None,
    field: str,
    unknown: tuple[str, ...],
    mismatch: str,
) -> np.ndarray:
    """Report what a resolver of names found, per combination ``(code, problem, value, ...)``: an empty
    cell, a name it cannot use (the ``unknown`` codes), and a code and a name that disagree (``mismatch``,
    whose value is the pair). Returns the rows with a problem."""
    problem = [r[1] for r in results]
    name = FIELDS[field].name
    cells.problems("CELL_EMPTY", distinct, problem, column, [None] * len(results), field_zh=name.zh, field_en=name.en)
    for code in unknown:
        cells.problems(code, distinct, problem, column, [r[2] for r in results])
    pairs = [r[2] if r[1] == mismatch else (None, None) for r in results]
    cells.problems(
        mismatch, distinct, problem, column, [p[0] for p in pairs], per_key_params={"other": [p[1] for p in pairs]}
    )
    return distinct.rows_where([p is not None for p in problem])


def _region_fields(fields: dict[str, int]) -> tuple[str | None, str | None, str | None]:
    """(code column, name column, or the single column naming the region) among the file's fields."""
    if "region_code" in fields:
        return "region_code", next((f for f in ("region_name", "region") if f in fields), None), None
    if "region" in fields and "region_name" in fields:
        return "region", "region_name", None
    return None, None, next(f for f in ("region", "region_name") if f in fields)


def _resolve_regions(cells: Cells, regions: RegionNames, rows: dict) -> tuple[np.ndarray, pd.DataFrame]:
    """Region codes. A code and a name that neither the catalog nor an earlier upload knows: a new region."""
    code_field, name_field, single = _region_fields(cells.layout.fields)
    extra = [f for f in ("region_name_zh", "region_name_en", "region_kind") if cells.has(f)]
    main = [single] if single else [code_field, name_field]
    distinct = Distinct.of(
        [cells.values(f) if f else np.full(len(cells.texts), None, dtype=object) for f in main + extra]
    )

    def resolve(*values):
        code, name = (values[0], None) if single else (values[0], values[1])
        rest = dict(zip(extra, values[len(main) :], strict=True))
        if not code and not name:
            return None, "CELL_EMPTY", None, None
        by_code, by_name = (regions.find(code) if code else None), (regions.find(name) if name else None)
        # An unknown code beside a known name is a mismatch too: a new region, or a typo? Not ours to guess.
        if code and name and by_name and by_code != by_name:
            return None, "REGION_MISMATCH", (code, name), None
        if by_code or by_name:
            return by_code or by_name, None, None, None
        if single or not code or not (name or rest.get("region_name_zh") or rest.get("region_name_en")):
            return None, "REGION_UNKNOWN", code or name, None
        new_code = code.lower()
        if not NEW_REGION_CODE.match(new_code) or len(new_code) > 60:
            return None, "REGION_CODE_INVALID", code, None
        return new_code, None, None, _new_region(new_code, name, rest, cells.layout.kind)

    results = [resolve(*key) for key in distinct.keys]
    rows["region_code"] = distinct.spread([r[0] for r in results])
    column = cells.column(single or code_field)
    unknown = ("REGION_UNKNOWN", "REGION_CODE_INVALID")
    errors = _report_names(cells, distinct, results, column, "region", unknown, "REGION_MISMATCH")
    new_keys = [i for i, r in enumerate(results) if r[3] is not None]
    if not new_keys:
        return errors, empty_new_regions()
    proposals = pd.DataFrame([results[i][3] for i in new_keys])
    proposals["row"] = cells.texts["row"].to_numpy()[distinct.first[new_keys]]
    conflicting, new_regions = _new_regions(proposals, column, cells.report)
    errors |= distinct.rows_where(np.isin(np.arange(len(results)), np.asarray(new_keys)[conflicting]))
    return errors, new_regions


def _new_region(code: str, name: str | None, rest: dict, layout_kind: str) -> dict:
    zh = rest.get("region_name_zh") or (name if name and CJK.search(name) else None)
    en = rest.get("region_name_en") or (name if name and not CJK.search(name) else None)
    kind_text = rest.get("region_kind")
    kind = kind_of(REGION_KINDS, kind_text) if kind_text else None
    return {
        "code": code,
        "name_zh": zh or en,
        "name_en": en or zh,
        "kind": kind or DEFAULT_REGION_KIND.get(layout_kind, "city"),
        "kind_assumed": kind is None,
        "iso3": code.upper() if layout_kind == "worldbank" and len(code) == 3 else None,
    }


def _new_regions(
    proposals: pd.DataFrame, column: str | None, report: Report
) -> tuple[np.ndarray, pd.DataFrame]:
    """One entry per new code. A code given two names is an error on the combinations after the first.

    Returns (which proposals conflict, the new regions).
    """
    proposals = proposals.sort_values("row", kind="stable")
    first = proposals.drop_duplicates("code").set_index("code")
    conflicting = (
        proposals[["name_zh", "name_en"]].fillna("").to_numpy()
        != first.loc[proposals["code"], ["name_zh", "name_en"]].fillna("").to_numpy()
    ).any(axis=1)
    if conflicting.any():
        bad = proposals[conflicting]
        report.add_rows(
            "REGION_NAME_CONFLICT",
            pd.DataFrame(
                {
                    "row": bad["row"].to_numpy(),
                    "column": column,
                    "value": bad["name_zh"].to_numpy(),
                    "code": bad["code"].to_numpy(),
                    "other": first.loc[bad["code"], "name_zh"].to_numpy(),
                    "other_row": first.loc[bad["code"], "row"].to_numpy(),
                }
            ),
        )
    regions = first.reset_index()
    report.new_regions = [
        {k: (None if is_missing(v) else (int(v) if k == "row" else v)) for k, v in rec.items()}
        for rec in regions.to_dict("records")
    ]
    conflicting = pd.Series(conflicting, index=proposals.index).sort_index().to_numpy()
    return conflicting, regions


def _resolve_years(cells: Cells, rows: dict) -> np.ndarray:
    distinct = Distinct.of([cells.texts["year_text"]])

    def year_of(text):
        if not text:
            return None, "CELL_EMPTY"
        match = _YEAR_CELL.match(unicodedata.normalize("NFKC", text).strip())
        return (int(match.group(1)), None) if match else (None, "YEAR_INVALID")

    results = [year_of(*key) for key in distinct.keys]
    rows["year"] = pd.array(distinct.spread([r[0] for r in results]), dtype="Int64")
    rows["year_column"] = pd.Categorical(cells.texts["year_column"])
    problem = [r[1] for r in results]
    column = cells.texts["year_column"].to_numpy(dtype=object)
    for code in ("CELL_EMPTY", "YEAR_INVALID"):
        cells.problems(
            code,
            distinct,
            problem,
            column,
            [k[0] for k in distinct.keys],
            field_zh=FIELDS["year"].name.zh,
            field_en=FIELDS["year"].name.en,
        )
    return distinct.rows_where([p is not None for p in problem])


def _resolve_texts(cells: Cells, options: IngestOptions, rows: dict) -> None:
    default_source = options.source or _preamble_source(cells.layout.preamble)
    for name in ("source", "note", "flag"):
        distinct = Distinct.of([cells.values(name)])
        texts = [k[0] for k in distinct.keys]
        if name == "source" and default_source:
            texts = [t or default_source for t in texts]
        if name == "flag":  # codes as stored; a text that is not flags stays as written (FLAG_UNKNOWN)
            texts = [t and read_flags(t) for t in texts]
        rows[name] = distinct.spread(texts, categorical=name != "note")
    distinct = Distinct.of([cells.values("confidence")])
    levels = [
        None if k[0] is None else CONFIDENCE_WORDS.get(normalise_name(k[0]), k[0]) for k in distinct.keys
    ]
    fallback = options.confidence or DEFAULT_CONFIDENCE
    rows["confidence"] = distinct.spread([fallback if c is None else c for c in levels], categorical=True)
    absent = int(distinct.rows_where([c is None for c in levels]).sum())
    cells.report.tallies["confidence_defaulted"] = absent if not options.confidence else 0
    if absent and not options.confidence:
        cells.report.add("CONFIDENCE_DEFAULTED", count=absent, confidence=fallback)
    if cells.has("published_on"):
        distinct = Distinct.of([cells.values("published_on")])
        rows["published_on"] = distinct.spread(
            [normalise_date(k[0]) for k in distinct.keys], categorical=True
        )
    else:
        rows["published_on"] = pd.Categorical(
            np.full(len(rows["row"]), _preamble_date(cells.layout.preamble))
        )


def _check_lengths(cells: Cells, rows: dict) -> np.ndarray:
    """Texts longer than :data:`TEXT_LIMITS`: the source and note as they will be stored (a ``--source``
    or a World Bank file's data source included), the other fields as written. Returns the rows in error."""
    errors = np.zeros(len(rows["row"]), dtype=bool)
    for name, limit in TEXT_LIMITS.items():
        if name in ("source", "note"):
            distinct = Distinct.of([rows[name]])
        elif cells.has(name):
            distinct = Distinct.of([cells.values(name)])
        else:
            continue
        lengths = [len(k[0]) if k[0] else 0 for k in distinct.keys]
        problem = ["TEXT_TOO_LONG" if n > limit else None for n in lengths]
        if not any(problem):
            continue
        field = FIELDS[name].name
        errors |= cells.problems("TEXT_TOO_LONG", distinct, problem, cells.column(name), [k[0] for k in distinct.keys],
                                 per_key_params={"length": lengths}, limit=limit, field_zh=field.zh,
                                 field_en=field.en)
    return errors


PUBLICATION_FIELDS = ("publication", "publisher", "publication_title", "publication_kind")
PUBLICATION_PARTS = {"publisher": "publisher", "publication_title": "title"}  # field -> part of the record


def _resolve_publications(cells: Cells, publications: PublicationNames, rows: dict) -> np.ndarray:
    """The publication each value cites: an id (the schema check reports one it does not know), or a
    publisher and a title, with the line's date and optionally a kind: the publication known by them, else
    a new one (``report.new_publications``, created on commit). Returns the rows with a problem."""
    n = len(rows["row"])
    if not any(cells.has(f) for f in PUBLICATION_FIELDS):
        rows["publication_id"] = pd.Categorical(np.full(n, None, dtype=object))
        return np.zeros(n, dtype=bool)
    distinct = Distinct.of([cells.values(f) for f in PUBLICATION_FIELDS] + [rows["published_on"]])
    results = [_publication_of(publications, *key) for key in distinct.keys]
    problem = [r[1] for r in results]
    column = distinct.spread([cells.column(r[2]) if r[1] else None for r in results])
    value = [r[3] for r in results]
    cells.problems("PUBLICATION_KIND_INVALID", distinct, problem, column, value,
                   kinds=", ".join(sorted(set(PUBLICATION_KINDS.values()))))
    for code in ("PUBLICATION_INCOMPLETE", "PUBLICATION_CONFLICT"):
        params = [r[4] if r[1] == code else {} for r in results]
        names = sorted({k for p in params for k in p})
        cells.problems(code, distinct, problem, column, value,
                       per_key_params={k: [p.get(k) for p in params] for k in names})
    in_error = np.array([p is not None for p in problem], dtype=bool)
    named = [i for i, r in enumerate(results) if r[1] is None and r[5] is not None]
    if named:
        in_error |= _new_publications(cells, distinct, [results[i][5] for i in named], named)
    # a line in error cites nothing (a publication named with a second date is not created)
    rows["publication_id"] = distinct.spread([None if e else r[0] for r, e in zip(results, in_error, strict=True)],
                                             categorical=True)
    return distinct.rows_where(in_error)


def _publication_of(publications: PublicationNames, pub_id, publisher, title, kind_text, published_on) -> tuple:
    """(id, problem, field, value, message parameters, the publication named) for one combination of a
    line's publication cells and date."""
    kind = kind_of(PUBLICATION_KINDS, kind_text) if kind_text else None
    if kind_text and kind is None:
        return None, "PUBLICATION_KIND_INVALID", "publication_kind", kind_text, {}, None
    if pub_id:
        for field, text in (("publisher", publisher), ("publication_title", title)):
            other = text and publications.differs(pub_id, PUBLICATION_PARTS[field], text)
            if other:
                name = FIELDS[field].name
                params = {"publication": pub_id, "other": other, "field_zh": name.zh, "field_en": name.en}
                return None, "PUBLICATION_CONFLICT", field, text, params, None
        return pub_id, None, None, None, {}, None
    if not publisher and not title:
        return None, None, None, None, {}, None
    if not publisher or not title:
        field, missing = ("publication_title", "publisher") if title else ("publisher", "publication_title")
        params = {"missing_zh": FIELDS[missing].name.zh, "missing_en": FIELDS[missing].name.en}
        return None, "PUBLICATION_INCOMPLETE", field, title or publisher, params, None
    found = publications.find(publisher, title, published_on)
    named = {
        "id": found or upload_publication_id(publisher, title, published_on),
        "publisher": publisher,
        "title": title,
        "kind": kind or DEFAULT_PUBLICATION_KIND,
        "kind_assumed": kind is None,
        "published_on": published_on,
        "new": found is None,
    }
    return named["id"], None, None, None, {}, named


def _new_publications(cells: Cells, distinct: Distinct, named: list[dict], keys: list[int]) -> np.ndarray:
    """Check the publications a file names by publisher and title (one date each in the file: an error on
    the combinations after the first otherwise), and list the new ones in the report. Returns which
    combinations are in error."""
    frame = pd.DataFrame(named)
    frame["key"] = list(zip(frame["publisher"].map(normalise_name), frame["title"].map(normalise_name),
                            strict=True))
    frame["row"] = cells.texts["row"].to_numpy()[distinct.first[keys]]
    frame["at"] = keys
    frame = frame.sort_values("row", kind="stable")
    first = frame.drop_duplicates("key").set_index("key")
    dates = frame["published_on"].fillna("").to_numpy()
    conflicting = dates != first.loc[frame["key"], "published_on"].fillna("").to_numpy()
    if conflicting.any():
        bad = frame[conflicting]
        cells.report.add_rows(
            "PUBLICATION_DATE_CONFLICT",
            pd.DataFrame({
                "row": bad["row"].to_numpy(),
                "column": cells.column("published_on"),
                "value": bad["published_on"].to_numpy(),
                "title": bad["title"].to_numpy(),
                "publisher": bad["publisher"].to_numpy(),
                "other": first.loc[bad["key"], "published_on"].fillna("").to_numpy(),
                "other_row": first.loc[bad["key"], "row"].to_numpy(),
            }),
        )
    new = frame[~conflicting & frame["new"].to_numpy()].drop_duplicates("id")
    cells.report.new_publications = [
        {k: (None if is_missing(v) else (int(v) if k == "row" else v)) for k, v in rec.items()}
        for rec in new[["id", "publisher", "title", "kind", "kind_assumed", "published_on", "row"]].to_dict("records")
    ]
    in_error = np.zeros(len(distinct.keys), dtype=bool)
    in_error[frame.loc[conflicting, "at"].to_numpy(dtype=np.int64)] = True
    return in_error


def read_flags(text: str) -> str | None:
    """A flags cell as stored: its codes in the order of ``flags.FLAGS``, separated by spaces ('p u'); None
    for a cell of separators only. Codes and names (Chinese or English, any case, several words allowed:
    'break in series') are separated by spaces or commas. A text that is not such a list is returned as it is,
    for the check on flags to report."""
    found: set[str] = set()
    for part in FLAG_SEPARATORS.split(text):
        words = unicodedata.normalize("NFKC", part).split()
        start = 0
        while start < len(words):
            # the longest run of words from here that names a flag: 'low reliability', then 'low'
            end = next((e for e in range(len(words), start, -1)
                        if normalise_name("".join(words[start:e])) in FLAG_WORDS), None)
            if end is None:
                return text
            found.add(FLAG_WORDS[normalise_name("".join(words[start:end]))])
            start = end
    return " ".join(code for code in FLAGS if code in found) or None


def _preamble_source(preamble: dict[str, str]) -> str | None:
    source = preamble.get("data source")
    if not source:
        return None
    updated = preamble.get("last updated date")
    return f"World Bank, {source}" + (f" (last updated {updated})" if updated else "")


def _preamble_date(preamble: dict[str, str]) -> str | None:
    updated = preamble.get("last updated date")
    return normalise_date(updated) if updated else None

