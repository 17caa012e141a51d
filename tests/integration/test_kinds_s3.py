"""The s3 probe against the local backend's moto server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from drillbook.backends.base import ServiceHandle
from drillbook.backends.local import LocalBackend
from drillbook.probes import S3Probe
from drillbook.services.s3 import S3Service
from drillbook.testing import FakeContext


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceHandle]:
    backend = LocalBackend(
        tmp_path_factory.mktemp("kinds-s3"), f"kinds-s3-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    )
    try:
        yield backend.provision("store", S3Service(kind="s3"), timeout=60)
    finally:
        backend.teardown()


def test_s3_probe_sees_the_bucket_and_an_object_come_and_go(
    s3: ServiceHandle, tmp_path: Path
) -> None:
    info = s3.info
    ctx = FakeContext(tmp_path, services=[s3], env={"KEY": "backups/db-1.dump"})
    assert S3Probe(kind="s3", service="store").check(ctx, 2).ok
    probe = S3Probe(kind="s3", service="store", key="${env.KEY}")
    missing = probe.check(ctx, 2)
    assert not missing.ok and missing.detail.endswith(": 404")
    client = boto3.client(
        "s3",
        endpoint_url=info.endpoint_url,
        aws_access_key_id=info.access_key,
        aws_secret_access_key=info.secret_key,
        region_name=info.region,
    )
    client.put_object(Bucket=info.buckets[0], Key="backups/db-1.dump", Body=b"x" * 10)
    found = probe.check(ctx, 2)
    assert found.ok and found.detail.endswith("10 bytes")
    other = S3Probe(kind="s3", service="store", bucket="no-such-bucket").check(ctx, 2)
    assert not other.ok


def test_s3_probe_fails_when_the_server_is_gone(s3: ServiceHandle, tmp_path: Path) -> None:
    ctx = FakeContext(tmp_path, services=[s3])
    s3.kill()
    try:
        result = S3Probe(kind="s3", service="store").check(ctx, 1)
        assert not result.ok
    finally:
        s3.start(timeout=30)
    assert S3Probe(kind="s3", service="store").check(ctx, 2).ok
