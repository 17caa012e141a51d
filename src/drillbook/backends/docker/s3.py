"""S3 as a container: moto's server (motoserver/moto or the locally built stand-in).

Both images start `moto_server -H 0.0.0.0`; the port is given as `-p`, the same inside and
out. Moto keeps objects in memory: a restart brings back the buckets (made again at every
start) but not the objects in them, as on the local backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from testcontainers.core.container import DockerContainer

from drillbook.backends.docker.container import ContainerService
from drillbook.backends.docker.engine import DockerRun
from drillbook.backends.moto import MotoEndpoint
from drillbook.services.s3 import S3Service


class DockerS3(MotoEndpoint, ContainerService):
    kind = "s3"

    def __init__(
        self, name: str, spec: S3Service, *, run: DockerRun, image: str, workdir: Path
    ) -> None:
        super().__init__(
            name, run=run, image=image, workdir=workdir, startup_timeout=spec.startup_timeout
        )
        self.spec = spec
        self._init_moto()

    def _spec(self) -> DockerContainer:
        return self.base_container().with_command(["-p", str(self.port)])

    def _before_start(self) -> None:
        self._forget_client()

    def facts(self) -> Mapping[str, str]:
        return {**super().facts(), **self.moto_facts()}
