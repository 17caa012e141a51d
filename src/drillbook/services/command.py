"""The `command` service: any program the team runs, started as a drill service.

This is how users drill their own services: the command, its environment, its config files and
a health check. `{port}` in the command, the environment and the health URL is replaced by the
service's port (a free one when `port: auto`).
"""

from __future__ import annotations

import shlex
import signal
from typing import Literal

from pydantic import Field, field_validator

from drillbook import registry
from drillbook.scenario.kinds import ServiceSpec
from drillbook.scenario.types import Model, ScenarioPath


class CommandHealth(Model):
    """How to tell the command is up. Neither set: up while its process runs."""

    http: str | None = Field(
        None, description="URL answered with expect_status when healthy; may contain {port}"
    )
    tcp: bool = Field(False, description="healthy when the port accepts a TCP connection")
    expect_status: int = Field(200, ge=100, le=599)

    @field_validator("http")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"health url {value!r} must start with http:// or https://")
        return value


@registry.SERVICES.register
class CommandService(ServiceSpec):
    """A command run as a service, in its own working directory and process group."""

    kind: Literal["command"]
    command: list[str] | str = Field(
        description="argv list, or one string split like a shell would"
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="extra environment; may use {port}"
    )
    config_files: dict[str, ScenarioPath] = Field(
        default_factory=dict,
        description="file in the service's working dir -> source file copied there at provision",
    )
    port: int | Literal["auto"] = Field("auto", description="port given to the command as {port}")
    health: CommandHealth = Field(default_factory=CommandHealth)
    stop_signal: str = Field("SIGTERM", description="signal for a graceful stop")

    @field_validator("command")
    @classmethod
    def _nonempty(cls, value: list[str] | str) -> list[str] | str:
        try:
            words = shlex.split(value) if isinstance(value, str) else value
        except ValueError as exc:
            raise ValueError(f"command {value!r} cannot be split into words: {exc}") from None
        if not words or not words[0]:
            raise ValueError("command is empty")
        return value

    @field_validator("port")
    @classmethod
    def _port_range(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= 65535:
            raise ValueError(f"port {value} is outside 1-65535")
        return value

    @field_validator("stop_signal")
    @classmethod
    def _signal_name(cls, value: str) -> str:
        name = value.upper() if value.upper().startswith("SIG") else "SIG" + value.upper()
        if name not in signal.Signals.__members__:
            raise ValueError(f"unknown signal {value!r}; e.g. SIGTERM, SIGINT, SIGQUIT")
        return name

    @field_validator("config_files")
    @classmethod
    def _relative_destinations(cls, value: dict[str, str]) -> dict[str, str]:
        for dest in value:
            parts = dest.split("/")
            if not dest or dest.startswith("/") or ".." in parts:
                raise ValueError(
                    f"config file destination {dest!r} must be a relative path inside "
                    "the service's working dir"
                )
        return value

    def argv(self) -> list[str]:
        return shlex.split(self.command) if isinstance(self.command, str) else list(self.command)

    def signal_number(self) -> int:
        return int(signal.Signals[self.stop_signal])
