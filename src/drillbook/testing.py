"""Test doubles for drillbook users and for drillbook's own tests.

Each section belongs to the part of drillbook it serves; add yours in a section of its own.
"""

from __future__ import annotations

# =============================================================================================
# measure / grade / report (helper: measure-grade-report) -- hand-built journals and scenarios
# =============================================================================================
import contextlib
import os
import re
import signal
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from drillbook.backends.base import ServiceHandle, ServiceInfo, ServiceState
from drillbook.clock import Clock, FakeClock, MonotonicClock
from drillbook.errors import DrillbookError, StepError
from drillbook.grade import grade
from drillbook.journal import (
    DataDiff,
    FaultRecord,
    Journal,
    Phase,
    ProbeSample,
    Recorder,
    Sample,
    StepRecord,
)
from drillbook.measure import measure
from drillbook.result import RunResult
from drillbook.scenario.kinds import (
    FaultOutcome,
    FaultSpec,
    ProbeResult,
    ProbeSpec,
    StepOutcome,
    StepSpec,
)
from drillbook.scenario.model import Scenario

if TYPE_CHECKING:
    from drillbook.context import DrillContext


class StaticProbe(ProbeSpec):
    """A probe that always answers `ok` (not registered: pass instances to Scenario)."""

    kind: Literal["test.static"] = "test.static"
    ok: bool = True

    def check(self, ctx: DrillContext, timeout: float) -> ProbeResult:
        return ProbeResult(ok=self.ok, detail="" if self.ok else "static failure")


class NoopStep(StepSpec):
    """A step that succeeds at once without touching anything."""

    kind: Literal["test.noop"] = "test.noop"

    def execute(self, ctx: DrillContext, timeout: float) -> StepOutcome:
        return StepOutcome(ok=True, exit_code=0)


class NoopFault(FaultSpec):
    """A fault that breaks nothing; its journal record says what a test wants."""

    kind: Literal["test.noop"] = "test.noop"

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        return FaultOutcome(target="nothing")


def make_scenario(**fields: Any) -> Scenario:
    """A valid scenario with one probe, one fault and one recovery step unless overridden."""
    values: dict[str, Any] = {
        "name": "drill",
        "steady_state": [StaticProbe()],
        "fault": [NoopFault()],
        "recovery": [NoopStep()],
    }
    values.update(fields)
    return Scenario.model_validate(values)


