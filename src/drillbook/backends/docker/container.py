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
from collections.abc import Mapping, Sequence
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
# The host's own variables that would mislead a process inside the container.
_HOST_ONLY = frozenset(
    {"PATH", "HOME", "PWD", "OLDPWD", "SHELL", "USER", "LOGNAME", "HOSTNAME", "TMPDIR", "SHLVL"}
)
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
        self._crash_exit: int | None = None  # exit code of the entrypoint in a restart loop
        self._tmpfs: dict[str, str] = {}  # size-limited mounts (disk.fill): path -> options

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
            if self._crash_exit is not None:
                # the operator's fix: redeploy the service as it should be
                self._crash_exit = None
                self.recreate()
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

    def start_restart_loop(self, exit_code: int = 1) -> None:
        """Replace the container by one whose entrypoint exits at once with `exit_code`,
        under restart policy `always`: docker keeps restarting it (with back-off), the
        service never comes up. Its data volume stays. A restart or end_restart_loop ends it."""
        with self._lock:
            if self._torn_down:
                raise ServiceError(f"service {self.name!r} was torn down")
            self.stop()
            self.recreate()
            self._crash_exit = exit_code
            self._create()
            self._stopped_on_purpose = False
            self._follow_log()

    def end_restart_loop(self) -> None:
        """Undo start_restart_loop: the normal container again, started (idempotent)."""
        with self._lock:
            if self._crash_exit is None or self._torn_down:
                return
            self.restart()

    @property
    def in_restart_loop(self) -> bool:
        return self._crash_exit is not None

    def restart_count(self) -> int:
        """How many times the engine restarted the current container."""
        with contextlib.suppress(DockerException, AttributeError, KeyError, TypeError):
            self._container.reload()
            return int(self._container.attrs["RestartCount"])
        return 0

    def exec_command(
        self, argv: Sequence[str], env: Mapping[str, str], cwd: str | None = None
    ) -> tuple[list[str], dict[str, str]]:
        """The host argv (`docker exec`) that runs `argv` inside this container, and the
        environment to run it with. The drill environment goes in by name only (`-e NAME`:
        docker reads the value from its own environment, so secrets stay out of `ps`), host
        addresses of run services rewritten to their names on the run network."""
        with self._lock:
            if self._status() != "running":
                raise ServiceError(
                    f"service {self.name!r} is not running ({self._status() or 'no container'}); "
                    "cannot exec in it"
                )
            target = str(self._container.id)
        host_env = dict(env)
        command = ["docker", "exec", "-i"]
        for name in sorted(env):
            if name in _HOST_ONLY or not name.replace("_", "a").isalnum():
                continue
            if self.network_mode == "run":
                host_env[name] = self.run.to_network(env[name])
            command += ["-e", name]
        if cwd is not None:
            command += ["-w", cwd]
        return [*command, target, *argv], host_env

    def limit_disk(self, path: str, size: str, owner: str | None = None) -> None:
        """Put a tmpfs of `size` (e.g. 16m) at `path` in the container, owned by `owner`
        (a user of the image) when given: the container is recreated (its data volume
        stays) and started again, healthy, before this returns."""
        with self._lock:
            self.stop()
            self.recreate()
            self._tmpfs[path] = f"size={size},mode=1777"
            self.start()
            if owner is not None:  # entrypoints may chmod their data dir: own it, as it was
                self._exec_text(
                    ["sh", "-c", 'chown "$1:" "$2" && chmod 700 "$2"', "own", owner, path]
                )

    def fill_disk(self, path: str, name: str) -> int:
        """Write zeros to `path`/`name` until the filesystem is full; the bytes free after.
        Appends again after a moment: space that others' short-lived files held is taken too."""
        script = (
            'for i in 1 2 3; do cat /dev/zero >> "$1/$2" 2>/dev/null; sleep 0.3; done; '
            "df -k \"$1\" | awk 'NR==2 {print $4 * 1024}'"
        )
        return int(self._exec_text(["sh", "-c", script, "fill", path, name]) or 0)

    def free_disk(self, path: str, name: str) -> None:
        """Remove what fill_disk wrote and drop the mount from later containers."""
        with contextlib.suppress(ServiceError):
            self._exec_text(["rm", "-f", f"{path}/{name}"])
        self._tmpfs.pop(path, None)

    def _exec_text(self, argv: list[str]) -> str:
        with self._lock:
            if self._status() != "running":
                raise ServiceError(f"service {self.name!r} is not running; cannot exec in it")
            try:
                code, output = self._container.exec_run(argv, user="root")
            except DockerException as exc:
                raise ServiceError(f"service {self.name!r}: docker exec failed: {exc}") from exc
        text = bytes(output or b"").decode(errors="replace").strip()
        if code != 0:
            raise ServiceError(f"service {self.name!r}: {argv[0]} exited {code}: {text[-300:]}")
        return text

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
        kwargs = self._create_kwargs()
        if self._crash_exit is not None:
            code = self._crash_exit
            kwargs["entrypoint"] = [
                "/bin/sh",
                "-c",
                f"echo 'drillbook restart_loop: entrypoint exits with {code}' >&2; exit {code}",
            ]
            kwargs["restart_policy"] = {"Name": "always"}
        spec = self._spec().with_kwargs(**kwargs)
        spec.tmpfs.update(self._tmpfs)
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
