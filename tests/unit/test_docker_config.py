"""Docker settings, image fingerprints and container faults, without a Docker engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.backends.docker.config import DockerSettings
from drillbook.errors import FaultError
from drillbook.faults.container import ContainerKill, ContainerPause, NetworkDisconnect
from drillbook.images import fingerprint
from drillbook.testing import FakeContext, FakeService


def test_postgres_image_follows_the_version_a_scenario_asks_for() -> None:
    settings = DockerSettings()
    assert settings.postgres_candidates("17") == ["postgres:17"]
    assert settings.postgres_candidates(None) == ["postgres:16", "postgres:17", "postgres:15"]
    fixed = DockerSettings(postgres_image="registry.local/pg:15")
    assert fixed.postgres_candidates("16") == ["registry.local/pg:15"]


def test_images_and_ryuk_come_from_the_environment() -> None:
    settings = DockerSettings.from_env(
        {
            "DRILLBOOK_DOCKER_S3_IMAGE": "minio-like:1",
            "DRILLBOOK_DOCKER_GATEWAY_IMAGE": "gw:2",
            "DRILLBOOK_DOCKER_RYUK": "true",
        }
    )
    assert settings.s3_image == "minio-like:1"
    assert settings.command_image_name == "gw:2"  # commands run in the gateway image by default
    assert settings.ryuk
    assert not DockerSettings.from_env({}).ryuk


def test_an_image_fingerprint_changes_with_what_it_is_built_from(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM base\n")
    first = fingerprint("base-id", tmp_path)
    assert fingerprint("base-id", tmp_path) == first
    (tmp_path / "Dockerfile").write_text("FROM base\nRUN true\n")
    assert fingerprint("base-id", tmp_path) != first
    assert fingerprint("other-base", tmp_path) != fingerprint("base-id", tmp_path)


@pytest.mark.parametrize(
    "fault",
    [
        ContainerKill(kind="container.kill", service="app"),
        ContainerPause(kind="container.pause", service="app"),
        NetworkDisconnect(kind="network.disconnect", service="app", duration="1s"),
    ],
)
def test_container_faults_refuse_a_service_that_is_not_a_container(
    tmp_path: Path, fault: ContainerKill | ContainerPause | NetworkDisconnect
) -> None:
    ctx = FakeContext(tmp_path, services=[FakeService("app")])
    with pytest.raises(FaultError, match="not a container"):
        fault.inject(ctx)


def test_host_addresses_of_run_services_become_their_network_names() -> None:
    from drillbook.backends.docker.engine import DockerRun
    from drillbook.clock import MonotonicClock

    run = DockerRun("r", Path("/"), Path("/"), DockerSettings(), MonotonicClock(), client=None)
    run.add_alias(54012, "db")
    assert run.to_network("postgresql://u:p@127.0.0.1:54012/x") == "postgresql://u:p@db:54012/x"
    assert run.to_network("http://localhost:54012/") == "http://db:54012/"
    # Other ports (not a run service, or a longer number) are left alone.
    assert run.to_network("127.0.0.1:540121 127.0.0.1:80") == "127.0.0.1:540121 127.0.0.1:80"
