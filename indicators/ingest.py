"""Reading the statistics files people actually have, and loading them as one batch each.

What belongs here: turning the bytes of an uploaded CSV into observations in catalog codes and units, with
a :class:`~indicators.validation.Report` of everything found, and committing them. What does not: the
checks and messages themselves (``validation``), the history-keeping writes (``store``), printing (``cli``).

Public API (the CLI's ``ingest`` command and the web upload page use the same calls)::

    options = IngestOptions(encoding=None, source=None, confidence=None, max_bytes=50 * 2**20)
    parsed = parse_file(content, "r&d.csv", catalog, engine, options)   # or parse_path(path, ...)
    parsed.report.to_dict()   # problems, counts, encoding, delimiter, layout, conversions, new regions
    parsed.rows               # every value found, as understood (codes, year, value in the indicator's unit)
    parsed.diff               # against the database: status new / revised / unchanged, old_value
    result = commit(engine, parsed, user="alice", note=None, skip_invalid=False)   # store.BatchResult
    commit_many(engine, [parsed, ...], ...)   # several files, one transaction
    load(conn, parsed, ...)                   # the same inside the caller's transaction
    csv_safe(frame)                           # text that a spreadsheet would run as a formula, neutralised

What is read:

- Encodings: UTF-8 (with or without BOM) and UTF-16 with BOM are recognised exactly; anything else is
  detected by charset-normalizer among GB18030 (what Excel on Chinese Windows writes; GBK and GB2312 are
  subsets), Big5 and Windows-1252. When several fit, GB18030 wins and the report warns; when none does but
  the bytes are valid GB18030, they are read as GB18030 with a warning. ``encoding`` overrides detection.
- Delimiters comma, tab or semicolon; CRLF or LF; quoted fields; blank lines (also Excel's ``,,,,``).
- Layouts: *long* (indicator, region, year, value, and optionally unit, source, confidence, note, flag,
  published date), *wide* (one column per year), and the World Bank download (four lines of preamble, then
  ``Country Name, Country Code, Indicator Name, Indicator Code, 1960, ...``). Lines above the header are
  skipped with a warning. Headers are matched in Chinese or English (:data:`FIELDS`).
- Indicators and regions by code or by any name or alias in the catalog (and regions earlier uploads
  created). A region the file names with both a code and a name is new: listed in the report and created
  on commit (``from_upload``). A unit written in the value header (``数值(亿元)``) applies to the column.
- Numbers as people write them (``6.44%``, ``8,536.9``, ``６.４４％``, ``1.2万亿``, ``第3名``, ``3rd``),
  converted to the indicator's unit where the catalog lists the conversion (reported); empty, ``-``, ``—``,
  ``..``, ``n.a.`` and the like are missing values: skipped and counted, not errors.

Decisions: every stored value needs a source, from the file's source column, else ``source`` in the
options (``--source``), else (World Bank files) the preamble's data source; a value with none is an error.
Confidence comes from the file, else ``confidence`` in the options, else ``medium`` with one warning.
Text is stored as written (cells starting with ``=``, ``+``, ``-``, ``@`` included) and never evaluated.
Counts in the report and the batch are values (cells), not lines: a wide line holds several.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import multiprocessing
import os
import queue
import re
import sys
import threading
import traceback
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from charset_normalizer import from_bytes
from sqlalchemy import Connection, Engine, insert, select

from indicators import db, store, validation
from indicators.catalog import Catalog, normalise_name
from indicators.models import Region
from indicators.store import KEY, PAYLOAD, BatchResult
from indicators.validation import DEFAULT_MAX_BYTES, JumpReference, Report

DEFAULT_CONFIDENCE = "medium"
YEAR_MIN = 1900
DELIMITERS = (",", "\t", ";")
HEAD_BYTES = 65536  # enough text to find the delimiter and the header
HEADER_SEARCH_LINES = 30
DETECTABLE_ENCODINGS = ["gb18030", "big5", "cp1252"]
PREFERRED_ENCODING = "gb18030"
UTF8_CHUNK = 4 * 1024 * 1024
NEW_REGION_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
PERCENT_UNITS = ("percent", "percent_per_year")

# Column header -> field. Matched after folding width, case, spaces, underscores and hyphens.
# fmt: off
FIELDS: dict[str, tuple[str, str, list[str]]] = {
    "indicator": ("指标", "indicator", [
        "指标", "指标代码", "指标编码", "指标编号", "指标项", "indicator", "indicator code", "indicator id",
        "series", "series code"]),
    "indicator_name": ("指标名称", "indicator name", ["指标名称", "指标名", "indicator name", "series name"]),
    "region": ("地区", "region", [
        "地区", "城市", "区域", "国家", "国家或地区", "国家/地区", "地区/城市", "region", "city", "country",
        "area", "economy", "location"]),
    "region_code": ("地区代码", "region code", [
        "地区代码", "地区编码", "区划代码", "行政区划代码", "城市代码", "国家代码", "region code",
        "region id", "city code", "country code", "iso3", "iso code"]),
    "region_name": ("地区名称", "region name", [
        "地区名称", "城市名称", "国家名称", "region name", "city name", "country name"]),
    "region_name_zh": ("地区中文名称", "region name in Chinese", [
        "地区中文名称", "地区中文名", "中文名称", "中文名", "region name zh", "name zh"]),
    "region_name_en": ("地区英文名称", "region name in English", [
        "地区英文名称", "地区英文名", "英文名称", "英文名", "region name en", "name en", "english name"]),
    "region_kind": ("地区类型", "region kind", ["地区类型", "地区类别", "region kind", "region type"]),
    "year": ("年份", "year", [
        "年份", "年度", "年", "统计年度", "数据年份", "时间", "year", "period", "time", "yr"]),
    "value": ("数值", "value", [
        "数值", "值", "数据", "指标值", "统计值", "数量", "排名", "名次", "位次", "value", "obs value",
        "observation", "amount", "rank", "data"]),
    "unit": ("单位", "unit", ["单位", "计量单位", "unit", "units", "unit of measure"]),
    "source": ("来源", "source", [
        "来源", "数据来源", "资料来源", "出处", "source", "data source", "sources"]),
    "confidence": ("可信度", "confidence", [
        "可信度", "置信度", "可靠性", "可靠程度", "confidence", "reliability"]),
    "note": ("备注", "note", [
        "备注", "说明", "注释", "附注", "注", "note", "notes", "remark", "remarks", "comment"]),
    "flag": ("标记", "flag", ["标记", "标志", "状态", "flag", "flags", "status", "obs status"]),
    "published_on": ("发布日期", "published date", [
        "发布日期", "公布日期", "发布时间", "发布", "published", "published on", "publication date",
        "release date", "date published"]),
}

MISSING_MARKERS = {
    "", "-", "--", "---", "—", "——", "–", "..", "...", "…", "……", "n.a.", "n.a", "na", "n/a", "nan", "null",
    "none", "#n/a", "/", "无", "暂无", "空", "不详", "缺", "缺失",
}
CONFIDENCE_WORDS = {
    "high": "high", "h": "high", "高": "high", "较高": "high",
    "medium": "medium", "med": "medium", "m": "medium", "中": "medium", "中等": "medium", "一般": "medium",
    "low": "low", "l": "low", "低": "low", "较低": "low",
}
REGION_KINDS = {
    "city": "city", "城市": "city", "市": "city",
    "province": "province", "省": "province", "省份": "province",
    "country": "country", "国家": "country",
    "metropolitan_area": "metropolitan_area", "metropolitan area": "metropolitan_area",
    "都市圈": "metropolitan_area", "城市群": "metropolitan_area",
}
# fmt: on
DEFAULT_REGION_KIND = {"worldbank": "country"}  # otherwise 'city', and the report says it was assumed

_HEADER_FOLD = re.compile(r"[\s_\-]+")
_HEADER_UNIT = re.compile(r"^(?P<base>.+?)\s*[(（\[【](?P<unit>[^()（）\[\]【】]+)[)）\]】]\s*$")
_YEAR_HEADER = re.compile(r"^(?:y|yr|fy)?(\d{4})(?:年|年度)?(?:\[yr\d{4}\])?$")
_YEAR_CELL = re.compile(r"^(\d{4})(?:\.0+)?(?:年|年度)?$")
_NUMBER = re.compile(
    r"^(?P<number>[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)(?P<suffix>(?![\d,.]).*)$",
    re.I,
)
_RANK_FORMS = [
    re.compile(p, re.I) for p in (r"^第(\d+)(?:名|位)?$", r"^(\d+)(?:st|nd|rd|th)$", r"^(?:no\.?|#)(\d+)$")
]
_DATE_FORMS = [
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$"),
    re.compile(r"^(\d{4})年?$"),
]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class IngestOptions:
    """How to read a file: an encoding to force, defaults for missing source and confidence, size limit."""

    encoding: str | None = None
    source: str | None = None
    confidence: str | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    year_range: tuple[int, int] = field(default_factory=lambda: (YEAR_MIN, date.today().year + 1))


@dataclass
class ParsedFile:
    """A file as understood, before anything is written. ``rows`` has one row per value found:

    ``row`` and ``column`` (where it is in the file), ``raw`` (the cell as written), the resolved
    ``indicator_code``, ``region_code``, ``year``, ``value`` (in the indicator's unit), ``source``,
    ``confidence``, ``note``, ``flag``, ``published_on``, ``unit_given`` and ``factor`` (a conversion), and
    ``status``: ``ok``, ``error`` (a problem in the report) or ``duplicate`` (repeat of an identical line).
    """

    file_name: str
    checksum: str
    report: Report
    rows: pd.DataFrame
    new_regions: pd.DataFrame
    diff: pd.DataFrame | None = None
    already_loaded_as: int | None = None
    # The stored values the diff was made against, and the latest batch when they were read: loading
    # reuses them if no batch came since (every change to the observations is a batch).
    stored: pd.DataFrame | None = None
    stored_as_of_batch: int | None = None

    @property
    def ok(self) -> bool:
        return self.report.ok

    @property
    def n_skipped(self) -> int:
        """Missing values and repeated identical lines: not loaded, not errors."""
        return int(self.report.counts.get("missing", 0) + self.report.counts.get("duplicates", 0))

    @property
    def n_rejected(self) -> int:
        return int(self.report.counts.get("rejected", 0))

    def rejected(self, skip_invalid: bool = False) -> bool:
        """Nothing of this file may be loaded: an error about the whole file, any error (unless
        ``skip_invalid``), or no valid value at all."""
        report = self.report
        return report.fatal or (not report.ok and not skip_invalid) or report.counts.get("valid", 0) == 0

    def outcome(self, status: str, result: BatchResult | None = None, with_diff: bool = False) -> dict:
        """What the CLI prints as JSON and the upload page shows: the report, the status and the counts.

        ``status``: loaded, already_loaded, rejected, checked (a dry run) or not_loaded (another file of the
        same command was rejected). ``with_diff`` lists every new and revised value (old -> new).
        """
        diff = (
            self.diff
            if self.diff is not None
            else pd.DataFrame(columns=[*KEY, "value", "old_value", "status"])
        )
        counts = diff["status"].value_counts() if len(diff) else pd.Series(dtype=int)
        out = {
            "file": self.file_name,
            "status": status,
            "batch": result.batch_id if result is not None else None,
            "already_loaded_as": (result.already_loaded_as if result is not None else None)
            or self.already_loaded_as,
            "diff_counts": {s: int(counts.get(s, 0)) for s in ("new", "revised", "unchanged")},
            "batch_counts": None
            if result is None or result.batch_id is None
            else {
                "new": result.n_new,
                "revised": result.n_revised,
                "unchanged": result.n_unchanged,
                "skipped": result.n_skipped,
                "rejected": result.n_rejected,
            },
            "report": self.report.to_dict(),
        }
        if with_diff:
            changed = diff[diff["status"] != "unchanged"]
            out["diff"] = [
                {
                    "indicator": r.indicator_code,
                    "region": r.region_code,
                    "year": int(r.year),
                    "status": r.status,
                    "old_value": None if pd.isna(r.old_value) else float(r.old_value),
                    "value": float(r.value),
                    "changed": r.changed,
                }
                for r in changed.itertuples(index=False)
            ]
        return out

    def observations(self) -> pd.DataFrame:
        """The valid values as ``store.apply_batch`` takes them (KEY + PAYLOAD, one row per key)."""
        valid = self.rows[self.rows["status"] == "ok"]
        # Key columns as plain text; the payload's texts stay categorical (a few distinct values, each
        # converted once when bound).
        frame = valid[KEY + PAYLOAD].astype({c: object for c in KEY if c != "year"}).reset_index(drop=True)
        frame["year"] = frame["year"].astype("int64")
        frame["value"] = frame["value"].astype("float64")
        return frame


class UploadRejected(Exception):
    """``commit`` was asked to load a file whose report has errors (and ``skip_invalid`` was not given)."""

    def __init__(self, parsed: ParsedFile, message_en: str, message_zh: str):
        self.parsed, self.message_en, self.message_zh = parsed, message_en, message_zh
        super().__init__(f"{parsed.file_name}: {message_zh} / {message_en}")


# --- entry points -------------------------------------------------------------------------------------


def parse_path(
    path: Path | str,
    catalog: Catalog,
    db: Engine | Connection | None = None,
    options: IngestOptions | None = None,
) -> ParsedFile:
    """:func:`parse_file` for a file on disk; a file over the size limit is reported without reading it."""
    path, options = Path(path), options or IngestOptions()
    report = _new_report(path.name, path.stat().st_size)
    if not validation.check_size(report.file["size"], report, options.max_bytes):
        return _unreadable(path.name, None, report)
    return parse_file(path.read_bytes(), path.name, catalog, db, options)


def parse_file(
    content: bytes,
    file_name: str,
    catalog: Catalog,
    db: Engine | Connection | None = None,
    options: IngestOptions | None = None,
) -> ParsedFile:
    """Read, interpret and validate one file; compare it with the database when ``db`` is given.

    Never raises for a bad file: everything wrong is in ``parsed.report``. Writes nothing.
    """
    options = options or IngestOptions()
    opened = _open_table(content, file_name, options)
    if isinstance(opened, ParsedFile):
        return opened
    checksum, report, table, layout = opened
    with _reading(db) as conn:
        regions = RegionNames(catalog, conn)
        texts = value_cells(table, layout)
        rows, new_regions = interpret(texts, layout, catalog, regions, options, report)
        parsed = ParsedFile(file_name, checksum, report, rows, new_regions)
        _validate(parsed, catalog, options, conn, _headers(layout))
        if conn is not None:
            parsed.already_loaded_as = store.find_loaded_batch(conn, checksum)
    return parsed


def _open_table(
    content: bytes, file_name: str, options: IngestOptions
) -> ParsedFile | tuple[str, Report, Table, Layout]:
    """Checksum, encoding, delimiter, header and layout: (checksum, report, table, layout), or the
    unreadable file's ParsedFile."""
    checksum = store.file_checksum(content)
    report = _new_report(file_name, len(content))
    report.file["checksum"] = checksum
    if not validation.check_bytes(content, report, options.max_bytes, options.encoding):
        return _unreadable(file_name, checksum, report)
    decoded = decode(content, options.encoding, report)
    if decoded is None:
        return _unreadable(file_name, checksum, report)
    table = read_table(decoded, report)
    if table is None:
        return _unreadable(file_name, checksum, report)
    layout = find_layout(table, report)
    if layout is None:
        return _unreadable(file_name, checksum, report)
    return checksum, report, table, layout


def _headers(layout: Layout) -> dict[str, str]:
    return {name: layout.headers[pos] for name, pos in layout.fields.items()}


def load(
    conn: Connection, parsed: ParsedFile, *, user: str, note: str | None = None, skip_invalid: bool = False
) -> BatchResult:
    """Write a parsed file as one batch inside the caller's transaction (see :func:`commit`)."""
    report = parsed.report
    if report.fatal or (not report.ok and not skip_invalid):
        raise UploadRejected(parsed, "the file has errors; nothing was written", "文件有错误,未写入任何数据")
    loaded = store.find_loaded_batch(conn, parsed.checksum)
    if loaded is not None:
        return BatchResult(batch_id=None, already_loaded_as=loaded)
    unchanged = parsed.stored is not None and store.latest_batch_id(conn) == parsed.stored_as_of_batch
    # The diff made when the file was read holds the valid values, in order: reused if nothing changed since.
    reuse = unchanged and parsed.diff is not None
    frame = parsed.diff[KEY + PAYLOAD] if reuse else parsed.observations()
    if frame.empty:
        raise UploadRejected(
            parsed, "no valid values to load; nothing was written", "没有可导入的有效数值,未写入任何数据"
        )
    _create_regions(conn, parsed.new_regions[parsed.new_regions["code"].isin(frame["region_code"])])
    return store.apply_batch(
        conn,
        frame,
        kind="upload",
        user=user,
        file_name=parsed.file_name,
        checksum=parsed.checksum,
        note=note,
        n_skipped=parsed.n_skipped,
        n_rejected=parsed.n_rejected,
        current=parsed.stored if unchanged else None,
        diff=parsed.diff if reuse else None,
    )


def commit(
    engine: Engine, parsed: ParsedFile, *, user: str, note: str | None = None, skip_invalid: bool = False
) -> BatchResult:
    """Load one parsed file in its own transaction: all of it, or (on any error) nothing.

    Raises :class:`UploadRejected` when the report has errors (unless ``skip_invalid``: then the valid values
    are loaded and the rest counted as rejected). A file loaded before (same checksum, not reverted) is not
    loaded again: the result's ``already_loaded_as`` names the batch.
    """
    return commit_many(engine, [parsed], user=user, note=note, skip_invalid=skip_invalid)[0]


def commit_many(
    engine: Engine,
    parsed_files: list[ParsedFile],
    *,
    user: str,
    note: str | None = None,
    skip_invalid: bool = False,
) -> list[BatchResult]:
    """Load several parsed files, one batch each, in one transaction: all files or none."""
    # Batches apply one after another (no "database is locked"); parent keys are checked per distinct code.
    with db.writing(engine, bulk=True) as conn:
        return [load(conn, p, user=user, note=note, skip_invalid=skip_invalid) for p in parsed_files]


# --- reading and loading at once ----------------------------------------------------------------------

log = logging.getLogger("innovation_monitor.ingest")

OVERLAP_MIN_VALUES = 200_000  # smaller files: read, then load (overlapping gains little)
OVERLAP_PART_VALUES = 100_000
REPLY_POLL_SECONDS = 0.5  # how often a wait for the writer looks whether it, or the sending, has failed
MIN_BYTES_PER_VALUE = 8  # "I,R,2024,1\n": no file of fewer bytes holds min_values values


class _NotClean(Exception):
    """The overlapped load met something only the whole-file path decides; its transaction rolled back."""


def load_path(
    engine: Engine,
    path: Path | str,
    catalog: Catalog,
    options: IngestOptions | None = None,
    *,
    user: str,
    note: str | None = None,
    part_values: int = OVERLAP_PART_VALUES,
    min_values: int = OVERLAP_MIN_VALUES,
) -> tuple[ParsedFile, BatchResult | None]:
    """Read, check and load one file as one batch: what :func:`parse_path` then :func:`commit` do.

    A big clean file is loaded while it is read. Its values are interpreted and checked part by part
    (``part_values`` values, whole lines), and each checked part goes to a :class:`_WriterProcess`, which
    holds the batch's write transaction and writes the part while this process checks the next: on two
    cores the two overlap. Anything but a clean load (an error, a repeated key, a region named two ways, a
    file loaded before, fewer than ``min_values`` values) rolls that transaction back and the file takes
    the whole-file path instead, so the report, the batch and the database come out the same either way.

    Returns the file as parsed and the batch (None when the file is rejected; ``already_loaded_as`` set
    when it was loaded before).
    """
    options = options or IngestOptions()
    path = Path(path)
    size = path.stat().st_size
    if min_values * MIN_BYTES_PER_VALUE <= size <= options.max_bytes and _can_fork():
        try:
            return _load_overlapped(engine, path, catalog, options, user, note, part_values, min_values)
        except _NotClean as exc:
            log.info("%s: checked as a whole instead (%s)", path.name, exc or "not a clean file")
    parsed = parse_path(path, catalog, engine, options)
    if parsed.rejected():
        return parsed, None
    return parsed, commit(engine, parsed, user=user, note=note)


def _can_fork() -> bool:
    # Linux only: macOS lists fork too, but system libraries there are not safe to use after it.
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


@dataclass
class _Part:
    rows: pd.DataFrame
    new_regions: pd.DataFrame
    report: Report
    diff: pd.DataFrame


def _load_overlapped(
    engine: Engine,
    path: Path,
    catalog: Catalog,
    options: IngestOptions,
    user: str,
    note: str | None,
    part_values: int,
    min_values: int,
) -> tuple[ParsedFile, BatchResult]:
    with _WriterProcess(engine) as writer:  # forked first, while this process is still small
        opened = _open_table(path.read_bytes(), path.name, options)
        if isinstance(opened, ParsedFile) or not opened[1].ok:
            raise _NotClean("unreadable, or problems in its header")
        checksum, report, table, layout = opened
        texts = value_cells(table, layout)
        if len(texts) < min_values:
            raise _NotClean("small")
        writer.order("begin")
        writer.reply("locked")  # no other batch can come now: what is read next stays true
        with engine.connect() as conn:
            if store.find_loaded_batch(conn, checksum) is not None:
                raise _NotClean("loaded before")
            regions = RegionNames(catalog, conn)
            latest = store.latest_batch_id(conn)
            current = store.current_values(conn, _indicator_codes(texts, layout, catalog))
        stored = store.StoredKeys(current)
        jumps = JumpReference(current, {c: ind.kind for c, ind in catalog.indicators.items()})
        writer.order("batch", {"kind": "upload", "user": user, "file_name": path.name, "checksum": checksum,
                               "note": note})
        parts: list[_Part] = []
        created: set[str] = set()
        for piece in _split(texts, part_values):
            part = _checked_part(piece, layout, catalog, regions, options, stored, jumps, path.name)
            fresh = part.new_regions[~part.new_regions["code"].isin(created)]
            created.update(fresh["code"])
            writer.order("part", fresh, part.diff[[*KEY, *PAYLOAD, "status", "current_id"]]
                         if len(part.diff) else None)
            parts.append(part)
        counts = _consistent(parts)
        # The batch's counts as parse_file's report gives them: skipped = missing (no repeats in a clean
        # file), rejected = unreadable lines (none). The writer commits while the report is assembled.
        skipped = sum(p.report.counts.get("missing", 0) for p in parts)
        rejected = report.counts.get("unreadable", 0)
        writer.order("finish", {**counts, "skipped": skipped, "rejected": rejected})
        parsed = _joined(path.name, checksum, report, parts, options)
        parsed.stored, parsed.stored_as_of_batch = current, latest
        (batch_id,) = writer.reply("committed")
    return parsed, BatchResult(
        batch_id=batch_id,
        n_new=counts["new"],
        n_revised=counts["revised"],
        n_unchanged=counts["unchanged"],
        n_skipped=parsed.n_skipped,
        n_rejected=parsed.n_rejected,
        diff=parsed.diff,
    )


class _WriterProcess:
    """A forked process that holds one batch's write transaction and writes the parts it is sent.

    It is its own process so that its writing (binding values, SQLite's work) never waits for Python's
    lock while this process reads the file. Orders go through a pipe, sent by a thread of this process
    so that sending never waits for the writer. The writer commits only when told to ("finish"); if this
    process stops early, fails or dies, the writer sees the pipe close and rolls back. It opens its own
    connection (the parent's pooled ones are left alone) and ends with ``os._exit``, as multiprocessing's
    fork does, so nothing it inherited is closed or finalised twice.
    """

    NOT_CLEAN = {"IntegrityError", "MissingParent"}  # a key in two parts, say: the whole-file path decides

    def __init__(self, engine: Engine):
        context = multiprocessing.get_context("fork")
        self._replies, replies_end = context.Pipe(duplex=False)
        orders_end, self._orders = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_write_batch,
            args=(engine, orders_end, replies_end, (self._orders, self._replies)),
            name="ingest-writer",
            daemon=True,
        )
        self._process.start()
        orders_end.close()
        replies_end.close()
        self._pending: queue.Queue = queue.Queue()
        self._send_failure: BaseException | None = None
        self._finishing = False
        self._sender = threading.Thread(target=self._send, name="ingest-orders", daemon=True)
        self._sender.start()

    def __enter__(self) -> _WriterProcess:
        return self

    def order(self, *order) -> None:
        """Send an order; raise at once if the writer or the sending has failed."""
        self._check_sending()
        if self._replies.poll():
            self.reply("(any)")
        if order[0] == "finish":
            self._finishing = True
        self._pending.put(order)

    def reply(self, expected: str) -> tuple:
        """Wait for the writer's next word; raise if it failed, or ended or stopped hearing from us."""
        while not self._replies.poll(REPLY_POLL_SECONDS):
            self._check_sending()
            if not self._process.is_alive() and not self._replies.poll():
                self._ended()
        try:
            kind, *payload = self._replies.recv()
        except EOFError:
            self._ended()
        if kind == "failed":
            name, details = payload
            if name in self.NOT_CLEAN:
                raise _NotClean(f"the writer met {name}")
            raise RuntimeError(f"writing the batch failed; nothing was written:\n{details}")
        if kind != expected:
            raise RuntimeError(f"the writing process said {kind!r}, expected {expected!r}")
        return tuple(payload)

    def _ended(self):
        if self._finishing:  # it may have committed before it ended
            raise RuntimeError("the writing process ended before confirming the batch; "
                               "see `innovation-monitor batches` for whether it was loaded")
        raise RuntimeError("the writing process ended unexpectedly; nothing was written")

    def _check_sending(self) -> None:
        if self._send_failure is not None:
            raise RuntimeError("sending values to the writing process failed; nothing was written") \
                from self._send_failure

    def _send(self) -> None:
        try:
            while (order := self._pending.get()) is not None:
                self._orders.send(order)
        except BaseException as exc:  # noqa: BLE001 - raised in the loading thread (_check_sending)
            self._send_failure = exc
            self._orders.close()  # the writer sees the pipe close and rolls back

    def __exit__(self, *exc) -> None:
        try:
            self._pending.put(None)  # no more orders: a writer still waiting for one rolls back
            self._sender.join(timeout=60)
        finally:
            self._orders.close()
            self._process.join(timeout=60)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
            self._replies.close()


