"""The registry of problem codes: what each code means, how bad it is, and its text in Chinese and English.

What belongs here: :class:`Message` and the one registry :data:`MESSAGES` that :class:`~.report.Report`
looks codes up in. What does not: the messages themselves. Each module that reports a code defines its
entry beside the check that reports it and adds it with :func:`register` when it is imported (the file
checks in ``validation.files``, the reading of a CSV in the modules of ``indicators.ingest``, and so on);
``indicators.ingest`` imports every module that reports a code.
"""

from __future__ import annotations

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
