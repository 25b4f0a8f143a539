"""Parsed files kept for a while, so that the upload page reads a file once: its preview is drawn again on
every change of the encoding, source or confidence, its report can be downloaded, and it is committed; each
of these asks for the file as parsed with the options on the page at that moment.

What belongs here: :class:`ParseCache`, a small bounded LRU of :class:`~.result.ParsedFile` in front of
:func:`~.entry.parse_file`, and what its key holds. What does not: parsing (``entry``), the page
(``dashboards/upload.py``).

The key is what the result depends on: the file's checksum and name, the options, the database and the
catalog, and the latest batch in the database (every change to the stored values, regions and
publications is a batch, so a file is parsed again once another batch has come). A commit still checks
the diff against the database at the moment it writes (``entry.load``), as it does for any parsed file.
The result is shared, not copied: nothing changes a :class:`ParsedFile` once it is parsed.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict

from sqlalchemy import Engine

from indicators import store
from indicators.catalog import Catalog
from indicators.ingest.entry import parse_file
from indicators.ingest.fields import IngestOptions
from indicators.ingest.result import ParsedFile

CACHED_FILES = 4
CACHED_VALUES = 2_000_000  # values kept in all (a parsed value takes a few hundred bytes)


class ParseCache:
    """At most ``files`` parsed files and ``values`` values in all, the least recently used dropped first.
    Safe to share between threads (a file two threads ask for at once may be parsed twice)."""

    def __init__(self, files: int = CACHED_FILES, values: int = CACHED_VALUES):
        self.files, self.values = files, values
        self._entries: OrderedDict[tuple, ParsedFile] = OrderedDict()
        self._lock = threading.Lock()
        self.parses = 0  # files parsed (not found here): for tests and logs

    def parse(
        self, content: bytes, file_name: str, catalog: Catalog, engine: Engine, options: IngestOptions
    ) -> ParsedFile:
        """:func:`~.entry.parse_file` of these arguments, or the same result kept from an earlier call."""
        with engine.connect() as conn:
            latest = store.latest_batch_id(conn)
        key = (store.file_checksum(content), file_name, dataclasses.astuple(options), str(engine.url),
               id(catalog), latest)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        parsed = parse_file(content, file_name, catalog, engine, options)
        with self._lock:
            self.parses += 1
            if len(parsed.rows) <= self.values:
                self._entries[key] = parsed
                while len(self._entries) > self.files or self._held() > self.values:
                    self._entries.popitem(last=False)
        return parsed

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _held(self) -> int:
        return sum(len(p.rows) for p in self._entries.values())
