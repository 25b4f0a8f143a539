"""The work report ("定期工作报告"): the monitoring cycle's report as a Word document or a PowerPoint deck.

What belongs here: choosing what a report says and writing it as .docx or .pptx. ``content`` turns a snapshot
(and, where given, the task register, the overdue data and the changes since the last report) into the
report's words and tables; ``word`` and ``slides`` write them with python-docx and python-pptx. The charts come
from the same builders as the PNG export (``briefing.indicator_chart`` + ``export.to_image``), the scorecard's
words from ``briefing.scorecard_cells``, the caveats from ``progress``. What does not: reading the database
(the snapshot has read it), deciding statuses (``progress``), converting to PDF (LibreOffice, in the tests).

A report records the data it was built from (``content.Provenance``: the as-of date, the data version, a
fingerprint of the values, the command that rebuilds it) in its text and in the file's core properties.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from indicators.report.content import (
    Extras,
    Provenance,
    ReportSpec,
    gather_extras,
    parse_period,
    period_of,
    provenance,
)
from indicators.snapshot import Snapshot

FORMATS = {".docx": "docx", ".pptx": "pptx"}
MIMETYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def format_of(path: str | Path) -> str | None:
    """"docx" or "pptx" from a file name's suffix (any case); None for anything else."""
    return FORMATS.get(Path(path).suffix.lower())


def build(snap: Snapshot, spec: ReportSpec, *, fmt: str, extras: Extras | None = None,
          on_progress: Callable[[int, int, str], None] | None = None) -> bytes:
    """The report as .docx or .pptx bytes (``fmt``); ``on_progress(done, total, step)`` as the pack's."""
    from indicators.report import slides, word

    writer = {"docx": word.build_docx, "pptx": slides.build_pptx}[fmt]
    return writer(snap, spec, extras or Extras(), on_progress)


__all__ = ["FORMATS", "MIMETYPES", "Extras", "Provenance", "ReportSpec", "build", "format_of", "gather_extras", "parse_period",
           "period_of", "provenance"]
