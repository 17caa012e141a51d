"""The gateway as a drill service on the local backend (through GatewayService.as_command)."""

from __future__ import annotations

from pathlib import Path

import httpx
import psycopg
import pytest

from drillbook.backends.local import LocalBackend
from drillbook.errors import ProvisionError
from drillbook.services import PostgresService
from drillbook.services.gateway import GatewayService
from tests.integration.gateway_proc import FIXTURE
from tests.integration.local_helpers import backend_fixture, home_fixture

__all__ = ["backend_fixture", "home_fixture"]


def gateway_spec(**fields: object) -> GatewayService:
    return GatewayService.model_validate({"kind": "gateway", "config": str(FIXTURE), **fields})


@pytest.mark.slow
def test_a_corrupt_config_copy_makes_the_restart_fail_with_a_clear_message(
    backend: LocalBackend,
) -> None:
    handle = backend.provision("gateway", gateway_spec(), timeout=30)
    url, config = handle.info.url, handle.info.config_path
    assert url is not None and config is not None and config != FIXTURE
    assert httpx.get(url + "/health/readiness").json()["status"] == "healthy"
    config.write_text(FIXTURE.read_text().replace("model_list:", "model_list: [", 1))
    with pytest.raises(ProvisionError) as info:
        handle.restart(timeout=15)
    assert "invalid gateway config" in str(info.value)
    assert "yaml error" in str(info.value)
    assert "model_list: [" not in FIXTURE.read_text()  # the fixture itself is untouched
    config.write_text(FIXTURE.read_text())
    handle.start(timeout=15)
    assert httpx.get(url + "/health/readiness").status_code == 200


@pytest.mark.slow
def test_gateway_service_on_the_drill_database_audits_activation_and_rollback(
    backend: LocalBackend, tmp_path: Path
) -> None:
    db = backend.provision("db", PostgresService(kind="postgres"), timeout=60)
    dsn = db.info.dsn
    assert dsn is not None
    command = gateway_spec(database="db").as_command(database_url=dsn)
    handle = backend.provision("gateway", command, timeout=30)
    url = handle.info.url
    assert httpx.get(f"{url}/version").json()["migration_version"] == 2
    httpx.post(f"{url}/api/v1/providers/anthropic/activate", json={"model": "claude-sonnet"})
    httpx.post(f"{url}/api/v1/providers/openai/activate")
    with psycopg.connect(dsn) as conn:
        targets = conn.execute(
            "SELECT target FROM audit_log WHERE action = 'provider.activate' ORDER BY id"
        ).fetchall()
    assert targets == [("anthropic",), ("openai",)]
