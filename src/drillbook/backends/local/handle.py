"""The part every local service shares: one process group, its log, its health, its state."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from drillbook.backends.base import ServiceInfo, ServiceState
from drillbook.backends.local.process import ManagedProcess
from drillbook.backends.local.runas import RunAs
from drillbook.backends.local.state import RUN_DIR_ENV, RUN_ID_ENV, RunState
from drillbook.clock import Clock
from drillbook.errors import ProvisionError, ServiceError

LOG_TAIL = 20
_START_MARK = "--- drillbook: starting "


@dataclass(frozen=True)
class LocalRun:
    """What every service of one run shares."""

    run_id: str
    run_dir: Path
    state: RunState
    clock: Clock


class ProcessService:
    """A service that is one process group (plus whatever it forks) on this machine.

    Subclasses say how to start it (`_argv`, `_env`, `_cwd`), how to check it (`_check`:
    None when healthy, else a short reason) and what it tells others (`info`, `env`).
    """

    kind = ""
    stop_signal: int = signal.SIGTERM

    def __init__(
        self,
        name: str,
        *,
        workdir: Path,
        run: LocalRun,
        startup_timeout: float,
    ) -> None:
        self._name = name
        self.workdir = workdir
        self.log_path = workdir / f"{self.kind}.log"
        self.run = run
        self.clock = run.clock
        self.startup_timeout = startup_timeout
        self._lock = threading.RLock()
        self._proc: ManagedProcess | None = None
        self._stopped_on_purpose = True
        self._torn_down = False
        self.started_ns = 0

    # --- what subclasses provide -------------------------------------------------------

    def _argv(self) -> list[str]:
        raise NotImplementedError

    def _cwd(self) -> Path:
        return self.workdir

    def _user(self) -> RunAs | None:
        return None

    def _process_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env[RUN_ID_ENV] = self.run.run_id
        env[RUN_DIR_ENV] = str(self.run.run_dir)
        return env

    def _check(self) -> str | None:
        """None when healthy, else why not (one short phrase)."""
        raise NotImplementedError

    def _ready(self) -> str | None:
        """Run while waiting after a start; may do first-start work. Default: `_check`."""
        return self._check()

    def _before_start(self) -> None:
        """Runs under the lock before every spawn."""

    def _after_stop(self) -> None:
        """Runs under the lock after the process group is gone."""

    def _cleanup(self) -> None:
        """Teardown's last step: remove what lives outside the service dir."""

    @property
    def info(self) -> ServiceInfo:
        raise NotImplementedError

    def env(self) -> Mapping[str, str]:
        return {}

    def secrets(self) -> tuple[str, ...]:
        return ()

    # --- the ServiceHandle protocol ----------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    def start(self, timeout: float | None = None) -> None:
        with self._lock:
            if self._torn_down:
                raise ServiceError(f"service {self.name!r} was torn down and cannot start again")
            if self._proc is not None and self._proc.alive():
                return
            self._spawn_and_wait(self.startup_timeout if timeout is None else timeout)

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:
            self._stopped_on_purpose = True
            if self._proc is not None:
                self._proc.stop(self.stop_signal, timeout)
            self._after_stop()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        with self._lock:
            proc = self._proc
            if proc is None or not proc.alive():
                raise ServiceError(f"service {self.name!r} is not running; nothing to signal")
            proc.signal_group(sig)  # if it dies of it, state() says EXITED: it was not a stop
            self._after_signal(sig)

    def _after_signal(self, sig: int) -> None:
        """Hook: what else a signal reaches (PostgreSQL's children live in their own groups)."""

    def restart(self, timeout: float | None = None) -> None:
        with self._lock:
            self.stop()
            self.start(timeout)

    def state(self) -> ServiceState:
        proc = self._proc
        if proc is not None and proc.alive():
            return ServiceState.RUNNING
        if self._stopped_on_purpose:
            return ServiceState.STOPPED
        return ServiceState.EXITED

    def healthy(self) -> bool:
        try:
            return self.state() is ServiceState.RUNNING and self._check() is None
        except Exception:
            return False

    def log_tail(self, lines: int = LOG_TAIL) -> list[str]:
        try:
            with self.log_path.open("rb") as log:
                log.seek(0, os.SEEK_END)
                size = log.tell()
                log.seek(max(0, size - 64 * 1024))
                text = log.read().decode(errors="replace")
        except OSError:
            return []
        return text.splitlines()[-lines:] if lines > 0 else []

    def facts(self) -> Mapping[str, str]:
        facts = {"kind": self.kind, "state": str(self.state()), "log": str(self.log_path)}
        proc = self._proc
        if proc is not None and proc.alive():
            facts["pid"] = str(proc.pid)
        return facts

    def teardown(self) -> None:
        with self._lock:
            if self._torn_down:
                return
            self._torn_down = True
            try:
                self.stop(timeout=5.0)
            except Exception:  # teardown never raises
                if self._proc is not None:
                    self._proc.signal_group(signal.SIGKILL)
            with contextlib.suppress(Exception):  # best effort; clean() sweeps what is left
                self._cleanup()

    # --- starting ----------------------------------------------------------------------

    def _spawn(self) -> ManagedProcess:
        if self._proc is not None:  # exited: reap it and whatever it left in its group
            self._proc.stop(signal.SIGKILL, 0.0)
        self._before_start()
        proc = ManagedProcess(
            self._argv(),
            cwd=self._cwd(),
            env=self._process_env(),
            log_path=self.log_path,
            user=self._user(),
        )
        self.run.state.add_process(self.name, proc.pid, proc.pgid)
        self._proc = proc
        self._stopped_on_purpose = False
        self.started_ns = self.clock.now_ns()
        return proc

    def _spawn_and_wait(self, timeout: float) -> None:
        """Start and wait until healthy; on failure leave it stopped and raise ProvisionError."""
        started = self.clock.now_ns()
        proc = self._spawn()
        delay = 0.02
        while True:
            waited = (self.clock.now_ns() - started) / 1e9
            code = proc.returncode
            if code is not None:
                self.stop()
                raise ProvisionError(
                    f"service {self.name!r} ({self.kind}) exited with code {code} "
                    f"{waited:.1f}s after start; see {self.log_path}",
                    log_tail=self.log_tail(),
                )
            result = self._ready()
            if result is None:
                return
            reason = result
            if waited >= timeout:
                self.stop()
                raise ProvisionError(
                    f"service {self.name!r} ({self.kind}) was not healthy within {timeout:g}s "
                    f"(waited {waited:.1f}s; last check: {reason}); it was stopped; "
                    f"raise startup_timeout if it is just slow",
                    log_tail=self.log_tail(),
                )
            self.clock.sleep(min(delay, max(0.0, timeout - waited)))
            delay = min(delay * 1.5, 0.2)


def _port_taken(lines: list[str] | tuple[str, ...]) -> bool:
    """Whether the last start in a log failed because its port was taken meanwhile."""
    last: list[str] = []
    for line in lines:
        last = [] if line.startswith(_START_MARK) else [*last, line.lower()]
    return any("address already in use" in line or "is in use" in line for line in last)


def start_new(service: ProcessService, timeout: float, new_port: Callable[[], None] | None) -> None:
    """First start of a provisioned service. When its free port was taken between choosing it
    and binding it (the race free ports have), choose another and try again, twice at most."""
    for attempt in range(3):
        try:
            service.start(timeout)
        except ProvisionError as exc:
            if new_port is None or attempt == 2 or not _port_taken(exc.log_tail):
                raise
            new_port()
        else:
            return
