"""The ``innovation-monitor`` command line (also ``python -m indicators``).

Only argument handling and output formatting belong here; each command calls the engine modules.
Exit codes: 0 success, 1 rejected input (a report is printed), 2 usage error, 3 could not be done (the
database is locked, full, read-only or unreachable, or another failure): a bilingual message says which and
that nothing was written; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click
import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine

from indicators import db, failures, queries, settings
from indicators.catalog import TASK_STATUSES, Catalog, CatalogError, load_catalog
from indicators.i18n import BilingualError, Text, fmt_number
from indicators.store import BatchResult, RevertRefused, revert_batch

if TYPE_CHECKING:
    from indicators.ingest.interpret import RegionNames

EXIT_REJECTED = 1
EXIT_FAILED = 3
FORMATS = click.Choice(["table", "csv", "json"])
TASK_STATUS_CHOICES = [*TASK_STATUSES, "unreported"]

err = Console(stderr=True)


class Cli:
    """What the commands share, made once on first use: the catalog, the database and how to fail.

    Commands receive it with ``@pass_cli``. ``engine`` is a database with the schema in place (a command
    on an empty database stops with a clear message); ``init`` alone uses ``raw_engine``.
    """

    @cached_property
    def catalog(self) -> Catalog:
        try:
            return load_catalog(settings.catalog_dir())
        except CatalogError as exc:
            self.fail(exc)

    @cached_property
    def raw_engine(self) -> Engine:
        return db.engine_for(settings.database_url())

    @cached_property
    def engine(self) -> Engine:
        if db.schema_revision(self.raw_engine) is None:
            self.fail(EMPTY_DATABASE)
        return self.raw_engine

    def indicator(self, name: str) -> str:
        """The catalog code of an indicator named by code, name or alias (``--indicator``)."""
        return _resolve(name, self.catalog.find_indicator, "indicator", "指标")

    def region(self, name: str) -> str:
        """The code of a region named by code, name or alias (``--region``): the catalog's, or one an upload
        created."""
        return _resolve(name, self._region_names.find, "region", "地区")

    @cached_property
    def _region_names(self) -> RegionNames:
        from indicators.ingest.interpret import RegionNames

        with self.engine.connect() as conn:
            return RegionNames(self.catalog, conn)

    def optional_region(self, name: str | None) -> str | None:
        return None if name is None else self.region(name)

    @staticmethod
    def fail(error: BilingualError | Text) -> NoReturn:
        """Print what went wrong in both languages and exit with :data:`EXIT_REJECTED`."""
        text = error.text if isinstance(error, BilingualError) else error
        detail = error.detail if isinstance(error, BilingualError) else ""
        err.print(f"[red]{escape(text.zh)}[/red]\n[red]{escape(text.en)}[/red]"
                  + (f"\n({escape(detail.strip())})" if detail.strip() else ""))
        sys.exit(EXIT_REJECTED)


pass_cli = click.make_pass_decorator(Cli, ensure=True)
EMPTY_DATABASE = Text("数据库为空,请先运行 `innovation-monitor init`。",
                      "The database is empty. Run `innovation-monitor init` first.")


def emit(frame: pd.DataFrame, fmt: str, title: str | None = None) -> None:
    """Print a DataFrame as a human table (default), CSV or JSON records."""
    if fmt == "csv":
        from indicators.tables import csv_text

        sys.stdout.write(csv_text(frame, line_end="\n"))
    elif fmt == "json":
        click.echo(frame.to_json(orient="records", force_ascii=False, date_format="iso", indent=1))
    else:
        table = Table(title=title, show_lines=False, header_style="bold")
        for col in frame.columns:
            table.add_column(str(col), overflow="fold")
        for row in frame.itertuples(index=False):
            table.add_row(*["" if v is None or (isinstance(v, float) and pd.isna(v)) else _fmt(v) for v in row])
        Console(width=max(100, _terminal_width())).print(table)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e15 else str(value)
    return str(value)


def _terminal_width() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 160


def run() -> None:
    """The ``innovation-monitor`` command: :func:`main`, with the databases closed on the way out, and a
    failure that is nobody's input error said in both languages with exit code 3 (``--debug``: raised)."""
    try:
        main()
    except Exception as exc:  # noqa: BLE001 - every failure ends as a message, not a traceback
        if "--debug" in sys.argv[1:2]:
            raise
        text = failures.describe(exc)
        err.print(f"[red]{escape(text.zh)}[/red]\n[red]{escape(text.en)}[/red]")
        sys.exit(EXIT_FAILED)
    finally:
        db.dispose_engines()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="innovation-monitor")
@click.option("--debug", is_flag=True, help="On a failure, show the Python traceback (give it first).")
def main(debug: bool) -> None:
    """innovation-monitor: science and innovation indicators against the targets of a plan.

    科技创新政策指标监测:对照规划目标跟踪进展。
    """


