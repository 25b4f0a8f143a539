"""Bytes to text: finding a file's encoding and handing on its text as UTF-8.

What belongs here: recognising UTF-8 and UTF-16 by their bytes, detecting GB18030 (charset-normalizer),
an encoding the user forces, the check that the text holds no NUL character, and the messages of those
problems. What does not: the checks on the raw bytes before this (``validation.files``), delimiters and
header (``table``).

Decisions (never a silent guess): a file that is not valid UTF-8 is read without being told its encoding
only as GB18030 (what Excel on Chinese Windows writes), and with a warning whenever that is uncertain. A
file that is UTF-8 but for some bytes (its valid non-ASCII characters outnumber the invalid bytes) is
refused, naming the first bad byte and its line: a damaged file, not another encoding. A file that looks
like Big5 or Windows-1252 is refused with the encoding it looks like, to be given with ``--encoding`` (the
upload page's encoding field): those guesses are often wrong on the short texts statistics files hold.
A NUL character anywhere in the text is refused (PostgreSQL cannot store it; no statistics file has one).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

from indicators.i18n import Text
from indicators.validation import Message, Report, register

HEAD_BYTES = 65536  # enough text to find the delimiter and the header
DETECTABLE_ENCODINGS = ["gb18030", "big5", "cp1252"]
PREFERRED_ENCODING = "gb18030"
UTF8_CHUNK = 4 * 1024 * 1024
# Around the first byte that is not UTF-8: how much is looked at to tell a damaged UTF-8 file from another
# encoding (before it, after it).
SAMPLE_BEFORE, SAMPLE_AFTER = 1024 * 1024, 65536

PROBLEMS = register({
    "ENCODING_INVALID": Message(
        "error",
        "file",
        Text(
            "文件不能按 {encoding} 编码读取:第 {row} 行有无效字节 {value}(文件第 {offset} 字节)。请检查 --encoding"
            "(上传页的“编码”),或去掉它以自动识别编码;文件如已损坏,请重新导出。",
            "The file cannot be read as {encoding}: invalid byte {value} on line {row} (byte {offset} of the "
            "file). Check --encoding (the upload page's encoding), or leave it out to detect the encoding; if the "
            "file is damaged, export it again.",
        ),
    ),
    "ENCODING_NOT_UTF8": Message(
        "error",
        "file",
        Text(
            "文件不是 UTF-8 编码:第 {row} 行有非 UTF-8 字节 {value}(文件第 {offset} 字节)。看起来可能是 {guess} 编码"
            "(如“{sample}”),但无法确定。如果是,请用 --encoding {guess}(上传页的“编码”)指定;否则请另存为 UTF-8。",
            "The file is not UTF-8: byte {value} on line {row} (byte {offset} of the file) is not UTF-8. It may be "
            "{guess} (e.g. '{sample}'), but that cannot be told for sure. If it is, give --encoding {guess} (the "
            "upload page's encoding); otherwise save the file as UTF-8.",
        ),
    ),
    "NUL_CHARACTER": Message(
        "error",
        "file",
        Text(
            "第 {row} 行含有空字符(NUL,0x00),文件可能已损坏或不是文本文件。请删除该字符或重新导出文件。",
            "Line {row} holds a NUL character (0x00): the file is damaged or not a text file. Remove the "
            "character or export the file again.",
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
    error = _utf8_error(content)
    if error is None:
        return _finish(content, "utf-8", report)
    if _damaged_utf8(content, error):
        _report_invalid(content, error, "utf-8", report)
        return None
    matches = from_bytes(content, cp_isolation=DETECTABLE_ENCODINGS)
    names = list(dict.fromkeys(_codec_name(m.encoding) for m in matches))
    if names and PREFERRED_ENCODING not in names:
        report.add("ENCODING_NOT_UTF8", row=_line_of(content, error), value=_byte(content, error),
                   offset=error + 1, guess=names[0], sample=_non_ascii_sample(content, names[0]))
        return None
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
        _report_invalid(content, error, label, report)
        return None
    try:
        text = content.decode(codec)
    except UnicodeDecodeError as exc:
        _report_invalid(content, exc.start, label, report)
        return None
    return _finish(text.lstrip("\ufeff").encode("utf-8"), label, report)


def _finish(data: bytes, label: str, report: Report) -> Decoded | None:
    report.file["encoding"] = label
    nul = data.find(b"\x00")
    if nul >= 0:  # in the text, whatever the encoding: UTF-16's own zero bytes are gone by now
        report.add("NUL_CHARACTER", row=_line_of(data, nul))
        return None
    return Decoded(label, data, data[:HEAD_BYTES].decode("utf-8", errors="ignore"))


def _report_invalid(content: bytes, at: int, label: str, report: Report) -> None:
    report.add("ENCODING_INVALID", row=_line_of(content, at), value=_byte(content, at), offset=at + 1,
               encoding=label)


def _line_of(content: bytes, at: int) -> int:
    return content.count(b"\n", 0, at) + 1


def _byte(content: bytes, at: int) -> str:
    return f"0x{content[at]:02X}" if at < len(content) else "(end of file)"


def _damaged_utf8(content: bytes, error: int) -> bool:
    """A UTF-8 file with some bad bytes rather than a file in another encoding: around the first bad byte,
    the characters that are valid UTF-8 beyond ASCII outnumber the bad bytes. (Read as UTF-8, GB18030 text
    gives one valid character for four or more bad bytes; Windows-1252 text none.)"""
    sample = content[max(0, error - SAMPLE_BEFORE) : error + SAMPLE_AFTER].decode("utf-8", errors="replace")
    invalid = sample.count("\ufffd")
    non_ascii = len(_NON_ASCII.findall(sample))
    return non_ascii - invalid > invalid


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


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

