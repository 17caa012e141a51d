"""The part every docker service shares: one container, its log, its health, its state.

The container is created once (testcontainers' DockerContainer) and then started, stopped,
killed and restarted in place, so its data (a named volume) and its published port survive
a restart as they would on a real host. The port is the same inside and out, so an address
that works on the host also works inside the container (for `docker exec` client tools).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from docker.errors import DockerException, NotFound
from docker.types import EndpointConfig
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer

from drillbook.backends.base import ServiceInfo, ServiceState
from drillbook.backends.docker.engine import DockerRun, free_port
from drillbook.errors import ProvisionError, ServiceError

LOG_TAIL = 20
_RUNNING = {"running", "restarting", "paused"}


class ContainerService:
    """A service that is one container. Subclasses describe it (`_spec`) and check it
    (`_check`: None when healthy, else a short reason)."""

    kind = ""

    def __init__(
        self, name: str, *, run: DockerRun, image: str, workdir: Path, startup_timeout: float
    ) -> None:
        self._name = name
        self.run = run
        self.image = image
        self.workdir = workdir
        self.log_path = workdir / f"{self.kind}.log"
        self.startup_timeout = startup_timeout
        self.port = free_port()
        self._lock = threading.RLock()
        self._container: Any = None  # docker SDK Container, once created
        self._stopped_on_purpose = True
        self._torn_down = False
        self._follower: threading.Thread | None = None
        self._log_head = b""  # logs of containers this service had before its current one

    # --- what subclasses provide -------------------------------------------------------

    def _spec(self) -> DockerContainer:
        raise NotImplementedError

    def _check(self) -> str | None:
        raise NotImplementedError

    def _ready(self) -> str | None:
        return self._check()

    def _before_start(self) -> None:
        """Runs under the lock before every start (first one included)."""

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

    @property
    def container_id(self) -> str | None:
        return None if self._container is None else str(self._container.id)

    @property
    def container_name(self) -> str:
        return self.run.container_name(self.name)

    # "run": on the run's network under the service's name, its port published on
    # 127.0.0.1; "host": in the host's network namespace (for commands that bind 127.0.0.1).
    network_mode = "run"
    use_init = False  # docker's tiny init as PID 1, for programs that ignore SIGTERM as PID 1

    def base_container(self) -> DockerContainer:
        """The image under the container's name; `_create` adds labels and the network."""
        testcontainers_config.ryuk_disabled = not self.run.settings.ryuk
        container = DockerContainer(self.image).with_name(self.container_name)
        if self.network_mode == "run":
            self.run.add_alias(self.port, self.name)
            # Loopback only: a drill's services are not for the rest of the network.
            container.ports[f"{self.port}/tcp"] = ("127.0.0.1", self.port)  # type: ignore[assignment]
        return container

    def _create_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"labels": self.run.labels(self.name), "init": self.use_init}
        if self.network_mode == "host":
            # `network`, not `network_mode`: testcontainers adds a network of its own otherwise
            kwargs["network"] = "host"
        else:
            network = self.run.network_name()
            endpoint = EndpointConfig(self.run.client.api._version, aliases=[self.name])
            kwargs.update(network=network, networking_config={network: endpoint})
        return kwargs

    def start(self, timeout: float | None = None) -> None:
        with self._lock:
            if self._torn_down:
                raise ServiceError(f"service {self.name!r} was torn down and cannot start again")
            if self._status() in _RUNNING:
                return
            self._start_and_wait(self.startup_timeout if timeout is None else timeout)

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:
            self._stopped_on_purpose = True
            if self._container is None:
                return
            try:
                if self._status() == "paused":
                    self._container.unpause()
                self._container.stop(timeout=max(1, round(timeout)))
            except NotFound:
                return
            except DockerException as exc:
                raise ServiceError(f"service {self.name!r}: docker stop failed: {exc}") from exc

    def kill(self, sig: int = signal.SIGKILL) -> None:
        with self._lock:
            if self._status() not in _RUNNING:
                raise ServiceError(f"service {self.name!r} is not running; nothing to signal")
            try:  # if it dies of it, state() says EXITED: it was not a stop
                self._container.kill(signal=int(sig))
            except DockerException as exc:
                raise ServiceError(f"service {self.name!r}: docker kill failed: {exc}") from exc

    def restart(self, timeout: float | None = None) -> None:
        with self._lock:
            self.stop()
            self.start(timeout)

    def recreate(self) -> None:
        """Remove the (stopped) container, so the next start creates it from `_spec()` anew;
        its log so far is kept at the head of log_path."""
        with self._lock:
            container, self._container = self._container, None
            if container is None:
                return
            with contextlib.suppress(DockerException):
                self._log_head += bytes(container.logs())
            with contextlib.suppress(DockerException):
                container.remove(force=True, v=True)

    # --- container-level control (container.* and network.* faults) ----------------------

    def pause(self) -> None:
        """Freeze every process of the container (cgroup freezer): alive but answering nothing."""
        with self._lock:
            if self._status() != "running":
                raise ServiceError(f"service {self.name!r} is not running; nothing to pause")
            try:
                self._container.pause()
            except DockerException as exc:
                raise ServiceError(f"service {self.name!r}: docker pause failed: {exc}") from exc

    def unpause(self) -> None:
        with self._lock:
            if self._status() == "paused":
                try:
                    self._container.unpause()
                except DockerException as exc:
                    raise ServiceError(f"service {self.name!r}: unpause failed: {exc}") from exc

    def disconnect_network(self) -> None:
        """Cut the container off the run's network (its published port goes with it)."""
        with self._lock:
            if self.network_mode != "run" or self._container is None:
                raise ServiceError(
                    f"service {self.name!r} shares the host's network; it cannot be cut off"
                )
            network = self.run.client.networks.get(self.run.network_name())
            try:
                network.disconnect(self._container, force=True)
            except DockerException as exc:
                raise ServiceError(f"service {self.name!r}: disconnect failed: {exc}") from exc

    def connect_network(self) -> None:
        """Undo disconnect_network (idempotent)."""
        with self._lock:
            if self.network_mode != "run" or self._container is None:
                return
            network = self.run.client.networks.get(self.run.network_name())
            network.reload()
            if any(c.id == self._container.id for c in network.containers):
                return
            try:
                network.connect(self._container, aliases=[self.name])
            except DockerException as exc:
                raise ServiceError(f"service {self.name!r}: reconnect failed: {exc}") from exc

    def state(self) -> ServiceState:
        status = self._status()
        if status in _RUNNING:
            return ServiceState.RUNNING
        if status is None and self._container is not None:
            return ServiceState.UNKNOWN
        if self._stopped_on_purpose:
            return ServiceState.STOPPED
        return ServiceState.EXITED

    def healthy(self) -> bool:
        try:
            return self._status() == "running" and self._check() is None
        except Exception:
            return False

    def log_tail(self, lines: int = LOG_TAIL) -> list[str]:
        if self._container is None or lines <= 0:
            return []
        try:
            raw = self._container.logs(tail=lines)
        except DockerException:
            return []
        return bytes(raw).decode(errors="replace").splitlines()[-lines:]

    def facts(self) -> Mapping[str, str]:
        facts = {
            "kind": self.kind,
            "state": str(self.state()),
            "log": str(self.log_path),
            "image": self.image,
            "container": self.container_name,
            "port": str(self.port),
        }
        with contextlib.suppress(DockerException, AttributeError, KeyError):
            facts["image_id"] = str(self._container.attrs["Image"])[:19]
        return facts

    def teardown(self) -> None:
        with self._lock:
            if self._torn_down:
                return
            self._torn_down = True
            self._stopped_on_purpose = True
            container, self._container = self._container, None
        if container is not None:
            with contextlib.suppress(Exception):  # clean_docker sweeps whatever is left
                container.remove(force=True, v=True)

    # --- inside ------------------------------------------------------------------------

    def _status(self) -> str | None:
        """The engine's word for the container (running, exited, paused...), None if gone."""
        container = self._container
        if container is None:
            return None
        try:
            container.reload()
        except DockerException:
            return None
        return str(container.status)

    def _create(self) -> None:
        spec = self._spec().with_kwargs(**self._create_kwargs())
        try:
            spec.start()
        except DockerException as exc:
            raise ProvisionError(
                f"service {self.name!r} ({self.kind}): cannot start a container of "
                f"{self.image!r}: {str(exc).splitlines()[0][:300]}"
            ) from exc
        self._container = spec.get_wrapped_container()

    def _start_and_wait(self, timeout: float) -> None:
        clock = self.run.clock
        started = clock.now_ns()
        self._before_start()
        if self._container is None:
            self._create()
        else:
            try:
                self._container.start()
            except DockerException as exc:
                raise ProvisionError(
                    f"service {self.name!r} ({self.kind}): docker start failed: {exc}",
                    log_tail=self.log_tail(),
                ) from exc
        self._stopped_on_purpose = False
        self._follow_log()
        delay = 0.05
        while True:
            waited = (clock.now_ns() - started) / 1e9
            status = self._status()
            if status not in _RUNNING:
                code = self._exit_code()
                tail = self.log_tail()
                self.stop()
                raise ProvisionError(
                    f"service {self.name!r} ({self.kind}) container exited with code {code} "
                    f"{waited:.1f}s after start (image {self.image})",
                    log_tail=tail,
                )
            reason = self._ready()
            if reason is None:
                return
            if waited >= timeout:
                tail = self.log_tail()
                self.stop()
                raise ProvisionError(
                    f"service {self.name!r} ({self.kind}) was not healthy within {timeout:g}s "
                    f"(waited {waited:.1f}s; last check: {reason}); it was stopped; "
                    "raise startup_timeout if it is just slow",
                    log_tail=tail,
                )
            clock.sleep(min(delay, max(0.0, timeout - waited)))
            delay = min(delay * 1.5, 0.25)

    def _exit_code(self) -> str:
        with contextlib.suppress(DockerException, AttributeError, KeyError, TypeError):
            return str(self._container.attrs["State"]["ExitCode"])
        return "?"

    def _follow_log(self) -> None:
        """Mirror the container's log (all its starts) into log_path, for the report."""
        container = self._container

        def follow() -> None:
            with contextlib.suppress(Exception):
                self._write_log(container)

        thread = threading.Thread(target=follow, name=f"log-{self.name}", daemon=True)
        thread.start()
        self._follower = thread

    def _write_log(self, container: Any) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as out:
            out.write(self._log_head)
            for chunk in container.logs(stream=True, follow=True):
                out.write(chunk)
                out.flush()