def _write_batch(engine: Engine, orders, replies, parents_ends: tuple) -> None:
    """The writing process: wait for "begin", hold the write transaction, open the batch, write each part,
    and commit on "finish". The pipe closing before that rolls everything back."""
    for end in parents_ends:  # inherited copies: kept open, the orders pipe would never close
        end.close()
    # The parent's output streams may have been locked by another of its threads (a progress spinner) at
    # the fork; this process says everything through the pipe and never touches them.
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - closed by os._exit with the process
    engine.dispose(close=False)  # the parent's pooled connections are its own: open new ones
    try:
        if orders.recv()[0] != "begin":
            return
        with db.writing(engine, bulk=True) as conn:
            replies.send(("locked",))
            _, batch = orders.recv()
            batch_id, now = store.open_batch(conn, **batch)
            while True:
                kind, *payload = orders.recv()
                if kind == "finish":
                    store.set_batch_counts(conn, batch_id, payload[0])
                    break
                new_regions, diff = payload
                _create_regions(conn, new_regions)
                if diff is not None:
                    store.write_changes(conn, batch_id, now, diff)
        replies.send(("committed", batch_id))
    except EOFError:  # the loading process stopped or died: rolled back
        pass
    except BaseException as exc:  # noqa: BLE001 - reported to the loading process
        try:
            replies.send(("failed", type(exc).__name__, traceback.format_exc()))
        except OSError:
            pass
    finally:
        engine.dispose()


