"""One self-contained HTML file per suite (or per run): no scripts, no external assets.

A summary table of every drill, then per drill its figures with what each measures, findings
coloured by status, a timeline of marks, faults and steps, a strip of the steady-state samples
(inline SVG), step output tails and service facts. A `timeline.png` in the run's report folder
is embedded as a data URI, so the file can be mailed or archived alone. Jinja2 escapes every
value; every text goes through the Redactor first as well.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import jinja2

from drillbook import __version__
from drillbook.measure import Figure
from drillbook.redact import Redactor
from drillbook.report.json_report import compress_samples
from drillbook.result import RunResult, SuiteResult
from drillbook.verdict import Finding, Status

TIMELINE_PICTURE = "timeline.png"
_TEMPLATES = Path(__file__).with_name("templates")
STATUS_CLASS = {
    Status.PASS: "pass",
    Status.FAIL: "fail",
    Status.COULD_NOT_VERIFY: "cnv",
}


@dataclass(frozen=True)
class Event:
    t: float
    utc: str
    kind: str  # mark, fault, step
    name: str
    detail: str
    css: str = ""


@dataclass(frozen=True)
class Band:
    """A run of samples in the SVG strip, as percentages of the run's length."""

    x: float
    width: float
    ok: bool
    label: str


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class StepOutput:
    label: str
    state: str
    css: str
    error: str | None
    lines: tuple[str, ...]


@dataclass(frozen=True)
class DrillView:
    anchor: str
    result: RunResult
    css: str
    figures: tuple[Figure, ...]
    findings: tuple[Finding, ...]
    events: tuple[Event, ...]
    bands: tuple[Band, ...]
    ticks: tuple[Tick, ...]
    outputs: tuple[StepOutput, ...]
    facts: tuple[tuple[str, str], ...]
    picture: str | None  # data URI of timeline.png
    run_time: float
    abort: str | None = None
    services: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def _step_state(ok: bool, skipped: bool, timed_out: bool, exit_code: int | None) -> tuple[str, str]:
    if skipped:
        return "skipped (dry run)", "cnv"
    if timed_out:
        return "timed out, killed", "fail"
    if not ok:
        return f"failed (exit {exit_code})", "fail"
    return "ok", "pass"


def _events(result: RunResult) -> tuple[Event, ...]:
    journal = result.journal
    start = journal.started_utc
    events: list[Event] = []

    def utc(t: float) -> str:  # steps and faults carry run seconds only; marks carry both
        return datetime.fromtimestamp(start.timestamp() + t, UTC).strftime("%H:%M:%S.%f")[:-3]

    for mark in journal.marks:
        detail = ", ".join(f"{k}={v}" for k, v in mark.detail.items())
        events.append(Event(mark.t, mark.utc.strftime("%H:%M:%S.%f")[:-3], "mark", mark.name,
                            detail))
    for fault in journal.faults:
        state = "skipped" if fault.skipped else "injected" if fault.ok else f"FAILED: {fault.error}"
        events.append(Event(fault.started, utc(fault.started), "fault",
                            f"fault[{fault.index}] {fault.kind}", f"{fault.target}: {state}",
                            "cnv" if fault.skipped else "" if fault.ok else "fail"))
    for step in journal.steps:
        state, css = _step_state(step.ok, step.skipped, step.timed_out, step.exit_code)
        name = f"{step.phase}[{step.index}] {step.id or step.kind}"
        events.append(Event(step.started, utc(step.started), "step start", name, step.description))
        events.append(Event(step.ended, utc(step.ended), "step end", name,
                            f"{state} after {step.duration:.2f} s", css))
    return tuple(sorted(events, key=lambda e: e.t))