@main.command()
@pass_cli
def init(cli: Cli) -> None:
    """Create or upgrade the database, load the catalog and the shipped data. Safe to run again."""
    from indicators.seed import run_init

    engine, catalog = cli.raw_engine, cli.catalog
    with err.status("Initialising the database / 正在初始化数据库 …"):
        report = run_init(engine, catalog)
    url = engine.url.render_as_string(hide_password=True)
    click.echo(f"database: {url}")
    exposed = db.readable_by_others(engine)
    if exposed:
        err.print(f"warning: {escape(exposed)} can be read by other users of this machine and holds the password "
                  f"hashes: chmod 600 it. 警告:数据库文件可被本机其他用户读取,请执行 chmod 600。")
    if report.schema_before != report.schema_after:
        click.echo(f"schema: upgraded {report.schema_before or '(empty)'} -> {report.schema_after}")
    else:
        click.echo(f"schema: up to date ({report.schema_after})")
    changed = {k: v for k, v in report.catalog_changes.items() if v}
    click.echo("catalog: " + (", ".join(f"{k} {v} changed" for k, v in changed.items()) if changed
                              else f"unchanged ({len(catalog.indicators)} indicators, {len(catalog.regions)} regions)"))
    for name, status, batch, counts in report.files:
        if status == "loaded":
            detail = ", ".join(f"{k} {v}" for k, v in counts.items())
            click.echo(f"data: {name} loaded as batch {batch} ({detail})")
        else:
            click.echo(f"data: {name} already loaded (batch {batch})")
    if report.withdrawn:
        click.echo(f"data: {report.withdrawn} values no longer in the shipped files withdrawn (kept in the history) "
                   f"/ 已撤回 {report.withdrawn} 个不再随附的数值(保留在历史中)")
    click.echo("Done: changes applied. 完成。" if report.changed else "Nothing to do: already up to date. 无需更改。")


@main.command("indicators")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@pass_cli
def list_indicators(cli: Cli, fmt: str, lang: str) -> None:
    """List the indicator catalog."""
    catalog = cli.catalog
    rows = []
    for ind in catalog.indicators.values():
        unit = catalog.units[ind.unit]
        rows.append({
            "code": ind.code, "name": ind.name.pick(lang), "unit": unit.name.pick(lang), "kind": ind.kind,
            "direction": ind.direction, "pillar": ind.pillar, "frequency": ind.frequency,
            "targets": "; ".join(f"{t.wording.pick(lang)} ({t.plan})" for t in ind.targets if t.qualifier != "none"),
        })
    emit(pd.DataFrame(rows), fmt, title="Indicators / 指标")