def _indicator_codes(texts: pd.DataFrame, layout: Layout, catalog: Catalog) -> list[str]:
    """Every indicator the file may name (whose stored values the diff needs), found without reporting."""
    fields = [f for f in ("indicator", "indicator_name") if f in layout.fields]
    distinct = Distinct.of([texts[f] for f in fields])
    found = {catalog.find_indicator(name) for key in distinct.keys for name in key if name}
    return sorted(code for code in found if code)


def _split(texts: pd.DataFrame, size: int):
    """Parts of about ``size`` value cells; a line's cells (a wide row's years) stay in one part."""
    lines = texts["row"].to_numpy()
    start = 0
    while start < len(texts):
        end = min(start + size, len(texts))
        while end < len(texts) and lines[end] == lines[end - 1]:
            end += 1
        yield texts.iloc[start:end].reset_index(drop=True)
        start = end


def _checked_part(
    texts: pd.DataFrame,
    layout: Layout,
    catalog: Catalog,
    regions: RegionNames,
    options: IngestOptions,
    stored: store.StoredKeys,
    jumps: JumpReference,
    file_name: str,
) -> _Part:
    """Interpret and check one part as :func:`parse_file` does the whole file; raise _NotClean at the
    first error or repeated key. ``stored`` and ``jumps``: the current values, indexed once per file."""
    report = Report(file_name)
    rows, new_regions = interpret(texts, layout, catalog, regions, options, report)
    if rows.empty:  # every value of this part is missing: fine, unless the whole file is so (see _joined)
        return _Part(rows, new_regions, report, pd.DataFrame())
    if not report.ok or (rows["status"] != "ok").any():
        raise _NotClean("errors")
    if len(validation.check_observations(rows, report, options.year_range, _headers(layout))):
        raise _NotClean("errors")
    # A repeated key needs no look here: a new one fails in the writer (unique key), a stored one is
    # found in _joined (the same stored row matched twice); either way the whole file decides.
    frame = ParsedFile(file_name, "", report, rows, new_regions).observations()
    diff = _with_changes(store.diff_against_current(None, frame, keys=stored), stored.current, stored)
    if not stored.current.empty:
        ok = rows[[*KEY, "value", "row", "column"]].astype({"year": "int64"})
        ok["old_value"] = diff["old_value"].to_numpy()
        validation.check_jumps(ok, jumps, report)
    return _Part(rows, new_regions, report, diff)


