"""Any command as a local service: the team's own program, its config files and health check.

The command runs in the foreground in its service dir (a command that daemonises itself
looks dead). `{port}`, `{workdir}` and `{base_dir}` in the command, its environment and the
health URL are replaced. Config files are copied once, at provision: a fault that corrupts one
is then seen by every later (re)start, as on a real host.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from drillbook.backends.command_endpoint import CommandEndpoint
from drillbook.backends.local import ports
from drillbook.backends.local.handle import LocalRun, ProcessService, start_new
from drillbook.errors import ProvisionError, ServiceError
from drillbook.services.command import CommandService

_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|ACCESS_KEY|PRIVATE_KEY", re.I)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RELEASE_KEY = "release"


@dataclass(frozen=True)
class Revision:
    """One rollout of a command service: what it ran with, and why (seed 004's revision
    history: `kubectl rollout history`, `helm history`)."""

    number: int
    spec: CommandService
    change: str

    def release(self) -> str | None:
        argv = self.spec.argv()
        for i, word in enumerate(argv):
            if word == "--release" and i + 1 < len(argv):
                return argv[i + 1]
            if word.startswith("--release="):
                return word.split("=", 1)[1]
        return next((v for k, v in self.spec.env.items() if _is_release_var(k)), None)


def _is_release_var(name: str) -> bool:
    return name.upper() == "RELEASE" or name.upper().endswith("_RELEASE")


def with_changes(spec: CommandService, changes: Mapping[str, str]) -> CommandService:
    """`spec` with environment variables set; `release` sets the release the command is told:
    the word after --release in its argv and every *_RELEASE variable (RELEASE when none)."""
    env = dict(spec.env)
    argv = list(spec.argv())
    for key, value in changes.items():
        if key != RELEASE_KEY:
            if not _ENV_NAME.match(key):
                raise ServiceError(f"deploy: {key!r} is not an environment variable name")
            env[key] = value
            continue
        told = False
        for i, word in enumerate(argv):
            if word == "--release" and i + 1 < len(argv):
                argv[i + 1], told = value, True
            elif word.startswith("--release="):
                argv[i], told = f"--release={value}", True
        names = [k for k in env if _is_release_var(k)]
        for name in names:
            env[name] = value
        if not names and not told:
            env["RELEASE"] = value
    return spec.model_copy(update={"command": argv, "env": env})


class CommandHandle(CommandEndpoint, ProcessService):
    kind = "command"
    # Without a health check, a start counts once the process has stayed up this long, so a
    # command that dies at once on a bad config fails its start instead of passing it.
    settle_seconds = 0.3

    def __init__(
        self,
        name: str,
        spec: CommandService,
        *,
        workdir: Path,
        run: LocalRun,
        base_dir: Path,
        port: int,
        kind: str = "command",
    ) -> None:
        self.kind = kind  # a kind run through as_command() (gateway) keeps its own name
        super().__init__(name, workdir=workdir, run=run, startup_timeout=spec.startup_timeout)
        self.spec = spec
        self.base_dir = base_dir
        self.port = port
        self.stop_signal = spec.signal_number()
        self.revisions: list[Revision] = [Revision(1, spec, "initial")]

    # --- revision history: deploy a change, undo to an earlier revision ----------------

    def revision_history(self) -> tuple[Revision, ...]:
        with self._lock:
            return tuple(self.revisions)

    def deploy(self, changes: Mapping[str, str], timeout: float | None = None) -> Revision:
        """Restart on a new revision: the current one with `changes` (see `with_changes`).
        The revision is recorded even when it fails to start, as a failed rollout is."""
        if not changes:
            raise ServiceError(f"deploy {self.name!r}: nothing to change")
        change = ", ".join(f"{k}={v}" for k, v in changes.items())
        with self._lock:
            return self._roll(with_changes(self.spec, changes), change, timeout)

    def undo(self, to: int | None = None, timeout: float | None = None) -> Revision:
        """Roll back to revision `to` (default: the one before the current), recorded as a new
        revision with the same spec, as `helm rollback` does."""
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
        self.restart(timeout)
        return revision

    def _subst(self, text: str) -> str:
        return (
            text.replace("{port}", str(self.port))
            .replace("{workdir}", str(self.workdir))
            .replace("{base_dir}", str(self.base_dir))
        )

    def _argv(self) -> list[str]:
        argv = [self._subst(word) for word in self.spec.argv()]
        first = Path(argv[0])
        # A script named relative to the project (drills/svc/run.sh) is found there.
        if not first.is_absolute() and "/" in argv[0] and (self.base_dir / first).exists():
            argv[0] = str(self.base_dir / first)
        return argv

    def _process_env(self) -> dict[str, str]:
        env = super()._process_env()
        env.update({key: self._subst(value) for key, value in self.spec.env.items()})
        return env

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
        if self.spec.health.tcp and not ports.tcp_connects(self.port):
            return f"nothing accepts connections on 127.0.0.1:{self.port}"
        return None  # no check configured: running is healthy

    def _ready(self) -> str | None:
        if self.spec.health.http is None and not self.spec.health.tcp:
            up = (self.clock.now_ns() - self.started_ns) / 1e9
            if up < self.settle_seconds:
                return f"up {up:.2f}s of the {self.settle_seconds}s needed without a check"
        return self._check()

    def secrets(self) -> tuple[str, ...]:
        """Values of its environment whose names say they are secret (API_KEY, *_TOKEN, ...)."""
        return tuple(
            self._subst(value)
            for key, value in self.spec.env.items()
            if _SECRET_NAME.search(key) and value
        )

    def facts(self) -> Mapping[str, str]:
        facts = dict(super().facts())
        facts.update(command=" ".join(self.spec.argv()), port=str(self.port))
        if len(self.revisions) > 1:
            facts["revision"] = str(self.revisions[-1].number)
            facts["revision_history"] = "; ".join(f"{r.number}: {r.change}" for r in self.revisions)
        return facts


def provision_command(
    name: str,
    spec: CommandService,
    *,
    workdir: Path,
    run: LocalRun,
    base_dir: Path,
    timeout: float,
    kind: str = "command",
) -> CommandHandle:
    if spec.port == "auto":
        port = ports.free_port()
    else:
        port = spec.port
        if not ports.port_is_free(port):
            raise ProvisionError(
                f"service {name!r} ({kind}): port {port} is already in use on 127.0.0.1; "
                "use port: auto, or stop what listens there"
            )
    handle = CommandHandle(
        name, spec, workdir=workdir, run=run, base_dir=base_dir, port=port, kind=kind
    )
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

    def new_port() -> None:
        handle.port = ports.free_port()

    start_new(handle, timeout, new_port if spec.port == "auto" else None)
    return handle
