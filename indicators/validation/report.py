"""The upload report: the problems found in a file, with the file's facts and counts, and its JSON form.

What belongs here: :class:`Report` (each problem with severity, file line, column, value, a machine code
and its message in Chinese and English) and how a cell or a number reads in a message. What does not: the
checks that add problems (``files``, ``schema``, ``duplicates``, ``jumps`` beside this module, the reading
of a CSV in ``indicators.ingest``), the messages themselves (each beside the check that reports it,
collected in ``messages``), and the report as text for people (``render``).

A problem's ``row`` is the line number in the file as a text editor shows it (the header is usually line
1; a quoted value spanning lines counts all its lines). ``column`` is the file's own header text. A cell
or a column name is shown with at most :data:`SHOWN_CHARS` characters (a 5 MB cell would make the report
as big), in the problem and in its messages alike.
"""

from __future__ import annotations

import json
from collections.abc import Collection

import numpy as np
import pandas as pd

from indicators.store import is_missing
from indicators.validation.messages import MESSAGES

PROBLEM_COLUMNS = ["severity", "row", "column", "value", "code", "message_zh", "message_en"]
SHOWN_CHARS = 200


class Report:
    """Everything an upload's reader should know: facts about the file, counts, and the problems found.

    ``add``/``add_rows`` take a code from :data:`MESSAGES` and the values its messages name; the CLI and
    the web page print :meth:`to_dict` (or :meth:`to_json`) as they are.
    """

    def __init__(self, file_name: str):
        self.file: dict = {"name": file_name}
        self.counts: dict[str, int] = {}
        self.conversions: list[dict] = []
        self.new_regions: list[dict] = []
        self.new_publications: list[dict] = []  # named by publisher and title: created on commit
        # Quantities behind file-level messages (e.g. how many values took the default confidence), kept
        # so that reports of parts of one file add up (see ``ingest.load_path``); not part of to_dict.
        self.tallies: dict[str, int] = {}
        self._chunks: list[pd.DataFrame] = []
        self._problems: pd.DataFrame | None = None

    def add(
        self, code: str, *, row: int | None = None, column: str | None = None, value=None, **params
    ) -> None:
        """One problem; ``params`` fill the message templates."""
        self.add_rows(code, pd.DataFrame({"row": [row], "column": [column], "value": [value]}), **params)

    def add_rows(self, code: str, rows: pd.DataFrame, **params) -> None:
        """One problem per row of ``rows`` (columns ``row``, ``column``, ``value``; any others are params)."""
        if rows.empty:
            return
        message = MESSAGES[code]
        extra = [c for c in rows.columns if c not in ("row", "column", "value")]
        zh, en = [], []
        for record in rows.to_dict("records"):
            values = {
                **{k: _shown(v) for k, v in params.items()},
                **{c: _shown(record[c]) for c in extra},
                "row": _text(record["row"]),
                "column": _shown(_text(record["column"])),
                "value": _shown(_text(record["value"])),
            }
            text = message.text.format(**values)
            zh.append(text.zh)
            en.append(text.en)
        chunk = pd.DataFrame(
            {
                "severity": message.severity,
                "row": pd.array(rows["row"].tolist(), dtype="Int64"),
                "column": [None if is_missing(c) else _shown(str(c)) for c in rows["column"]],
                "value": [None if is_missing(v) else _shown(_text(v)) for v in rows["value"]],
                "code": code,
                "message_zh": zh,
                "message_en": en,
            }
        )
        self._chunks.append(chunk)
        self._problems = None

    def add_problems_of(self, other: Report, skip: Collection[str] = frozenset()) -> None:
        """Take over the problems of ``other`` (the report of a part of the same file), except ``skip``."""
        self._chunks.extend(chunk[~chunk["code"].isin(skip)] for chunk in other._chunks)
        self._problems = None

    @property
    def problems(self) -> pd.DataFrame:
        """Every problem, file-level ones first, then by line; repeats (one per year of a wide row) once."""
        if self._problems is None:
            if not self._chunks:
                self._problems = pd.DataFrame(
                    {c: pd.Series(dtype="Int64" if c == "row" else object) for c in PROBLEM_COLUMNS}
                )
            else:
                frame = pd.concat(self._chunks, ignore_index=True)
                frame = frame.drop_duplicates(["code", "row", "column", "value"])
                order = frame["row"].fillna(0).astype("int64")
                frame = frame.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)
                self._problems = frame[PROBLEM_COLUMNS]
        return self._problems

    @property
    def errors(self) -> pd.DataFrame:
        return self.problems[self.problems["severity"] == "error"]

    @property
    def warnings(self) -> pd.DataFrame:
        return self.problems[self.problems["severity"] == "warning"]

    @property
    def ok(self) -> bool:
        """No errors: the file can be loaded as it is."""
        return self.errors.empty

    @property
    def fatal(self) -> bool:
        """An error about the file as a whole: nothing can be loaded, also with --skip-invalid."""
        codes = set(self.errors["code"])
        return any(MESSAGES[c].scope == "file" for c in codes)

    def codes(self) -> list[str]:
        """The distinct problem codes, in report order (handy in tests and summaries)."""
        return list(dict.fromkeys(self.problems["code"]))

    def to_dict(self, limit: int | None = None) -> dict:
        """The report as plain data; ``limit`` caps the listed problems (the counts stay complete)."""
        problems = self.problems
        shown = problems if limit is None else problems.head(limit)
        by_code = problems.groupby("code", sort=False).size() if len(problems) else pd.Series(dtype=int)
        return {
            "file": dict(self.file),
            "ok": self.ok,
            "counts": {**self.counts, "errors": int(len(self.errors)), "warnings": int(len(self.warnings))},
            "problem_codes": {str(k): int(v) for k, v in by_code.items()},
            "conversions": list(self.conversions),
            "new_regions": list(self.new_regions),
            "new_publications": list(self.new_publications),
            "problems": [
                {k: (None if is_missing(v) else (int(v) if k == "row" else v)) for k, v in rec.items()}
                for rec in shown.to_dict("records")
            ],
            "problems_truncated": len(shown) < len(problems),
        }

    def to_json(self, limit: int | None = None) -> str:
        return json.dumps(self.to_dict(limit), ensure_ascii=False, indent=1, default=str)


def _shown(value):
    """A text cut to :data:`SHOWN_CHARS` characters (with '…' and the full length); anything else as it is."""
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        return f"{value[:SHOWN_CHARS]}… ({len(value):,})"
    return value


def _text(value) -> str:
    """A cell or number as a person reads it: no '.0' on whole numbers, no float noise."""
    if is_missing(value):
        return ""
    if isinstance(value, (float, np.floating)):
        return format_number(float(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def format_number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)

