"""The ``innovation-monitor`` command line (also ``python -m indicators``).

Only argument handling and output formatting belong here; each command calls the engine modules.
Exit codes: 0 success, 1 rejected input (a report is printed), 2 usage error.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

from indicators import db, queries, settings
from indicators.catalog import CatalogError, load_catalog
from indicators.store import RevertRefused, revert_batch

EXIT_REJECTED = 1
FORMATS = click.Choice(["table", "csv", "json"])

err = Console(stderr=True)


def _engine():
    return db.engine_for(settings.database_url())


def _require_schema(engine) -> None:
    if db.schema_revision(engine) is None:
        err.print("[red]The database is empty. Run `innovation-monitor init` first.[/red] "
                  "数据库为空,请先运行 `innovation-monitor init`。")
        sys.exit(EXIT_REJECTED)


def emit(frame: pd.DataFrame, fmt: str, title: str | None = None) -> None:
    """Print a DataFrame as a human table (default), CSV or JSON records."""
    if fmt == "csv":
        frame.to_csv(sys.stdout, index=False, lineterminator="\n")
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="innovation-monitor")
def main() -> None:
    """innovation-monitor: science and innovation indicators against the targets of a plan.

    科技创新政策指标监测:对照规划目标跟踪进展。
    """


@main.command()
def init() -> None:
    """Create or upgrade the database, load the catalog and the shipped data. Safe to run again."""
    from indicators.seed import run_init

    engine = _engine()
    try:
        catalog = load_catalog(settings.catalog_dir())
    except CatalogError as exc:
        err.print(f"[red]{exc}[/red]")
        sys.exit(EXIT_REJECTED)
    with err.status("Initialising the database / 正在初始化数据库 …"):
        report = run_init(engine, catalog)
    url = engine.url.render_as_string(hide_password=True)
    click.echo(f"database: {url}")
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
    click.echo("Done: changes applied. 完成。" if report.changed else "Nothing to do: already up to date. 无需更改。")


@main.command("indicators")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def list_indicators(fmt: str, lang: str) -> None:
    """List the indicator catalog."""
    catalog = load_catalog(settings.catalog_dir())
    rows = []
    for ind in catalog.indicators.values():
        unit = catalog.units[ind.unit]
        rows.append({
            "code": ind.code, "name": ind.name.get(lang), "unit": unit.name.get(lang), "kind": ind.kind,
            "direction": ind.direction, "pillar": ind.pillar, "frequency": ind.frequency,
            "targets": "; ".join(f"{t.wording.get(lang)} ({t.plan})" for t in ind.targets if t.qualifier != "none"),
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
def list_observations(indicator, region, as_of, history, fmt) -> None:
    """Observations with their source, confidence and batch."""
    catalog = load_catalog(settings.catalog_dir())
    ind = _resolve(indicator, catalog.find_indicator, "indicator", "指标")
    reg = _resolve(region, catalog.find_region, "region", "地区")
    engine = _engine()
    _require_schema(engine)
    frame = queries.observations(engine, indicator=ind, region=reg, as_of=as_of, history=history)
    columns = ["indicator", "region", "year", "value", "unit", "source", "confidence", "batch", "published_on", "note"]
    if history:
        columns += ["version", "status"]
    emit(frame[columns], fmt, title="Observations / 观测值")


def _resolve(name: str | None, finder, what: str, what_zh: str) -> str | None:
    if name is None:
        return None
    code = finder(name)
    if code is None:
        raise click.BadParameter(f"unknown {what} {name!r} / 未知{what_zh}", param_hint=f"--{what}")
    return code


@main.command("batches")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
def list_batches(fmt: str) -> None:
    """Every batch (seed, upload, revert) with its counts."""
    engine = _engine()
    _require_schema(engine)
    frame = queries.batches(engine)
    cols = ["id", "kind", "file_name", "created_at", "user", "n_new", "n_revised", "n_unchanged", "n_skipped",
            "n_rejected", "reverts_batch_id", "reverted_by_batch_id", "note"]
    emit(frame[cols], fmt, title="Batches / 批次")


@main.command("revert")
@click.argument("batch", type=int)
@click.option("--user", default=lambda: os.environ.get("USER", "cli"), show_default="$USER")
@click.option("--note", help="Why the batch is reverted.")
def revert(batch: int, user: str, note: str | None) -> None:
    """Restore exactly the state before BATCH (recorded as a batch of its own)."""
    engine = _engine()
    _require_schema(engine)
    try:
        with engine.begin() as conn:
            result = revert_batch(conn, batch, user=user, note=note)
    except RevertRefused as exc:
        err.print(f"[red]{exc.message_zh}[/red]\n[red]{exc.message_en}[/red]")
        sys.exit(EXIT_REJECTED)
    click.echo(f"batch {batch} reverted by batch {result.batch_id}: {result.n_revised} earlier values restored.")
    click.echo(f"已撤销批次 {batch}(撤销记录为批次 {result.batch_id}),恢复 {result.n_revised} 个原值。")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--debug", is_flag=True, help="Dash's development server with hot reload (not for production).")
def serve(host: str, port: int, threads: int, debug: bool) -> None:
    """Serve the dashboard (waitress; Dash's debug server only with --debug)."""
    import importlib

    engine = _engine()
    _require_schema(engine)
    shell = importlib.import_module("app")  # the Dash shell lives outside this package
    if debug:
        shell.app.run(host=host, port=port, debug=True)
        return
    from waitress import serve as waitress_serve

    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C to stop) 服务已启动")
    waitress_serve(shell.server, host=host, port=port, threads=threads)


if __name__ == "__main__":
    main()
