"""`drillbook history` and `drillbook report compliance`: what the history store remembers.

Mounted by cli.py; kept apart so the main command module stays about running drills.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from drillbook.errors import UsageError
from drillbook.history import ENV_VAR, History, HistoryRecord, default_path, sparkline

console = Console()

HistoryOpt = Annotated[
    Path | None,
    typer.Option(
        "--history",
        envvar=ENV_VAR,
        help="the history store (default: history.sqlite in --reports-dir)",
    ),
]
ReportsOpt = Annotated[
    Path, typer.Option(help="the reports folder that holds history.sqlite and run folders")
]


def parse_day(value: str | None, option: str) -> datetime | None:
    """'2026-01-01' or an ISO time -> an aware UTC datetime (a bare date is midnight UTC)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{option} {value!r}: expected a date such as 2026-01-01 or an ISO time"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def history_store(history: Path | None, reports_dir: Path) -> History:
    return History(history if history is not None else default_path(reports_dir))


def _seconds(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else "—"


def _status(record: HistoryRecord) -> str:
    colour = {"PASS": "green", "FAIL": "red"}.get(record.status.value, "yellow")
    return f"[{colour}]{record.status.value}[/{colour}]"


def history(
    scenario: Annotated[
        str | None, typer.Argument(help="only this scenario (default: every scenario)")
    ] = None,
    since: Annotated[str | None, typer.Option(help="runs started on or after this date")] = None,
    until: Annotated[str | None, typer.Option(help="runs started before this date")] = None,
    last: Annotated[int, typer.Option(min=1, help="rows shown per scenario")] = 10,
    chart: Annotated[
        Path | None, typer.Option(help="also write a PNG chart of time to recover here")
    ] = None,
    history_path: HistoryOpt = None,
    reports_dir: ReportsOpt = Path("reports"),
) -> None:
    """Show each scenario's trend: its last runs with time to recover and status."""
    store = history_store(history_path, reports_dir)
    records = store.runs(
        scenario, since=parse_day(since, "--since"), until=parse_day(until, "--until")
    )
    if not records:
        console.print(f"no runs in {store.path}" + (f" for {scenario}" if scenario else ""))
        raise typer.Exit(0)
    groups: dict[tuple[str, str], list[HistoryRecord]] = {}
    for record in records:
        groups.setdefault((record.scenario, record.backend), []).append(record)
    for (name, backend), runs in sorted(groups.items()):
        shown = runs[-last:]
        passed = sum(r.passed for r in runs)
        trend = sparkline([r.ttr for r in shown])
        console.print(
            f"[bold]{name}[/bold] ({backend}): {len(runs)} run(s), {passed} passed; "
            f"time to recover {trend}",
            highlight=False,
        )
        table = Table("started (UTC)", "status", "time to recover", "outage", "rows lost",
                      "codes", "run id")
        for r in shown:
            table.add_row(
                r.started_utc.strftime("%Y-%m-%d %H:%M:%S"), _status(r), _seconds(r.ttr),
                _seconds(r.outage), "—" if r.rows_lost is None else str(r.rows_lost),
                ", ".join(r.codes), r.run_id,
            )
        console.print(table)
    if chart is not None:
        from drillbook.history import write_chart

        write_chart(records, chart)
        console.print(f"chart written to {chart}")


report_app = typer.Typer(help="Reports built from the history store.", no_args_is_help=True)


@report_app.command("compliance")
def compliance(
    since: Annotated[str, typer.Option(help="first day of the period, e.g. 2026-01-01")],
    until: Annotated[
        str | None, typer.Option(help="end of the period (exclusive); default now")
    ] = None,
    out: Annotated[Path, typer.Option(help="folder the report is written to")] = Path("reports"),
    pdf: Annotated[
        bool, typer.Option(help="also print the HTML to PDF with headless Chromium")
    ] = False,
    history_path: HistoryOpt = None,
    reports_dir: ReportsOpt = Path("reports"),
) -> None:
    """One HTML file covering every drill in a period, mapped to controls (guidance only)."""
    from drillbook.report.compliance import print_pdf, write_compliance

    start = parse_day(since, "--since")
    end = parse_day(until, "--until") or datetime.now(UTC)
    assert start is not None
    store = history_store(history_path, reports_dir)
    records = store.runs(since=start, until=end)
    path = write_compliance(records, out, since=start, until=end, reports_dir=reports_dir)
    console.print(f"compliance report ({len(records)} run(s)) written to {path}")
    if pdf:
        console.print(f"PDF written to {print_pdf(path)}")