def _parse_date(_ctx, _param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from exc


@main.command("observations")
@click.option("--indicator", help="Indicator code or name (e.g. RD_GDP_RATIO, 研发投入强度).")
@click.option("--region", help="Region code or name (e.g. beijing, 北京).")
@click.option("--as-of", "as_of", callback=_parse_date, help="What was known on this date (YYYY-MM-DD).")
@click.option("--history", is_flag=True, help="Every version of every value, with its status.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_cli
def list_observations(cli: Cli, indicator, region, as_of, history, fmt) -> None:
    """Observations with their flags, confidence, publication (publisher, title, date), source and batch."""
    ind = None if indicator is None else cli.indicator(indicator)
    reg = cli.optional_region(region)
    engine = cli.engine
    frame = queries.observations(engine, indicator=ind, region=reg, as_of=as_of, history=history)
    columns = ["indicator", "region", "year", "value", "unit", "source", "confidence", "batch", "published_on", "note",
               "publisher", "publication", "publication_id", "flags"]
    if history:
        columns += ["version", "status"]
    emit(frame[columns], fmt, title="Observations / 观测值")
    if as_of is not None:
        _note_undated(engine, ind, reg, as_of)


def _note_undated(engine, indicator, region, as_of: date) -> None:
    """Say how many current values are hidden as of a date only because they carry no publication date."""
    current = queries.observations(engine, indicator=indicator, region=region)
    hidden = current[current["published_on"].isna() & (current["known_from"].dt.date > as_of)]
    if len(hidden):
        err.print(f"note: {len(hidden)} value(s) have no recorded publication date and count from when they were "
                  f"loaded ({hidden['known_from'].min():%Y-%m-%d}); they are not shown as of {as_of}. "
                  f"注意:{len(hidden)} 个数值没有发布日期,按导入日期计,故未显示。")


def _resolve(name: str, finder: Callable[[str], str | None], what: str, what_zh: str) -> str:
    code = finder(name)
    if code is None:
        raise click.BadParameter(f"unknown {what} {name!r} / 未知{what_zh}", param_hint=f"--{what}")
    return code


def _check_encoding(_ctx, _param, value: str | None) -> str | None:
    import codecs

    if value is None:
        return None
    try:
        codecs.lookup(value)
    except LookupError as exc:
        raise click.BadParameter(f"unknown encoding {value!r} / 未知编码 (e.g. utf-8, gb18030)") from exc
    return value


@main.command("ingest")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--encoding", callback=_check_encoding,
              help="Read the files in this encoding (e.g. gb18030, utf-8) instead of detecting it.")
@click.option("--dry-run", is_flag=True, help="Check and compare with the database; write nothing.")
@click.option("--skip-invalid", is_flag=True,
              help="Load the valid values and report the others (default: any error rejects everything).")
@click.option("--source", help="Source for values whose line names none (e.g. the bulletin's title and URL).")
@click.option("--confidence", type=click.Choice(["high", "medium", "low"]),
              help="Confidence for values whose line gives none (default: medium, with a warning).")
@click.option("--year", type=click.IntRange(1900, 2100),
              help="For a table as published (title, then one column per indicator): the year of its values "
                   "when the title names none; must agree with the title's year when it names one.")
@click.option("--max-size", "max_mb", type=click.FloatRange(min=0, min_open=True), default=50.0,
              show_default=True, help="Largest file accepted, in MB.")
@click.option("--user", default=lambda: os.environ.get("USER", "cli"), show_default="$USER")
@click.option("--note", help="Why these files are loaded (kept with each batch).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="How to print the report.")
@pass_cli
def ingest_files(
    cli: Cli, files, encoding, dry_run, skip_invalid, source, confidence, year, max_mb, user, note, fmt
) -> None:
    """Load CSV files of observations, one batch per file, all in one transaction.

    Any error in any file rejects them all (exit 1) unless --skip-invalid; a file loaded before is not
    loaded again. 导入观测值 CSV 文件:每个文件一个批次;任何错误都会使全部文件不写入(退出码 1)。
    """
    from indicators import ingest

    catalog, engine = cli.catalog, cli.engine
    options = ingest.IngestOptions(encoding=encoding, source=source, confidence=confidence, year=year,
                                   max_bytes=int(max_mb * 1024 * 1024))
    scoped = _scoped_account(cli, user)  # an editor account scoped to an agency: read first, checked, then loaded
    results: list[BatchResult | None]
    if len(files) == 1 and not dry_run and not skip_invalid and scoped is None:  # one file: loaded while read
        with err.status("Reading and loading / 正在读取并写入 …"):
            one, result = ingest.load_path(engine, Path(files[0]), catalog, options, user=user, note=note)
        parsed, results, refused = [one], [result], result is None
    else:
        with err.status("Reading / 正在读取 …"):
            parsed = [ingest.parse_path(Path(f), catalog, engine, options) for f in files]
        if scoped is not None:
            _enforce_scope(cli, scoped, {c for p in parsed for c in p.rows["indicator_code"].dropna().astype(str)})
        refused = any(p.rejected(skip_invalid) for p in parsed)
        results = [None] * len(parsed)
        if not refused and not dry_run:
            with err.status("Loading / 正在写入 …"):
                results = [*ingest.commit_many(engine, parsed, user=user, note=note, skip_invalid=skip_invalid)]
    outcomes = [p.outcome(_ingest_status(p, r, refused, dry_run, skip_invalid), r, with_diff=dry_run)
                for p, r in zip(parsed, results, strict=True)]
    if fmt == "json":
        click.echo(json.dumps(outcomes, ensure_ascii=False, indent=1, default=str))
    else:
        for p, outcome in zip(parsed, outcomes, strict=True):
            _print_ingest(p, outcome)
    if refused:
        sys.exit(EXIT_REJECTED)


def _ingest_status(parsed, result, refused: bool, dry_run: bool, skip_invalid: bool) -> str:
    if parsed.rejected(skip_invalid):
        return "rejected"
    if refused:
        return "not_loaded"
    if dry_run:
        return "already_loaded" if parsed.already_loaded_as is not None else "checked"
    return "already_loaded" if result.already_loaded_as is not None else "loaded"


INGEST_SHOWN_ROWS = 100
INGEST_VERDICTS = {
    "loaded": ("green", "已导入为批次 {batch}", "loaded as batch {batch}"),
    "already_loaded": ("yellow", "该文件已导入(批次 {already_loaded_as}),未做任何更改",
                       "already loaded as batch {already_loaded_as}; nothing to do"),
    "rejected": ("red", "文件被拒绝,未写入任何数据", "rejected; nothing was written"),
    "not_loaded": ("red", "因其他文件被拒绝,本文件也未写入",
                   "not written, because another file was rejected"),
    "checked": ("cyan", "试运行:检查完毕,未写入任何数据", "dry run: checked, nothing was written"),
}


def _print_ingest(parsed, outcome: dict) -> None:
    """The report of one file for people: facts, conversions, new regions, problems, diff, verdict."""
    from indicators.validation.render import report_lines

    out = Console(width=max(100, _terminal_width()))
    report = outcome["report"]
    out.rule(f"[bold]{outcome['file']}")
    for line in report_lines(report):  # facts, counts, conversions, new regions: as the upload page says them
        out.print(line, markup=False, highlight=False)
    if report["problems"]:
        table = Table(show_lines=False, header_style="bold")
        for name in ("", "行 line", "列 column", "值 value", "代码 code", "说明 message"):
            table.add_column(name, overflow="fold")
        for p in report["problems"][:INGEST_SHOWN_ROWS]:
            mark = "[red]错误 error[/red]" if p["severity"] == "error" else "[yellow]警告 warning[/yellow]"
            line = "" if p["row"] is None else str(p["row"])
            table.add_row(mark, line, p["column"] or "", p["value"] or "", p["code"],
                          f"{p['message_zh']}\n{p['message_en']}")
        out.print(table)
        more = len(report["problems"]) - INGEST_SHOWN_ROWS
        if more > 0:
            out.print(f"… 另有 {more} 个问题 / {more} more problems (--format json lists all)")
    d = outcome["diff_counts"]
    if sum(d.values()):
        out.print(f"对比数据库 against the database: 新增 new {d['new']}, 修订 revised {d['revised']}, "
                  f"不变 unchanged {d['unchanged']}")
    if outcome.get("diff"):
        _print_diff(out, outcome["diff"])
    colour, zh, en = INGEST_VERDICTS[outcome["status"]]
    out.print(f"[{colour}]{zh.format(**outcome)} / {en.format(**outcome)}[/{colour}]")


def _print_diff(out: Console, rows: list[dict]) -> None:
    table = Table(title="差异 Diff", header_style="bold")
    for name in ("indicator", "region", "year", "status", "old -> new", "changed"):
        table.add_column(name)
    for r in rows[:INGEST_SHOWN_ROWS]:
        old = "" if r["old_value"] is None else f"{_fmt(r['old_value'])} -> "
        table.add_row(r["indicator"], r["region"], str(r["year"]), r["status"], f"{old}{_fmt(r['value'])}",
                      r["changed"])
    out.print(table)
    if len(rows) > INGEST_SHOWN_ROWS:
        out.print(f"… 另有 {len(rows) - INGEST_SHOWN_ROWS} 行 / {len(rows) - INGEST_SHOWN_ROWS} more rows "
                  "(--format json lists all)")


@main.command("batches")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_cli
def list_batches(cli: Cli, fmt: str) -> None:
    """Every batch (seed, upload, revert) with its counts."""
    frame = queries.batches(cli.engine)
    cols = ["id", "kind", "file_name", "created_at", "user", "n_new", "n_revised", "n_unchanged", "n_skipped",
            "n_rejected", "reverts_batch_id", "reverted_by_batch_id", "note"]
    emit(frame[cols], fmt, title="Batches / 批次")


@main.command("revert")
@click.argument("batch", type=int)
@click.option("--user", default=lambda: os.environ.get("USER", "cli"), show_default="$USER")
@click.option("--note", help="Why the batch is reverted.")
@pass_cli
def revert(cli: Cli, batch: int, user: str, note: str | None) -> None:
    """Restore exactly the state before BATCH (recorded as a batch of its own)."""
    scoped = _scoped_account(cli, user)
    if scoped is not None:
        from indicators import tasks as task_register
        from indicators import users

        _enforce_scope(cli, scoped, users.batch_indicators(cli.engine, batch))
        if not users.may_write_tasks(scoped, task_register.batch_tasks(cli.engine, batch), cli.catalog):
            cli.fail(Text(f"账号 {scoped.name} 不能撤销其他机构任务的状态", f"account {scoped.name} may not revert "
                          "the statuses of other agencies' tasks"))
    try:
        with db.writing(cli.engine) as conn:
            result = revert_batch(conn, batch, user=user, note=note)
    except RevertRefused as exc:
        cli.fail(exc)
    click.echo(f"batch {batch} reverted by batch {result.batch_id}: {result.n_revised} earlier values restored.")
    click.echo(f"已撤销批次 {batch}(撤销记录为批次 {result.batch_id}),恢复 {result.n_revised} 个原值。")


STATUS_COMPACT_COLUMNS = ["indicator", "region", "milestone_year", "target", "latest_year", "latest_value", "gap",
                          "ratio", "status_label", "attainment_year", "caveats"]
STATUS_TABLE_COLUMNS = [
    "indicator", "region", "milestone_year", "target", "qualifier", "baseline_year", "baseline_value",
    "latest_year", "latest_value", "gap", "progress_share", "actual_rate", "required_rate",
    "required_rate_from_latest", "ratio", "status", "status_label", "expected_at_target", "attainment_year",
    "stale", "method_disagreement", "baseline_basis", "baseline_confidence", "latest_confidence", "latest_flags",
    "series_breaks", "caveats",
]


@main.command("status")
@click.option("--region", help="Region code or name (e.g. beijing, 北京). Default: every region.")
@click.option("--plan", help="Plan id (e.g. bj-14fyp-iscc). Default: all plans and series with no target.")
@click.option("--as-of", "as_of", callback=_parse_date, help="Assess what was known on a date (YYYY-MM-DD).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--wide", is_flag=True, help="Every main column in the table (default: a compact set that fits a terminal).")
@pass_cli
def status(cli: Cli, region: str | None, plan: str | None, as_of: date | None, fmt: str, lang: str, wide: bool) -> None:
    """Progress towards the targets: one row per indicator x region x milestone. 目标进展。

    The table shows the main columns; csv and json give every column of the assessment.
    """
    from indicators import progress

    catalog = cli.catalog
    reg = cli.optional_region(region)
    if plan is not None and plan not in catalog.plans:
        raise click.BadParameter(f"unknown plan {plan!r} / 未知规划 (known: {', '.join(catalog.plans)})",
                                 param_hint="--plan")
    obs = queries.observations(cli.engine, region=reg, as_of=as_of)
    frame = progress.assess(obs, catalog, today=as_of, plan=plan, region=reg)
    names = {code: ind.short_name.pick(lang) for code, ind in catalog.indicators.items()}
    frame.insert(1, "name", frame["indicator"].map(names))
    labels = {code: progress.status_label(code, lang) for code in progress.STATUS_LABELS}
    frame.insert(frame.columns.get_loc("status") + 1, "status_label", frame["status"].map(labels))
    if fmt == "table":  # for reading: separators and at most 2 decimals; csv and json keep full precision
        frame = frame[STATUS_TABLE_COLUMNS if wide else STATUS_COMPACT_COLUMNS].astype(object)
        frame = frame.map(lambda v: fmt_number(v) if isinstance(v, float) else v).where(frame.notna(), None)
    emit(frame, fmt, title="Target progress / 目标进展")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True, type=int)
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Worker processes under gunicorn (default: one per processor); 0: one waitress process.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(min=1), help="Threads per process.")
@click.option("--debug", is_flag=True, help="Dash's development server with hot reload (not for production).")
@pass_cli
def serve(cli: Cli, host: str, port: int, workers: int | None, threads: int, debug: bool) -> None:
    """Serve the dashboard: gunicorn worker processes, or one waitress process (--workers 0). 启动服务。"""
    import importlib

    from indicators import serving

    cli.engine  # noqa: B018 - stop here, with a clear message, when the database is empty
    try:
        proxy = serving.proxy_from_environment()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if debug:
        importlib.import_module("app").app.run(host=host, port=port, debug=True)
        return
    if workers is None:
        workers = serving.default_workers() if _has_gunicorn() else 0
    elif workers and not _has_gunicorn():
        raise click.UsageError("--workers needs gunicorn (Linux and macOS); --workers 0 serves with waitress")
    click.echo(f"Serving on http://{host}:{port}/ with "
               + (f"{workers} worker processes x {threads} threads" if workers else f"one process x {threads} threads")
               + " (Ctrl+C to stop) 服务已启动")
    if proxy:
        click.echo(f"client addresses from X-Forwarded-For of {proxy.address} ({proxy.count} proxies) 信任代理转发的客户端地址")
    if workers:
        db.dispose_engines()  # nothing of this process's database connections goes over the fork
        serving.run_gunicorn(lambda: importlib.import_module("app").server, host=host, port=port, workers=workers,
                             threads=threads, proxy=proxy)
        return
    import signal

    # a service manager stops the server with SIGTERM: leave as on Ctrl+C, so exit handlers close the
    # export browser in order
    signal.signal(signal.SIGTERM, _leave)
    serving.run_waitress(importlib.import_module("app").server, host=host, port=port, threads=threads, proxy=proxy)


