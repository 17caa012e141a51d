"""S3 as a container: moto's server (motoserver/moto or the locally built stand-in).

Both images start `moto_server -H 0.0.0.0`; the port is given as `-p`, the same inside and
out. Moto keeps objects in memory: a restart brings back the buckets (made again at every
start) but not the objects in them, as on the local backend.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from testcontainers.core.container import DockerContainer

from drillbook.backends.base import ServiceInfo
from drillbook.backends.docker.container import ContainerService
from drillbook.backends.docker.engine import DockerRun
from drillbook.services.s3 import S3Service

_CLIENT_CONFIG = Config(connect_timeout=1, read_timeout=3, retries={"max_attempts": 1})


class DockerS3(ContainerService):
    kind = "s3"

    def __init__(
        self, name: str, spec: S3Service, *, run: DockerRun, image: str, workdir: Path
    ) -> None:
        super().__init__(
            name, run=run, image=image, workdir=workdir, startup_timeout=spec.startup_timeout
        )
        self.spec = spec
        # Drill-only credentials: moto accepts any, and no real AWS key is ever in play.
        self.access_key = "AKIADRILL" + secrets.token_hex(6).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._buckets_made = False

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spec(self) -> DockerContainer:
        return self.base_container().with_command(["-p", str(self.port)])

    def _before_start(self) -> None:
        self._buckets_made = False

    def client(self) -> Any:
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
        facts.update(endpoint=self.endpoint_url, buckets=",".join(self.spec.buckets))
        return facts
