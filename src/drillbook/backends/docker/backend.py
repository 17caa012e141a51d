"""The docker backend: every service a container on the run's own network.

Containers are made with testcontainers-python; reaping is by label (see cleanup.py), since
Ryuk's image may not be pullable (a setting turns it on where it is). Images come from the
settings (DRILLBOOK_DOCKER_*), never from code.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from drillbook.backends.base import ServiceHandle
from drillbook.backends.docker.cleanup import clean_docker
from drillbook.backends.docker.command import DockerCommand, copy_config_files
from drillbook.backends.docker.config import DockerSettings
from drillbook.backends.docker.container import ContainerService
from drillbook.backends.docker.engine import DockerRun, docker_client, free_port
from drillbook.backends.docker.postgres import DockerPostgres
from drillbook.backends.docker.s3 import DockerS3
from drillbook.clock import Clock, MonotonicClock
from drillbook.errors import ProvisionError
from drillbook.scenario.kinds import ServiceSpec
from drillbook.services.command import CommandService
from drillbook.services.postgres import PostgresService
from drillbook.services.s3 import S3Service


class DockerBackend:
    """Provisions services as containers labelled with the run id; service dirs (config
    copies, logs, client-tool wrappers) live under `run_dir/services/<name>/`."""

    name = "docker"

    def __init__(
        self,
        run_dir: Path,
        run_id: str,
        *,
        clock: Clock | None = None,
        base_dir: Path | None = None,
        settings: DockerSettings | None = None,
    ) -> None:
        self.run_dir = run_dir.resolve()
        self.run_id = run_id
        self.base_dir = (base_dir or Path.cwd()).resolve()
        self.services_dir = self.run_dir / "services"
        self.settings = settings or DockerSettings.from_env()
        self.clock = clock or MonotonicClock()
        self._run: DockerRun | None = None
        self._handles: dict[str, ContainerService] = {}
        self._lock = threading.Lock()
        self._torn_down = False

    def _docker_run(self) -> DockerRun:
        with self._lock:
            if self._run is None:
                self._run = DockerRun(
                    run_id=self.run_id,
                    run_dir=self.run_dir,
                    base_dir=self.base_dir,
                    settings=self.settings,
                    clock=self.clock,
                    client=docker_client(),
                )
            return self._run

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
        handle = self._make(name, spec, workdir)
        with self._lock:
            self._handles[name] = handle  # before start: teardown removes it even if it fails
        handle.start(timeout)
        return handle

    def _make(self, name: str, spec: ServiceSpec, workdir: Path) -> ContainerService:
        run, settings = self._docker_run(), self.settings
        what = f"service {name!r} ({spec.kind})"
        if isinstance(spec, PostgresService):
            image = run.resolve_image(settings.postgres_candidates(spec.version), what)
            return DockerPostgres(name, spec, run=run, image=image, workdir=workdir)
        if isinstance(spec, S3Service):
            image = run.resolve_image([settings.s3_image], what)
            return DockerS3(name, spec, run=run, image=image, workdir=workdir)
        if isinstance(spec, CommandService):
            command, network, image_name = spec, "host", settings.command_image_name
        else:
            command = self._as_command(name, spec)
            network, image_name = "run", settings.gateway_image
        image = run.resolve_image([image_name], what)
        copy_config_files(name, spec.kind, command, workdir, self.base_dir)
        port = None
        if command.port != "auto":
            port = command.port
        elif network == "host":
            port = free_port()
        return DockerCommand(
            name,
            command,
            run=run,
            image=image,
            workdir=workdir,
            kind=spec.kind,
            network_mode=network,
            port=port,
        )

    def _as_command(self, name: str, spec: ServiceSpec) -> CommandService:
        """A kind that offers `as_command(*, database_url=None)` (the gateway); its `database`
        service is reached by name on the run's network."""
        as_command = getattr(spec, "as_command", None)
        if not callable(as_command):
            raise ProvisionError(
                f"service {name!r}: the docker backend cannot run kind {spec.kind!r}; "
                "it runs postgres, s3, command and kinds that offer as_command()"
            )
        database = getattr(spec, "database", None)
        if isinstance(database, str):
            db = self.handles().get(database)
            if not isinstance(db, DockerPostgres):
                raise ProvisionError(
                    f"service {name!r} ({spec.kind}): its database {database!r} is not a postgres "
                    "service provisioned before it; declare that service first"
                )
            command = as_command(database_url=db.network_dsn)
        else:
            command = as_command()
        if not isinstance(command, CommandService):
            raise ProvisionError(f"service {name!r}: {spec.kind}.as_command() gave no command")
        return command

    def handles(self) -> dict[str, ServiceHandle]:
        with self._lock:
            return dict(self._handles)

    def client_path(self) -> list[Path]:
        """Client tools of each server's major first on PATH (host binaries or wrappers)."""
        paths: list[Path] = []
        for handle in self.handles().values():
            tools = handle.tools if isinstance(handle, DockerPostgres) else None
            if tools is not None and tools.bindir not in paths:
                paths.append(tools.bindir)
        return paths

    def teardown(self) -> None:
        """Remove every container (and its volumes), then the network; sweep by label."""
        with self._lock:
            handles = list(self._handles.values())
            self._torn_down = True
            run = self._run
        for handle in reversed(handles):
            with contextlib.suppress(Exception):
                handle.teardown()
        if run is not None:
            with contextlib.suppress(Exception):
                run.remove_network()
            with contextlib.suppress(Exception):
                clean_docker(self.run_id, include_live=True, client=run.client)
