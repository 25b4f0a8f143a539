"""Bytes to text: finding a file's encoding and handing on its text as UTF-8.

What belongs here: recognising UTF-8 and UTF-16 by their bytes, detecting GB18030, Big5 or Windows-1252
(charset-normalizer), an encoding the user forces, and the messages of the encoding problems. What does
not: the checks on the raw bytes before this (``validation.files``), delimiters and header (``table``).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from charset_normalizer import from_bytes

from indicators.i18n import Text
from indicators.validation import Message, Report, register

HEAD_BYTES = 65536  # enough text to find the delimiter and the header
DETECTABLE_ENCODINGS = ["gb18030", "big5", "cp1252"]
PREFERRED_ENCODING = "gb18030"
UTF8_CHUNK = 4 * 1024 * 1024

PROBLEMS = register({
    "ENCODING_INVALID": Message(
        "error",
        "file",
        Text(
            "文件不能按 {encoding} 编码读取(第 {row} 行有无效字节)。请检查 --encoding,或去掉它以自动识别编码。",
            "The file cannot be read as {encoding} (invalid bytes on line {row}). Check --encoding, or leave it "
            "out to detect the encoding.",
        ),
    ),
    "ENCODING_UNKNOWN": Message(
        "error",
        "file",
        Text(
            "无法识别文件编码。请用 --encoding 指定(如 gb18030 或 utf-8)。",
            "Could not detect the file's encoding. Give it with --encoding (e.g. gb18030 or utf-8).",
        ),
    ),
    "ENCODING_AMBIGUOUS": Message(
        "warning",
        "file",
        Text(
            "文件编码不能完全确定:可能是 {encoding},也可能是 {alternatives}。已按 {encoding} 读取(如“{sample}”);如有乱码,请用 --encoding 指定。",
            "The encoding is uncertain: {encoding}, or {alternatives}. Read as {encoding} (e.g. '{sample}'); if "
            "the text looks garbled, give --encoding.",
        ),
    ),
    "ENCODING_ASSUMED": Message(
        "warning",
        "file",
        Text(
            "无法可靠识别文件编码;文件内容符合 {encoding} 编码,已按 {encoding} 读取(如“{sample}”)。如有乱码,请用 --encoding 指定。",
            "The encoding could not be detected reliably; the bytes are valid {encoding}, so the file was read as "
            "{encoding} (e.g. '{sample}'). If the text looks garbled, give --encoding.",
        ),
    ),
})


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