class JournalBuilder:
    """Writes a journal by hand on a FakeClock, event by event, the way the runner would.

        b = JournalBuilder(interval=0.1, stable_samples=3)
        b.mark("baseline.start"); b.samples("ooo"); b.mark("baseline.end")
        b.mark("inject.start"); b.fault(); b.samples("xx")
        b.mark("recover.start"); b.step("recover", duration=2.0); b.samples("xxooo")
        journal = b.journal()

    `samples("ooxo")` records one sample per letter (o ok, x failing) at the current time,
    advancing the clock by the interval after each.
    """

    def __init__(
        self,
        *,
        interval: float = 0.1,
        stable_samples: int = 3,
        scenario: str = "drill",
        dry_run: bool = False,
    ) -> None:
        self.clock = FakeClock()
        self.interval = interval
        self.recorder = Recorder(
            run_id="run-1", scenario=scenario, scenario_file=None, backend="local",
            clock=self.clock, probe_interval=interval, stable_samples=stable_samples,
            dry_run=dry_run,
        )
        self._steps = 0
        self._faults = 0

    @property
    def t(self) -> float:
        return self.recorder.t()

    def advance(self, seconds: float) -> JournalBuilder:
        self.clock.advance(seconds)
        return self

    def mark(self, name: str, **detail: str) -> JournalBuilder:
        self.recorder.mark(name, **detail)
        return self

    def sample(self, ok: bool, *, probe: str = "probe", detail: str = "") -> JournalBuilder:
        result = ProbeSample(probe=probe, ok=ok, detail=detail or ("" if ok else "down"),
                             latency=0.001)
        self.recorder.sample(Sample(t=self.t, ok=ok, results=(result,)))
        return self.advance(self.interval)

    def samples(self, states: str | Iterable[bool], *, probe: str = "probe") -> JournalBuilder:
        for state in states:
            self.sample(state == "o" if isinstance(state, str) else bool(state), probe=probe)
        return self

    def step(
        self,
        phase: Phase = "recover",
        *,
        ok: bool = True,
        duration: float = 0.0,
        timed_out: bool = False,
        skipped: bool = False,
        exit_code: int | None = None,
        id: str | None = None,
        kind: str = "run",
        output: tuple[str, ...] = (),
        error: str | None = None,
    ) -> JournalBuilder:
        """A step that started now and took `duration` (the clock does not move)."""
        self.recorder.step(StepRecord(
            phase=phase, index=self._steps, id=id, kind=kind, description=f"{kind} step",
            started=self.t, ended=self.t + duration, ok=ok and not timed_out and not skipped,
            exit_code=exit_code if exit_code is not None else (0 if ok else 1),
            timed_out=timed_out, skipped=skipped, output_tail=output, error=error,
        ))
        self._steps += 1
        return self

    def fault(
        self, *, ok: bool = True, skipped: bool = False, kind: str = "db.drop_table",
        target: str = "db.configs", error: str | None = None,
    ) -> JournalBuilder:
        self.recorder.fault(FaultRecord(
            index=self._faults, kind=kind, target=target, started=self.t, ended=self.t,
            ok=ok and not skipped, skipped=skipped, error=error,
        ))
        self._faults += 1
        return self

    def data(
        self, table: str = "configs", *, service: str = "db", before: int = 100,
        lost: int = 0, added: int = 0, changed: int = 0, checksum_match: bool | None = None,
        keyed: bool = True, exists_after: bool = True, error: str | None = None,
    ) -> JournalBuilder:
        match = checksum_match if checksum_match is not None else not (lost or added or changed)
        self.recorder.data_diff(DataDiff(
            service=service, table=table, rows_before=before, rows_after=before - lost + added,
            rows_lost=lost, rows_added=added, rows_changed=changed, checksum_match=match,
            exists_after=exists_after, keyed=keyed, error=error,
        ))
        return self

    def verify(self, ok: bool = True, *, probe: str = "probe", detail: str = "") -> JournalBuilder:
        self.recorder.verify_result(ProbeSample(probe=probe, ok=ok, detail=detail, latency=0.001))
        return self

    def abort(self, phase: Phase, code: str, reason: str) -> JournalBuilder:
        self.recorder.abort(phase, code, reason)
        return self

    def fact(self, key: str, value: str) -> JournalBuilder:
        self.recorder.fact(key, value)
        return self

    def journal(self) -> Journal:
        return self.recorder.snapshot(ended=True)


def healthy_drill(
    *, recover_after: int = 5, interval: float = 0.1, stable_samples: int = 3
) -> JournalBuilder:
    """A complete passing run: steady baseline, fault seen at once, restored after
    `recover_after` failing samples, verify passes, no rows lost."""
    b = JournalBuilder(interval=interval, stable_samples=stable_samples)
    b.mark("baseline.start").samples("ooo").mark("baseline.end")
    b.mark("inject.start").fault().mark("inject.end").samples("x")
    b.mark("recover.start").step("recover", duration=recover_after * interval, id="restore")
    b.samples("x" * recover_after).samples("o" * stable_samples).mark("recover.end")
    b.mark("verify.start").verify().data().mark("verify.end")
    return b


def make_result(
    journal: Journal, scenario: Scenario | None = None, *, report_dir: Path | None = None
) -> RunResult:
    """Measure and grade `journal` against `scenario` (default: `make_scenario()`)."""
    scenario = scenario or make_scenario(name=journal.scenario)
    m = measure(journal)
    return RunResult(
        scenario=scenario.name, scenario_file=journal.scenario_file, run_id=journal.run_id,
        backend=journal.backend, journal=journal, measurements=m,
        verdict=grade(scenario, journal, m), report_dir=report_dir,
    )


# ========================================================================= end measure / grade


