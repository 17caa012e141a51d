"""Backends: where a drill's services run. `local` (processes) is the embedded default."""

from __future__ import annotations

from pathlib import Path

from drillbook.backends.base import Backend, ServiceHandle, ServiceInfo, ServiceState
from drillbook.clock import Clock
from drillbook.errors import UsageError

BACKENDS = ("local", "docker")


def make_backend(
    name: str, run_dir: Path, run_id: str, clock: Clock, base_dir: Path | None = None
) -> Backend:
    if name == "local":
        from drillbook.backends.local import LocalBackend

        return LocalBackend(run_dir, run_id, clock=clock, base_dir=base_dir)
    if name == "docker":
        from drillbook.backends.docker import DockerBackend

        return DockerBackend(run_dir, run_id, clock=clock, base_dir=base_dir)
    raise UsageError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Backend", "ServiceHandle", "ServiceInfo", "ServiceState", "make_backend"]
