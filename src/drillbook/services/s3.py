"""The `s3` service: an S3-compatible endpoint (moto's server) with drill-only credentials."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from drillbook import registry
from drillbook.scenario.kinds import ServiceSpec

# S3 bucket naming rules, simplified: lowercase letters, digits, dots and hyphens, 3-63 long.
BucketName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]


@registry.SERVICES.register
class S3Service(ServiceSpec):
    """An S3 endpoint (moto's server as its own process) with the listed buckets."""

    kind: Literal["s3"]
    buckets: list[BucketName] = Field(
        default_factory=lambda: ["drill-backups"],
        min_length=1,
        description="buckets created at provision; the first is exported as BACKUP_BUCKET",
    )
    region: str = Field("us-east-1", pattern=r"^[a-z0-9-]+$")
