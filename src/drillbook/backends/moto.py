"""What every backend's S3 service (moto's server) has in common, whatever runs it.

A mixin: the backend's own class provides `name`, `kind`, `spec`, `port`, `workdir` and
`log_path`; this adds the drill-only credentials, the boto3 client, bucket creation at each
start, and the environment contract.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from drillbook.backends.base import ServiceInfo
from drillbook.services.s3 import S3Service

CLIENT_CONFIG = Config(connect_timeout=1, read_timeout=3, retries={"max_attempts": 1})


class MotoEndpoint:
    name: str
    kind: str
    spec: S3Service
    port: int
    workdir: Path
    log_path: Path

    def _init_moto(self) -> None:
        # Drill-only credentials: moto accepts any, and no real AWS key is ever in play.
        self.access_key = "AKIADRILL" + secrets.token_hex(6).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._buckets_made = False

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _forget_client(self) -> None:
        """Before each start: buckets must be made again, and the port may have changed."""
        self._buckets_made = False
        with self._client_lock:
            self._client = None

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
                    config=CLIENT_CONFIG,
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

    def moto_facts(self) -> dict[str, str]:
        return {"endpoint": self.endpoint_url, "buckets": ",".join(self.spec.buckets)}
