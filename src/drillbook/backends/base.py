"""What every backend gives the rest of drillbook: running services behind one protocol.

A leaf module: faults, steps, probes and the runner see services only through `ServiceHandle`,
so the same kinds work on local processes and on containers.
"""

from __future__ import annotations

import signal as _signal
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from drillbook.scenario.kinds import ServiceSpec


class ServiceState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"  # stopped on purpose (stop, or never started)
    EXITED = "exited"  # died on its own or was killed
    UNKNOWN = "unknown"


class ServiceInfo(BaseModel):
    """Where a service can be reached, for probes, steps and the environment contract.

    Fields a kind does not have stay None; a probe that needs one (say `dsn`) and finds None
    raises a ProbeError naming the service.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: str
    host: str = "127.0.0.1"
    port: int | None = None
    url: str | None = None  # http(s) base URL, no trailing slash
    dsn: str | None = None  # postgres: libpq URL of the drill database, password included
    admin_dsn: str | None = None  # postgres: URL of the 'postgres' maintenance database
    database: str | None = None
    user: str | None = None
    password: str | None = None
    bindir: Path | None = None  # postgres: client and server binaries of the same major
    data_dir: Path | None = None
    config_path: Path | None = None  # a service that reads a config file: where it is
    workdir: Path | None = None
    log_path: Path | None = None
    version: str | None = None
    # s3
    endpoint_url: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    region: str | None = None
    buckets: tuple[str, ...] = ()


@runtime_checkable
class ServiceHandle(Protocol):
    """A provisioned service. Every method is safe to call from any thread.

    Control methods raise `ServiceError` when the action itself cannot be carried out and
    `ProvisionError` (with the service's last log lines) when a (re)start does not become
    healthy within its timeout. A service that fails to come up is left stopped, so a drill
    can observe the outage and its recovery.
    """

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def info(self) -> ServiceInfo: ...

    def env(self) -> Mapping[str, str]:
        """The environment-contract variables this service provides, under canonical names
        (DATABASE_URL and PG* for postgres; AWS_* and BACKUP_BUCKET for s3; GATEWAY_URL and
        GATEWAY_CONFIG for the gateway; <NAME>_URL for a command)."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a report or log (passwords, keys)."""
        ...

    def start(self, timeout: float | None = None) -> None: ...

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM, then SIGKILL after `timeout`)."""
        ...

    def kill(self, sig: int = _signal.SIGKILL) -> None:
        """Send `sig` to the service's whole process group (or container) without waiting."""
        ...

    def restart(self, timeout: float | None = None) -> None: ...

    def state(self) -> ServiceState: ...

    def healthy(self) -> bool:
        """One run of the service's own health check, now; never raises."""
        ...

    def log_tail(self, lines: int = 20) -> list[str]: ...

    def facts(self) -> Mapping[str, str]:
        """Version, image, pid and the like, for the journal and the evidence bundle."""
        ...

    def teardown(self) -> None:
        """Stop for good and release ports; idempotent, never raises."""
        ...


class Backend(Protocol):
    """Provisions services for one run and removes them again."""

    name: str

    def provision(self, name: str, spec: ServiceSpec, *, timeout: float) -> ServiceHandle:
        """Create and start service `name` per `spec`, healthy within `timeout` seconds,
        or raise ProvisionError with its last log lines."""
        ...

    def client_path(self) -> list[Path]:
        """Directories to put first on PATH for drill scripts (matching client tools)."""
        ...

    def teardown(self) -> None:
        """Remove everything this backend created for the run; never raises."""
        ...


def merge_env(*parts: Mapping[str, str]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for part in parts:
        merged.update(part)
    return merged