def _strip(result: RunResult, length: float) -> tuple[tuple[Band, ...], tuple[Tick, ...]]:
    if length <= 0:
        return (), ()
    bands = []
    runs = compress_samples(result.journal.samples)
    interval = result.journal.probe_interval
    for i, run in enumerate(runs):
        end = runs[i + 1].first_t if i + 1 < len(runs) else run.last_t + interval
        x, width = 100 * run.first_t / length, max(0.2, 100 * (end - run.first_t) / length)
        failing = ", ".join(p.probe for p in run.probes if not p.ok)
        label = f"+{run.first_t:.2f}s to +{end:.2f}s: " + (
            "steady" if run.ok else f"failing ({failing})"
        )
        bands.append(Band(round(x, 3), round(min(width, 100 - x), 3), run.ok, label))
    ticks = []
    for name, label in (("inject.start", "fault"), ("recover.start", "recover"),
                        ("verify.start", "verify")):
        mark = result.journal.mark(name)
        if mark is not None:
            ticks.append(Tick(round(100 * mark.t / length, 3), f"{label} +{mark.t:.2f}s"))
    return tuple(bands), tuple(ticks)


def _picture(result: RunResult) -> str | None:
    if result.report_dir is None:
        return None
    path = Path(result.report_dir) / TIMELINE_PICTURE
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def drill_view(result: RunResult, redactor: Redactor, index: int) -> DrillView:
    r = redactor.redact(result)
    m = r.measurements
    figures = m.figures()
    if not m.tables:  # no data check declared: "rows ... not measured" says nothing
        figures = tuple(f for f in figures if f.unit != "rows")
    outputs = tuple(
        StepOutput(
            label=f"{s.phase}[{s.index}] {s.id or s.kind}: {s.description}",
            state=_step_state(s.ok, s.skipped, s.timed_out, s.exit_code)[0],
            css=_step_state(s.ok, s.skipped, s.timed_out, s.exit_code)[1],
            error=s.error,
            lines=s.output_tail,
        )
        for s in r.journal.steps
    )
    services: dict[str, list[tuple[str, str]]] = {}
    other: list[tuple[str, str]] = []
    for key, value in sorted(r.journal.facts.items()):
        head, _, rest = key.partition(".")
        name, _, fact = rest.partition(".")
        if head == "service" and fact:
            services.setdefault(name, []).append((fact, value))
        else:
            other.append((key, value))
    length = max(r.run_time, 1e-9)
    bands, ticks = _strip(r, length)
    journal = r.journal
    abort = (
        f"stopped in {journal.aborted_in}: {journal.abort_code}: {journal.abort_reason}"
        if journal.aborted_in else None
    )
    return DrillView(
        anchor=f"drill-{index}", result=r, css=STATUS_CLASS[r.status], figures=figures,
        findings=r.verdict.findings, events=_events(r), bands=bands, ticks=ticks,
        outputs=outputs, facts=tuple(other), picture=_picture(r), run_time=r.run_time,
        abort=abort, services=services,
    )


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,  # every value escaped: step output is whatever a script printed
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["status_class"] = STATUS_CLASS
    return env


def render_html(result: RunResult | SuiteResult, redactor: Redactor | None = None) -> str:
    redactor = redactor or Redactor()
    runs = result.results if isinstance(result, SuiteResult) else (result,)
    drills = [drill_view(r, redactor, i) for i, r in enumerate(runs)]
    counts = {s: sum(1 for r in runs if r.status is s) for s in Status}
    if counts[Status.FAIL]:
        overall = Status.FAIL
    elif counts[Status.COULD_NOT_VERIFY] or not runs:
        overall = Status.COULD_NOT_VERIFY
    else:
        overall = Status.PASS
    # The models were redacted above; the page is not passed again, since escaping and the
    # embedded picture would only give the patterns false matches.
    return _environment().get_template("report.html").render(
        drills=drills, counts=counts, overall=overall, Status=Status,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"), version=__version__,
        title=runs[0].scenario if len(runs) == 1 else f"{len(runs)} drills",
    )


def write_html(
    result: RunResult | SuiteResult, path: Path, redactor: Redactor | None = None
) -> Path:
    """Write the HTML report to `path` atomically; pass the run's Redactor for its secrets."""
    text = render_html(result, redactor)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
