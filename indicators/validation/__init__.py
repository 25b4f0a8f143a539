"""The upload report, and the checks that judge an upload: a report, never an exception.

Where things are:

- ``report``: :class:`Report` (problems with severity, file line, column, value, a machine code and a
  message in Chinese and English, plus the file's facts and counts) and its JSON form;
- ``messages``: :class:`Message` and the registry :data:`MESSAGES` of every code; each code's message is
  defined beside the check that reports it (for the reading of a CSV, in ``indicators.ingest``);
- ``files``: the checks on the raw bytes (size, empty, binary or Excel file renamed ``.csv``);
- ``schema``: the pandera schema for parsed observations (years, shares, ranks, confidence, source,
  dates, flags);
- ``duplicates``: keys given more than once inside a file;
- ``jumps``: implausible jumps against the stored series;
- ``render``: a report as lines of text, the same words on the command line and on the upload page.

What does not belong: reading CSV text, matching names and parsing numbers (``ingest``); writing
(``store``).
"""

from indicators.validation.duplicates import check_duplicates, key_codes
from indicators.validation.files import DEFAULT_MAX_BYTES, check_bytes, check_size, describe_binary
from indicators.validation.jumps import JumpReference, check_jumps
from indicators.validation.messages import MESSAGES, Message, Scope, Severity, register
from indicators.validation.render import Summary, report_lines, summarise
from indicators.validation.report import PROBLEM_COLUMNS, Report, format_number
from indicators.validation.schema import check_observations, is_iso_date, observation_schema

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MESSAGES",
    "PROBLEM_COLUMNS",
    "JumpReference",
    "Message",
    "Report",
    "Scope",
    "Severity",
    "check_bytes",
    "check_duplicates",
    "check_jumps",
    "check_observations",
    "check_size",
    "describe_binary",
    "format_number",
    "is_iso_date",
    "key_codes",
    "observation_schema",
    "register",
    "report_lines",
    "summarise",
    "Summary",
]
