"""The task register: the plan's tasks with their status, the history of every status set, and the checks
an editor's status update passes before it is written (one at a time, or a CSV file, all or nothing).

What belongs here: the status vocabulary and its labels, reading the statuses (current, as of a date, or
every version; these reads sit beside the register that is their only user), the register table the CLI,
the pages and the reports show, and the validation of status rows with a report that names line, column
and reason in Chinese and English. Not here: the tasks themselves (the catalog's ``tasks.yaml``), the writes
(``store.record_task_statuses``, ``store.revert_task_batch``), who may set a task's status (``users``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import Engine, select

from indicators import store
from indicators.catalog import TASK_STATUSES, Catalog, Task
from indicators.i18n import Text
from indicators.models import Batch, TaskStatus, table_of
from indicators.store import as_of_cutoff

STATUS_LABELS = {
    "not_started": Text("未启动", "not started"),
    "on_schedule": Text("按计划推进", "on schedule"),
    "at_risk": Text("存在风险", "at risk"),
    "delayed": Text("滞后", "delayed"),
    "done": Text("已完成", "done"),
    "unreported": Text("未填报", "not reported"),
}
UNREPORTED = "unreported"  # a task no editor has set a status for
# The order a register is read in: trouble first, then what is moving, then what is settled.
STATUS_ORDER = ("delayed", "at_risk", "unreported", "not_started", "on_schedule", "done")
CSV_COLUMNS = ["task", "status", "date", "note", "evidence"]
HISTORY_COLUMNS = ["task", "status", "date", "note", "evidence", "known_from", "batch", "user", "retracted",
                   "version"]
REGISTER_COLUMNS = ["task", "title", "pillar", "pillar_name", "lead", "lead_name", "partners", "due", "status",
                    "status_label", "status_date", "note", "evidence", "indicators", "documents", "milestones",
                    "source"]
MAX_NOTE_CHARS = 2_000

# Problems a status row can have: (severity, zh, en); {row}, {column}, {value} and parameters fill them.
PROBLEMS: dict[str, tuple[str, Text]] = {
    "TASK_FILE_UNREADABLE": ("error", Text("无法读取文件:{reason}", "cannot read the file: {reason}")),
    "TASK_FILE_EMPTY": ("error", Text("文件中没有任何状态行。", "the file holds no status rows.")),
    "TASK_COLUMN_MISSING": ("error", Text("缺少列“{column}”(需要 task,status,date,note,evidence)。",
                                          "column '{column}' is missing (task,status,date,note,evidence needed).")),
    "TASK_COLUMN_UNKNOWN": ("warning", Text("列“{column}”不认识,已忽略。", "column '{column}' is not known; ignored.")),
    "TASK_UNKNOWN": ("error", Text("第 {row} 行:没有编号为“{value}”的任务。", "line {row}: no task '{value}'.")),
    "TASK_DUPLICATE": ("error", Text("第 {row} 行:任务“{value}”在文件中出现多次(第 {first} 行已出现)。",
                                     "line {row}: task '{value}' appears again (first on line {first}).")),
    "TASK_STATUS_UNKNOWN": ("error", Text("第 {row} 行:状态“{value}”无效,应为 {allowed} 之一。",
                                          "line {row}: status '{value}' is not one of {allowed}.")),
    "TASK_DATE_INVALID": ("error", Text("第 {row} 行:日期“{value}”应为 YYYY-MM-DD。",
                                        "line {row}: date '{value}' should be YYYY-MM-DD.")),
    "TASK_DATE_FUTURE": ("error", Text("第 {row} 行:日期 {value} 晚于今天({today}),状态只能记录已发生的情况。",
                                       "line {row}: date {value} is after today ({today}); a status records what "
                                       "has happened.")),
    "TASK_NOTE_MISSING": ("error", Text("第 {row} 行:缺少说明(note)。每个状态都需要一句说明。",
                                        "line {row}: the note is missing; every status needs one.")),
    "TASK_NOTE_TOO_LONG": ("error", Text("第 {row} 行:说明超过 {limit} 个字符。",
                                         "line {row}: the note is longer than {limit} characters.")),
    "TASK_EVIDENCE_MISSING": ("error", Text("第 {row} 行:缺少证据链接(evidence)。",
                                            "line {row}: the evidence link is missing.")),
    "TASK_EVIDENCE_INVALID": ("error", Text(
        "第 {row} 行:证据“{value}”既不是网址(http/https),也不是目录中的出版物编号。",
        "line {row}: evidence '{value}' is neither an address (http/https) nor a publication id of the catalog.")),
    "TASK_NOT_YOURS": ("error", Text("第 {row} 行:任务“{value}”不由“{agency}”牵头或参与,本账号不能设置其状态。",
                                     "line {row}: task '{value}' is neither led nor shared by '{agency}'; this "
                                     "account may not set its status.")),
}


@dataclass
class StatusUpload:
    """Status rows checked against the catalog: the rows (only when nothing is wrong) and the problems."""

    file_name: str
    rows: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p["severity"] == "error" for p in self.problems)

    def add(self, code: str, *, row: int | None = None, column: str | None = None, value: str | None = None,
            **params: object) -> None:
        severity, text = PROBLEMS[code]
        words = text.format(row=row if row is not None else "", column=column or "", value=value or "",
                            allowed=", ".join(TASK_STATUSES), **params)
        self.problems.append({"severity": severity, "row": row, "column": column, "value": value, "code": code,
                              "message_zh": words.zh, "message_en": words.en})

    def report(self) -> dict:
        """The report as the ingest reports are printed: file, counts, problems."""
        return {"file": {"name": self.file_name}, "counts": {"rows": len(self.rows)}, "problems": self.problems}


def check_rows(frame: pd.DataFrame, catalog: Catalog, *, today: date, file_name: str = "(form)",
               agency: str | None = None, first_line: int = 2) -> StatusUpload:
    """Check status rows (text columns ``task, status, date, note, evidence``; line numbers from
    ``first_line``). Every problem is reported; ``rows`` holds the clean rows only if there is no error.
    ``agency``: the scoped editor's agency, who may set only the tasks it leads or shares."""
    upload = StatusUpload(file_name)
    for column in CSV_COLUMNS:
        if column not in frame.columns:
            upload.add("TASK_COLUMN_MISSING", column=column)
    for column in frame.columns:
        if column not in CSV_COLUMNS:
            upload.add("TASK_COLUMN_UNKNOWN", column=str(column))
    if not upload.ok:
        return upload
    if frame.empty:
        upload.add("TASK_FILE_EMPTY")
        return upload
    seen: dict[str, int] = {}
    rows = []
    for offset, record in enumerate(frame[CSV_COLUMNS].fillna("").astype(str).to_dict("records")):
        line = first_line + offset
        row = {k: v.strip() for k, v in record.items()}
        _check_row(upload, row, line, catalog, today, agency)
        if row["task"] in catalog.tasks:
            if row["task"] in seen:
                upload.add("TASK_DUPLICATE", row=line, column="task", value=row["task"], first=seen[row["task"]])
            seen.setdefault(row["task"], line)
        rows.append(row)
    if upload.ok:
        upload.rows = rows
    return upload


