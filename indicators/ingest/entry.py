"""Reading a file into a :class:`~.result.ParsedFile`, and loading parsed files as batches: the calls the
CLI and the upload page make (see the package's docstring).

What belongs here: :func:`parse_path`, :func:`parse_file` and the steps they share with the overlapped
load (:func:`open_table`), and :func:`load`, :func:`commit`, :func:`commit_many`. What does not: each
step's own work (``decode`` to ``diff``), loading a big file while it is read (``overlapped``), the
writes themselves (``store``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine

from indicators import db, store, validation
from indicators.catalog import Catalog
from indicators.i18n import Text
from indicators.ingest.decode import decode
from indicators.ingest.diff import kept_columns, says_nothing_of, validate
from indicators.ingest.fields import IngestOptions
from indicators.ingest.interpret import PublicationNames, RegionNames, interpret
from indicators.ingest.layout import Layout, find_layout, value_cells
from indicators.ingest.result import ParsedFile, UploadRejected, new_report, unreadable
from indicators.ingest.table import Table, read_table
from indicators.store import KEY, PAYLOAD, BatchResult
from indicators.validation import Report

HAS_ERRORS = Text("文件有错误,未写入任何数据", "the file has errors; nothing was written")
NO_VALID_VALUES = Text("没有可导入的有效数值,未写入任何数据", "no valid values to load; nothing was written")


def parse_path(
    path: Path | str,
    catalog: Catalog,
    db: Engine | Connection | None = None,
    options: IngestOptions | None = None,
) -> ParsedFile:
    """:func:`parse_file` for a file on disk; a file over the size limit is reported without reading it."""
    path, options = Path(path), options or IngestOptions()
    report = new_report(path.name, path.stat().st_size)
    if not validation.check_size(report.file["size"], report, options.max_bytes):
        return unreadable(path.name, None, report)
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
    opened = open_table(content, file_name, options)
    if isinstance(opened, ParsedFile):
        return opened
    checksum, report, table, layout = opened
    with _reading(db) as conn:
        regions, publications = RegionNames(catalog, conn), PublicationNames(catalog, conn)
        texts = value_cells(table, layout)
        rows, new_regions = interpret(texts, layout, catalog, regions, publications, options, report)
        parsed = ParsedFile(file_name, checksum, report, rows, new_regions)
        validate(parsed, catalog, options, conn, layout.field_headers(), publications.citable(report))
        if conn is not None:
            parsed.already_loaded_as = store.find_loaded_batch(conn, checksum)
    return parsed


def open_table(
    content: bytes, file_name: str, options: IngestOptions
) -> ParsedFile | tuple[str, Report, Table, Layout]:
    """Checksum, encoding, delimiter, header and layout: (checksum, report, table, layout), or the
    unreadable file's ParsedFile."""
    checksum = store.file_checksum(content)
    report = new_report(file_name, len(content))
    report.file["checksum"] = checksum
    if not validation.check_bytes(content, report, options.max_bytes, options.encoding):
        return unreadable(file_name, checksum, report)
    decoded = decode(content, options.encoding, report)
    if decoded is None:
        return unreadable(file_name, checksum, report)
    table = read_table(decoded, report, options)
    if table is None:
        return unreadable(file_name, checksum, report)
    layout = find_layout(table, report, options.year)
    if layout is None:
        return unreadable(file_name, checksum, report)
    report.file["keeps_stored"] = says_nothing_of(layout.field_headers())
    return checksum, report, table, layout


def load(
    conn: Connection, parsed: ParsedFile, *, user: str, note: str | None = None, skip_invalid: bool = False
) -> BatchResult:
    """Write a parsed file as one batch inside the caller's transaction (see :func:`commit`)."""
    report = parsed.report
    if report.fatal or (not report.ok and not skip_invalid) or parsed.checksum is None:
        raise UploadRejected(parsed, HAS_ERRORS)  # a file not read at all has a file-level error too
    loaded = store.find_loaded_batch(conn, parsed.checksum)
    if loaded is not None:
        return BatchResult(batch_id=None, already_loaded_as=loaded)
    unchanged = parsed.stored is not None and store.latest_batch_id(conn) == parsed.stored_as_of_batch
    # The diff made when the file was read holds the valid values, in order: reused if nothing changed since.
    diff = parsed.diff if unchanged else None
    frame = diff[KEY + PAYLOAD] if diff is not None else parsed.observations()
    if frame.empty:
        raise UploadRejected(parsed, NO_VALID_VALUES)
    store.create_regions(conn, parsed.new_regions[parsed.new_regions["code"].isin(frame["region_code"])])
    cited = set(frame["publication_id"].dropna().astype(object))
    store.create_publications(conn, [p for p in report.new_publications if p["id"] in cited])
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
        diff=diff,
        keep=kept_columns(parsed.report),
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


@contextmanager
def _reading(db: Engine | Connection | None) -> Iterator[Connection | None]:
    if db is None or isinstance(db, Connection):
        yield db
    else:
        with db.connect() as conn:
            yield conn