def _consistent(parts: list[_Part]) -> dict[str, int]:
    """Raise _NotClean when the parts disagree (a key in two parts, a new region named two ways) or hold
    no value at all; otherwise return the counts of new, revised and unchanged values."""
    counted = [p for p in parts if not p.rows.empty]
    if not counted:
        raise _NotClean("no values")
    # A key in two parts: a new key's second insert fails in the writer (unique key: IntegrityError, not
    # clean); a stored key may be left unchanged by both, so look for the same stored row matched twice.
    matched = np.concatenate([p.diff["current_id"].to_numpy(dtype=float) for p in counted])
    matched = matched[~np.isnan(matched)]
    if len(np.unique(matched)) < len(matched):
        raise _NotClean("a stored key in two parts")
    proposals = pd.concat([p.new_regions for p in parts], ignore_index=True)
    first = proposals.drop_duplicates("code")
    if len(first) < len(proposals):
        names = first.set_index("code").loc[proposals["code"], ["name_zh", "name_en"]].fillna("").to_numpy()
        if (proposals[["name_zh", "name_en"]].fillna("").to_numpy() != names).any():
            raise _NotClean("a new region named two ways")
    counts = [store.diff_counts(p.diff) for p in counted]
    return {status: sum(c[status] for c in counts) for status in ("new", "revised", "unchanged")}


def _joined(file_name: str, checksum: str, report: Report, parts: list[_Part], options: IngestOptions) -> ParsedFile:
    """The whole file from parts that are consistent (see :func:`_consistent`), with the report
    :func:`parse_file` makes: counts added up, one entry per conversion and per new region, the
    default-confidence note once."""
    counted = [p for p in parts if not p.rows.empty]
    rows = pd.concat([p.rows for p in counted], ignore_index=True)
    new_regions = pd.concat([p.new_regions for p in parts], ignore_index=True).drop_duplicates("code")
    new_regions = new_regions.reset_index(drop=True)
    seen: set[str] = set()
    report.new_regions = [r for p in parts for r in p.report.new_regions
                          if r["code"] not in seen and not seen.add(r["code"])]
    conversions: dict[tuple, dict] = {}
    for part in parts:
        for c in part.report.conversions:
            key = (c["indicator"], c["from_unit"], c["factor"])
            if key in conversions:
                conversions[key]["count"] += c["count"]
            else:
                conversions[key] = dict(c)
    report.conversions = list(conversions.values())
    file_level = {"NO_VALUES", "CONFIDENCE_DEFAULTED"}  # said once for the whole file, below
    for part in parts:
        report.add_problems_of(part.report, skip=file_level)
    defaulted = sum(p.report.tallies.get("confidence_defaulted", 0) for p in parts)
    report.tallies["confidence_defaulted"] = defaulted
    if defaulted:
        report.add("CONFIDENCE_DEFAULTED", count=defaulted, confidence=options.confidence or DEFAULT_CONFIDENCE)
    values = len(rows)
    report.counts["missing"] = sum(p.report.counts.get("missing", 0) for p in parts)
    report.counts["values"] = values
    report.counts.update({"duplicates": 0, "valid": values, "rejected": report.counts.get("unreadable", 0)})
    diff = pd.concat([p.diff for p in counted], ignore_index=True)
    return ParsedFile(file_name, checksum, report, rows, new_regions, diff=diff)


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy for writing CSV that spreadsheets open: text starting with ``= + - @`` (or a tab or carriage
    return) gets a leading apostrophe, so Excel shows it as text instead of running it as a formula.

    Numbers are left alone (a negative number is not a formula); only text cells change.
    """
    out = frame.copy()
    for col in out.columns:
        column = out[col]
        if not (column.dtype == object or pd.api.types.is_string_dtype(column.dtype)):
            continue
        risky = column.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_PREFIXES)).astype(bool)
        if risky.any():
            out[col] = column.astype(object).where(~risky, "'" + column.astype(object).where(risky, ""))
    return out


def _new_report(file_name: str, size: int) -> Report:
    report = Report(file_name)
    report.file.update(
        {"size": size, "encoding": None, "delimiter": None, "layout": None, "header_row": None}
    )
    return report


def _unreadable(file_name: str, checksum: str | None, report: Report) -> ParsedFile:
    for key in ("rows", "values", "missing", "duplicates", "valid", "rejected"):
        report.counts.setdefault(key, 0)
    return ParsedFile(file_name, checksum, report, _empty_rows(), _empty_new_regions())


@contextmanager
def _reading(db: Engine | Connection | None):
    if db is None or isinstance(db, Connection):
        yield db
    else:
        with db.connect() as conn:
            yield conn


# --- bytes to text ------------------------------------------------------------------------------------


@dataclass
class Decoded:
    encoding: str
    data: bytes  # UTF-8 without BOM, for the CSV parser
    head: str  # the beginning as text, for finding the delimiter and the header


def decode(content: bytes, requested: str | None, report: Report) -> Decoded | None:
    """Find the encoding (or use ``requested``); return the text as UTF-8, or None after reporting why not."""
    if requested:
        name = _codec_name(requested)  # GBK and GB2312 are read as their superset GB18030
        return _decode_as(content, name, name, report)
    if content.startswith(codecs.BOM_UTF8):
        return _decode_as(content, "utf-8-sig", "utf-8-sig", report)
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_as(content, "utf-16", "utf-16", report)
    if _utf8_error(content) is None:
        return _finish(content, "utf-8", report)
    matches = from_bytes(content, cp_isolation=DETECTABLE_ENCODINGS)
    names = list(dict.fromkeys(_codec_name(m.encoding) for m in matches))
    if not names:
        # The detector gives up on short texts with rarer characters (GBK's extension rows, for one). Bytes
        # that are valid GB18030 are read as such, with a warning; anything else is refused.
        if _decodes(content, PREFERRED_ENCODING):
            report.add(
                "ENCODING_ASSUMED",
                encoding=PREFERRED_ENCODING,
                sample=_non_ascii_sample(content, PREFERRED_ENCODING),
            )
            return _decode_as(content, PREFERRED_ENCODING, PREFERRED_ENCODING, report)
        report.add("ENCODING_UNKNOWN")
        return None
    chosen = PREFERRED_ENCODING if PREFERRED_ENCODING in names else names[0]
    if len(names) > 1:
        report.add(
            "ENCODING_AMBIGUOUS",
            encoding=chosen,
            alternatives=", ".join(n for n in names if n != chosen),
            sample=_non_ascii_sample(content, chosen),
        )
    return _decode_as(content, chosen, chosen, report)


def _decode_as(content: bytes, codec: str, label: str, report: Report) -> Decoded | None:
    if codec in ("utf-8", "utf-8-sig"):
        error = _utf8_error(content)
        if error is None:
            return _finish(content[3:] if content.startswith(codecs.BOM_UTF8) else content, label, report)
        report.add("ENCODING_INVALID", row=content.count(b"\n", 0, error) + 1, encoding=label)
        return None
    try:
        text = content.decode(codec)
    except UnicodeDecodeError as exc:
        report.add("ENCODING_INVALID", row=content.count(b"\n", 0, exc.start) + 1, encoding=label)
        return None
    return _finish(text.lstrip("\ufeff").encode("utf-8"), label, report)


def _finish(data: bytes, label: str, report: Report) -> Decoded:
    report.file["encoding"] = label
    return Decoded(label, data, data[:HEAD_BYTES].decode("utf-8", errors="ignore"))


def _utf8_error(content: bytes) -> int | None:
    """The offset of the first byte that is not UTF-8, or None. Checked in chunks: no full copy as text."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(content), UTF8_CHUNK):
        try:
            decoder.decode(content[start : start + UTF8_CHUNK], final=start + UTF8_CHUNK >= len(content))
        except UnicodeDecodeError as exc:
            return start + exc.start
    return None


