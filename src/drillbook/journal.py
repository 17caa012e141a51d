"""The immutable record of one run, and the thread-safe recorder that builds it.

Every time is seconds on the run's monotonic clock since the run started (`t`), with the UTC
wall time alongside for labels. Measurements are computed from this record alone.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Literal

from pydantic import Field

from drillbook.clock import Clock
from drillbook.scenario.types import Model

Phase = Literal[
    "preflight",
    "provision",
    "seed",
    "baseline",
    "inject",
    "detect",
    "recover",
    "verify",
    "teardown",
]
PHASES: tuple[Phase, ...] = (
    "preflight",
    "provision",
    "seed",
    "baseline",
    "inject",
    "detect",
    "recover",
    "verify",
    "teardown",
)


class Mark(Model):
    name: str  # "<phase>.start", "<phase>.end", or an event such as "fault.injected"
    t: float
    utc: datetime
    detail: dict[str, str] = Field(default_factory=dict)


class ProbeSample(Model):
    probe: str
    ok: bool
    detail: str = ""
    latency: float


class Sample(Model):
    """One tick of the steady-state sampler: every probe, once."""

    t: float
    ok: bool
    results: tuple[ProbeSample, ...]


class StepRecord(Model):
    phase: Phase
    index: int
    id: str | None
    kind: str
    description: str
    started: float
    ended: float
    ok: bool
    exit_code: int | None = None
    timed_out: bool = False
    skipped: bool = False  # dry run: NOT RUN, never reported as passed
    output_tail: tuple[str, ...] = ()
    error: str | None = None

    @property
    def duration(self) -> float:
        return self.ended - self.started


class FaultRecord(Model):
    index: int
    kind: str
    target: str
    started: float
    ended: float
    ok: bool
    skipped: bool = False
    detail: dict[str, str] = Field(default_factory=dict)
    error: str | None = None


class TableSnapshot(Model):
    service: str
    table: str
    t: float
    exists: bool
    rows: int = 0
    checksum: str | None = None
    key_columns: tuple[str, ...] = ()
    error: str | None = None  # the snapshot could not be taken (database unreachable)


class DataDiff(Model):
    service: str
    table: str
    rows_before: int
    rows_after: int
    rows_lost: int
    rows_added: int
    rows_changed: int
    checksum_match: bool
    exists_after: bool
    keyed: bool  # rows matched by primary key (changed is meaningful) or by content only
    error: str | None = None  # set when the comparison could not be made


class RpoRecord(Model):
    service: str
    interval: float
    writes: int  # acknowledged canary writes before the incident
    first_t: float | None = None
    last_seq: int | None = None
    last_t: float | None = None  # ack time of the last write before the incident
    stopped_by: str = ""  # "fault" or the error that refused a write
    survivor_seq: int | None = None
    survivor_t: float | None = None
    rpo_seconds: float | None = None
    rows_lost: int | None = None
    lower_bound: bool = False  # no canary row survived: the loss is at least rpo_seconds
    error: str | None = None  # the survivors could not be read


class LoadBucket(Model):
    """One bucket of the load's requests, by completion time (run seconds; latencies in s)."""

    start: float
    end: float
    requests: int
    failures: int
    by_status: dict[str, int] = Field(default_factory=dict)  # failures; "0": no answer
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None
    first_failure: float | None = None  # run seconds of the first failed request
    last_failure: float | None = None
    users: int = 0
    # Latency histogram (ms rounded as locust does -> count) so windows merge exactly.
    hist: dict[int, int] = Field(default_factory=dict)


class Journal(Model):
    run_id: str
    scenario: str
    scenario_file: str | None
    backend: str
    started_utc: datetime
    ended_utc: datetime | None = None
    probe_interval: float
    stable_samples: int
    marks: tuple[Mark, ...] = ()
    samples: tuple[Sample, ...] = ()
    faults: tuple[FaultRecord, ...] = ()
    steps: tuple[StepRecord, ...] = ()
    snapshots: tuple[TableSnapshot, ...] = ()
    data: tuple[DataDiff, ...] = ()
    verify_results: tuple[ProbeSample, ...] = ()
    load: tuple[LoadBucket, ...] = ()  # the load's buckets, in order, when a scenario has load
    facts: dict[str, str] = Field(default_factory=dict)
    rpo: RpoRecord | None = None  # measured data loss, when the scenario asks for it
    # The phase where the run stopped early, and why (PROVISION_FAILED, BASELINE_UNHEALTHY, ...)
    aborted_in: Phase | None = None
    abort_code: str | None = None
    abort_reason: str | None = None
    dry_run: bool = False
    game_day: bool = False  # recovered by a person; the scenario's recovery steps did not run

    def mark(self, name: str) -> Mark | None:
        """The first mark called `name`, if any."""
        return next((m for m in self.marks if m.name == name), None)


