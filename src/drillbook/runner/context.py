"""RunContext: the DrillContext a running drill hands to its faults, steps and probes."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from drillbook.backends.base import ServiceHandle
from drillbook.clock import Clock
from drillbook.errors import StepError
from drillbook.journal import Recorder
from drillbook.scenario.kinds import StepOutcome

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")


class RunContext:
    def __init__(
        self,
        *,
        run_id: str,
        workdir: Path,
        base_dir: Path,
        clock: Clock,
        random_seed: int,
        recorder: Recorder,
        on_log: Callable[[str], None] = lambda _line: None,
    ) -> None:
        self._run_id = run_id
        self._workdir = workdir
        self._base_dir = base_dir
        self._clock = clock
        self._seed = random_seed
        self._recorder = recorder
        self._on_log = on_log
        self._services: dict[str, ServiceHandle] = {}
        self._env: dict[str, str] = {}
        self._outputs: dict[str, StepOutcome] = {}
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    # DrillContext -----------------------------------------------------------------------
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

    def service(self, name: str) -> ServiceHandle:
        try:
            return self._services[name]
        except KeyError:
            raise StepError(
                f"unknown service {name!r}; provisioned: {', '.join(self._services)}"
            ) from None

    def services(self) -> Mapping[str, ServiceHandle]:
        return dict(self._services)

    def env(self) -> Mapping[str, str]:
        with self._lock:
            return dict(self._env)

    def interpolate(self, text: str) -> str:
        return _REF.sub(lambda m: self._lookup(m.group(1)), text)

    def resolve(self, path: str) -> Path:
        candidate = Path(path)
        return candidate if candidate.is_absolute() else (self._base_dir / candidate).resolve()

    def mark(self, name: str, **detail: str) -> None:
        self._recorder.mark(name, **detail)

    def add_secret(self, value: str) -> None:
        if value:
            with self._lock:
                self._secrets.add(value)

    def log(self, message: str) -> None:
        self._on_log(message)

    # Runner side --------------------------------------------------------------------------
    def add_service(self, handle: ServiceHandle) -> None:
        self._services[handle.name] = handle
        for secret in handle.secrets():
            self.add_secret(secret)

    def set_env(self, env: Mapping[str, str]) -> None:
        with self._lock:
            self._env = dict(env)

    def record_output(self, step_id: str, outcome: StepOutcome) -> None:
        with self._lock:
            self._outputs[step_id] = outcome

    def secrets(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._secrets)

    def _lookup(self, ref: str) -> str:
        head, _, rest = ref.partition(".")
        if head == "workdir" and not rest:
            return str(self._workdir)
        if head == "run_id" and not rest:
            return self._run_id
        if head == "base_dir" and not rest:
            return str(self._base_dir)
        if head == "env" and rest:
            value = self.env().get(rest)
            if value is None:
                raise StepError(f"${{{ref}}}: no variable {rest!r} in the drill environment")
            return value
        if head == "steps":
            step_id, _, field = rest.partition(".")
            with self._lock:
                outcome = self._outputs.get(step_id)
            if outcome is None:
                raise StepError(f"${{{ref}}}: no step with id {step_id!r} has run yet")
            if field in ("stdout", ""):
                return outcome.stdout.strip()
            if field == "exit_code":
                return "" if outcome.exit_code is None else str(outcome.exit_code)
            if field in outcome.detail:
                return outcome.detail[field]
            raise StepError(f"${{{ref}}}: a step has stdout, exit_code or {sorted(outcome.detail)}")
        if head == "services":
            name, _, field = rest.partition(".")
            handle = self._services.get(name)
            if handle is None:
                raise StepError(f"${{{ref}}}: unknown service {name!r}")
            value = getattr(handle.info, field or "url", None)
            if (
                value is None
                or field.startswith("_")
                or field not in type(handle.info).model_fields
            ):
                raise StepError(f"${{{ref}}}: service {name!r} has no {field!r}")
            return str(value)
        # Anything else (${HOME} in a shell line) is the shell's business, not ours.
        return "${" + ref + "}"
