"""Which images the docker backend runs, and how it reaps: configuration, never hard-wired.

Defaults are the images users pull (postgres:16, motoserver/moto, the project's gateway
image); `drillbook images build` builds stand-ins locally and tags them with the same names
where the versions really match. Every setting has an environment variable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from pydantic import BaseModel, ConfigDict

POSTGRES_IMAGE_ENV = "DRILLBOOK_DOCKER_POSTGRES_IMAGE"
S3_IMAGE_ENV = "DRILLBOOK_DOCKER_S3_IMAGE"
GATEWAY_IMAGE_ENV = "DRILLBOOK_DOCKER_GATEWAY_IMAGE"
COMMAND_IMAGE_ENV = "DRILLBOOK_DOCKER_COMMAND_IMAGE"
RYUK_ENV = "DRILLBOOK_DOCKER_RYUK"
HOST_CLIENTS_ENV = "DRILLBOOK_DOCKER_HOST_CLIENTS"

DEFAULT_POSTGRES_MAJOR = "16"
# `{version}` is the major a scenario asks for; without one, the first of these present
# locally is used (else the default major, which a registry may provide).
POSTGRES_TEMPLATE = "postgres:{version}"
POSTGRES_FALLBACK_MAJORS = ("16", "17", "15")
S3_IMAGE = "motoserver/moto:latest"
GATEWAY_IMAGE = "drillbook/gateway:latest"

LABEL_RUN = "drillbook.run_id"
LABEL_ROOT = "drillbook"
LABEL_RUN_DIR = "drillbook.run_dir"
LABEL_SERVICE = "drillbook.service"


class DockerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    postgres_image: str = POSTGRES_TEMPLATE
    s3_image: str = S3_IMAGE
    gateway_image: str = GATEWAY_IMAGE
    command_image: str | None = None  # default: the gateway image (python3 + the project)
    ryuk: bool = False  # testcontainers' reaper; its image must be pullable
    # "auto": host pg_dump & co. of the server's major when installed, else docker exec
    # wrappers; "never": always the wrappers.
    host_clients: str = "auto"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DockerSettings:
        env = os.environ if environ is None else environ
        get: Callable[[str, str], str] = lambda key, default: env.get(key) or default  # noqa: E731
        return cls(
            postgres_image=get(POSTGRES_IMAGE_ENV, POSTGRES_TEMPLATE),
            s3_image=get(S3_IMAGE_ENV, S3_IMAGE),
            gateway_image=get(GATEWAY_IMAGE_ENV, GATEWAY_IMAGE),
            command_image=env.get(COMMAND_IMAGE_ENV) or None,
            ryuk=get(RYUK_ENV, "").lower() in {"1", "true", "yes", "on"},
            host_clients=get(HOST_CLIENTS_ENV, "auto"),
        )

    def postgres_candidates(self, version: str | None) -> list[str]:
        """Images to try, in order, for a postgres service asking for major `version`."""
        if "{version}" not in self.postgres_image:
            return [self.postgres_image]
        if version is not None:
            return [self.postgres_image.format(version=version)]
        return [self.postgres_image.format(version=v) for v in POSTGRES_FALLBACK_MAJORS]

    @property
    def command_image_name(self) -> str:
        return self.command_image or self.gateway_image