def _check_row(upload: StatusUpload, row: dict, line: int, catalog: Catalog, today: date,
               agency: str | None) -> None:
    task = catalog.tasks.get(row["task"])
    if task is None:
        upload.add("TASK_UNKNOWN", row=line, column="task", value=row["task"])
    elif not may_set(agency, task):
        upload.add("TASK_NOT_YOURS", row=line, column="task", value=row["task"], agency=agency)
    if row["status"] not in TASK_STATUSES:
        upload.add("TASK_STATUS_UNKNOWN", row=line, column="status", value=row["status"])
    try:
        day = date.fromisoformat(row["date"])
        if len(row["date"]) != 10:
            raise ValueError(row["date"])
    except ValueError:
        upload.add("TASK_DATE_INVALID", row=line, column="date", value=row["date"])
    else:
        if day > today:
            upload.add("TASK_DATE_FUTURE", row=line, column="date", value=row["date"], today=today.isoformat())
    if not row["note"]:
        upload.add("TASK_NOTE_MISSING", row=line, column="note")
    elif len(row["note"]) > MAX_NOTE_CHARS:
        upload.add("TASK_NOTE_TOO_LONG", row=line, column="note", limit=MAX_NOTE_CHARS)
    evidence = row["evidence"]
    if not evidence:
        upload.add("TASK_EVIDENCE_MISSING", row=line, column="evidence")
    elif not (evidence.startswith(("http://", "https://")) or evidence in catalog.publications):
        upload.add("TASK_EVIDENCE_INVALID", row=line, column="evidence", value=evidence)


def may_set(agency: str | None, task: Task) -> bool:
    """Whether an editor of ``agency`` (None: not scoped) may set the status of ``task``."""
    return agency is None or task.lead == agency or agency in task.partners