@main.command("worker")
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(min=1),
              help="Jobs built at once by this process.")
@pass_cli
def worker_command(cli: Cli, concurrency: int) -> None:
    """Build queued briefing packs and reports (a shared deployment: INNOVATION_MONITOR_REDIS_URL). 后台任务进程。"""
    from indicators import jobs

    url = jobs.queue_url()
    if not url:
        raise click.UsageError("set INNOVATION_MONITOR_REDIS_URL (redis://host:6379/0): without it the web "
                               "processes build jobs themselves / 未设置 INNOVATION_MONITOR_REDIS_URL")
    cli.engine  # noqa: B018 - stop here, with a clear message, when the database is empty
    from indicators import queue

    click.echo(f"Taking jobs from {url} ({concurrency} at once) 后台任务进程已启动")
    queue.work(url, concurrency)


def _has_gunicorn() -> bool:
    import importlib.util

    return importlib.util.find_spec("gunicorn") is not None


def _leave(_signum: int, _frame: object) -> NoReturn:
    raise SystemExit(0)


@main.command("backup")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True,
              help="The backup file (SQLite: a database file; PostgreSQL: pg_dump's custom format).")
@pass_cli
def backup_command(cli: Cli, output: str) -> None:
    """Copy the whole database to a file, consistently, also while the server is writing. 备份数据库。"""
    from indicators import backup

    try:
        backup.backup(cli.engine, Path(output))
    except backup.BackupError as exc:
        cli.fail(exc)
    click.echo(f"{output}: backup written. 备份已写入。")


