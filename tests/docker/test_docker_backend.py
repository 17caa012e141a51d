"""The docker backend provisions real containers that behave like the local services."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from drillbook.backends import make_backend
from drillbook.backends.base import ServiceState
from drillbook.backends.docker.backend import DockerBackend
from drillbook.backends.docker.config import DockerSettings
from drillbook.backends.docker.postgres import DockerPostgres
from drillbook.clock import MonotonicClock
from drillbook.services.gateway import GatewayService
from drillbook.services.postgres import PostgresService
from drillbook.services.s3 import S3Service
from tests.docker.conftest import labelled, nothing_left

pytestmark = [pytest.mark.docker, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def wait_for(predicate: Any, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_postgres_s3_and_gateway_run_as_labelled_containers_on_one_network(
    engine: Any, sweep: list[str], tmp_path: Path
) -> None:
    run_id = f"test-backend-{time.time_ns()}"
    sweep.append(run_id)
    backend = make_backend("docker", tmp_path / "run", run_id, MonotonicClock(), REPO)
    try:
        db = backend.provision("db", PostgresService(kind="postgres"), timeout=60)
        s3 = backend.provision("s3", S3Service(kind="s3", buckets=["b-one"]), timeout=60)
        spec = GatewayService(kind="gateway", config="fixtures/gateway/config.yaml", database="db")
        gateway = backend.provision("gateway", spec, timeout=90)

        with psycopg.connect(db.info.dsn) as conn:
            conn.execute("create table kept (id int primary key)")
            conn.execute("insert into kept values (1), (2)")
        assert db.env()["DATABASE_URL"] == db.info.dsn
        assert db.facts()["version"].startswith(db.facts()["client_version"].split(".")[0])
        assert httpx.get(f"{gateway.info.url}/health/readiness", timeout=5).status_code == 200
        assert s3.healthy() and "b-one" in s3.facts()["buckets"]

        found = labelled(engine, run_id)
        assert len(found["containers"]) == 3
        assert len(found["networks"]) == 1 and len(found["volumes"]) == 1
        network = engine.networks.get(found["networks"][0])
        network.reload()
        assert len(network.containers) == 3
    finally:
        backend.teardown()
    assert nothing_left(engine, run_id), labelled(engine, run_id)


def test_a_killed_container_is_exited_and_restarts_with_its_data(
    engine: Any, sweep: list[str], tmp_path: Path
) -> None:
    run_id = f"test-kill-{time.time_ns()}"
    sweep.append(run_id)
    backend = DockerBackend(tmp_path / "run", run_id, base_dir=REPO)
    try:
        db = backend.provision("db", PostgresService(kind="postgres"), timeout=60)
        with psycopg.connect(db.info.dsn) as conn:
            conn.execute("create table kept as select 42 as answer")

        db.kill(signal.SIGKILL)
        assert wait_for(lambda: db.state() is ServiceState.EXITED)
        assert not db.healthy()

        db.restart(timeout=60)
        assert db.state() is ServiceState.RUNNING and db.healthy()
        with psycopg.connect(db.info.dsn) as conn:
            assert conn.execute("select answer from kept").fetchone() == (42,)

        db.stop()
        assert db.state() is ServiceState.STOPPED
        db.start(timeout=60)
        assert db.healthy()
        assert any("ready to accept connections" in line for line in db.log_tail(50))
    finally:
        backend.teardown()
    assert nothing_left(engine, run_id)


def test_docker_exec_client_tools_dump_into_the_run_dir(
    engine: Any, sweep: list[str], tmp_path: Path
) -> None:
    run_id = f"test-tools-{time.time_ns()}"
    sweep.append(run_id)
    settings = DockerSettings(host_clients="never")
    backend = DockerBackend(tmp_path / "run", run_id, base_dir=REPO, settings=settings)
    try:
        db = backend.provision("db", PostgresService(kind="postgres"), timeout=60)
        assert isinstance(db, DockerPostgres) and db.tools is not None
        assert db.tools.source.startswith("docker exec")
        with psycopg.connect(db.info.dsn) as conn:
            conn.execute("create table t as select generate_series(1, 10) as n")
        bindir = backend.client_path()[0]
        dump = tmp_path / "run" / "work" / "t.dump"
        dump.parent.mkdir(parents=True)
        env = {"PATH": f"{bindir}:/usr/bin:/bin", **db.env()}
        subprocess.run(
            ["pg_dump", "--format=custom", f"--file={dump}", db.info.dsn],
            env=env,
            check=True,
            timeout=60,
        )
        listing = subprocess.run(
            ["pg_restore", "--list", str(dump)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        assert "TABLE public t" in listing
    finally:
        backend.teardown()
