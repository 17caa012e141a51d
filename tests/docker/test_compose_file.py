"""docker-compose.yml describes the reference stack (postgres, moto, the gateway) with the
image names the docker backend uses, so `docker compose up` runs what drills run."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"


def _compose_argv() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


def test_the_reference_stack_has_postgres_moto_and_the_gateway() -> None:
    stack = yaml.safe_load(COMPOSE.read_text())
    services = stack["services"]
    assert set(services) == {"db", "s3", "gateway"}
    assert "DRILLBOOK_DOCKER_POSTGRES_IMAGE" in services["db"]["image"]
    assert "DRILLBOOK_DOCKER_S3_IMAGE" in services["s3"]["image"]
    assert "DRILLBOOK_DOCKER_GATEWAY_IMAGE" in services["gateway"]["image"]
    # published on loopback only
    for service in services.values():
        assert all(str(port).startswith("127.0.0.1:") for port in service["ports"])


def test_the_compose_tool_accepts_the_file_with_configured_images(tmp_path: Path) -> None:
    argv = _compose_argv()
    if argv is None:
        pytest.skip("neither docker-compose nor `docker compose` is installed")
    env = dict(os.environ, DRILLBOOK_DOCKER_GATEWAY_IMAGE="example/gateway:9")
    done = subprocess.run(
        [*argv, "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)
    assert resolved["services"]["gateway"]["image"] == "example/gateway:9"
