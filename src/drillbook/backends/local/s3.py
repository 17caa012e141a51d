"""S3 as a local service: moto's server in its own process, so kill and stop faults are real.

Moto keeps objects in memory: a restart of this service brings back the configured buckets
(re-created at every start) but not the objects in them.
"""

from __future__ import annotations

import secrets
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from drillbook.backends.base import ServiceInfo
from drillbook.backends.local import ports
from drillbook.backends.local.handle import LocalRun, ProcessService, start_new
from drillbook.services.s3 import S3Service

_CLIENT_CONFIG = Config(connect_timeout=1, read_timeout=3, retries={"max_attempts": 1})


class S3Handle(ProcessService):
    kind = "s3"

    def __init__(self, name: str, spec: S3Service, *, workdir: Path, run: LocalRun) -> None:
        super().__init__(name, workdir=workdir, run=run, startup_timeout=spec.startup_timeout)
        self.spec = spec
        self.port = ports.free_port()
        # Drill-only credentials: moto accepts any, and no real AWS key is ever in play.
        self.access_key = "AKIADRILL" + secrets.token_hex(6).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._buckets_made = False

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _argv(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    def _before_start(self) -> None:
        self._buckets_made = False
        with self._client_lock:
            self._client = None  # the port may have changed

    def client(self) -> Any:
        """A boto3 S3 client for this endpoint (short timeouts, no retries)."""
        with self._client_lock:
            if self._client is None:
                self._client = boto3.client(
                    "s3",
                    endpoint_url=self.endpoint_url,
                    aws_access_key_id=self.access_key,
                    aws_secret_access_key=self.secret_key,
                    region_name=self.spec.region,
                    config=_CLIENT_CONFIG,
                )
            return self._client

    def _check(self) -> str | None:
        try:
            self.client().list_buckets()
        except Exception as exc:  # botocore raises many unrelated types
            return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return None

    def _ready(self) -> str | None:
        reason = self._check()
        if reason is None and not self._buckets_made:
            client = self.client()
            existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
            for bucket in self.spec.buckets:
                if bucket in existing:
                    continue
                if self.spec.region == "us-east-1":
                    client.create_bucket(Bucket=bucket)
                else:
                    client.create_bucket(
                        Bucket=bucket,
                        CreateBucketConfiguration={"LocationConstraint": self.spec.region},
                    )
            self._buckets_made = True
        return reason

    @property
    def info(self) -> ServiceInfo:
        return ServiceInfo(
            name=self.name,
            kind=self.kind,
            port=self.port,
            url=self.endpoint_url,
            endpoint_url=self.endpoint_url,
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=self.spec.region,
            buckets=tuple(self.spec.buckets),
            workdir=self.workdir,
            log_path=self.log_path,
        )

    def env(self) -> Mapping[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.spec.region,
            "BACKUP_BUCKET": self.spec.buckets[0],
        }

    def secrets(self) -> tuple[str, ...]:
        return (self.secret_key,)

    def facts(self) -> Mapping[str, str]:
        facts = dict(super().facts())
        facts.update(
            endpoint=self.endpoint_url, buckets=",".join(self.spec.buckets), engine="moto server"
        )
        return facts


def provision_s3(
    name: str, spec: S3Service, *, workdir: Path, run: LocalRun, timeout: float
) -> S3Handle:
    handle = S3Handle(name, spec, workdir=workdir, run=run)

    def new_port() -> None:
        handle.port = ports.free_port()

    start_new(handle, timeout, new_port)
    return handle
