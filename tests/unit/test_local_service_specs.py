"""The postgres, s3 and command service kinds validate what a scenario says."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from drillbook import registry
from drillbook.services import CommandService, PostgresService, S3Service


def test_the_three_kinds_are_registered() -> None:
    assert {"postgres", "s3", "command"} <= set(registry.SERVICES.kinds())


def test_postgres_settings_must_be_plain_and_not_the_backends_own() -> None:
    spec = PostgresService(kind="postgres", settings={"work_mem": "8MB"}, wal_archive=True)
    assert spec.database == "drill" and spec.user == "postgres"
    with pytest.raises(ValidationError, match="chosen by drillbook"):
        PostgresService(kind="postgres", settings={"port": "5432"})
    with pytest.raises(ValidationError, match=r"not a postgresql\.conf parameter name"):
        PostgresService(kind="postgres", settings={"work mem": "8MB"})
    with pytest.raises(ValidationError, match="line break"):
        PostgresService(kind="postgres", settings={"work_mem": "8MB\nfsync = off"})
    with pytest.raises(ValidationError):
        PostgresService(kind="postgres", version="15.4")


def test_s3_buckets_follow_s3_naming() -> None:
    assert S3Service(kind="s3").buckets == ["drill-backups"]
    with pytest.raises(ValidationError):
        S3Service(kind="s3", buckets=["Bad_Bucket"])
    with pytest.raises(ValidationError):
        S3Service(kind="s3", buckets=[])


def test_command_is_split_like_a_shell_and_checked() -> None:
    spec = CommandService(
        kind="command", command="python -m http.server '{port}'", stop_signal="int"
    )
    assert spec.argv() == ["python", "-m", "http.server", "{port}"]
    assert spec.stop_signal == "SIGINT" and spec.port == "auto"
    for bad in (
        {"command": ""},
        {"command": "echo 'unclosed"},
        {"command": "x", "stop_signal": "SIGNOPE"},
        {"command": "x", "port": 70000},
        {"command": "x", "config_files": {"../escape.yaml": "a.yaml"}},
        {"command": "x", "config_files": {"/etc/passwd": "a.yaml"}},
        {"command": "x", "health": {"http": "localhost:8080/health"}},
    ):
        with pytest.raises(ValidationError):
            CommandService(kind="command", **bad)  # type: ignore[arg-type]
