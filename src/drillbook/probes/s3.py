"""The `s3` probe: a bucket (or one object in it) exists on the drill's S3 endpoint."""

from __future__ import annotations

import threading
from typing import Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field

from drillbook.backends.base import ServiceInfo
from drillbook.context import DrillContext
from drillbook.errors import ProbeError
from drillbook.registry import PROBES
from drillbook.scenario.kinds import ProbeResult, ProbeSpec

_clients: dict[tuple[str | None, str | None, str | None, float], Any] = {}
_lock = threading.Lock()


def _client(info: ServiceInfo, timeout: float) -> Any:
    # botocore clients are thread-safe and slow to build (~50 ms): one per endpoint and timeout.
    key = (info.endpoint_url, info.access_key, info.region, timeout)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=info.endpoint_url,
                aws_access_key_id=info.access_key,
                aws_secret_access_key=info.secret_key,
                region_name=info.region or "us-east-1",
                config=Config(
                    connect_timeout=timeout,
                    read_timeout=timeout,
                    retries={"total_max_attempts": 1},
                ),
            )
            _clients[key] = client
    return client


@PROBES.register
class S3Probe(ProbeSpec):
    """The bucket exists, or, with `key`, the object does."""

    kind: Literal["s3"]
    service: str
    bucket: str | None = Field(None, description="default: the service's first bucket")
    key: str | None = Field(None, description="an object that must exist; may use ${...}")

    def label(self) -> str:
        what = f"/{self.key}" if self.key else ""
        return self.name or f"s3 {self.service}:{self.bucket or ''}{what}"

    def check(self, ctx: DrillContext, timeout: float) -> ProbeResult:
        info = ctx.service(self.service).info
        if info.endpoint_url is None:
            raise ProbeError(f"s3 probe: service {self.service!r} has no endpoint_url")
        bucket = self.bucket or (info.buckets[0] if info.buckets else None)
        if bucket is None:
            raise ProbeError(f"s3 probe: service {self.service!r} has no bucket; give `bucket`")
        client = _client(info, timeout)
        try:
            if self.key is None:
                client.head_bucket(Bucket=bucket)
                return ProbeResult(ok=True, detail=f"bucket {bucket} exists")
            key = ctx.interpolate(self.key)
            head = client.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "?")
            what = f"s3://{bucket}/{self.key}" if self.key else f"bucket {bucket}"
            return ProbeResult(ok=False, detail=f"{what}: {code}")
        except BotoCoreError as exc:
            return ProbeResult(ok=False, detail=f"{type(exc).__name__}: {exc}"[:200])
        return ProbeResult(
            ok=True, detail=f"s3://{bucket}/{key}: {head.get('ContentLength')} bytes"
        )
