"""The `gateway` service: drillbook's reference LLM gateway (drillbook.gateway) as a drill target.

The config file is copied into the service's own directory at provision, so a fault corrupts
the copy and never the fixture. A backend without native support runs it through
`as_command()`, as any `command` service.
"""

from __future__ import annotations

import secrets
import sys
from typing import Literal

from pydantic import Field, field_validator

from drillbook import registry
from drillbook.gateway.releases import RELEASE_ENV, get_release
from drillbook.scenario.kinds import ServiceSpec
from drillbook.scenario.types import IDENTIFIER, ScenarioPath
from drillbook.services.command import CommandHealth, CommandService

CONFIG_NAME = "config.yaml"
DRILL_TOKEN_ENV = "DRILLBOOK_DRILL_TOKEN"  # noqa: S105 - a variable name
READINESS_PATH = "/health/readiness"


@registry.SERVICES.register
class GatewayService(ServiceSpec):
    """`python -m drillbook.gateway`: a LiteLLM-style proxy with drill fault hooks."""

    kind: Literal["gateway"]
    config: ScenarioPath = Field(
        description="gateway config in LiteLLM's format; copied into the service dir"
    )
    release: str = Field("v1", description="release to run: v1 or v2 (the new revision)")
    database: str | None = Field(
        None, pattern=IDENTIFIER, description="name of a postgres service of this scenario"
    )
    drill_faults: bool = Field(
        True, description="enable /_drill/faults (reachable only with the run's drill token)"
    )
    workers: int = Field(1, ge=1, le=16, description="uvicorn worker processes")

    @field_validator("release")
    @classmethod
    def _known_release(cls, value: str) -> str:
        get_release(value)  # raises a ValueError naming the known releases
        return value

    def as_command(
        self, *, database_url: str | None = None, drill_token: str | None = None
    ) -> CommandService:
        """The same service as a `command`: argv, environment, config copy and health check.

        `database_url` is the DSN of the `database` service (the backend knows it, this spec
        does not); `drill_token` defaults to a fresh random token when drill_faults is on.
        """
        env = {RELEASE_ENV: self.release}
        if self.drill_faults:
            env[DRILL_TOKEN_ENV] = drill_token or secrets.token_urlsafe(24)
        if database_url:
            env["DATABASE_URL"] = database_url
        argv = [
            sys.executable, "-m", "drillbook.gateway",
            "--config", "{workdir}/" + CONFIG_NAME,
            "--port", "{port}", "--release", self.release, "--workers", str(self.workers),
        ]  # fmt: skip
        return CommandService(
            kind="command",
            command=argv,
            env=env,
            config_files={CONFIG_NAME: self.config},
            health=CommandHealth(http="http://127.0.0.1:{port}" + READINESS_PATH),
            stop_signal="SIGTERM",
            startup_timeout=self.startup_timeout,
            primary=self.primary,
        )
