"""Figures computed from a Journal alone: how long detection, recovery and the outage took.

Definitions (every time is seconds on the run's monotonic clock; see `Figure.what`):

- fault_at: `t` of the mark "inject.start".  recovery_start: `t` of the mark "recover.start".
- steady: `journal.stable_samples` consecutive samples with every probe ok.
- time_to_detect: fault_at -> the first failing sample at or after fault_at.
  None when no sample failed (the fault was not detected).
- time_to_recover: recovery_start -> the first sample of the first run of N consecutive ok
  samples starting at or after recovery_start (the moment it came back, confirmed by N samples).
  None when the steady state never held again.
- outage: the first failing sample at or after fault_at -> the first steady run starting after
  it (and not before recovery_start). 0 when samples covered the time after the fault and none
  failed; None and `open_ended` when it never ended.
- baseline_held: the baseline phase ended with N consecutive ok samples (or has the mark
  "baseline.steady").
- rows_lost / rows_changed / rows_added: sums over the data comparisons (before the fault vs
  after verify) that could be made.
- probe_interval: the median gap between consecutive samples actually achieved. Every time
  figure carries it as its resolution: a state change is only seen at the next sample.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from typing import Literal

from drillbook.journal import DataDiff, Journal, Phase, RpoRecord, Sample, StepRecord
from drillbook.load.windows import LoadFigures, measure_load
from drillbook.scenario.types import Model

Unit = Literal["s", "rows", "samples"]

FIRST_FAIL = "sample.first_fail"
STEADY_AGAIN = "sample.steady_again"


class Figure(Model):
    """One measured number and exactly what it was measured from and to."""

    name: str
    value: float | int | None
    unit: Unit
    what: str
    start_mark: str | None = None  # a journal mark name, or "sample.*" for a sample-derived moment
    end_mark: str | None = None
    start: float | None = None  # run seconds of the start and end moments, when known
    end: float | None = None
    resolution: float | None = None  # +/- seconds: the sampling interval for sample-derived ends
    open_ended: bool = False  # started but never ended (an outage never restored)
    note: str | None = None  # why the value is None, or a caveat about it

    @property
    def measured(self) -> bool:
        return self.value is not None

    def display(self) -> str:
        """The value for humans: '2.10 s ± 0.10 s', '12 rows', 'not measured'."""
        if self.value is None:
            if self.open_ended and self.start is not None:
                return "never ended"
            return "not measured"
        if self.unit == "s":
            text = f"{self.value:.2f} s"
            if self.resolution:
                text += f" ± {self.resolution:.2f} s"
            return text
        return f"{self.value} {self.unit}"


class StepTiming(Model):
    phase: Phase
    index: int
    id: str | None
    kind: str
    description: str
    started: float
    duration: float
    ok: bool
    timed_out: bool
    skipped: bool
    exit_code: int | None

    @property
    def label(self) -> str:
        return f"{self.phase}[{self.index}] {self.id or self.kind}"


class TableFigures(Model):
    service: str
    table: str
    rows_before: int
    rows_after: int
    rows_lost: int
    rows_added: int
    rows_changed: int
    checksum_match: bool
    exists_after: bool
    keyed: bool
    error: str | None = None


class Measurements(Model):
    fault_at: float | None
    recovery_start: float | None
    detected_at: float | None  # t of the first failing sample at or after the fault
    steady_again_at: float | None  # t of the first sample of the confirming steady run
    last_sample_at: float | None
    fault_injected: bool  # at least one fault really ran (not skipped, not failed)
    recovered: bool | None  # None: could not be judged (no samples, recovery never started)
    baseline_held: bool | None  # None: no samples, or the baseline never ran
    stable_samples: int
    time_to_detect: Figure
    time_to_recover: Figure
    outage: Figure
    recovery_procedure: Figure
    run_time: Figure
    samples: Figure
    failing_samples: Figure
    probe_interval: Figure
    rows_lost: Figure
    rows_changed: Figure
    rows_added: Figure
    checksum_match: bool | None  # None: no data comparison could be made
    tables: tuple[TableFigures, ...] = ()
    steps: tuple[StepTiming, ...] = ()
    load: LoadFigures | None = None  # what the load's users felt, per window (when load ran)
    rpo: Figure | None = None  # only when the scenario runs a canary writer

    def figures(self) -> tuple[Figure, ...]:
        """Every headline figure, in report order."""
        return (
            self.time_to_detect,
            self.time_to_recover,
            self.outage,
            *((self.rpo,) if self.rpo is not None else ()),
            self.recovery_procedure,
            self.rows_lost,
            self.rows_changed,
            self.rows_added,
            self.samples,
            self.failing_samples,
            self.probe_interval,
            self.run_time,
        )


def measure(journal: Journal) -> Measurements:
    """Every figure of one run, from its journal only (no scenario, no clock)."""
    samples = sorted(journal.samples, key=lambda s: s.t)
    n = max(1, journal.stable_samples)
    interval = _achieved_interval(samples)
    resolution = interval if interval is not None else journal.probe_interval
    fault_mark, recover_mark = journal.mark("inject.start"), journal.mark("recover.start")
    fault_at = fault_mark.t if fault_mark else None
    recovery_start = recover_mark.t if recover_mark else None
    injected = any(f.ok and not f.skipped for f in journal.faults)
    last_t = samples[-1].t if samples else None

    first_fail = None
    if fault_at is not None and injected:
        first_fail = next((s for s in samples if s.t >= fault_at and not s.ok), None)
    steady = _steady_from(samples, recovery_start, n) if recovery_start is not None else None
    recovered: bool | None = None
    if recovery_start is not None and samples:
        recovered = steady is not None

    ttd = _time_to_detect(fault_at, injected, samples, first_fail, resolution)
    ttr = _time_to_recover(
        recovery_start, samples=samples, steady=steady, n=n, resolution=resolution, last_t=last_t
    )
    outage = _outage(
        fault_at, injected, recovery_start=recovery_start, samples=samples,
        first_fail=first_fail, n=n, resolution=resolution,
    )
    lost, changed, added, checksum = _data_figures(journal.data)
    return Measurements(
        fault_at=fault_at,
        recovery_start=recovery_start,
        detected_at=first_fail.t if first_fail else None,
        steady_again_at=steady.t if steady else None,
        last_sample_at=last_t,
        fault_injected=injected,
        recovered=recovered,
        baseline_held=_baseline_held(journal, samples, n),
        stable_samples=n,
        time_to_detect=ttd,
        time_to_recover=ttr,
        outage=outage,
        recovery_procedure=_procedure(journal.steps),
        run_time=_run_time(journal),
        samples=Figure(
            name="samples", value=len(samples), unit="samples",
            what="steady-state samples taken (every probe once per sample) over the whole run",
        ),
        failing_samples=Figure(
            name="failing_samples", value=sum(1 for s in samples if not s.ok), unit="samples",
            what="samples in which at least one steady-state probe failed",
        ),
        probe_interval=Figure(
            name="probe_interval", value=interval, unit="s",
            what=f"median gap between consecutive samples achieved "
            f"(asked for {journal.probe_interval:g} s)",
            note=None if interval is not None else "fewer than two samples",
        ),
        rows_lost=lost,
        rows_changed=changed,
        rows_added=added,
        checksum_match=checksum,
        tables=tuple(_table(d) for d in journal.data),
        steps=tuple(_timing(r) for r in journal.steps),
        load=measure_load(journal),
        rpo=_rpo(journal.rpo),
    )


def _rpo(record: RpoRecord | None) -> Figure | None:
    """Data-loss window: ack of the last canary write before the fault -> ack of the newest
    canary row that survived the recovery."""
    if record is None:
        return None
    note = record.error
    if record.lower_bound:
        note = f"no canary row survived: at least this much was lost ({record.rows_lost} rows)"
    elif record.rows_lost is not None:
        note = f"{record.rows_lost} canary rows lost of {record.writes} written"
    return Figure(
        name="rpo", value=record.rpo_seconds, unit="s",
        what="data-loss window: last acknowledged canary write before the fault minus the "
        "newest canary write that survived the recovery",
        start_mark="canary.survivor", end_mark="canary.last_before_fault",
        start=record.survivor_t, end=record.last_t, resolution=record.interval, note=note,
    )


def _achieved_interval(samples: Sequence[Sample]) -> float | None:
    gaps = [b.t - a.t for a, b in itertools.pairwise(samples)]
    return statistics.median(gaps) if gaps else None


def _steady_from(samples: Sequence[Sample], start: float, n: int) -> Sample | None:
    """The first sample at or after `start` that begins `n` consecutive ok samples."""
    streak_start: Sample | None = None
    count = 0
    for sample in samples:
        if sample.t < start:
            continue
        if not sample.ok:
            count = 0
            continue
        if count == 0:
            streak_start = sample
        count += 1
        if count >= n:
            return streak_start
    return None


def _time_to_detect(
    fault_at: float | None,
    injected: bool,
    samples: Sequence[Sample],
    first_fail: Sample | None,
    resolution: float,
) -> Figure:
    base = Figure(
        name="time_to_detect", value=None, unit="s",
        what="from the start of fault injection to the first steady-state sample that failed",
        start_mark="inject.start", end_mark=FIRST_FAIL, start=fault_at, resolution=resolution,
    )
    if fault_at is None:
        return base.model_copy(update={"note": "the fault phase never started"})
    if not injected:
        return base.model_copy(update={"note": "no fault was injected (skipped or failed)"})
    if not samples:
        return base.model_copy(update={"note": "no steady-state samples were taken"})
    if first_fail is None:
        covered = max(0.0, samples[-1].t - fault_at)
        note = f"not detected: no sample failed in the {covered:.2f} s sampled after the fault"
        return base.model_copy(update={"note": note})
    return base.model_copy(update={"value": first_fail.t - fault_at, "end": first_fail.t})


def _time_to_recover(
    recovery_start: float | None,
    *,
    samples: Sequence[Sample],
    steady: Sample | None,
    n: int,
    resolution: float,
    last_t: float | None,
) -> Figure:
    base = Figure(
        name="time_to_recover", value=None, unit="s",
        what=f"from the start of recovery to the first of {n} consecutive passing samples "
        "(the steady state holding again)",
        start_mark="recover.start", end_mark=STEADY_AGAIN, start=recovery_start,
        resolution=resolution,
    )
    if recovery_start is None:
        return base.model_copy(update={"note": "the recover phase never started"})
    if not samples:
        return base.model_copy(update={"note": "no steady-state samples were taken"})
    if steady is None:
        watched = max(0.0, (last_t or recovery_start) - recovery_start)
        note = f"never recovered: no {n} consecutive passing samples in the {watched:.2f} s watched"
        return base.model_copy(update={"note": note, "open_ended": True})
    return base.model_copy(update={"value": steady.t - recovery_start, "end": steady.t})


def _outage(
    fault_at: float | None,
    injected: bool,
    *,
    recovery_start: float | None,
    samples: Sequence[Sample],
    first_fail: Sample | None,
    n: int,
    resolution: float,
) -> Figure:
    base = Figure(
        name="outage", value=None, unit="s",
        what=f"from the first failing sample after the fault to the first of {n} consecutive "
        "passing samples after it",
        start_mark=FIRST_FAIL, end_mark=STEADY_AGAIN, resolution=resolution,
    )
    if fault_at is None or not injected:
        return base.model_copy(update={"note": "no fault was injected"})
    if not any(s.t >= fault_at for s in samples):
        return base.model_copy(update={"note": "no steady-state samples after the fault"})
    if first_fail is None:
        # Sampled and never failed: no outage seen, though one shorter than an interval may hide.
        return base.model_copy(
            update={"value": 0.0, "note": "no failing sample after the fault"}
        )
    after = first_fail.t if recovery_start is None else max(first_fail.t, recovery_start)
    steady = _steady_from(samples, after, n)
    if steady is None:
        return base.model_copy(
            update={"start": first_fail.t, "open_ended": True, "note": "never restored"}
        )
    return base.model_copy(
        update={"value": steady.t - first_fail.t, "start": first_fail.t, "end": steady.t}
    )


def _baseline_held(journal: Journal, samples: Sequence[Sample], n: int) -> bool | None:
    if journal.mark("baseline.steady") is not None:
        return True
    start = journal.mark("baseline.start")
    if start is None or not samples:
        return None
    end_mark = journal.mark("baseline.end") or journal.mark("inject.start")
    end = end_mark.t if end_mark else float("inf")
    # Half-open: a sample taken at the very moment the fault starts belongs to the fault.
    window = [s for s in samples if start.t <= s.t < end]
    return len(window) >= n and all(s.ok for s in window[-n:])


def _procedure(steps: Sequence[StepRecord]) -> Figure:
    ran = [s for s in steps if s.phase == "recover" and not s.skipped]
    base = Figure(
        name="recovery_procedure", value=None, unit="s",
        what="from the start of the first recovery step to the end of the last one",
    )
    if not ran:
        return base.model_copy(update={"note": "no recovery step ran"})
    start, end = min(s.started for s in ran), max(s.ended for s in ran)
    return base.model_copy(update={"value": end - start, "start": start, "end": end})


def _run_time(journal: Journal) -> Figure:
    times = [m.t for m in journal.marks] + [s.t for s in journal.samples]
    times += [s.ended for s in journal.steps] + [f.ended for f in journal.faults]
    return Figure(
        name="run_time", value=max(times, default=0.0), unit="s",
        what="from the start of the run to its last recorded event", start=0.0,
    )


def _data_figures(
    diffs: Sequence[DataDiff],
) -> tuple[Figure, Figure, Figure, bool | None]:
    good = [d for d in diffs if d.error is None]
    failed = [f"{d.service}.{d.table}" for d in diffs if d.error is not None]
    note = f"could not compare: {', '.join(failed)}" if failed else None
    if not diffs:
        note = "no data comparison was recorded"

    def figure(name: str, attr: str, what: str) -> Figure:
        value = sum(getattr(d, attr) for d in good) if good else None
        return Figure(name=name, value=value, unit="rows", what=what, note=note)

    return (
        figure("rows_lost", "rows_lost", "rows there before the fault and missing after verify"),
        figure("rows_changed", "rows_changed",
               "rows whose content differs after verify (matched by primary key)"),
        figure("rows_added", "rows_added", "rows there after verify but not before the fault"),
        all(d.checksum_match for d in good) if good else None,
    )


def _table(diff: DataDiff) -> TableFigures:
    return TableFigures(**diff.model_dump())


def _timing(record: StepRecord) -> StepTiming:
    return StepTiming(
        phase=record.phase, index=record.index, id=record.id, kind=record.kind,
        description=record.description, started=record.started, duration=record.duration,
        ok=record.ok, timed_out=record.timed_out, skipped=record.skipped,
        exit_code=record.exit_code,
    )
