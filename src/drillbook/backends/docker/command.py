"""Any command as a container: the team's program (or a kind's `as_command()`, the gateway).

The service dir holds the config copies and is mounted at its host path, so `{workdir}` means
the same inside and out and a fault that corrupts the copy on the host is what the container
reads at its next start. The scenario's dir is mounted read-only at its host path for scripts
named relative to it. A plain command shares the host's network (it binds where it binds,
often 127.0.0.1); the gateway binds 0.0.0.0 on the run's network with its port published.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from testcontainers.core.container import DockerContainer

from drillbook.backends.command_endpoint import CommandEndpoint
from drillbook.backends.docker.container import ContainerService
from drillbook.backends.docker.engine import DockerRun
from drillbook.backends.local.command import Revision, with_changes
from drillbook.errors import ProvisionError, ServiceError
from drillbook.services.command import CommandService

_SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "API_KEY", "ACCESS_KEY", "PRIVATE_KEY")


class DockerCommand(CommandEndpoint, ContainerService):
    kind = "command"
    use_init = True  # PID 1 ignores SIGTERM unless it installs a handler; an init forwards it
    settle_seconds = 0.5

    def __init__(
        self,
        name: str,
        spec: CommandService,
        *,
        run: DockerRun,
        image: str,
        workdir: Path,
        kind: str = "command",
        network_mode: str = "host",
        port: int | None = None,
    ) -> None:
        self.kind = kind
        self.network_mode = network_mode
        super().__init__(
            name, run=run, image=image, workdir=workdir, startup_timeout=spec.startup_timeout
        )
        if port is not None:
            self.port = port
        self.spec = spec
        self.started_ns = 0
        self.revisions: list[Revision] = [Revision(1, spec, "initial")]

    # --- revision history: deploy a change, undo to an earlier revision ----------------

    def revision_history(self) -> tuple[Revision, ...]:
        with self._lock:
            return tuple(self.revisions)

    def deploy(self, changes: Mapping[str, str], timeout: float | None = None) -> Revision:
        """A new container on a new revision: the current spec with `changes` (see the local
        backend's `with_changes`). Recorded even when it fails to start."""
        if not changes:
            raise ServiceError(f"deploy {self.name!r}: nothing to change")
        change = ", ".join(f"{k}={v}" for k, v in changes.items())
        with self._lock:
            return self._roll(with_changes(self.spec, changes), change, timeout)

    def undo(self, to: int | None = None, timeout: float | None = None) -> Revision:
        """Roll back to revision `to` (default: the one before), recorded as a new revision."""
        with self._lock:
            if to is None:
                if len(self.revisions) < 2:
                    raise ServiceError(f"undo {self.name!r}: no previous revision to roll back to")
                target = self.revisions[-2]
            else:
                found = [r for r in self.revisions if r.number == to]
                if not found:
                    known = ", ".join(str(r.number) for r in self.revisions)
                    raise ServiceError(
                        f"undo {self.name!r}: no revision {to}; the history has {known}"
                    )
                target = found[0]
            return self._roll(target.spec, f"undo to revision {target.number}", timeout)

    def _roll(self, spec: CommandService, change: str, timeout: float | None) -> Revision:
        revision = Revision(self.revisions[-1].number + 1, spec, change)
        self.revisions.append(revision)
        self.spec = spec
        self.stop()
        self.recreate()  # argv and environment are fixed when a container is created
        self.start(timeout)
        return revision

    def _subst(self, text: str) -> str:
        return (
            text.replace("{port}", str(self.port))
            .replace("{workdir}", str(self.workdir))
            .replace("{base_dir}", str(self.run.base_dir))
        )

    def argv(self) -> list[str]:
        argv = [self._subst(word) for word in self.spec.argv()]
        if argv[0] == sys.executable:  # as_command() names the host's python: use the image's
            argv[0] = "python3"
        first = Path(argv[0])
        if not first.is_absolute() and "/" in argv[0] and (self.run.base_dir / first).exists():
            argv[0] = str(self.run.base_dir / first)
        return argv

    def _address(self, text: str) -> str:
        """On the run network, host addresses of run services become their network names."""
        return self.run.to_network(text) if self.network_mode == "run" else text

    def _spec(self) -> DockerContainer:
        container = self.base_container().with_command([self._address(w) for w in self.argv()])
        container.with_env("DRILLBOOK_RUN_ID", self.run.run_id)
        container.with_env("DRILLBOOK_RUN_DIR", str(self.run.run_dir))
        for key, value in self.spec.env.items():
            container.with_env(key, self._address(self._subst(value)))
        if self.network_mode == "run":
            container.with_env("DRILLBOOK_GATEWAY_HOST", "0.0.0.0")
        # The run dir (its service dir is inside) and the scenario dir, at their host paths.
        container.with_volume_mapping(str(self.run.run_dir), str(self.run.run_dir), "rw")
        if not self.run.base_dir.is_relative_to(self.run.run_dir):
            container.with_volume_mapping(str(self.run.base_dir), str(self.run.base_dir), "ro")
        return container

    def _create_kwargs(self) -> dict[str, Any]:
        kwargs = super()._create_kwargs()
        kwargs.update(working_dir=str(self.workdir), stop_signal=self.spec.stop_signal)
        if self.network_mode == "host":
            # A host command sees the host's processes too, as it would outside a container
            # (a launcher finding its upstreams' ports, a watchdog reading their memory).
            kwargs["pid_mode"] = "host"
        return kwargs

    def _before_start(self) -> None:
        self.started_ns = self.run.clock.now_ns()

    @property
    def health_url(self) -> str | None:
        return self._subst(self.spec.health.http) if self.spec.health.http else None

    def _check(self) -> str | None:
        url = self.health_url
        if url is not None:
            try:
                response = httpx.get(url, timeout=2.0)
            except httpx.HTTPError as exc:
                return f"GET {url}: {type(exc).__name__}"
            if response.status_code != self.spec.health.expect_status:
                expected = self.spec.health.expect_status
                return f"GET {url}: status {response.status_code}, expected {expected}"
            return None
        if self.spec.health.tcp:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1.0)
            except httpx.ConnectError:
                return f"nothing accepts connections on 127.0.0.1:{self.port}"
            except httpx.HTTPError:
                return None  # something answered, if not in HTTP
        return None

    def _ready(self) -> str | None:
        if self.spec.health.http is None and not self.spec.health.tcp:
            up = (self.run.clock.now_ns() - self.started_ns) / 1e9
            if up < self.settle_seconds:
                return f"up {up:.2f}s of the {self.settle_seconds}s needed without a check"
        return self._check()

    def secrets(self) -> tuple[str, ...]:
        return tuple(
            self._subst(value)
            for key, value in self.spec.env.items()
            if value and any(word in key.upper() for word in _SECRET_WORDS)
        )

    def facts(self) -> Mapping[str, str]:
        facts = dict(super().facts())
        facts.update(command=" ".join(self.argv()), network=self.network_mode)
        if len(self.revisions) > 1:
            facts["revision"] = str(self.revisions[-1].number)
            facts["revision_history"] = "; ".join(f"{r.number}: {r.change}" for r in self.revisions)
        return facts


def copy_config_files(
    name: str, kind: str, spec: CommandService, workdir: Path, base_dir: Path
) -> None:
    """Copy the config files into the service dir once, as the local backend does."""
    for dest, source in spec.config_files.items():
        src = Path(source) if Path(source).is_absolute() else base_dir / source
        target = workdir / dest
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
        except OSError as exc:
            raise ProvisionError(
                f"service {name!r} ({kind}): cannot copy config file {source!r} to {dest!r}: {exc}"
            ) from exc