def _decodes(content: bytes, codec: str) -> bool:
    try:
        content.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _codec_name(name: str) -> str:
    codec = codecs.lookup(name).name
    return "gb18030" if codec in ("gbk", "gb2312", "hz", "cp936") else codec


def _non_ascii_sample(content: bytes, codec: str) -> str:
    """The first line with non-ASCII bytes, read in ``codec``, for the reader to judge."""
    for line in content.splitlines():
        if any(b > 127 for b in line):
            return line.decode(codec, errors="replace").strip()[:60]
    return ""


# --- text to a table ----------------------------------------------------------------------------------


@dataclass
class Table:
    header: list[str]
    cells: pd.DataFrame  # data rows only, str columns 0..n-1, blank lines removed
    lines: np.ndarray  # the file line each row starts on
    delimiter: str
    header_line: int
    preamble: dict[str, str]


def read_table(decoded: Decoded, report: Report) -> Table | None:
    """Find the delimiter and the header line, then read every data row with its line number."""
    found = _find_header(decoded.head)
    if found is None:
        first = next((line for line in decoded.head.splitlines() if line.strip()), "")
        report.add("HEADER_NOT_FOUND", value=first[:120], lines=HEADER_SEARCH_LINES)
        return None
    report.file.update({"delimiter": found.delimiter, "header_row": found.line})
    if found.skipped_text and "data source" not in found.preamble:
        report.add("PREAMBLE_SKIPPED", last=found.line - 1)
    parsed = _read_fast(decoded.data, found.delimiter, found.line, _column_types(found.cells))
    if parsed is None:
        parsed = _read_exact(decoded.data, found.delimiter, found.line, len(found.cells), report)
        if parsed is None:
            return None
    cells, lines = parsed
    blank = _blank_rows(cells)
    cells, lines = cells[~blank].reset_index(drop=True), lines[~blank]
    report.counts["rows"] = len(cells)
    if cells.empty:
        report.add("HEADER_ONLY", row=found.line)
        return None
    return Table(found.cells, cells, lines, found.delimiter, found.line, found.preamble)


def _column_types(header: list[str]) -> dict[int, str]:
    """Categorical for columns that repeat a few values (names, years, units, sources): they parse faster
    and take a fraction of the memory; plain text for values and notes."""
    types = {}
    for pos, cell in enumerate(header):
        match = match_header(cell)
        repeats = match is not None and match[0] == "field" and match[1] not in ("value", "note")
        types[pos] = "category" if repeats else "str"
    return types


def _blank_rows(cells: pd.DataFrame) -> np.ndarray:
    """Rows with nothing but blanks (empty lines, and Excel's ',,,,'). Checks the rare candidates only."""
    first = cells[cells.columns[0]]
    if isinstance(first.dtype, pd.CategoricalDtype):  # test each distinct value once
        names = first.cat.categories.astype(object)
        empty = np.asarray([not str(n).strip() for n in names] + [True], dtype=bool)  # code -1: missing
        candidates = np.flatnonzero(empty[first.cat.codes.to_numpy()])
    else:
        first = first.astype(object).fillna("")
        candidates = np.flatnonzero(((first == "") | first.str.isspace()).to_numpy())
    blank = np.zeros(len(cells), dtype=bool)
    if len(candidates):
        rest = cells.iloc[candidates].astype(object).fillna("").astype(str)
        blank[candidates] = rest.apply(lambda c: c.str.strip() == "").all(axis=1).to_numpy()
    return blank


@dataclass
class Header:
    delimiter: str
    line: int  # where the header starts in the file
    cells: list[str]
    preamble: dict[str, str]  # 'key, value' lines above the header (World Bank: data source, last updated)
    skipped_text: bool  # lines above the header held something


def _find_header(head: str) -> Header | None:
    """The delimiter and header line giving the most recognised column names, and what stands above it."""
    best = None
    for order, delimiter in enumerate(DELIMITERS):
        reader = csv.reader(io.StringIO(head), delimiter=delimiter)
        before: list[list[str]] = []
        end = 0
        try:
            for record in reader:
                start, end = end + 1, reader.line_num
                score = _header_score(record)
                if score >= 2:
                    candidate = (score, len(record), -order)
                    if best is None or candidate > best[0]:
                        best = (candidate, delimiter, start, record, before)
                    break
                before.append(record)
                if len(before) >= HEADER_SEARCH_LINES:
                    break
        except csv.Error:
            continue
    if best is None:
        return None
    _, delimiter, start, cells, before = best
    preamble = {r[0].strip().casefold(): r[1].strip() for r in before if len(r) >= 2 and r[0].strip()}
    skipped_text = any(cell.strip() for record in before for cell in record)
    return Header(delimiter, start, [c.strip().lstrip("\ufeff") for c in cells], preamble, skipped_text)


def _header_score(record: list[str]) -> int:
    fields = {match[1] for cell in record if (match := match_header(cell)) and match[0] == "field"}
    has_years = any((match := match_header(cell)) and match[0] == "year" for cell in record)
    return len(fields) + int(has_years)


def _read_fast(
    data: bytes, delimiter: str, header_line: int, types: dict[int, str]
) -> tuple[pd.DataFrame, np.ndarray] | None:
    """pandas' C parser; None when a line has more fields than the header (then :func:`_read_exact`)."""
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=delimiter,
            header=None,
            skiprows=header_line - 1,
            dtype=types,
            na_filter=False,
            keep_default_na=False,
            skip_blank_lines=False,
            encoding="utf-8",
            engine="c",
        )
    except (pd.errors.ParserError, ValueError):  # ValueError: more columns than the header named
        return None
    header_breaks = 0
    body = frame.iloc[1:].reset_index(drop=True)
    steps = np.ones(len(body), dtype=np.int64)
    if b'"' in data and _has_quoted_line_breaks(data, header_line, len(frame)):
        breaks = np.zeros(len(frame), dtype=np.int64)  # a quoted value spans lines: count them
        for col in frame.columns:
            column = frame[col].astype(object).fillna("")
            if "\n" in "".join(column.unique().tolist()):
                breaks += column.str.count("\n").to_numpy(dtype=np.int64)
        header_breaks = int(breaks[0])
        steps = 1 + breaks[1:]
    lines = (
        header_line + header_breaks + np.concatenate([[1], 1 + np.cumsum(steps)[:-1]]) if len(body) else steps
    )
    return body, lines.astype(np.int64)


