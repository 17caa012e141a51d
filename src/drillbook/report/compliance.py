"""The compliance report: every drill of a period in one HTML file, for auditors.

Built from the history store (figures and codes) and, where a run's result.json is still under
the reports folder, what it broke and how it was recovered. The control mapping says which
evidence a drill can support; it is guidance, and an auditor decides what satisfies a control.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import jinja2
from pydantic import ValidationError

from drillbook import __version__
from drillbook.errors import DrillbookError
from drillbook.history import HistoryRecord
from drillbook.report.json_report import ReportDocument
from drillbook.verdict import Status

_TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Control:
    framework: str
    ref: str
    title: str
    how: str  # what a drill contributes, in our words
    needs_data: bool = False  # only drills that check data (rows lost or RPO) support it


CONTROLS = (
    Control("SOC 2 (2017 TSC)", "A1.3", "Recovery plan testing",
            "each drill runs the recovery procedure end to end and records whether the service "
            "came back within its time target"),
    Control("ISO/IEC 27001:2022", "A.5.30", "ICT readiness for business continuity",
            "time to recover is measured against the stated recovery time objective, run after "
            "run, so readiness is tested rather than assumed"),
    Control("ISO/IEC 27001:2022", "A.8.13", "Information backup",
            "restore drills bring back real backups and count the rows lost and the data-loss "
            "window", needs_data=True),
    Control("NIST SP 800-53 Rev. 5", "CP-4", "Contingency plan testing",
            "scheduled drills exercise the contingency procedures and keep dated results, "
            "failures and re-tests"),
    Control("NIST SP 800-53 Rev. 5", "CP-9(1)", "System backup: testing for reliability and "
            "integrity", "restores are verified with row counts and checksums before and after",
            needs_data=True),
)


@dataclass
class RunRow:
    record: HistoryRecord
    faults: list[str] = field(default_factory=list)
    recovery: list[str] = field(default_factory=list)
    report_link: str | None = None

    @property
    def checks_data(self) -> bool:
        return self.record.rows_lost is not None or self.record.rpo is not None

    @property
    def rto_met(self) -> bool | None:
        r = self.record
        if r.ttr is None or r.ttr_limit is None:
            return None
        return r.ttr <= r.ttr_limit

    @property
    def rpo_met(self) -> bool | None:
        r = self.record
        if r.rpo is None or r.rpo_limit is None:
            return None
        return r.rpo <= r.rpo_limit


@dataclass
class ScenarioSummary:
    scenario: str
    backend: str
    runs: list[RunRow]

    @property
    def passed(self) -> int:
        return sum(r.record.status is Status.PASS for r in self.runs)

    @property
    def failed(self) -> int:
        return sum(r.record.status is Status.FAIL for r in self.runs)

    @property
    def unverified(self) -> int:
        return sum(r.record.status is Status.COULD_NOT_VERIFY for r in self.runs)

    @property
    def ttr_median(self) -> float | None:
        values = [r.record.ttr for r in self.runs if r.record.ttr is not None]
        return statistics.median(values) if values else None

    @property
    def ttr_worst(self) -> float | None:
        values = [r.record.ttr for r in self.runs if r.record.ttr is not None]
        return max(values) if values else None

    @property
    def ttr_target(self) -> float | None:
        return self.runs[-1].record.ttr_limit

    @property
    def rpo_worst(self) -> float | None:
        values = [r.record.rpo for r in self.runs if r.record.rpo is not None]
        return max(values) if values else None

    @property
    def rpo_target(self) -> float | None:
        return self.runs[-1].record.rpo_limit

    @property
    def retests(self) -> list[str]:
        """Each non-passing run and what followed: re-tested and passed, or still open."""
        notes = []
        for index, row in enumerate(self.runs):
            if row.record.passed:
                continue
            later = next((r for r in self.runs[index + 1:] if r.record.passed), None)
            when = row.record.started_utc.strftime("%Y-%m-%d")
            what = f"{row.record.status.value} on {when} ({', '.join(row.record.codes) or '—'})"
            if later is not None:
                notes.append(f"{what}: re-tested, passed on "
                             f"{later.record.started_utc.strftime('%Y-%m-%d')}")
            else:
                notes.append(f"{what}: no passing re-test in the period")
        return notes


def _details(row: RunRow, reports_dir: Path, out: Path) -> RunRow:
    folder = reports_dir / row.record.run_id
    result = folder / "result.json"
    if result.is_file():
        try:
            document = ReportDocument.model_validate_json(result.read_text(encoding="utf-8"))
        except (ValidationError, OSError, UnicodeDecodeError):
            document = None  # an older or damaged file: the history row still stands
        if document is not None and document.runs:
            journal = document.runs[0].journal
            row.faults = [f"{f.kind} on {f.target}" for f in journal.faults]
            row.recovery = [s.id or s.kind for s in journal.steps if s.phase == "recover"]
    page = folder / "report.html"
    if page.is_file():
        row.report_link = os.path.relpath(page.resolve(), out.resolve())
    return row


def _seconds(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else "—"


def write_compliance(
    records: list[HistoryRecord],
    out: Path,
    *,
    since: datetime,
    until: datetime,
    reports_dir: Path,
) -> Path:
    """Render the period's report into `out`; returns the HTML file's path."""
    out.mkdir(parents=True, exist_ok=True)
    rows = [_details(RunRow(r), reports_dir, out) for r in records]
    groups: dict[tuple[str, str], list[RunRow]] = {}
    for row in rows:
        groups.setdefault((row.record.scenario, row.record.backend), []).append(row)
    summaries = [ScenarioSummary(s, b, runs) for (s, b), runs in sorted(groups.items())]
    controls = [
        (control, [s for s in summaries if not control.needs_data
                   or any(r.checks_data for r in s.runs)])
        for control in CONTROLS
    ]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["seconds"] = _seconds
    page = env.get_template("compliance.html").render(
        since=since, until=until, generated=datetime.now(UTC), version=__version__,
        rows=rows, summaries=summaries, controls=controls,
        total=len(rows), passed=sum(r.record.passed for r in rows),
    )
    path = out / f"compliance-{since:%Y%m%d}-{until:%Y%m%d}.html"
    path.write_text(page, encoding="utf-8")
    return path


def print_pdf(html_path: Path, *, timeout: float = 120.0) -> Path:
    """Print the HTML to PDF with headless Chromium (Debian's chromium package)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise DrillbookError("--pdf needs chromium on PATH (apt-get install chromium)")
    pdf = html_path.with_suffix(".pdf")
    done = subprocess.run(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html_path.resolve().as_uri()],
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    if done.returncode != 0 or not pdf.is_file():
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise DrillbookError(f"chromium could not print {html_path} (exit {done.returncode}): "
                             f"{tail}")
    return pdf
