"""What every container of one run shares: the Docker client, the run's network, its labels.

Every container, network and volume carries `drillbook=1`, `drillbook.run_id=<id>` and
`drillbook.run_dir=<dir>`, so teardown and `drillbook clean` find them without Ryuk.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docker.errors import DockerException, ImageNotFound, NotFound

import docker
from drillbook.backends.docker.config import (
    LABEL_ROOT,
    LABEL_RUN,
    LABEL_RUN_DIR,
    LABEL_SERVICE,
    DockerSettings,
)
from drillbook.clock import Clock
from drillbook.errors import ProvisionError

_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]")
_HOST_ADDRESS = re.compile(r"\b(127\.0\.0\.1|localhost):(\d{1,5})\b")


def docker_client() -> Any:
    """A client for the local engine, or ProvisionError saying why there is none."""
    try:
        client = docker.from_env()
        client.ping()
    except DockerException as exc:
        raise ProvisionError(
            f"no Docker engine reachable ({exc}); start dockerd or set DOCKER_HOST"
        ) from exc
    return client


def safe_name(text: str, limit: int = 120) -> str:
    return _NAME_UNSAFE.sub("-", text)[:limit].strip("-.") or "x"


def free_port() -> int:
    """A port free on 127.0.0.1 now; published as the same port inside the container."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DockerRun:
    """One run's Docker resources; the network is created on first use."""

    run_id: str
    run_dir: Path
    base_dir: Path
    settings: DockerSettings
    clock: Clock
    client: Any
    _network: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # port -> service name, for services on the run network (same port inside and out)
    _aliases: dict[int, str] = field(default_factory=dict)

    def add_alias(self, port: int, service: str) -> None:
        with self._lock:
            self._aliases[port] = service

    def to_network(self, text: str) -> str:
        """A host address of a run service (127.0.0.1:PORT, localhost:PORT) as the address
        containers on the run network use (SERVICE:PORT): scripts hand host addresses, e.g.
        `$DRILLBOOK_CTL deploy gateway DATABASE_URL=postgresql://...@127.0.0.1:PORT/db`."""

        def swap(match: re.Match[str]) -> str:
            alias = self._aliases.get(int(match.group(2)))
            return f"{alias}:{match.group(2)}" if alias else match.group(0)

        return _HOST_ADDRESS.sub(swap, text)

    def labels(self, service: str | None = None) -> dict[str, str]:
        labels = {LABEL_ROOT: "1", LABEL_RUN: self.run_id, LABEL_RUN_DIR: str(self.run_dir)}
        if service is not None:
            labels[LABEL_SERVICE] = service
        return labels

    @property
    def prefix(self) -> str:
        return safe_name(f"drillbook-{self.run_id}", 90)

    def container_name(self, service: str) -> str:
        return f"{self.prefix}-{safe_name(service, 30)}"

    def network_name(self) -> str:
        """The run's own bridge network, created (labelled) on first use."""
        with self._lock:
            if self._network is None:
                self._network = self.client.networks.create(
                    self.prefix, driver="bridge", labels=self.labels(), check_duplicate=True
                )
            return str(self._network.name)

    def volume(self, service: str, purpose: str) -> str:
        name = f"{self.prefix}-{safe_name(service, 30)}-{purpose}"
        self.client.volumes.create(name=name, labels=self.labels(service))
        return name

    def resolve_image(self, candidates: list[str], what: str) -> str:
        """The first candidate present locally; else pull the first (a registry may have it)."""
        for image in candidates:
            with contextlib.suppress(ImageNotFound):
                self.client.images.get(image)
                return image
        try:
            self.client.images.pull(candidates[0])
        except DockerException as exc:
            raise ProvisionError(
                f"{what}: no image {' or '.join(repr(c) for c in candidates)} here and pulling "
                f"{candidates[0]!r} failed ({str(exc).splitlines()[0][:200]}); run "
                "`drillbook images build`, or name a local image in the DRILLBOOK_DOCKER_* settings"
            ) from exc
        return candidates[0]

    def remove_network(self) -> None:
        with self._lock:
            network, self._network = self._network, None
        if network is not None:
            with contextlib.suppress(NotFound, DockerException):
                network.remove()