@main.command("restore")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the data.")
@pass_cli
def restore_command(cli: Cli, backup_file: str, yes: bool) -> None:
    """Replace the whole database with a backup made by `backup`. 从备份恢复数据库。

    Safe beside a running server (SQLite is restored through its backup API, PostgreSQL in one transaction);
    the server shows the restored data from its next request.
    """
    from indicators import backup

    url = cli.raw_engine.url.render_as_string(hide_password=True)
    if not yes:
        click.confirm(f"Replace every value, batch and account in {url} with {backup_file}? "
                      f"用备份替换数据库中的全部数据?", abort=True)
    try:
        before, after = backup.restore(cli.raw_engine, Path(backup_file))
    except backup.BackupError as exc:
        cli.fail(exc)
    click.echo(f"restored from {backup_file} (schema {after}; was {before or 'empty'}). 已从备份恢复。")


@main.group("users")
def users_group() -> None:
    """Accounts for the web app: editors upload, commit and revert; admins also manage users."""


PASSWORD_STDIN = click.option(
    "--password-stdin", is_flag=True,
    help="Read the password from the first line of standard input (for scripts); otherwise it is prompted twice.")


def _new_password(from_stdin: bool) -> str:
    """The password from a hidden prompt (asked twice) or from stdin: never a command-line argument, which
    the shell history and the process list would keep."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password / 密码", hide_input=True, confirmation_prompt=True)


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "editor", "admin"]), default="editor", show_default=True)
@click.option("--agency", help="Scope an editor to one agency of the catalog (e.g. bj-stats): it commits only "
                               "the indicators that agency owns. 限定机构。")
@PASSWORD_STDIN
@pass_cli
def users_add(cli: Cli, name: str, role: str, agency: str | None, password_stdin: bool) -> None:
    """Create an account (the password is stored hashed with scrypt)."""
    from indicators import users

    try:
        account = users.add_user(cli.engine, name, _new_password(password_stdin), role, agency=agency,
                                 catalog=cli.catalog)
    except users.AccountError as exc:
        cli.fail(exc)
    scope = f", agency {account.agency}" if account.agency else ""
    click.echo(f"user {account.name} ({account.role}{scope}) created. 已创建用户。")


@users_group.command("scope")
@click.argument("name")
@click.option("--agency", help="The agency (e.g. bj-stats); leave out to remove the scope.")
@pass_cli
def users_scope(cli: Cli, name: str, agency: str | None) -> None:
    """Scope an editor to an agency, or remove its scope; its sessions end. 设置或取消编辑者的机构范围。"""
    from indicators import users

    try:
        users.set_agency(cli.engine, name, agency, cli.catalog)
    except users.AccountError as exc:
        cli.fail(exc)
    click.echo(f"user {name}: {'agency ' + agency if agency else 'not scoped'}. 已更新。")


@users_group.command("passwd")
@click.argument("name")
@PASSWORD_STDIN
@pass_cli
def users_passwd(cli: Cli, name: str, password_stdin: bool) -> None:
    """Set a new password; every session of the account ends (signed out everywhere)."""
    from indicators import users

    try:
        users.set_password(cli.engine, name, _new_password(password_stdin))
    except users.AccountError as exc:
        cli.fail(exc)
    click.echo("password changed. 密码已更改。")


def _activation_command(command: str, active: bool, help_text: str, done: str) -> None:
    """``users disable`` and ``users enable``: the same change of the account's active flag."""

    @users_group.command(command, help=help_text)
    @click.argument("name")
    @pass_cli
    def set_active(cli: Cli, name: str) -> None:
        from indicators import users

        try:
            users.set_active(cli.engine, name, active)
        except users.AccountError as exc:
            cli.fail(exc)
        click.echo(f"user {name} {done}")


_activation_command("disable", False, "Stop an account from signing in and end its sessions (its batches keep its name).",
                    "disabled. 已停用。")