def read_csv(content: bytes, catalog: Catalog, *, today: date, file_name: str,
             agency: str | None = None) -> StatusUpload:
    """Check a CSV file of statuses (UTF-8, with or without a byte-order mark; GB18030 also read)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        upload = StatusUpload(file_name)
        upload.add("TASK_FILE_UNREADABLE", reason="not UTF-8 or GB18030 text / 不是 UTF-8 或 GB18030 文本")
        return upload
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        upload = StatusUpload(file_name)
        upload.add("TASK_FILE_EMPTY" if isinstance(exc, pd.errors.EmptyDataError) else "TASK_FILE_UNREADABLE",
                   reason=str(exc).strip())
        return upload
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return check_rows(frame, catalog, today=today, file_name=file_name, agency=agency)


def status_history(engine: Engine, *, task: str | None = None, as_of: date | None = None,
                   include_retracted: bool = True) -> pd.DataFrame:
    """Every status set, oldest first: ``HISTORY_COLUMNS`` (``version`` orders them; ``retracted`` marks
    those a revert took back). ``as_of``: only what was known by the end of that day, never a retracted one."""
    statuses, batches = table_of(TaskStatus), table_of(Batch)
    statement = (
        select(statuses.c.task_id.label("task"), statuses.c.status, statuses.c.status_date.label("date"),
               statuses.c.note, statuses.c.evidence, statuses.c.known_from, statuses.c.batch_id.label("batch"),
               batches.c.user, statuses.c.retracted_by_batch_id.is_not(None).label("retracted"),
               statuses.c.id.label("version"))
        .join(batches, batches.c.id == statuses.c.batch_id)
        .order_by(statuses.c.known_from, statuses.c.id)
    )
    if task is not None:
        statement = statement.where(statuses.c.task_id == task)
    if as_of is not None or not include_retracted:
        statement = statement.where(statuses.c.retracted_by_batch_id.is_(None))
    if as_of is not None:
        statement = statement.where(statuses.c.known_from <= as_of_cutoff(as_of))
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(statement).all(), columns=HISTORY_COLUMNS)
    frame["known_from"] = pd.to_datetime(frame["known_from"], format="ISO8601")
    return frame.astype({"retracted": bool})


def current_statuses(engine: Engine, *, as_of: date | None = None) -> pd.DataFrame:
    """The status of each task that has one (now, or as known at the end of ``as_of``): one row per task,
    the columns of :func:`status_history`."""
    history = status_history(engine, as_of=as_of, include_retracted=False)
    return history.drop_duplicates("task", keep="last").sort_values("task").reset_index(drop=True)


def register(engine: Engine, catalog: Catalog, *, lang: str = "zh", as_of: date | None = None,
             pillar: str | None = None, status: str | None = None) -> pd.DataFrame:
    """The register: every task of the catalog with its status (``unreported`` when none is set), in the order
    it is read: delayed and at-risk first (:data:`STATUS_ORDER`), then catalog order. ``REGISTER_COLUMNS``;
    ``indicators`` and ``documents`` are lists, ``due`` the first milestone's date (empty: none stated)."""
    current = current_statuses(engine, as_of=as_of).set_index("task")
    rows = []
    for position, task in enumerate(catalog.tasks.values()):
        if pillar is not None and task.pillar != pillar:
            continue
        state = current.loc[task.id] if task.id in current.index else None
        code = UNREPORTED if state is None else state["status"]
        if status is not None and code != status:
            continue
        lead = catalog.agencies.get(task.lead) if task.lead else None
        rows.append({
            "task": task.id, "title": task.title.pick(lang), "pillar": task.pillar,
            "pillar_name": catalog.pillars[task.pillar].name.pick(lang), "lead": task.lead or "",
            "lead_name": lead.name.pick(lang) if lead else "", "partners": ", ".join(task.partners),
            "due": task.due or "", "status": code, "status_label": STATUS_LABELS[code].pick(lang),
            "status_date": "" if state is None else state["date"], "note": "" if state is None else state["note"],
            "evidence": "" if state is None else state["evidence"], "indicators": list(task.indicators),
            "documents": list(task.documents),
            "milestones": "; ".join(f"{m.due_date}: {m.text.pick(lang)}" for m in task.milestones),
            "source": task.source, "_order": (STATUS_ORDER.index(code), position),
        })
    frame = pd.DataFrame(rows, columns=[*REGISTER_COLUMNS, "_order"])
    return frame.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)


def batch_tasks(engine: Engine, batch_id: int) -> list[str]:
    """The tasks whose status a batch set (what reverting it changes)."""
    statuses = table_of(TaskStatus)
    with engine.connect() as conn:
        return sorted(set(conn.execute(select(statuses.c.task_id).where(statuses.c.batch_id == batch_id)).scalars()))


def set_statuses(engine: Engine, upload: StatusUpload, *, user: str, checksum: str | None = None,
                 note: str | None = None) -> store.BatchResult:
    """Write the rows of a checked upload as one batch (refused unless ``upload.ok``)."""
    from indicators import db

    if not upload.ok:
        raise ValueError("the status rows have errors; nothing is written")
    with db.writing(engine) as conn:
        if checksum is not None:
            loaded = store.find_loaded_task_batch(conn, checksum)
            if loaded is not None:
                return store.BatchResult(batch_id=None, already_loaded_as=loaded)
        return store.record_task_statuses(conn, upload.rows, user=user, file_name=upload.file_name,
                                          checksum=checksum, note=note)
