"""The local backend: every service a process group on this machine (the embedded default)."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from drillbook.backends.base import ServiceHandle
from drillbook.backends.local.command import provision_command
from drillbook.backends.local.handle import LocalRun, ProcessService
from drillbook.backends.local.postgres import PostgresHandle, provision_postgres
from drillbook.backends.local.process import find_processes, kill_processes
from drillbook.backends.local.runtime import remove_tree, run_runtime_dir, service_key
from drillbook.backends.local.s3 import provision_s3
from drillbook.backends.local.state import RUN_ID_ENV, RunState
from drillbook.clock import Clock, MonotonicClock
from drillbook.errors import ProvisionError
from drillbook.scenario.kinds import ServiceSpec
from drillbook.services.command import CommandService
from drillbook.services.postgres import PostgresService
from drillbook.services.s3 import S3Service


class LocalBackend:
    """Provisions services as local processes under `run_dir/services/<name>/`.

    Every process gets DRILLBOOK_RUN_ID=<run_id> in its environment and is recorded in the
    run's state file, so `drillbook clean` finds it after a crash. `base_dir` is where relative
    config-file sources of `command` services resolve from (the scenario's base dir).

    A kind the backend does not know can still run here when its spec offers
    `as_command() -> CommandService` (the gateway does).
    """

    name = "local"

    def __init__(
        self,
        run_dir: Path,
        run_id: str,
        *,
        clock: Clock | None = None,
        base_dir: Path | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.run_id = run_id
        self.base_dir = (base_dir or Path.cwd()).resolve()
        self.services_dir = run_dir / "services"
        self._run = LocalRun(run_id, run_dir, RunState(run_dir), clock or MonotonicClock())
        self._handles: dict[str, ProcessService] = {}
        self._runtime_dir: Path | None = None
        self._lock = threading.Lock()
        self._torn_down = False

    def provision(self, name: str, spec: ServiceSpec, *, timeout: float) -> ServiceHandle:
        with self._lock:
            if self._torn_down:
                raise ProvisionError(
                    f"run {self.run_id} was torn down; nothing more can start in it"
                )
            if name in self._handles:
                raise ProvisionError(
                    f"service {name!r} is already provisioned in run {self.run_id}"
                )
            workdir = self.services_dir / name
            workdir.mkdir(parents=True, exist_ok=True)
        handle = self._provision(name, spec, workdir, timeout)
        with self._lock:
            self._handles[name] = handle
        return handle

    def _provision(
        self, name: str, spec: ServiceSpec, workdir: Path, timeout: float
    ) -> ProcessService:
        if isinstance(spec, PostgresService):
            runtime = self._run_runtime_dir() / service_key(name)
            return provision_postgres(
                name, spec, workdir=workdir, runtime_dir=runtime, run=self._run, timeout=timeout
            )
        if isinstance(spec, S3Service):
            return provision_s3(name, spec, workdir=workdir, run=self._run, timeout=timeout)
        command = spec if isinstance(spec, CommandService) else self._as_command(name, spec)
        if command is not None:
            return provision_command(
                name,
                command,
                workdir=workdir,
                run=self._run,
                base_dir=self.base_dir,
                timeout=timeout,
                kind=spec.kind,
            )
        raise ProvisionError(
            f"service {name!r}: the local backend cannot run kind {spec.kind!r}; "
            "it runs postgres, s3, command and kinds that offer as_command()"
        )

    def _as_command(self, name: str, spec: ServiceSpec) -> CommandService | None:
        """The spec as a command, when its kind offers `as_command(*, database_url=None)`.

        A spec with a `database` field naming a postgres service of the run gets that
        service's DSN (it must be declared, and so provisioned, before it).
        """
        as_command = getattr(spec, "as_command", None)
        if not callable(as_command):
            return None
        database = getattr(spec, "database", None)
        if not isinstance(database, str):
            command = as_command()
        else:
            db = self.handles().get(database)
            if db is None or db.info.dsn is None:
                raise ProvisionError(
                    f"service {name!r} ({spec.kind}): its database {database!r} is not a postgres "
                    "service provisioned before it; declare that service first"
                )
            command = as_command(database_url=db.info.dsn)
        if not isinstance(command, CommandService):
            raise ProvisionError(f"service {name!r}: {spec.kind}.as_command() gave no command")
        return command

    def _run_runtime_dir(self) -> Path:
        with self._lock:
            if self._runtime_dir is None:
                self._runtime_dir = run_runtime_dir(self.run_id, self.run_dir)
                self._run.state.add_path(self._runtime_dir)
            return self._runtime_dir

    def handles(self) -> dict[str, ServiceHandle]:
        with self._lock:
            return dict(self._handles)

    def client_path(self) -> list[Path]:
        """The bin dir of the run's PostgreSQL first, so pg_dump matches the server's major."""
        paths: list[Path] = []
        for handle in self.handles().values():
            if isinstance(handle, PostgresHandle) and handle.install.bindir not in paths:
                paths.append(handle.install.bindir)
        return paths

    def teardown(self) -> None:
        """Stop every service (graceful, then SIGKILL), sweep strays, remove the services dirs."""
        with self._lock:
            handles = list(self._handles.values())
            self._torn_down = True
        for handle in reversed(handles):
            with contextlib.suppress(Exception):
                handle.teardown()
        with contextlib.suppress(Exception):
            roots = [self.services_dir] + ([self._runtime_dir] if self._runtime_dir else [])
            kill_processes(
                find_processes(env={RUN_ID_ENV: self.run_id}) + find_processes(cwd_under=roots)
            )
        with contextlib.suppress(Exception):
            remove_tree(self.services_dir)
        if self._runtime_dir is not None:
            with contextlib.suppress(Exception):
                remove_tree(self._runtime_dir)
