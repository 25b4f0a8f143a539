"""The registry of problem codes: what each code means, how bad it is, and its text in Chinese and English.

What belongs here: :class:`Message` and the one registry :data:`MESSAGES` that :class:`~.report.Report`
looks codes up in. What does not: the messages themselves. Each module that reports a code defines its
entry beside the check that reports it and adds it with :func:`register` when it is imported (the file
checks in ``validation.files``, the reading of a CSV in the modules of ``indicators.ingest``, and so on);
``indicators.ingest`` imports every module that reports a code.

A message's advice is written for the command line ("give --confidence"). :func:`for_web` says the same to
someone using the upload page: the form's field instead of the option (:data:`WEB_ADVICE`), and a confidence
level in the words of the message's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from indicators.i18n import Text

Severity = Literal["error", "warning"]
Scope = Literal["file", "row"]


@dataclass(frozen=True)
class Message:
    severity: Severity
    scope: Scope  # a 'file' error rejects the whole file, also with --skip-invalid
    text: Text  # templates: ``{row}``, ``{column}``, ``{value}`` and the parameters the check passes


MESSAGES: dict[str, Message] = {}


def register(messages: dict[str, Message]) -> dict[str, Message]:
    """Add a module's codes to :data:`MESSAGES` (each code is defined once); returns them."""
    for code, message in messages.items():
        if MESSAGES.get(code, message) != message:
            raise ValueError(f"problem code {code} is defined twice")
        MESSAGES[code] = message
    return messages


# The command line's advice -> the upload form's, per language: (pattern, replacement) applied in order. Each
# option a message names has its entry; tests/test_localisation.py checks that no message keeps one on the web.
WEB_ADVICE: dict[str, list[tuple[re.Pattern, str]]] = {
    "zh": [(re.compile(p), r) for p, r in (
        (r"或用 --source 为整个文件指定", "或在上传表单的“默认来源”中为整个文件填写"),
        (r"请检查 --encoding\(上传页的“编码”\),或去掉它以自动识别编码", "请检查上传表单的“编码”,或选“自动检测”"),
        (r"请用 --encoding (\S+?)\(上传页的“编码”\)指定", r"请在上传表单的“编码”中选择 \1"),
        (r"请用 --encoding 指定\(如 gb18030 或 utf-8\)", "请在上传表单的“编码”中选择(如 GB18030 或 UTF-8)"),
        (r"请用 --encoding 指定", "请在上传表单的“编码”中选择正确的编码"),
        (r"或用 --year\(上传页的“年份”\)指定", "或在上传表单的“年份”中填写"),
        (r"\(--year,上传页的“年份”\)", "(上传表单的“年份”)"),
        (r"或用 --confidence 指定", "或在上传表单中选择“默认可信度”"),
        (r"“high”", "“高”"), (r"“medium”", "“中”"), (r"“low”", "“低”"),
    )],
    "en": [(re.compile(p), r) for p, r in (
        (r"or give --source for the whole file", "or fill in the form's 'Default source' for the whole file"),
        (r"Check --encoding \(the upload page's encoding\), or leave it out to detect the encoding",
         "Check the form's 'Encoding', or choose 'Detect'"),
        (r"give --encoding (\S+) \(the upload page's encoding\)", r"choose \1 as the form's 'Encoding'"),
        (r"Give it with --encoding \(e\.g\. gb18030 or utf-8\)", "Choose it as the form's 'Encoding' (e.g. GB18030 or UTF-8)"),
        (r"give --encoding\.", "choose the right one as the form's 'Encoding'."),
        (r"or give it with --year \(the upload page's year field\)", "or fill in the form's 'Year'"),
        (r"\(--year, the upload page's year field\)", "(the form's 'Year')"),
        (r"or give --confidence\.", "or choose a default confidence in the form."),
    )],
}


def for_web(message: str, lang: str) -> str:
    """A problem's message (already in ``lang``) as the upload page says it: its advice names the form's
    fields, not the command line's options."""
    for pattern, replacement in WEB_ADVICE["en" if lang == "en" else "zh"]:
        message = pattern.sub(replacement, message)
    return message
