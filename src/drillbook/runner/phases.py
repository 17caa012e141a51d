"""Running the kinds of one phase: steps and faults, each timed and recorded."""

from __future__ import annotations

import re
import traceback
from collections.abc import Sequence

from drillbook.journal import FaultRecord, Phase, Recorder, StepRecord
from drillbook.report import RunListener
from drillbook.runner.context import RunContext
from drillbook.scenario.kinds import FaultSpec, StepOutcome, StepSpec

_FACT = re.compile(r"^DRILLBOOK_FACT\s+([A-Za-z][A-Za-z0-9_.-]{0,63})=(.*)$")


def reported_facts(stdout: str) -> list[tuple[str, str]]:
    """`DRILLBOOK_FACT name=value` lines a procedure printed, e.g. the time a PITR actually
    recovered to, so the report can show it beside what was asked for."""
    return [
        (m.group(1), m.group(2).strip()[:500])
        for line in stdout.splitlines()
        if (m := _FACT.match(line.strip()))
    ]


def describe_step(step: StepSpec) -> str:
    if step.description:
        return step.description
    for field in ("run", "command", "action", "sql", "url", "file", "duration"):
        value = getattr(step, field, None)
        if value:
            text = " ".join(value) if isinstance(value, list) else str(value)
            return f"{step.kind}: {text}"[:160]
    return step.kind


def run_steps(
    phase: Phase,
    steps: Sequence[StepSpec],
    ctx: RunContext,
    recorder: Recorder,
    listener: RunListener,
    *,
    budget_end: float | None = None,
    dry_run: bool = False,
) -> StepRecord | None:
    """Run `steps` in order, stopping at the first failure (a runbook is `set -e`).

    Returns the failing step's record, or None when all passed. `budget_end` (run time in
    seconds) caps every step's timeout so a phase cannot outlive its own timeout.
    """
    for index, step in enumerate(steps):
        timeout = step.timeout
        if budget_end is not None:
            timeout = max(0.0, min(timeout, budget_end - recorder.t()))
        description = describe_step(step)
        listener.on_step_start(phase, index, description)
        started = recorder.t()
        if dry_run and step.destructive:
            record = StepRecord(
                phase=phase,
                index=index,
                id=step.id,
                kind=step.kind,
                description=description,
                started=started,
                ended=started,
                ok=False,
                skipped=True,
                error="NOT RUN (dry run)",
            )
            recorder.step(record)
            listener.on_step_end(record)
            continue
        try:
            outcome = step.execute(ctx, timeout)
        except Exception as exc:
            outcome = StepOutcome(
                ok=False,
                error=f"{type(exc).__name__}: {exc}",
                output_tail=tuple(traceback.format_exc().splitlines()[-5:]),
            )
        record = StepRecord(
            phase=phase,
            index=index,
            id=step.id,
            kind=step.kind,
            description=description,
            started=started,
            ended=recorder.t(),
            ok=outcome.ok,
            exit_code=outcome.exit_code,
            timed_out=outcome.timed_out,
            output_tail=outcome.output_tail,
            error=outcome.error,
        )
        if step.id:
            ctx.record_output(step.id, outcome)
        for name, value in reported_facts(outcome.stdout):
            recorder.fact(f"{phase}.{step.id or index}.{name}", value)
        recorder.step(record)
        listener.on_step_end(record)
        if not outcome.ok:
            return record
    return None


def inject_faults(
    faults: Sequence[FaultSpec],
    ctx: RunContext,
    recorder: Recorder,
    listener: RunListener,
    *,
    dry_run: bool = False,
) -> FaultRecord | None:
    """Inject `faults` in order; return the record of one that could not be injected."""
    for index, fault in enumerate(faults):
        started = recorder.t()
        target = str(getattr(fault, "service", None) or getattr(fault, "path", None) or "")
        if dry_run and fault.destructive:
            record = FaultRecord(
                index=index,
                kind=fault.kind,
                target=target,
                started=started,
                ended=started,
                ok=False,
                skipped=True,
                error="NOT RUN (dry run)",
            )
            recorder.fault(record)
            listener.on_fault(record)
            continue
        try:
            outcome = fault.inject(ctx)
            record = FaultRecord(
                index=index,
                kind=fault.kind,
                target=outcome.target,
                started=started,
                ended=recorder.t(),
                ok=True,
                detail=outcome.detail,
            )
        except Exception as exc:
            record = FaultRecord(
                index=index,
                kind=fault.kind,
                target=target,
                started=started,
                ended=recorder.t(),
                ok=False,
                error=f"{type(exc).__name__}: {exc}",
            )
        recorder.fault(record)
        listener.on_fault(record)
        if not record.ok:
            return record
    return None
