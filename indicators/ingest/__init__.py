"""Reading the statistics files people actually have, and loading them as one batch each.

What belongs here: turning the bytes of an uploaded CSV into observations in catalog codes and units, with
a :class:`~indicators.validation.Report` of everything found, and committing them. What does not: the
checks on values (``validation``; the messages of the problems found while reading a file are defined here,
beside the code that finds them), the history-keeping writes (``store``), printing (``cli``,
``validation.render``), CSV for spreadsheets (``tables``).

Public API (the CLI's ``ingest`` command and the web upload page use the same calls)::

    options = IngestOptions(encoding=None, source=None, confidence=None, max_bytes=50 * 2**20)
    parsed = parse_file(content, "r&d.csv", catalog, engine, options)   # or parse_path(path, ...)
    parsed.report.to_dict()   # problems, counts, encoding, delimiter, layout, conversions, new regions
    parsed.rows               # every value found, as understood (codes, year, value in the indicator's unit)
    parsed.diff               # against the database: status new / revised / unchanged, old_value
    result = commit(engine, parsed, user="alice", note=None, skip_invalid=False)   # store.BatchResult
    commit_many(engine, [parsed, ...], ...)   # several files, one transaction
    load(conn, parsed, ...)                   # the same inside the caller's transaction
    parsed, result = load_path(engine, path, catalog, options, user="alice")  # a big file loaded as read
    ParseCache().parse(content, "r&d.csv", catalog, engine, options)   # parse_file, kept for the next call

Where each step is, in the order a file goes through them:

- ``fields``: the options, the fields a file may have and the headers and words people use for them;
- ``entry``: :func:`parse_path`, :func:`parse_file`, :func:`load`, :func:`commit`, :func:`commit_many`;
- ``decode``: bytes to text (the encoding); ``table``: text to a table (delimiter, header line, rows);
- ``layout``: the header to a layout (long, wide, World Bank, published), and the table to value cells;
  ``published``: what is particular to a table as a communiqué prints it (title, year, headings, notes);
- ``cells``, ``interpret``, ``numbers``: the value cells to observations (names, years, numbers, units,
  dates, texts);
- ``diff``: the checks, and the comparison with the database;
- ``result``: :class:`ParsedFile` and its JSON form, :class:`UploadRejected`;
- ``overlapped``: :func:`load_path`, loading while reading (a forked writing process), the same result as
  :func:`parse_path` then :func:`commit`;
- ``cache``: :class:`ParseCache`, the files the upload page parsed, kept for its next preview and commit.

Limits (``IngestOptions``), each a problem in the report, never an exception or an unbounded amount of
work: the size (50 MB); columns per line (500) and cells (5.2 million for 50 MB), checked on the bytes
before a table is built; no NUL character; text lengths (source and note 2,000 characters, names 200,
titles 500); values finite and within ±1e15 in the indicator's unit, not written non-zero and stored as 0;
no year after the present one, no publication date after today.

What is read:

- Encodings: UTF-8 (with or without BOM) and UTF-16 with BOM are recognised exactly; anything else is
  detected by charset-normalizer among GB18030 (what Excel on Chinese Windows writes; GBK and GB2312 are
  subsets), Big5 and Windows-1252. When several fit, GB18030 wins and the report warns; when none does but
  the bytes are valid GB18030, they are read as GB18030 with a warning. A file that looks like Big5 or
  Windows-1252 only, or like UTF-8 with some bad bytes, is refused with the line and byte (never read by a
  guess). ``encoding`` overrides detection.
- Delimiters comma, tab or semicolon; CRLF or LF; quoted fields; blank lines (also Excel's ``,,,,``).
- Layouts: *long* (indicator, region, year, value, and optionally unit, source, confidence, note, flag,
  published date), *wide* (one column per year), and the World Bank download (four lines of preamble, then
  ``Country Name, Country Code, Indicator Name, Indicator Code, 1960, ...``), and a table as published (a
  title with the year, ``地区`` then one column per indicator with its unit in brackets: ``R&D经费(亿元)``;
  the year from the title or ``year`` in the options, which must agree). Lines above the header are
  skipped with a warning. Headers are matched in Chinese or English (:data:`~.fields.FIELDS`).
- Indicators and regions by code or by any name or alias in the catalog (and regions earlier uploads
  created). A region the file names with both a code and a name is new: listed in the report and created
  on commit (``from_upload``). A unit written in the value header (``数值(亿元)``) applies to the column.
- Numbers as people write them (``6.44%``, ``8,536.9``, ``６.４４％``, ``1.2万亿``, ``第3名``, ``3rd``),
  converted to the indicator's unit where the catalog lists the conversion (reported); empty, ``-``, ``—``,
  ``..``, ``n.a.`` and the like are missing values: skipped and counted, not errors.
- Flags (:mod:`indicators.flags`) as codes or their names in Chinese or English, any case, separated by
  spaces or commas (``P, 可靠性低``), stored as codes in the code list's order (``p u``); anything else in a
  flags cell is an error (FLAG_UNKNOWN).
- A value's publication by id (the catalog's, or one an earlier upload created), or by publisher and title
  (with the line's published date and optionally a kind): the publication known by those, else a new one,
  listed in the report and created on commit (``from_upload``; id ``upload-`` and a hash of publisher,
  title and date; kind ``repost`` when not given, noted as assumed). A title without a publisher (or the
  reverse), one publication with two dates in a file, and an id beside a publisher or title that is not
  its own are errors.
- A file with no publication (or flags) columns says nothing of them: a value given again with the same
  number and source keeps the stored publication (and flags), on every path (see ``diff``).

Decisions: every stored value needs a source, from the file's source column, else ``source`` in the
options (``--source``), else (World Bank files) the preamble's data source; a value with none is an error.
Confidence comes from the file, else ``confidence`` in the options, else ``medium`` with one warning.
Text is stored as written (cells starting with ``=``, ``+``, ``-``, ``@`` included) and never evaluated;
``tables.csv_safe`` neutralises it when it is written out for a spreadsheet.
Counts in the report and the batch are values (cells), not lines: a wide line holds several.
"""

from indicators.ingest.cache import ParseCache
from indicators.ingest.entry import commit, commit_many, load, parse_file, parse_path
from indicators.ingest.fields import IngestOptions
from indicators.ingest.numbers import normalise_date, parse_number
from indicators.ingest.overlapped import load_path
from indicators.ingest.result import ParsedFile, UploadRejected
from indicators.validation import DEFAULT_MAX_BYTES

__all__ = [
    "DEFAULT_MAX_BYTES",
    "IngestOptions",
    "ParseCache",
    "ParsedFile",
    "UploadRejected",
    "commit",
    "commit_many",
    "load",
    "load_path",
    "normalise_date",
    "parse_file",
    "parse_number",
    "parse_path",
]
