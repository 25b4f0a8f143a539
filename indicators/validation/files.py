"""Checks on a file's bytes before anything is decoded: its size, whether it holds anything, and whether
it is a CSV file at all (an Excel workbook, a PDF or an image renamed ``.csv`` is said to be one).

What belongs here: those checks and the messages of the codes they report. What does not: telling the
encoding, the delimiter or the header (``indicators.ingest``), the checks on parsed values (``schema``).
"""

from __future__ import annotations

import re

from indicators.i18n import Text
from indicators.validation.messages import Message, register
from indicators.validation.report import Report

DEFAULT_MAX_BYTES = 50 * 1024 * 1024

PROBLEMS = register({
    "FILE_EMPTY": Message("error", "file", Text("文件为空。", "The file is empty.")),
    "FILE_TOO_LARGE": Message(
        "error",
        "file",
        Text(
            "文件大小为 {size_mb} MB,超过上限 {limit_mb} MB。请拆分文件,或由管理员调高上限。",
            "The file is {size_mb} MB, above the limit of {limit_mb} MB. Split it, or ask an administrator to "
            "raise the limit.",
        ),
    ),
    "NOT_CSV": Message(
        "error",
        "file",
        Text(
            "这不是 CSV 文件,而是{what_zh}。请在 Excel 中“另存为”“CSV UTF-8(逗号分隔)”后再上传该文件。",
            "This is not a CSV file but {what_en}. In Excel, use Save As › 'CSV UTF-8 (Comma delimited)' and "
            "upload that file.",
        ),
    ),
})

# Leading bytes of files people mistake for CSV, and what each is.
SIGNATURES = [
    (b"PK\x03\x04", Text("ZIP 压缩包(或 Excel .xlsx 工作簿)", "a ZIP archive (or an Excel .xlsx workbook)")),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        Text(
            "Excel 97-2003 工作簿(.xls)或其他旧版 Office 文件",
            "an Excel 97-2003 workbook (.xls) or another legacy Office file",
        ),
    ),
    (b"%PDF", Text("PDF 文档", "a PDF document")),
    (b"\x89PNG", Text("PNG 图片", "a PNG image")),
    (b"\xff\xd8\xff", Text("JPEG 图片", "a JPEG image")),
    (b"GIF8", Text("GIF 图片", "a GIF image")),
    (b"\x1f\x8b", Text("gzip 压缩文件", "a gzip archive")),
    (b"7z\xbc\xaf\x27\x1c", Text("7z 压缩包", "a 7z archive")),
    (b"Rar!", Text("RAR 压缩包", "a RAR archive")),
    (b"SQLite format 3\x00", Text("SQLite 数据库", "an SQLite database")),
]
XLSX = Text("Excel 工作簿(.xlsx),只是扩展名改成了 .csv", "an Excel workbook (.xlsx) renamed to .csv")
HTML = Text("网页(HTML)", "a web page (HTML)")
EXCEL_XML = Text("Excel 2003 XML 表格", "an Excel 2003 XML spreadsheet")
BINARY = Text("二进制文件", "a binary file")
TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def check_size(size: int, report: Report, max_bytes: int = DEFAULT_MAX_BYTES) -> bool:
    """The size limit (checked before a file on disk is read at all). True when fine."""
    if size > max_bytes:
        report.add("FILE_TOO_LARGE", size_mb=_megabytes(size), limit_mb=_megabytes(max_bytes))
        return False
    return True


def check_bytes(
    content: bytes, report: Report, max_bytes: int = DEFAULT_MAX_BYTES, encoding: str | None = None
) -> bool:
    """File-level checks before any decoding: too large, empty, or not a text file. True when fine."""
    if not check_size(len(content), report, max_bytes):
        return False
    if not re.search(rb"[^\s\x00\xef\xbb\xbf\xff\xfe]", content):  # only blanks and byte-order marks
        report.add("FILE_EMPTY")
        return False
    what = describe_binary(content, encoding)
    if what is not None:
        report.add("NOT_CSV", what_zh=what.zh, what_en=what.en)
        return False
    return True


def describe_binary(content: bytes, encoding: str | None = None) -> Text | None:
    """What a non-text file is; None for text."""
    head = content[:65536]
    for signature, what in SIGNATURES:
        if head.startswith(signature):
            return XLSX if signature == b"PK\x03\x04" and b"xl/" in head else what
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return HTML
    if stripped.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        return EXCEL_XML
    utf16 = head.startswith(TEXT_BOMS[1:]) or (encoding or "").lower().replace("-", "").startswith("utf16")
    if not utf16 and b"\x00" in head:
        return BINARY
    return None


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}"