def _has_quoted_line_breaks(data: bytes, header_line: int, records: int) -> bool:
    """More line breaks in the file than records read: some value holds a line break."""
    breaks = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return breaks > header_line - 1 + records


def _read_exact(
    data: bytes, delimiter: str, header_line: int, width: int, report: Report
) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The csv module, line by line: reports lines with too many fields, and quotes left open."""
    text = data.decode("utf-8").split("\n", header_line - 1)[-1]
    for strict in (True, False):  # strict finds a quote left open; lenient reads '"a"b' as pandas does
        reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=strict)
        records, lines, too_long, end = [], [], [], header_line - 1
        try:
            for record in reader:
                start, end = end + 1, header_line - 1 + reader.line_num
                if len(record) > width:
                    too_long.append(
                        {
                            "row": start,
                            "column": None,
                            "value": delimiter.join(record[width:])[:120],
                            "count": len(record),
                        }
                    )
                    continue
                records.append(record + [""] * (width - len(record)))
                lines.append(start)
            break
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                report.add("QUOTE_UNCLOSED", row=end + 1)
                return None
    report.add_rows("ROW_TOO_LONG", pd.DataFrame(too_long), expected=width)
    report.counts["unreadable"] = len(too_long)
    cells = pd.DataFrame(records[1:], columns=range(width), dtype=object).astype(str)
    return cells, np.asarray(lines[1:], dtype=np.int64)


# --- the header ---------------------------------------------------------------------------------------


@dataclass
class Layout:
    kind: str  # long | wide | worldbank
    fields: dict[str, int]  # field -> column position
    years: dict[int, int]  # column position -> year (wide layouts)
    headers: list[str]
    value_unit: str | None = None  # written in the value column's header: 数值(亿元)
    preamble: dict[str, str] = field(default_factory=dict)


def _fold(text: str) -> str:
    return _HEADER_FOLD.sub("", normalise_name(text))


HEADER_ALIASES = {_fold(alias): name for name, (_, _, aliases) in FIELDS.items() for alias in aliases}


def match_header(cell: str) -> tuple[str, str | int, str | None] | None:
    """('field', name, unit) or ('year', year, None) for a header cell; None if not recognised."""
    text = cell.strip().lstrip("\ufeff")
    if not text:
        return None
    year = _YEAR_HEADER.match(_fold(text))
    if year:
        return "year", int(year.group(1)), None
    if _fold(text) in HEADER_ALIASES:
        return "field", HEADER_ALIASES[_fold(text)], None
    with_unit = _HEADER_UNIT.match(text)
    if with_unit and _fold(with_unit["base"]) in HEADER_ALIASES:
        return "field", HEADER_ALIASES[_fold(with_unit["base"])], with_unit["unit"].strip()
    return None


def find_layout(table: Table, report: Report) -> Layout | None:
    """Which column holds what; long, wide or World Bank. None after reporting a header that cannot work."""
    fields: dict[str, int] = {}
    years: dict[int, int] = {}
    value_unit = None
    fatal = False
    for pos, cell in enumerate(table.header):
        match = match_header(cell)
        if match is None:
            if cell or (table.cells[pos] != "").any():
                report.add("COLUMN_IGNORED", column=cell or f"#{pos + 1}")
        elif match[0] == "year":
            years[pos] = int(match[1])
        elif match[1] in fields:
            zh, en, _ = FIELDS[match[1]]
            report.add(
                "COLUMN_DUPLICATE",
                column=cell,
                other=table.header[fields[match[1]]],
                field_zh=zh,
                field_en=en,
            )
            fatal = True
        else:
            fields[match[1]] = pos
            if match[1] == "value":
                value_unit = match[2]
    if "year" in fields and years:
        for pos in years:
            report.add("COLUMN_IGNORED", column=table.header[pos])
        years = {}
    wb = "data source" in table.preamble or {"region_name", "region_code", "indicator_name"} <= set(fields)
    kind = "long" if "year" in fields or not years else ("worldbank" if wb else "wide")
    required = [("indicator", "indicator_name"), ("region", "region_code", "region_name")]
    required += [("year",), ("value",)] if kind == "long" or not years else []
    for options in required:
        if not any(f in fields for f in options):
            zh, en, aliases = FIELDS[options[0]]
            report.add("COLUMN_MISSING", field_zh=zh, field_en=en, aliases=", ".join(aliases[:6]))
            fatal = True
    report.file["layout"] = kind
    if fatal:
        return None
    return Layout(kind, fields, years, table.header, value_unit, table.preamble)


# --- table to value cells -----------------------------------------------------------------------------

LINE_FIELDS = [f for f in FIELDS if f not in ("year", "value")]


def value_cells(table: Table, layout: Layout) -> pd.DataFrame:
    """One row per value cell: ``row``, ``column`` (header), ``raw``, ``year_text``, and each field's text."""
    cells = table.cells
    line_part = {f: cells[pos] for f, pos in layout.fields.items() if f in LINE_FIELDS}
    if not layout.years:
        frame = pd.DataFrame(
            {
                "row": table.lines,
                "column": layout.headers[layout.fields["value"]],
                "raw": cells[layout.fields["value"]],
                "year_text": cells[layout.fields["year"]],
                "year_column": layout.headers[layout.fields["year"]],
                **line_part,
            }
        )
        return frame
    parts = []
    for pos, year in layout.years.items():
        parts.append(
            pd.DataFrame(
                {
                    "row": table.lines,
                    "column": layout.headers[pos],
                    "raw": cells[pos],
                    "year_text": str(year),
                    "year_column": layout.headers[pos],
                    **line_part,
                }
            )
        )
    return pd.concat(parts, ignore_index=True).sort_values("row", kind="stable").reset_index(drop=True)


# --- interpreting the cells ---------------------------------------------------------------------------


class RegionNames:
    """Region look-up: the catalog's names and aliases, and the regions earlier uploads created."""

    def __init__(self, catalog: Catalog, conn: Connection | None):
        self.catalog = catalog
        self.uploaded: dict[str, str] = {}
        if conn is None:
            return
        table = Region.__table__
        for row in conn.execute(select(table).where(table.c.from_upload.is_(True))).mappings():
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


