"""What a `command` service (and kinds run as one, like the gateway) exposes, whatever runs it.

A mixin: the backend's class provides `name`, `kind`, `spec`, `port`, `workdir` and
`log_path`; this gives the config path, the ServiceInfo and the environment contract.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from drillbook.backends.base import ServiceInfo
from drillbook.services.command import CommandService


def env_prefix(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


class CommandEndpoint:
    name: str
    kind: str
    spec: CommandService
    port: int
    workdir: Path
    log_path: Path

    @property
    def config_path(self) -> Path | None:
        first = next(iter(self.spec.config_files), None)
        return self.workdir / first if first is not None else None

    @property
    def info(self) -> ServiceInfo:
        return ServiceInfo(
            name=self.name,
            kind=self.kind,
            port=self.port,
            url=f"http://127.0.0.1:{self.port}",
            config_path=self.config_path,
            workdir=self.workdir,
            log_path=self.log_path,
        )

    def env(self) -> Mapping[str, str]:
        # A command is known by its name (APP_URL); a kind such as gateway by its kind
        # (GATEWAY_URL, GATEWAY_CONFIG), as the environment contract names it.
        prefix = env_prefix(self.name if self.kind == "command" else self.kind)
        env = {f"{prefix}_URL": f"http://127.0.0.1:{self.port}"}
        if self.config_path is not None:
            env[f"{prefix}_CONFIG"] = str(self.config_path)
        return env