# =============================================================================================
# faults / steps / probes (helper: kinds) -- a DrillContext and ServiceHandles without a backend
# =============================================================================================

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
_STOPPING = {signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGQUIT}


class FakeService:
    """A ServiceHandle that records every control call and changes state as a real one would.

    Give it a real `info` (say the DSN of a test PostgreSQL) to run faults and probes against
    a real server while controlling start/stop/restart by hand. `restart_error` makes every
    restart fail (the service is then left stopped), as after a corrupted config.
    """

    def __init__(
        self,
        name: str = "svc",
        kind: str = "command",
        *,
        info: ServiceInfo | None = None,
        state: ServiceState = ServiceState.RUNNING,
        env: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        restart_error: DrillbookError | None = None,
        healthy: bool = True,
        log: Iterable[str] = (),
    ) -> None:
        self._name = name
        self._kind = kind
        self._info = info or ServiceInfo(name=name, kind=kind)
        self._state = state
        self._env = dict(env or {})
        self._secrets = tuple(secrets)
        self.restart_error = restart_error
        self.is_healthy = healthy
        self.log = list(log)
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def info(self) -> ServiceInfo:
        return self._info

    def env(self) -> Mapping[str, str]:
        return dict(self._env)

    def secrets(self) -> tuple[str, ...]:
        return self._secrets

    def _record(self, action: str, arg: str = "", state: ServiceState | None = None) -> None:
        with self._lock:
            self.calls.append((action, arg))
            if state is not None:
                self._state = state

    def start(self, timeout: float | None = None) -> None:
        self._record("start", "", ServiceState.RUNNING)

    def stop(self, timeout: float = 10.0) -> None:
        self._record("stop", "", ServiceState.STOPPED)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        name = signal.Signals(sig).name
        self._record("kill", name, ServiceState.EXITED if sig in _STOPPING else None)

    def restart(self, timeout: float | None = None) -> None:
        if self.restart_error is not None:
            self._record("restart", "failed", ServiceState.STOPPED)
            raise self.restart_error
        self._record("restart", "", ServiceState.RUNNING)

    def state(self) -> ServiceState:
        with self._lock:
            return self._state

    def healthy(self) -> bool:
        return self.state() == ServiceState.RUNNING and self.is_healthy

    def log_tail(self, lines: int = 20) -> list[str]:
        return self.log[-lines:]

    def facts(self) -> Mapping[str, str]:
        return {"fake": "true"}

    def teardown(self) -> None:
        self._record("teardown", "", ServiceState.STOPPED)


