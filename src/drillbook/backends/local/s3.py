"""S3 as a local service: moto's server in its own process, so kill and stop faults are real.

Moto keeps objects in memory: a restart of this service brings back the configured buckets
(re-created at every start) but not the objects in them.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from drillbook.backends.local import ports
from drillbook.backends.local.handle import LocalRun, ProcessService, start_new
from drillbook.backends.moto import MotoEndpoint
from drillbook.services.s3 import S3Service


class S3Handle(MotoEndpoint, ProcessService):
    kind = "s3"

    def __init__(self, name: str, spec: S3Service, *, workdir: Path, run: LocalRun) -> None:
        super().__init__(name, workdir=workdir, run=run, startup_timeout=spec.startup_timeout)
        self.spec = spec
        self.port = ports.free_port()
        self._init_moto()

    def _argv(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    def _before_start(self) -> None:
        self._forget_client()

    def facts(self) -> Mapping[str, str]:
        return {**super().facts(), **self.moto_facts(), "engine": "moto server"}


def provision_s3(
    name: str, spec: S3Service, *, workdir: Path, run: LocalRun, timeout: float
) -> S3Handle:
    handle = S3Handle(name, spec, workdir=workdir, run=run)

    def new_port() -> None:
        handle.port = ports.free_port()

    start_new(handle, timeout, new_port)
    return handle
