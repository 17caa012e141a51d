"""The console: live progress while a drill runs, then its figures and findings.

On a terminal the current phase, step, elapsed time and a steady/failing indicator stay on one
live line. Elsewhere (CI logs, pipes) every event is one plain line, with no ANSI codes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from drillbook.load.windows import LoadFigures
from drillbook.measure import Figure
from drillbook.redact import Redactor
from drillbook.report import BaseListener
from drillbook.verdict import Finding, Status

if TYPE_CHECKING:
    from drillbook.journal import FaultRecord, Phase, Sample, StepRecord
    from drillbook.result import RunResult, SuiteResult
    from drillbook.scenario.model import Scenario

STATUS_STYLE = {
    Status.PASS: "bold green",
    Status.FAIL: "bold red",
    Status.COULD_NOT_VERIFY: "bold yellow",
}


def status_text(status: Status) -> Text:
    return Text(status.value, style=STATUS_STYLE[status])


class _Progress:
    """What the live line shows; rendered again on every refresh, so elapsed time moves."""

    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
        self.started = now()
        self.scenario = ""
        self.phase = "starting"
        self.step = ""
        self.ok: bool | None = None
        self.samples = 0
        self.failing = 0
        self.spinner = Spinner("dots")

    def elapsed(self) -> float:
        return self.now() - self.started

    def __rich__(self) -> RenderableType:
        line = Text.assemble(
            (self.scenario, "bold"), "  ", (self.phase, "cyan"), f"  {self.elapsed():6.1f}s"
        )
        if self.step:
            line.append(f"  {self.step}", style="dim")
        if self.ok is not None:
            line.append("  ● steady" if self.ok else "  ● FAILING", "green" if self.ok else "red")
            line.append(f" ({self.samples} samples, {self.failing} failing)", style="dim")
        grid = Table.grid(padding=(0, 1))
        grid.add_row(self.spinner, line)
        return grid


class ConsoleReporter(BaseListener):
    """Progress while a drill runs (live on a terminal, plain lines elsewhere), then its tables."""

    def __init__(
        self,
        console: Console | None = None,
        *,
        redactor: Redactor | None = None,
        live: bool | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console or Console(highlight=False)
        self.redactor = redactor or Redactor()
        self.live_mode = self.console.is_terminal if live is None else live
        self._now = now
        self._lock = threading.RLock()
        self._progress = _Progress(now)
        self._live: Live | None = None

    # -- events ---------------------------------------------------------------------------------

    def on_run_start(self, scenario: Scenario, run_id: str) -> None:
        with self._lock:
            self._progress = _Progress(self._now)
            self._progress.scenario = scenario.name
            self._say(f"▶ {scenario.name} (run {run_id})", style="bold")
            if self.live_mode:
                self._live = Live(
                    self._progress, console=self.console, refresh_per_second=4, transient=True
                )
                self._live.start()

    def on_phase(self, phase: Phase) -> None:
        with self._lock:
            self._progress.phase, self._progress.step = phase, ""
            if not self.live_mode:
                self._event(f"phase {phase}")

    def on_step_start(self, phase: Phase, index: int, description: str) -> None:
        label = f"{phase}[{index}] {description}"
        with self._lock:
            self._progress.step = label
            if not self.live_mode:
                self._event(f"step {label} started")

    def on_step_end(self, record: StepRecord) -> None:
        label = f"{record.phase}[{record.index}] {record.id or record.kind}"
        if record.skipped:
            outcome, style = "skipped (dry run)", "yellow"
        elif record.timed_out:
            outcome, style = f"timed out after {record.duration:.2f} s, killed", "red"
        elif not record.ok:
            code = f" (exit {record.exit_code})" if record.exit_code is not None else ""
            outcome, style = f"failed{code} after {record.duration:.2f} s", "red"
        else:
            outcome, style = f"ok in {record.duration:.2f} s", "green"
        with self._lock:
            self._progress.step = ""
            self._event(f"step {label} {outcome}", style=style)
            if not record.ok and not record.skipped:
                for line in record.output_tail[-5:]:
                    self._say(f"    | {line}", style="dim")

    def on_fault(self, record: FaultRecord) -> None:
        if record.skipped:
            outcome = "skipped (dry run)"
        else:
            outcome = "injected" if record.ok else f"FAILED: {record.error}"
        with self._lock:
            self._event(
                f"fault[{record.index}] {record.kind} on {record.target} {outcome}",
                style="magenta" if record.ok else "red",
            )

    def on_sample(self, sample: Sample) -> None:
        with self._lock:
            progress = self._progress
            was = progress.ok
            progress.ok = sample.ok
            progress.samples += 1
            progress.failing += 0 if sample.ok else 1
            if was is None or was == sample.ok:
                return
            if sample.ok:
                self._event(f"steady state ok again (sample at +{sample.t:.2f} s)", style="green")
            else:
                why = "; ".join(
                    f"{p.probe}: {p.detail or 'failed'}" for p in sample.results if not p.ok
                )
                self._event(
                    f"steady state FAILING (sample at +{sample.t:.2f} s): {why}", style="red"
                )

    def on_log(self, line: str) -> None:
        with self._lock:
            self._say(f"  {line}", style="dim")

    def on_run_end(self, result: RunResult) -> None:
        with self._lock:
            self._stop_live()
            self.console.print(render_run(self.redactor.redact(result)))

    def on_suite_end(self, result: SuiteResult) -> None:
        with self._lock:
            self._stop_live()
            if len(result.results) > 1:
                self.console.print(render_suite(self.redactor.redact(result)))

    # -- output ---------------------------------------------------------------------------------

    def _stop_live(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _say(self, text: str, style: str = "") -> None:
        self.console.print(Text(self.redactor.text(text), style=style), soft_wrap=True)

    def _event(self, text: str, style: str = "") -> None:
        stamp = f"[{self._progress.elapsed():7.1f}s] "
        self._say(stamp + text, style=style)


# -- tables -------------------------------------------------------------------------------------


def render_run(result: RunResult) -> RenderableType:
    """The verdict line, step timings, figures (value and what they measure), and findings."""
    verdict = result.verdict
    head = Text.assemble(
        (result.scenario, "bold"),
        "  ",
        status_text(verdict.status),
        f"  run {result.run_id} on {result.backend}, {result.run_time:.1f} s",
    )
    parts: list[RenderableType] = [Text(""), head]
    if result.measurements.steps:
        parts.append(_steps_table(result))
    m = result.measurements
    figures = m.figures()
    if not m.tables:  # no data check declared: three "not measured" rows say nothing
        figures = tuple(f for f in figures if f.unit != "rows")
    parts.append(_figures_table(figures))
    if m.load is not None:
        parts.append(_load_table(m.load))
    parts.append(_Findings(result.verdict.findings))
    if result.report_dir is not None:
        parts.append(Text(f"reports: {result.report_dir}", style="dim"))
    return Group(*parts)


def _load_table(load: LoadFigures) -> Table:
    """What users felt, per window: requests, error rate and latency."""
    table = Table(
        title=f"load ({load.requests} requests, {load.failures} failed)",
        title_justify="left",
        show_edge=False,
    )
    for name in ("window", "requests", "errors", "p50", "p95", "p99"):
        table.add_column(name, justify="left" if name == "window" else "right")

    def ms(seconds: float | None) -> str:
        return "-" if seconds is None else f"{seconds * 1000:.1f} ms"

    for w in load.windows:
        rate = "-" if w.error_rate is None else f"{w.error_rate:.1%}"
        table.add_row(w.name, str(w.requests), rate, ms(w.p50), ms(w.p95), ms(w.p99))
    return table


def _steps_table(result: RunResult) -> Table:
    table = Table(title="steps", title_justify="left", show_edge=False)
    for name in ("step", "what", "duration", "result"):
        table.add_column(name, justify="right" if name == "duration" else "left")
    for s in result.measurements.steps:
        if s.skipped:
            outcome = Text("skipped", style="yellow")
        elif s.timed_out:
            outcome = Text("timed out", style="red")
        elif not s.ok:
            outcome = Text(f"failed (exit {s.exit_code})", style="red")
        else:
            outcome = Text("ok", style="green")
        table.add_row(
            Text(f"{s.phase}[{s.index}] {s.id or ''}".rstrip()),
            Text(s.description or s.kind),
            f"{s.duration:.2f} s",
            outcome,
        )
    return table


def _figures_table(figures: tuple[Figure, ...]) -> Table:
    table = Table(title="figures", title_justify="left", show_edge=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("what it measures", ratio=1)
    for f in figures:
        what = f.what if not f.note else f"{f.what} ({f.note})"
        style = "dim" if f.value is None and not f.open_ended else ""
        table.add_row(Text(f.name), Text(f.display(), style=style), Text(what))
    return table


class _Findings:
    """A table when there is room for the messages, one line per finding when there is not."""

    WIDE = 110

    def __init__(self, findings: tuple[Finding, ...]) -> None:
        self.findings = findings

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width >= self.WIDE:
            table = Table(title="findings", title_justify="left", show_edge=False)
            for name in ("status", "criterion", "code", "message"):
                table.add_column(
                    name, ratio=1 if name == "message" else None, no_wrap=name != "message"
                )
            for f in self.findings:
                table.add_row(
                    status_text(f.status), Text(f.criterion), Text(f.code.value), Text(f.message)
                )
            yield table
            return
        yield Text("findings", style="italic")
        for f in self.findings:
            yield Text.assemble(
                status_text(f.status),
                f"  {f.criterion}  ",
                (f.code.value, "bold"),
                f"  {f.message}",
            )


def render_suite(suite: SuiteResult) -> RenderableType:
    """One line per drill: verdict, time to recover, outage, rows lost, wall time."""
    table = Table(title="suite", title_justify="left", show_edge=False)
    for name in ("scenario", "verdict", "TTR", "outage", "rows lost", "wall time"):
        table.add_column(name, justify="left" if name in ("scenario", "verdict") else "right")
    for r in suite.results:
        m = r.measurements
        table.add_row(
            Text(r.scenario),
            Text(r.verdict.summary(), style=STATUS_STYLE[r.status]),
            m.time_to_recover.display(),
            m.outage.display(),
            m.rows_lost.display(),
            f"{r.run_time:.1f} s",
        )
    totals = (
        f"{suite.count(Status.PASS)} passed, {suite.count(Status.FAIL)} failed, "
        f"{suite.count(Status.COULD_NOT_VERIFY)} could not verify; exit code {suite.exit_code}"
    )
    return Group(Text(""), table, Text(totals, style="bold"))