class FakeContext:
    """A DrillContext over a scratch directory and FakeServices (or any ServiceHandles).

    `${...}` references expand as in a real run (steps.ID.stdout, steps.ID.exit_code,
    services.NAME.FIELD, env.VAR, workdir, run_id, base_dir); `record_output` plays the runner
    after a step with an id. Marks, secrets and log lines are kept in lists for assertions.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        base_dir: Path | None = None,
        services: Iterable[ServiceHandle] = (),
        env: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        random_seed: int = 0,
        run_id: str = "run-test",
    ) -> None:
        self._workdir = workdir
        self._base_dir = base_dir or workdir
        self._services = {s.name: s for s in services}
        self._extra_env = dict(env or {})
        self._clock: Clock = clock or MonotonicClock()
        self._seed = random_seed
        self._run_id = run_id
        self.outputs: dict[str, StepOutcome] = {}
        self.marks: list[tuple[str, dict[str, str]]] = []
        self.secrets: list[str] = []
        self.logs: list[str] = []

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def workdir(self) -> Path:
        return self._workdir

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def random_seed(self) -> int:
        return self._seed

    def add_service(self, handle: ServiceHandle) -> None:
        self._services[handle.name] = handle

    def service(self, name: str) -> ServiceHandle:
        try:
            return self._services[name]
        except KeyError:
            raise StepError(f"unknown service {name!r}") from None

    def services(self) -> Mapping[str, ServiceHandle]:
        return dict(self._services)

    def env(self) -> Mapping[str, str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DRILL_WORKDIR": str(self.workdir)}
        for handle in self._services.values():
            env.update(handle.env())
        env.update(self._extra_env)
        return env

    def interpolate(self, text: str) -> str:
        return _REF.sub(lambda m: self._lookup(m.group(1)), text)

    def resolve(self, path: str) -> Path:
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self._base_dir / candidate

    def mark(self, name: str, **detail: str) -> None:
        self.marks.append((name, detail))

    def add_secret(self, value: str) -> None:
        self.secrets.append(value)

    def log(self, message: str) -> None:
        self.logs.append(message)

    def record_output(self, step_id: str, outcome: StepOutcome) -> None:
        self.outputs[step_id] = outcome

    def _lookup(self, ref: str) -> str:
        head, _, rest = ref.partition(".")
        simple = {"workdir": str(self._workdir), "run_id": self._run_id,
                  "base_dir": str(self._base_dir)}
        if head in simple and not rest:
            return simple[head]
        if head == "env" and rest in self.env():
            return self.env()[rest]
        if head == "steps":
            step_id, _, field = rest.partition(".")
            outcome = self.outputs.get(step_id)
            if outcome is not None and field in ("stdout", ""):
                return outcome.stdout.strip()
            if outcome is not None and field == "exit_code":
                return "" if outcome.exit_code is None else str(outcome.exit_code)
        if head == "services":
            name, _, field = rest.partition(".")
            handle = self._services.get(name)
            if handle is not None and (field or "url") in type(handle.info).model_fields:
                value = getattr(handle.info, field or "url")
                if value is not None:
                    return str(value)
        raise StepError(f"${{{ref}}}: unknown reference")


# ================================================================ end faults / steps / probes


# =============================================================================================
# gateway (helper: gateway) -- the reference gateway in process, for API tests without a port
# =============================================================================================

GATEWAY_FIXTURE_MASTER_KEY = "sk-drill-7f3c9a1e5b2d4860"
"""general_settings.master_key of fixtures/gateway/config.yaml."""


@contextlib.contextmanager
def gateway_client(
    config: Path,
    *,
    release: str = "v1",
    drill_token: str | None = "drill-token",  # noqa: S107 - a test token
    database_url: str | None = None,
    env_file: Path | None = None,
) -> Iterator[tuple[Any, Any]]:
    """(TestClient, Gateway) for `config`, lifespan run; drill hooks on with `drill_token`."""
    from fastapi.testclient import TestClient

    from drillbook.gateway.app import create_app
    from drillbook.gateway.runtime import Gateway, GatewayOptions

    gateway = Gateway(
        GatewayOptions(
            config_path=config,
            release=release,
            drill_token=drill_token,
            database_url=database_url,
            env_file=env_file,
        )
    )
    with TestClient(create_app(gateway)) as client:
        yield client, gateway


# ========================================================================= end gateway


# =============================================================================================
# load (helper: load) -- hand-built load buckets for a JournalBuilder
# =============================================================================================


def load_buckets(
    builder: JournalBuilder,
    counts: Iterable[tuple[int, int]],
    *,
    width: float = 1.0,
    latency_ms: int = 10,
    status: str = "500",
) -> JournalBuilder:
    """One LoadBucket per (requests, failures), from the builder's time on, advancing its clock
    by `width` each; failures are spread evenly inside the bucket, latencies all `latency_ms`."""
    from drillbook.journal import LoadBucket

    for requests, failures in counts:
        start = builder.t
        end = start + width
        first = last = None
        if failures:
            first = start + width / (failures + 1)
            last = start + width * failures / (failures + 1)
        builder.recorder.load_bucket(LoadBucket(
            start=start, end=end, requests=requests, failures=failures,
            by_status={status: failures} if failures else {},
            p50=latency_ms / 1000, p95=latency_ms / 1000, p99=latency_ms / 1000,
            max=latency_ms / 1000, first_failure=first, last_failure=last, users=10,
            hist={latency_ms: requests} if requests else {},
        ))
        builder.advance(width)
    return builder


# ========================================================================= end load
