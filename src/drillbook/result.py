"""What a finished drill (or a suite of them) hands to reporters and to the CLI."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import computed_field

from drillbook.journal import Journal
from drillbook.measure import Measurements
from drillbook.scenario.types import Model
from drillbook.verdict import Status, Verdict, exit_code


class RunResult(Model):
    scenario: str
    scenario_file: str | None
    run_id: str
    backend: str
    journal: Journal
    measurements: Measurements
    verdict: Verdict
    report_dir: Path | None = None

    @property
    def status(self) -> Status:
        return self.verdict.status

    @property
    def run_time(self) -> float:
        """Seconds from the start of the run to its last recorded event (monotonic)."""
        value = self.measurements.run_time.value
        return float(value) if value is not None else 0.0


class SuiteResult(Model):
    results: tuple[RunResult, ...]
    started_utc: datetime
    ended_utc: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def exit_code(self) -> int:
        """0 all passed, 1 any FAIL, 2 any COULD NOT VERIFY (none failed) or nothing ran."""
        return exit_code(r.verdict for r in self.results)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)
