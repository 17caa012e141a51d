"""S3 on the local backend: moto's server as its own process, with drill-only credentials."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config

from drillbook.backends.base import ServiceState
from drillbook.backends.local import LocalBackend, S3Handle
from drillbook.services import S3Service
from tests.integration.local_helpers import backend_fixture, home_fixture, wait_for  # noqa: F401


def s3_client(env: dict[str, str]) -> object:
    return boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
        config=Config(retries={"max_attempts": 1}),
    )


def test_s3_has_its_buckets_and_drill_only_credentials(backend: LocalBackend) -> None:
    s3 = backend.provision("store", S3Service(kind="s3", buckets=["backups", "audit"]), timeout=30)
    assert isinstance(s3, S3Handle)
    env = dict(s3.env())
    assert env["BACKUP_BUCKET"] == "backups"
    assert env["AWS_ACCESS_KEY_ID"].startswith("AKIADRILL")
    assert s3.secrets() == (env["AWS_SECRET_ACCESS_KEY"],)
    client = s3_client(env)
    names = {b["Name"] for b in client.list_buckets()["Buckets"]}  # type: ignore[attr-defined]
    assert names == {"backups", "audit"}
    client.put_object(Bucket="backups", Key="db/1.dump", Body=b"dump")  # type: ignore[attr-defined]
    body = client.get_object(Bucket="backups", Key="db/1.dump")["Body"].read()  # type: ignore[attr-defined]
    assert body == b"dump"
    assert s3.info.endpoint_url == env["AWS_ENDPOINT_URL"] and s3.info.buckets == (
        "backups",
        "audit",
    )


@pytest.mark.slow
def test_killed_s3_is_exited_and_a_restart_brings_the_buckets_back(backend: LocalBackend) -> None:
    s3 = backend.provision("store", S3Service(kind="s3"), timeout=30)
    s3.kill()
    assert wait_for(lambda: s3.state() is ServiceState.EXITED)
    assert not s3.healthy()
    s3.restart()
    assert s3.healthy()
    client = s3_client(dict(s3.env()))
    assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["drill-backups"]  # type: ignore[attr-defined]
