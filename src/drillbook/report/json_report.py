"""The JSON report: the whole journal, the figures with their definitions, and the verdict.

Top-level keys (schema_version 1; new keys may be added, none renamed or removed without a
new version):

- schema_version   1
- kind             "run" (one drill) or "suite" (several); `runs` is a list either way
- generated_utc    when the file was written
- drillbook_version
- status           overall: "PASS", "FAIL" or "COULD NOT VERIFY"
- exit_code        what `drillbook run` exits with for these runs (0, 1, 2)
- suite            {started_utc, ended_utc, passed, failed, could_not_verify} or null
- runs[]           {scenario, scenario_file, run_id, backend, report_dir, status, verdict,
                    measurements, journal}
  - verdict        {scenario, status, findings[{criterion, status, code, message, measured,
                    limit, unit}]}
  - measurements   figures as {name, value, unit, what, start_mark, end_mark, start, end,
                    resolution, open_ended, note}, plus per-step timings and per-table data
  - journal        every mark {name, t, utc, detail} (t: monotonic seconds since the run
                    started), every step with exit code and last lines of output, faults,
                    snapshots, data comparisons, verify results, and samples compressed as runs
                    of identical probe states: a run's first_t is the exact time of a transition.

Everything passes through the Redactor before it is written.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from drillbook import __version__
from drillbook.journal import (
    DataDiff,
    FaultRecord,
    Journal,
    Mark,
    Phase,
    ProbeSample,
    Sample,
    StepRecord,
    TableSnapshot,
)
from drillbook.measure import Measurements
from drillbook.redact import Redactor
from drillbook.result import RunResult, SuiteResult
from drillbook.scenario.types import Model
from drillbook.verdict import (
    EXIT_COULD_NOT_VERIFY,
    EXIT_FAILED,
    EXIT_PASSED,
    Status,
    Verdict,
    exit_code,
)

SCHEMA_VERSION = 1
_STATUS_OF_EXIT = {
    EXIT_PASSED: Status.PASS,
    EXIT_FAILED: Status.FAIL,
    EXIT_COULD_NOT_VERIFY: Status.COULD_NOT_VERIFY,
}


class ProbeState(Model):
    probe: str
    ok: bool
    detail: str  # from the first sample of the run
    max_latency: float


class SampleRun(Model):
    """Consecutive samples in which every probe kept the same ok/failing state."""

    ok: bool
    first_t: float
    last_t: float
    count: int
    probes: tuple[ProbeState, ...]


class JournalDocument(Model):
    started_utc: datetime
    ended_utc: datetime | None
    probe_interval: float
    stable_samples: int
    dry_run: bool
    aborted_in: Phase | None
    abort_code: str | None
    abort_reason: str | None
    marks: tuple[Mark, ...]
    steps: tuple[StepRecord, ...]
    faults: tuple[FaultRecord, ...]
    sample_count: int
    samples: tuple[SampleRun, ...]
    snapshots: tuple[TableSnapshot, ...]
    data: tuple[DataDiff, ...]
    verify_results: tuple[ProbeSample, ...]
    facts: dict[str, str]


class RunDocument(Model):
    scenario: str
    scenario_file: str | None
    run_id: str
    backend: str
    report_dir: str | None
    status: Status
    verdict: Verdict
    measurements: Measurements
    journal: JournalDocument


class SuiteSummary(Model):
    started_utc: datetime
    ended_utc: datetime
    passed: int
    failed: int
    could_not_verify: int


class ReportDocument(Model):
    schema_version: int = SCHEMA_VERSION
    kind: Literal["run", "suite"]
    generated_utc: datetime
    drillbook_version: str
    status: Status
    exit_code: int
    suite: SuiteSummary | None
    runs: tuple[RunDocument, ...]


def compress_samples(samples: Sequence[Sample]) -> tuple[SampleRun, ...]:
    """Runs of samples with the same per-probe states; transitions keep their exact `t`."""
    runs: list[list[Sample]] = []
    for sample in sorted(samples, key=lambda s: s.t):
        key = _state(sample)
        if runs and _state(runs[-1][0]) == key:
            runs[-1].append(sample)
        else:
            runs.append([sample])
    return tuple(_run(group) for group in runs)


def _state(sample: Sample) -> tuple[bool, tuple[tuple[str, bool], ...]]:
    return sample.ok, tuple((p.probe, p.ok) for p in sample.results)


def _run(group: list[Sample]) -> SampleRun:
    first = group[0]
    probes = tuple(
        ProbeState(
            probe=p.probe, ok=p.ok, detail=p.detail,
            max_latency=max(s.results[i].latency for s in group),
        )
        for i, p in enumerate(first.results)
    )
    return SampleRun(
        ok=first.ok, first_t=first.t, last_t=group[-1].t, count=len(group), probes=probes
    )


def journal_document(journal: Journal) -> JournalDocument:
    return JournalDocument(
        started_utc=journal.started_utc, ended_utc=journal.ended_utc,
        probe_interval=journal.probe_interval, stable_samples=journal.stable_samples,
        dry_run=journal.dry_run, aborted_in=journal.aborted_in, abort_code=journal.abort_code,
        abort_reason=journal.abort_reason, marks=journal.marks, steps=journal.steps,
        faults=journal.faults, sample_count=len(journal.samples),
        samples=compress_samples(journal.samples), snapshots=journal.snapshots,
        data=journal.data, verify_results=journal.verify_results, facts=journal.facts,
    )


def run_document(result: RunResult) -> RunDocument:
    return RunDocument(
        scenario=result.scenario, scenario_file=result.scenario_file, run_id=result.run_id,
        backend=result.backend,
        report_dir=str(result.report_dir) if result.report_dir is not None else None,
        status=result.verdict.status, verdict=result.verdict, measurements=result.measurements,
        journal=journal_document(result.journal),
    )


def report_document(result: RunResult | SuiteResult) -> ReportDocument:
    runs = result.results if isinstance(result, SuiteResult) else (result,)
    suite = None
    if isinstance(result, SuiteResult):
        suite = SuiteSummary(
            started_utc=result.started_utc, ended_utc=result.ended_utc,
            passed=result.count(Status.PASS), failed=result.count(Status.FAIL),
            could_not_verify=result.count(Status.COULD_NOT_VERIFY),
        )
    verdicts = [r.verdict for r in runs]
    return ReportDocument(
        kind="suite" if suite else "run", generated_utc=datetime.now(UTC),
        drillbook_version=__version__,
        status=_STATUS_OF_EXIT[exit_code(verdicts)],
        exit_code=exit_code(verdicts), suite=suite, runs=tuple(run_document(r) for r in runs),
    )


def write_json(
    result: RunResult | SuiteResult, path: Path, redactor: Redactor | None = None
) -> Path:
    """Write the redacted report to `path` (atomically: readers never see half a file).

    Without a redactor only the generic patterns apply (URL passwords, PASSWORD=..., tokens);
    pass the run's Redactor so its own secrets are masked wherever they appear.
    """
    document = (redactor or Redactor()).redact(report_document(result))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(document.model_dump_json(indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def report_schema() -> dict[str, Any]:
    """JSON Schema of the report, for consumers and docs."""
    return ReportDocument.model_json_schema()