@dataclass
class Distinct:
    """The distinct combinations of some columns: files repeat the same names, years and units a lot, so
    each combination is interpreted once and the result spread back to every row.

    ``keys`` lists the combinations (cells stripped; empty and missing are None), ``codes`` maps each row
    to its combination, ``first`` is the first row of each.
    """

    keys: list[tuple]
    codes: np.ndarray
    first: np.ndarray

    @classmethod
    def of(cls, columns: list) -> Distinct:
        codes, keys = None, [()]
        for column in columns:
            column_codes, uniques = pd.factorize(column, use_na_sentinel=False)
            values = [
                None if validation._missing(u) or not str(u).strip() else str(u).strip() for u in uniques
            ]
            if codes is None:  # factorize numbers the uniques in order of first appearance: 0, 1, 2 ...
                codes, keys = column_codes.astype(np.int64), [(v,) for v in values]
                continue
            # Factorising each column and combining the codes (hashing integers, no sort) is much faster
            # than a groupby.
            combined, distinct = pd.factorize(codes * len(values) + column_codes)
            keys = [keys[d // len(values)] + (values[d % len(values)],) for d in distinct.tolist()]
            codes = combined.astype(np.int64)
        # Combinations are numbered in order of first appearance, so a new one raises the running maximum.
        first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0) if len(codes) else codes
        return cls(keys, codes, first)

    def spread(self, per_key: list, categorical: bool = False) -> np.ndarray | pd.Categorical:
        """One value per combination -> one value per row (as a Categorical: one byte or two per row)."""
        values = np.empty(len(per_key), dtype=object)
        values[:] = per_key
        if not categorical:
            return values[self.codes]
        codes, categories = pd.factorize(values)
        return pd.Categorical.from_codes(codes[self.codes], categories=categories)

    def rows_where(self, per_key: list[bool]) -> np.ndarray:
        """Row mask from a yes/no per combination."""
        return np.asarray(per_key, dtype=bool)[self.codes] if len(per_key) else np.zeros(0, dtype=bool)


def interpret(
    texts: pd.DataFrame,
    layout: Layout,
    catalog: Catalog,
    regions: RegionNames,
    options: IngestOptions,
    report: Report,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Resolve names, years, numbers and units of every value cell. Returns (rows, new regions)."""
    numbers = parse_values(texts["raw"])
    report.counts["missing"] = int(numbers["missing"].sum())
    keep = ~numbers["missing"].to_numpy()
    if not keep.all():
        texts, numbers = texts[keep].reset_index(drop=True), numbers[keep].reset_index(drop=True)
    report.counts["values"] = len(texts)
    if texts.empty:
        report.add("NO_VALUES")
        return _empty_rows(), _empty_new_regions()
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
    errors |= _resolve_values(cells, numbers, catalog, rows)
    _resolve_texts(cells, options, rows)
    rows["status"] = np.where(errors, "error", "ok").astype(object)  # replaced after validation
    return pd.DataFrame(rows), new_regions


@dataclass
class Cells:
    """The value cells being interpreted, with the helpers every resolver needs."""

    texts: pd.DataFrame
    layout: Layout
    report: Report

    def has(self, name: str) -> bool:
        return name in self.layout.fields

    def column(self, name: str) -> str | None:
        """The file's header of a field's column."""
        pos = self.layout.fields.get(name)
        return None if pos is None else self.layout.headers[pos]

    def values(self, name: str):
        return self.texts[name] if name in self.texts else np.full(len(self.texts), None, dtype=object)

    def problems(
        self, code: str, distinct: Distinct, per_key: list, column, value_per_key: list, **params
    ) -> np.ndarray:
        """Report ``code`` on the rows whose combination has it (``per_key``); return those rows."""
        bad_keys = [p == code for p in per_key]
        mask = distinct.rows_where(bad_keys)
        if mask.any():
            columns = column if isinstance(column, np.ndarray) else np.full(len(mask), column, dtype=object)
            self.report.add_rows(
                code,
                pd.DataFrame(
                    {
                        "row": self.texts["row"].to_numpy()[mask],
                        "column": columns[mask],
                        "value": distinct.spread(value_per_key)[mask],
                        **{k: distinct.spread(v)[mask] for k, v in params.pop("per_key_params", {}).items()},
                    }
                ),
                **params,
            )
        return mask


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
    problem = [r[1] for r in results]
    column = cells.column(fields[0])
    zh, en, _ = FIELDS["indicator"]
    cells.problems("CELL_EMPTY", distinct, problem, column, [None] * len(results), field_zh=zh, field_en=en)
    for code in ("INDICATOR_UNKNOWN", "INDICATOR_QUALITATIVE"):
        cells.problems(code, distinct, problem, column, [r[2] for r in results])
    cells.problems(
        "INDICATOR_MISMATCH",
        distinct,
        problem,
        column,
        [r[2][0] if r[1] == "INDICATOR_MISMATCH" else None for r in results],
        per_key_params={"other": [r[2][1] if r[1] == "INDICATOR_MISMATCH" else None for r in results]},
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
    problem = [r[1] for r in results]
    column = cells.column(single or code_field)
    zh, en, _ = FIELDS["region"]
    cells.problems("CELL_EMPTY", distinct, problem, column, [None] * len(results), field_zh=zh, field_en=en)
    for code in ("REGION_UNKNOWN", "REGION_CODE_INVALID"):
        cells.problems(code, distinct, problem, column, [r[2] for r in results])
    cells.problems(
        "REGION_MISMATCH",
        distinct,
        problem,
        column,
        [r[2][0] if r[1] == "REGION_MISMATCH" else None for r in results],
        per_key_params={"other": [r[2][1] if r[1] == "REGION_MISMATCH" else None for r in results]},
    )
    errors = distinct.rows_where([p is not None for p in problem])
    new_keys = [i for i, r in enumerate(results) if r[3] is not None]
    if not new_keys:
        return errors, _empty_new_regions()
    proposals = pd.DataFrame([results[i][3] for i in new_keys])
    proposals["row"] = cells.texts["row"].to_numpy()[distinct.first[new_keys]]
    conflicting, new_regions = _new_regions(proposals, column, cells.report)
    errors |= distinct.rows_where(np.isin(np.arange(len(results)), np.asarray(new_keys)[conflicting]))
    return errors, new_regions


def _new_region(code: str, name: str | None, rest: dict, layout_kind: str) -> dict:
    zh = rest.get("region_name_zh") or (name if name and CJK.search(name) else None)
    en = rest.get("region_name_en") or (name if name and not CJK.search(name) else None)
    kind_text = rest.get("region_kind")
    kind = REGION_KINDS.get(normalise_name(kind_text)) if kind_text else None
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
        {k: (None if validation._missing(v) else (int(v) if k == "row" else v)) for k, v in rec.items()}
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
            field_zh=FIELDS["year"][0],
            field_en=FIELDS["year"][1],
        )
    return distinct.rows_where([p is not None for p in problem])


# --- numbers and units --------------------------------------------------------------------------------


class Number(NamedTuple):
    """A value cell read as a number: the digits (exact), and any unit, percent sign or rank wording."""

    digits: str  # e.g. '8536.9', for exact conversion
    suffix: str  # '', '%', a unit such as '万亿', or 'rank' for 第3名 / 3rd


def parse_number(text: str) -> Number | None:
    """Read a number as people write it. Returns None for text that is not a number.

    Width is folded (``６.４４％`` is ``6.44%``), thousands separators must group by three, and whatever
    follows the digits is kept as the suffix for the caller to match with a unit.
    """
    folded = "".join(unicodedata.normalize("NFKC", text).replace("\u2212", "-").split())
    for form in _RANK_FORMS:
        match = form.match(folded)
        if match:
            return Number(match.group(1), "rank")
    match = _NUMBER.match(folded)
    if not match:
        return None
    digits = match["number"].replace(",", "")
    try:
        if not Decimal(digits).is_finite():
            return None
    except InvalidOperation:
        return None
    return Number(digits, match["suffix"])


def is_missing_marker(text: str) -> bool:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold() in MISSING_MARKERS


def parse_values(raw: pd.Series) -> pd.DataFrame:
    """For each cell: ``number`` (as written, before any unit conversion), ``digits`` (the exact text of a
    number that needed reading), ``suffix`` (what followed the digits; '' for a plain number), ``missing``
    and ``invalid``.

    Plain numbers go through pandas in one vectorised pass; the rest (a few distinct texts) one by one.
    """
    plain = pd.to_numeric(raw, errors="coerce").astype("float64").to_numpy()
    fine = np.isfinite(plain)
    number = np.where(fine, plain, np.nan)
    suffix = np.full(len(raw), "", dtype=object)
    digits = np.full(len(raw), None, dtype=object)
    missing = np.zeros(len(raw), dtype=bool)
    invalid = np.zeros(len(raw), dtype=bool)
    rest = np.flatnonzero(~fine)
    if len(rest):
        codes, uniques = pd.factorize(raw.iloc[rest], use_na_sentinel=False)
        for i, unique in enumerate(uniques):
            at = rest[codes == i]
            text = "" if validation._missing(unique) else str(unique)
            if is_missing_marker(text):
                missing[at] = True
                continue
            parsed = parse_number(text)
            if parsed is None:
                invalid[at] = True
            else:
                number[at], suffix[at], digits[at] = float(parsed.digits), parsed.suffix, parsed.digits
    return pd.DataFrame(
        {"number": number, "digits": digits, "suffix": suffix, "missing": missing, "invalid": invalid}
    )


def unit_factor(catalog: Catalog, unit_code: str, text: str) -> float | None:
    """The factor turning a value in unit ``text`` into ``unit_code`` (1 for the unit itself), or None."""
    key = normalise_name(text)
    unit = catalog.units[unit_code]
    if key in {normalise_name(n) for n in (unit.code, unit.name.zh, unit.name.en, *unit.aliases)}:
        return 1.0
    for conversion in unit.conversions:
        if key in {normalise_name(n) for n in (conversion.unit, *conversion.aliases)}:
            return conversion.factor
    return None


def _unit_words(catalog: Catalog) -> set[str]:
    """What may follow a number as its unit: '%', rank wording, and every unit name in the catalog."""
    words = {"%", "rank"}
    for unit in catalog.units.values():
        words |= {unit.code, unit.name.zh, unit.name.en, *unit.aliases}
        for conversion in unit.conversions:
            words |= {conversion.unit, *conversion.aliases}
    return {normalise_name(w) for w in words}


def _resolve_values(cells: Cells, numbers: pd.DataFrame, catalog: Catalog, rows: dict) -> np.ndarray:
    """The value in the indicator's unit; conversions are listed in the report.

    The unit is the one written after the number (``1.2万亿``), else the unit column, else the value header's.
    A suffix that is no unit at all (``6.44abc``) makes the value invalid.
    """
    suffix = numbers["suffix"].to_numpy(dtype=object)
    distinct = Distinct.of([rows["indicator_code"], suffix, cells.values("unit")])
    words = _unit_words(catalog)

    def resolve(indicator, written, unit_column):
        if written and normalise_name(written) not in words:
            return "NUMBER_INVALID", None, written
        if unit_column and is_missing_marker(unit_column):
            unit_column = None
        given = written or unit_column or cells.layout.value_unit
        if indicator is None:
            return None, 1.0, given  # the indicator is already an error
        factor = _factor(catalog, indicator, given)
        return (None if factor is not None else "UNIT_MISMATCH"), factor, given

    results = [resolve(*key) for key in distinct.keys]
    invalid = numbers["invalid"].to_numpy() | distinct.rows_where([r[0] == "NUMBER_INVALID" for r in results])
    mismatch = distinct.rows_where([r[0] == "UNIT_MISMATCH" for r in results]) & ~invalid
    factor = distinct.spread([np.nan if r[1] is None else r[1] for r in results]).astype(float)
    given = distinct.spread([r[2] for r in results])
    value = numbers["number"].to_numpy() * np.where(np.isnan(factor), 1.0, factor)
    converted = np.flatnonzero(~invalid & ~mismatch & (factor != 1.0))
    if len(converted):
        value[converted] = _exact_products(numbers, converted, factor)
        _report_conversions(rows, given, factor, value, converted, catalog, cells.report)
    rows["value"] = np.where(invalid | mismatch, np.nan, value)
    rows["unit_given"] = pd.Categorical(given)
    rows["factor"] = factor
    located = pd.DataFrame(
        {"row": rows["row"], "column": np.asarray(rows["column"], dtype=object), "value": rows["raw"]}
    )
    cells.report.add_rows("NUMBER_INVALID", located[invalid])
    if mismatch.any():
        names = {code: u.name.zh for code, u in catalog.units.items()}
        expected = pd.Series(rows["unit"], dtype=object).map(names).to_numpy(dtype=object)
        cells.report.add_rows(
            "UNIT_MISMATCH",
            located[mismatch].assign(
                unit=["名次" if g == "rank" else g for g in given[mismatch]], expected=expected[mismatch]
            ),
        )
    return invalid | mismatch


def _factor(catalog: Catalog, indicator: str, unit: str | None) -> float | None:
    ind = catalog.indicators[indicator]
    if unit is None:
        return 1.0
    if unit == "rank":
        return 1.0 if ind.kind == "rank" else None
    if unit == "%":
        return 1.0 if ind.unit in PERCENT_UNITS else None
    return unit_factor(catalog, ind.unit, unit)


def _exact_products(numbers: pd.DataFrame, at: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Converted values from the written digits in decimal, so 8536.9 万元 is 0.85369 亿元 exactly."""
    digits = numbers["digits"].to_numpy(dtype=object)[at]
    plain = numbers["number"].to_numpy()[at]
    out = np.empty(len(at))
    for i, (d, p, f) in enumerate(zip(digits, plain, factor[at], strict=True)):
        base = Decimal(d) if d is not None else Decimal(repr(float(p)))
        out[i] = float(base * Decimal(repr(float(f))))
    return out


def _report_conversions(rows, given, factor, value, converted, catalog: Catalog, report: Report) -> None:
    frame = pd.DataFrame(
        {
            "indicator": rows["indicator_code"][converted],
            "from_unit": given[converted],
            "factor": factor[converted],
            "row": rows["row"][converted],
            "example_from": rows["raw"][converted],
            "example_to": value[converted],
        }
    )
    for (indicator, unit, f), group in frame.groupby(["indicator", "from_unit", "factor"], sort=False):
        target = catalog.units[catalog.indicators[indicator].unit]
        first = group.iloc[0]
        report.conversions.append(
            {
                "indicator": indicator,
                "from_unit": unit,
                "to_unit": target.code,
                "to_unit_zh": target.name.zh,
                "to_unit_en": target.name.en,
                "factor": float(f),
                "count": len(group),
                "first_row": int(first["row"]),
                "example": f"{first['example_from']} -> "
                f"{validation.format_number(float(first['example_to']))} {target.name.zh}",
            }
        )


# --- texts: source, confidence, note, flag, publication date ------------------------------------------


def _resolve_texts(cells: Cells, options: IngestOptions, rows: dict) -> None:
    default_source = options.source or _preamble_source(cells.layout.preamble)
    for name in ("source", "note", "flag"):
        distinct = Distinct.of([cells.values(name)])
        texts = [k[0] for k in distinct.keys]
        if name == "source" and default_source:
            texts = [t or default_source for t in texts]
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


def normalise_date(text: str | None) -> str | None:
    """'2025/1/6', '2025年1月6日', '20250106', '2025-01' ... as ISO ('2025-01-06', '2025-01', '2025').

    Text that is not a real date is returned unchanged, for the validation to report.
    """
    if text is None:
        return None
    folded = "".join(unicodedata.normalize("NFKC", text).split())
    for form in _DATE_FORMS:
        match = form.match(folded)
        if not match:
            continue
        parts = [int(p) for p in match.groups()]
        try:
            date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
        except ValueError:
            return text
        return "-".join([f"{parts[0]:04d}", *[f"{p:02d}" for p in parts[1:]]])
    return text


def _preamble_source(preamble: dict[str, str]) -> str | None:
    source = preamble.get("data source")
    if not source:
        return None
    updated = preamble.get("last updated date")
    return f"World Bank, {source}" + (f" (last updated {updated})" if updated else "")


def _preamble_date(preamble: dict[str, str]) -> str | None:
    updated = preamble.get("last updated date")
    return normalise_date(updated) if updated else None


# --- validation and comparison with the database ------------------------------------------------------


def _validate(
    parsed: ParsedFile,
    catalog: Catalog,
    options: IngestOptions,
    conn: Connection | None,
    headers: dict[str, str],
) -> None:
    """pandera checks, duplicates inside the file, then (with a database) the diff and the jump warnings."""
    rows, report = parsed.rows, parsed.report
    if rows.empty:
        report.counts.setdefault("duplicates", 0)
        report.counts.setdefault("valid", 0)
        report.counts.setdefault("rejected", report.counts.get("unreadable", 0))
        return
    failing = validation.check_observations(rows, report, options.year_range, headers)
    status = rows["status"].to_numpy(dtype=object).copy()
    status[failing] = "error"
    errors, repeats = validation.check_duplicates(rows, report)
    status[errors] = "error"
    status[repeats] = np.where(status[repeats] == "error", "error", "duplicate")
    rows["status"] = status
    report.counts.update(
        {
            "duplicates": int((status == "duplicate").sum()),
            "valid": int((status == "ok").sum()),
            "rejected": int((status == "error").sum()) + report.counts.get("unreadable", 0),
        }
    )
    if conn is None or not (status == "ok").any():
        return
    frame = parsed.observations()
    parsed.stored_as_of_batch = store.latest_batch_id(conn)  # before reading the values: see ParsedFile
    current = store.current_values(conn, frame["indicator_code"].unique().tolist())
    parsed.stored = current
    keys = store.StoredKeys(current)
    parsed.diff = _with_changes(store.diff_against_current(conn, frame, keys=keys), current, keys)
    if current.empty:  # nothing stored to jump from (a first upload of these indicators)
        return
    ok = rows.loc[status == "ok", [*KEY, "value", "row", "column"]].astype({"year": "int64"})
    ok["old_value"] = parsed.diff["old_value"].to_numpy()  # the diff keeps the order of the valid rows
    kinds = {c: ind.kind for c, ind in catalog.indicators.items()}
    validation.check_jumps(ok, JumpReference(current, kinds), report)


def _with_changes(diff: pd.DataFrame, current: pd.DataFrame, keys: store.StoredKeys | None = None) -> pd.DataFrame:
    """Add ``changed``: which of value, source, confidence, note, flag, published date a revision changes."""
    diff["changed"] = ""
    revised = diff["status"] == "revised"
    if not revised.any():
        return diff
    at = (keys or store.StoredKeys(current)).positions(diff.loc[revised, KEY])  # a revised key is stored
    old = current[KEY + PAYLOAD].iloc[at].reset_index(drop=True)
    new = diff.loc[revised, KEY + PAYLOAD].reset_index(drop=True)
    parts = []
    for col in PAYLOAD:
        if col == "value":
            differs = new[col].astype(float).to_numpy() != old[col].astype(float).to_numpy()
        else:
            differs = (store._as_text(new[col]) != store._as_text(old[col])).to_numpy()
        parts.append(np.where(differs, col, ""))
    diff.loc[revised, "changed"] = [",".join(p for p in row if p) for row in zip(*parts, strict=True)]
    return diff


def _create_regions(conn: Connection, regions: pd.DataFrame) -> None:
    """Insert the new regions an upload names (skipping any created meanwhile), marked ``from_upload``."""
    if regions.empty:
        return
    table = Region.__table__
    existing = set(
        conn.execute(select(table.c.code).where(table.c.code.in_(regions["code"].tolist()))).scalars()
    )
    rows = [
        {
            "code": r["code"],
            "name_zh": r["name_zh"],
            "name_en": r["name_en"],
            "kind": r["kind"],
            "iso3": r["iso3"],
            "iso3166": None,
            "country": None,
            "note": None,
            "aliases": [],
            "from_upload": True,
        }
        for r in regions.to_dict("records")
        if r["code"] not in existing
    ]
    if rows:
        conn.execute(insert(table), rows)


def _empty_rows() -> pd.DataFrame:
    columns = [
        "row",
        "column",
        "raw",
        "indicator_code",
        "kind",
        "unit",
        "region_code",
        "year",
        "value",
        "source",
        "confidence",
        "note",
        "flag",
        "published_on",
        "unit_given",
        "factor",
        "status",
    ]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _empty_new_regions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            c: pd.Series(dtype=object)
            for c in ("code", "name_zh", "name_en", "kind", "kind_assumed", "iso3", "row")
        }
    )