class Recorder:
    """Collects a run's events from several threads; `snapshot()` freezes them into a Journal."""

    def __init__(
        self,
        *,
        run_id: str,
        scenario: str,
        scenario_file: str | None,
        backend: str,
        clock: Clock,
        probe_interval: float,
        stable_samples: int,
        dry_run: bool = False,
        game_day: bool = False,
    ) -> None:
        self._clock = clock
        self._t0 = clock.now_ns()
        self._lock = threading.Lock()
        self._head = dict(
            run_id=run_id,
            scenario=scenario,
            scenario_file=scenario_file,
            backend=backend,
            started_utc=clock.wall(),
            probe_interval=probe_interval,
            stable_samples=stable_samples,
            dry_run=dry_run,
            game_day=game_day,
        )
        self._marks: list[Mark] = []
        self._samples: list[Sample] = []
        self._faults: list[FaultRecord] = []
        self._steps: list[StepRecord] = []
        self._snapshots: list[TableSnapshot] = []
        self._data: list[DataDiff] = []
        self._verify: list[ProbeSample] = []
        self._load: list[LoadBucket] = []
        self._facts: dict[str, str] = {}
        self._abort: tuple[Phase, str, str] | None = None
        self._rpo: RpoRecord | None = None

    def t(self) -> float:
        return (self._clock.now_ns() - self._t0) / 1e9

    def t_of(self, ns: int) -> float:
        return (ns - self._t0) / 1e9

    def mark(self, name: str, **detail: str) -> Mark:
        mark = Mark(name=name, t=self.t(), utc=self._clock.wall(), detail=detail)
        with self._lock:
            self._marks.append(mark)
        return mark

    def mark_t(self, name: str) -> float:
        """The time of the first mark called `name` (KeyError if there is none)."""
        with self._lock:
            for mark in self._marks:
                if mark.name == name:
                    return mark.t
        raise KeyError(name)

    def sample(self, sample: Sample) -> None:
        with self._lock:
            self._samples.append(sample)

    def samples(self) -> list[Sample]:
        with self._lock:
            return list(self._samples)

    def fault(self, record: FaultRecord) -> None:
        with self._lock:
            self._faults.append(record)

    def step(self, record: StepRecord) -> None:
        with self._lock:
            self._steps.append(record)

    def snapshot_table(self, snap: TableSnapshot) -> None:
        with self._lock:
            self._snapshots.append(snap)

    def data_diff(self, diff: DataDiff) -> None:
        with self._lock:
            self._data.append(diff)

    def verify_result(self, result: ProbeSample) -> None:
        with self._lock:
            self._verify.append(result)

    def set_rpo(self, record: RpoRecord) -> None:
        with self._lock:
            self._rpo = record

    def load_bucket(self, bucket: LoadBucket) -> None:
        with self._lock:
            self._load.append(bucket)

    def load_buckets(self) -> list[LoadBucket]:
        with self._lock:
            return list(self._load)

    def fact(self, key: str, value: str) -> None:
        with self._lock:
            self._facts[key] = value

    def abort(self, phase: Phase, code: str, reason: str) -> None:
        with self._lock:
            if self._abort is None:  # the first cause is the one that matters
                self._abort = (phase, code, reason)

    @property
    def aborted(self) -> bool:
        with self._lock:
            return self._abort is not None

    def snapshot(self, *, ended: bool = False) -> Journal:
        with self._lock:
            abort = self._abort
            return Journal(
                **self._head,
                ended_utc=self._clock.wall() if ended else None,
                marks=tuple(self._marks),
                samples=tuple(self._samples),
                faults=tuple(self._faults),
                steps=tuple(self._steps),
                snapshots=tuple(self._snapshots),
                data=tuple(self._data),
                verify_results=tuple(self._verify),
                load=tuple(self._load),
                facts=dict(self._facts),
                rpo=self._rpo,
                aborted_in=abort[0] if abort else None,
                abort_code=abort[1] if abort else None,
                abort_reason=abort[2] if abort else None,
            )