_activation_command("enable", True, "Let a disabled account sign in again.", "enabled. 已启用。")


@users_group.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_cli
def users_list(cli: Cli, fmt: str) -> None:
    """Every account with its role (and the agency a scoped editor belongs to)."""
    from indicators import users

    frame = queries.users(cli.engine)
    frame.insert(2, "agency", frame["name"].map(users.agencies_by_name(cli.engine)))
    emit(frame, fmt, title="Users / 用户")


def _export_or_exit(action):
    """Run an export; a missing, busy or failing browser is a clear bilingual message and exit 1, not a stack trace."""
    from indicators.export import ExportError

    try:
        return action()
    except ExportError as exc:
        Cli.fail(exc)


@main.command("export-png")
@click.argument("indicator")
@click.option("--region", "regions", multiple=True, help="Region code or name; repeat for several (default: home).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--size", type=click.Choice(["slide", "page"]), default="slide", show_default=True,
              help="slide: 16:9, 2560x1440 px; page: 1920x1200 px (both 2x).")
@click.option("--svg", is_flag=True, help="Write SVG instead of PNG.")
@click.option("--years", help="START,END: only these years, as the trend page's year range (e.g. 2015,2024).")
@click.option("--vintages", is_flag=True, help="Also draw earlier vintages (values before revision).")
@click.option("--as-of", "as_of", callback=_parse_date, help="Draw what was known on this date (YYYY-MM-DD).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="File to write (default: a name with indicator, regions, years, language, size and date).")
@pass_cli
def export_png(cli: Cli, indicator, regions, lang, size, svg, years, vintages, as_of, output) -> None:
    """Export one indicator's trend chart, as the trend page draws it, ready to paste into a briefing.
    导出单个指标图表(与趋势页相同的视图)。"""
    from indicators import briefing, export
    from indicators.snapshot import snapshot

    code = cli.indicator(indicator)
    codes = [cli.region(r) for r in regions] or None
    span = export.parse_years(years) if years is not None else None
    if years is not None and span is None:
        raise click.BadParameter(f"expected START,END (e.g. 2015,2024), got {years!r} / 年份范围格式应为 起,止",
                                 param_hint="--years")
    snap = snapshot(cli.engine, cli.catalog, as_of=as_of)
    chart = briefing.indicator_chart(snap, code, lang=lang, regions=codes, size=size, years=span, vintages=vintages)
    fmt = "svg" if svg else "png"
    output = output or export.file_name(code, lang=lang, size=size, fmt=fmt, regions=codes, years=span)
    image = _export_or_exit(lambda: export.to_image(chart.figure, size=size, fmt=fmt))
    with open(output, "wb") as fh:
        fh.write(image)
    click.echo(f"{output}: {chart.finding}")


@main.command("brief")
@click.option("--pillar", help="Only this pillar (e.g. science).")
@click.option("--indicator", "indicators", multiple=True, help="Only these indicators; repeat for several.")
@click.option("--region", "regions", multiple=True, help="Regions drawn beside the home region.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--size", type=click.Choice(["slide", "page"]), default="slide", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
@pass_cli
def brief(cli: Cli, pillar, indicators, regions, lang, size, output) -> None:
    """Build a briefing pack (zip): a PNG per indicator, the scorecard, the status table and an index."""
    from rich.progress import Progress

    from indicators import briefing
    from indicators.snapshot import snapshot

    catalog = cli.catalog
    if pillar and pillar not in catalog.pillars:
        raise click.BadParameter(f"unknown pillar {pillar!r}; one of {', '.join(catalog.pillars)}",
                                 param_hint="--pillar")
    codes = [cli.indicator(i) for i in indicators] or None
    home = catalog.programme.home_region
    region_codes = [home] + [cli.region(r) for r in regions] if regions else None
    snap = snapshot(cli.engine, catalog)
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("Building the briefing pack / 正在生成简报包", total=None)

        def step(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{what}")

        pack = _export_or_exit(lambda: briefing.build_pack(snap, lang=lang, pillar=pillar, indicators=codes,
                                                           regions=region_codes, size=size, on_progress=step))
    with open(output, "wb") as fh:
        fh.write(pack)
    click.echo(f"{output}: {len(pack) / 1e6:.1f} MB")


@main.command("report")
@click.option("--period", help="The quarter reported on, e.g. 2026Q4 (default: the quarter of --as-of, else today's).")
@click.option("--as-of", "as_of", callback=_parse_date,
              help="Report what was known on this date (YYYY-MM-DD); the report names it, so it can be rebuilt.")
@click.option("--since", callback=_parse_date, help="The date of the last report (YYYY-MM-DD): what changed since.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True,
              help="FILE.docx (Word) or FILE.pptx (PowerPoint): the format follows the name.")
@pass_cli
def report_command(cli: Cli, period: str | None, as_of: date | None, since: date | None, lang: str, output: str) -> None:
    """Write the work report: Word (.docx) or PowerPoint (.pptx), with the data version it was built from.
    生成工作报告(Word 或 PowerPoint)。"""
    from rich.progress import Progress

    from indicators import report
    from indicators.snapshot import snapshot

    fmt = report.format_of(output)
    if fmt is None:
        raise click.BadParameter(f"{output!r}: the file name must end in .docx or .pptx / 文件名须以 .docx 或 .pptx 结尾",
                                 param_hint="--output")
    chosen = report.parse_period(period) if period is not None else report.period_of(as_of or date.today())
    if chosen is None:
        raise click.BadParameter(f"expected a year and a quarter (e.g. 2026Q4), got {period!r} / 报告期格式应为 2026Q4",
                                 param_hint="--period")
    if since is not None and since > (as_of or date.today()):
        raise click.BadParameter(f"{since} is after the report's as-of date / 上次报告日期晚于数据截至日期",
                                 param_hint="--since")
    snap = snapshot(cli.engine, cli.catalog, as_of=as_of)
    spec = report.ReportSpec(lang=lang, period=chosen, as_of=as_of, since=since, file_name=Path(output).name)
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("Writing the report / 正在生成报告", total=None)

        def step(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what)

        extras = report.gather_extras(snap, spec)  # tasks, overdue data by owner, changes since --since
        data = _export_or_exit(lambda: report.build(snap, spec, fmt=fmt, extras=extras, on_progress=step))
    with open(output, "wb") as fh:
        fh.write(data)
    prov = report.provenance(snap, spec)
    click.echo(f"{output}: {len(data) / 1e6:.1f} MB; data as of {prov.data_as_of}, version {prov.version[0]}/"
               f"{prov.version[1]}, fingerprint {prov.fingerprint}")

def _scoped_account(cli: Cli, user: str):
    """The account ``--user`` names, when it is one: None for a name that is no account (the CLI runs as an
    operator of the machine, as before accounts existed) or an unscoped editor or admin. An account that may
    not edit is refused; a scoped editor is returned, and its scope is checked before anything is written."""
    from indicators import users

    account = users.account_named(cli.engine, user)
    if account is None:
        return None
    if not account.can_edit:
        cli.fail(Text(f"账号 {user} 没有编辑权限", f"account {user} may not change data"))
    return account if account.agency is not None else None


def _enforce_scope(cli: Cli, account, indicator_codes) -> None:
    """Stop (exit 1, nothing written) when a scoped account names another agency's indicator."""
    from indicators import users

    try:
        users.check_scope(account, indicator_codes, cli.catalog)
    except users.ScopeRefused as exc:
        cli.fail(exc)


LANG = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
WIDE = click.option("--wide", is_flag=True, help="Every column (default: the main ones).")
TASK_COLUMNS = ["task", "title", "pillar", "lead", "due", "status"]


@main.group("tasks", invoke_without_command=True)
@click.option("--pillar", help="Only this pillar (e.g. science).")
@click.option("--status", "status_code", type=click.Choice([*TASK_STATUS_CHOICES]), help="Only this status.")
@click.option("--as-of", "as_of", callback=_parse_date, help="Statuses as known on this date (YYYY-MM-DD).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@LANG
@WIDE
@click.pass_context
def tasks_group(ctx, pillar, status_code, as_of, fmt, lang, wide) -> None:
    """The plan's tasks with their status, delayed and at-risk first. 规划任务及其状态。

    Without a subcommand, list them (columns task,title,pillar,lead,due,status; --wide: all).
    """
    if ctx.invoked_subcommand is not None:
        return
    from indicators import tasks

    cli = ctx.ensure_object(Cli)
    if pillar is not None and pillar not in cli.catalog.pillars:
        raise click.BadParameter(f"unknown pillar {pillar!r}; one of {', '.join(cli.catalog.pillars)}",
                                 param_hint="--pillar")
    frame = tasks.register(cli.engine, cli.catalog, lang=lang, as_of=as_of, pillar=pillar, status=status_code)
    if not wide:
        frame = frame[TASK_COLUMNS]
    else:
        frame = frame.assign(indicators=frame["indicators"].map(" ".join), documents=frame["documents"].map(" ".join))
    emit(frame, fmt, title="Tasks / 任务")


@tasks_group.command("set")
@click.argument("task")
@click.argument("status_code", metavar="STATUS", type=click.Choice(TASK_STATUS_CHOICES[:-1]))
@click.option("--date", "day", required=True, help="The day the status describes (YYYY-MM-DD).")
@click.option("--note", required=True, help="Why: one sentence. 说明。")
@click.option("--evidence", required=True, help="An address (http/https) or a publication id of the catalog.")
@click.option("--user", default=lambda: os.environ.get("USER", "cli"), show_default="$USER")
@pass_cli
def tasks_set(cli: Cli, task: str, status_code: str, day: str, note: str, evidence: str, user: str) -> None:
    """Set one task's status (kept with its history; `revert` takes it back). 设置任务状态。"""
    frame = pd.DataFrame([{"task": task, "status": status_code, "date": day, "note": note, "evidence": evidence}])
    _save_statuses(cli, frame, user=user, file_name=None, checksum=None)


@tasks_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--user", default=lambda: os.environ.get("USER", "cli"), show_default="$USER")
@click.option("--note", help="Why these statuses are loaded (kept with the batch).")
@click.option("--dry-run", is_flag=True, help="Check only; write nothing.")
@pass_cli
def tasks_load(cli: Cli, file: str, user: str, note: str | None, dry_run: bool) -> None:
    """Load task statuses from a CSV file (task,status,date,note,evidence): all rows or none.
    从 CSV 导入任务状态:任何错误都不写入。"""
    from indicators import tasks
    from indicators.store import file_checksum

    content = Path(file).read_bytes()
    scoped = _scoped_account(cli, user)
    upload = tasks.read_csv(content, cli.catalog, today=date.today(), file_name=Path(file).name,
                            agency=scoped.agency if scoped else None)
    _report_statuses(upload)
    if not upload.ok:
        sys.exit(EXIT_REJECTED)
    if dry_run:
        click.echo(f"试运行:{len(upload.rows)} 行检查无误,未写入 / dry run: {len(upload.rows)} rows checked, "
                   "nothing written")
        return
    _write_statuses(cli, upload, user=user, checksum=file_checksum(content), note=note)


def _save_statuses(cli: Cli, frame: pd.DataFrame, *, user: str, file_name: str | None, checksum: str | None) -> None:
    from indicators import tasks

    scoped = _scoped_account(cli, user)
    upload = tasks.check_rows(frame, cli.catalog, today=date.today(), file_name=file_name or "(command line)",
                              agency=scoped.agency if scoped else None)
    if not upload.ok:
        _report_statuses(upload)
        sys.exit(EXIT_REJECTED)
    _write_statuses(cli, upload, user=user, checksum=checksum, note=None)


def _write_statuses(cli: Cli, upload, *, user: str, checksum: str | None, note: str | None) -> None:
    from indicators import tasks

    result = tasks.set_statuses(cli.engine, upload, user=user, checksum=checksum, note=note)
    if result.already_loaded_as is not None:
        click.echo(f"该文件已导入(批次 {result.already_loaded_as}),未做任何更改 / already loaded as batch "
                   f"{result.already_loaded_as}; nothing to do")
    elif result.batch_id is None:
        click.echo(f"状态未变,未写入 / {result.n_unchanged} statuses unchanged; nothing written")
    else:
        click.echo(f"已记录为批次 {result.batch_id}:{result.n_new} 个状态 / recorded as batch {result.batch_id}: "
                   f"{result.n_new} statuses ({result.n_unchanged} unchanged)")


def _report_statuses(upload) -> None:
    """The problems of a status upload, as the ingest report prints them: line, column, value, code, message."""
    if not upload.problems:
        return
    table = Table(title=upload.file_name, show_lines=False, header_style="bold")
    for name in ("", "行 line", "列 column", "值 value", "代码 code", "说明 message"):
        table.add_column(name, overflow="fold")
    for p in upload.problems:
        mark = "[red]错误 error[/red]" if p["severity"] == "error" else "[yellow]警告 warning[/yellow]"
        table.add_row(mark, "" if p["row"] is None else str(p["row"]), p["column"] or "", p["value"] or "",
                      p["code"], f"{escape(p['message_zh'])}\n{escape(p['message_en'])}")
    Console(stderr=True, width=max(100, _terminal_width())).print(table)
    if not upload.ok:
        err.print("[red]任务状态被拒绝,未写入任何数据 / statuses rejected; nothing was written[/red]")


@tasks_group.command("history")
@click.option("--task", help="Only this task (e.g. T3-1).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_cli
def tasks_history(cli: Cli, task: str | None, fmt: str) -> None:
    """Every status ever set, with its batch and user; retracted ones marked. 任务状态历史。"""
    from indicators import tasks

    emit(tasks.status_history(cli.engine, task=task), fmt, title="Task status history / 任务状态历史")


@main.command("regions")
@click.option("--kind", type=click.Choice(["city", "province", "country", "metropolitan_area", "zone", "district"]),
              help="Only regions of this kind.")
@click.option("--parent", help="Only regions inside this one (e.g. beijing).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@LANG
@pass_cli
def list_regions(cli: Cli, kind: str | None, parent: str | None, fmt: str, lang: str) -> None:
    """Regions of the catalog with their kind and parent (zones and districts under their city). 地区。"""
    parent_code = cli.region(parent) if parent else None
    rows = [{"code": r.code, "name": r.name.pick(lang), "kind": r.kind, "parent": r.parent or ""}
            for r in cli.catalog.regions.values()
            if (kind is None or r.kind == kind) and (parent_code is None or r.parent == parent_code)]
    emit(pd.DataFrame(rows, columns=["code", "name", "kind", "parent"]), fmt, title="Regions / 地区")


@main.command("calendar")
@click.option("--region", help="Whose data (default: the home region).")
@click.option("--today", "today", callback=_parse_date, help="Judge as on this date (default: today).")
@click.option("--owner", help="Only the indicators this agency owns (e.g. bj-stats).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@LANG
@WIDE
@pass_cli
def release_calendar(cli: Cli, region, today, owner, fmt, lang, wide) -> None:
    """Who owes which figure and when: owner, latest year held, next expected release, overdue. 发布日历。"""
    from indicators.calendar import calendar

    reg = cli.optional_region(region)
    if owner is not None and owner not in cli.catalog.agencies:
        raise click.BadParameter(f"unknown agency {owner!r}; one of {', '.join(cli.catalog.agencies)}",
                                 param_hint="--owner")
    obs = queries.observations(cli.engine, region=reg or cli.catalog.programme.home_region)
    frame = calendar(obs, cli.catalog, today or date.today(), region=reg, lang=lang)
    if owner is not None:
        frame = frame[frame["owner"] == owner]
    frame = frame.assign(next_release=frame["next_release"].map(lambda d: d.isoformat() if d else ""))
    emit(frame if wide else frame[["indicator", "owner", "next_release", "overdue"]], fmt,
         title="Release calendar / 发布日历")


@main.command("changes")
@click.option("--from", "start", callback=_parse_date, required=True, help="The earlier date (YYYY-MM-DD).")
@click.option("--to", "end", callback=_parse_date, required=True, help="The later date (YYYY-MM-DD).")
@click.option("--region", help="Only values and ranks of this region (default: every region).")
@click.option("--section", type=click.Choice(["values", "statuses", "ranks", "tasks"]), help="Only this part.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@LANG
@pass_cli
def list_changes(cli: Cli, start, end, region, section, fmt, lang) -> None:
    """What changed between two dates: values arrived, revised or retracted, and the target statuses, ranks
    and task statuses that moved (old -> new). 两个日期之间的变化。"""
    from indicators.changes import changes

    if end < start:
        raise click.BadParameter("--to is before --from / 结束日期早于开始日期", param_hint="--to")
    result = changes(cli.engine, cli.catalog, start, end, lang=lang, region=cli.optional_region(region))
    frame = result.flat(lang)
    if section is not None:
        frame = frame[frame["section"] == section]
    emit(frame, fmt, title=f"Changes {start} -> {end} / 变化")


if __name__ == "__main__":
    main()
