"""The gateway on a real PostgreSQL: migrations up and down, the audit log, keys, readiness."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from drillbook.gateway.__main__ import main
from drillbook.gateway.app import create_app
from drillbook.gateway.runtime import Gateway, GatewayOptions
from drillbook.testing import gateway_client
from tests.integration.gateway_pg import (
    PgServer,
    destroy,
    pg_db_fixture,
    pg_server_fixture,
    start_server,
)
from tests.integration.gateway_proc import FIXTURE, MASTER, free_port, run_gateway

__all__ = ["pg_db_fixture", "pg_server_fixture"]

ROOT = Path(__file__).resolve().parents[2]
GOOD = str(ROOT / "fixtures" / "migrations")
BAD = ROOT / "fixtures" / "migrations-bad"


def migrate(url: str, action: str, *args: str) -> int:
    """`migrate ACTION` with the good migrations first, so `--source BAD/x` overlays them."""
    return main(["migrate", action, "--database-url", url, "--source", GOOD, *args])


def rows(url: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query.encode()).fetchall()


def test_migrations_up_then_down_leave_the_schema_identical(
    pg_server: PgServer, pg_db: str
) -> None:
    assert migrate(pg_db, "status") == 0  # creates _migrations, as any first run does
    empty = pg_server.dump_schema(pg_db)
    assert migrate(pg_db, "up", "--to", "1") == 0
    at_one = pg_server.dump_schema(pg_db)
    assert migrate(pg_db, "up") == 0
    assert rows(pg_db, "SELECT max(version) FROM _migrations") == [(3,)]
    assert migrate(pg_db, "down", "--to", "1") == 0
    assert pg_server.dump_schema(pg_db) == at_one
    assert migrate(pg_db, "down", "--to", "0") == 0
    assert pg_server.dump_schema(pg_db) == empty


def test_reverting_the_hub_migration_leaves_no_llm_tables_or_constraints(pg_db: str) -> None:
    assert migrate(pg_db, "up") == 0
    assert migrate(pg_db, "down", "--to", "1") == 0
    tables = "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'llm_%'"
    assert rows(pg_db, tables) == []
    orphans = (
        "SELECT conname FROM pg_constraint WHERE confrelid IN "
        "(SELECT oid FROM pg_class WHERE relname LIKE 'llm_%')"
    )
    assert rows(pg_db, orphans) == []
    functions = "SELECT 1 FROM pg_proc WHERE proname = 'update_updated_at_column'"
    assert rows(pg_db, functions) == []


def test_partially_applied_migration_is_dirty_and_blocks_later_runs(
    pg_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert migrate(pg_db, "up") == 0
    overlay = ["--source", str(BAD / "partial_no_tx")]
    assert migrate(pg_db, "up", *overlay) == 1
    assert "failed and is now partially applied" in capsys.readouterr().err
    assert rows(pg_db, "SELECT version, success FROM _migrations WHERE version = 4") == [(4, False)]
    assert rows(pg_db, "SELECT to_regclass('llm_usage_archive') IS NOT NULL") == [(True,)]
    assert migrate(pg_db, "down", *overlay) == 1
    assert "is partially applied (dirty)" in capsys.readouterr().err
    assert migrate(pg_db, "status", *overlay) == 0
    assert "DIRTY" in capsys.readouterr().out


def test_failed_migration_in_a_transaction_leaves_nothing(pg_db: str) -> None:
    assert migrate(pg_db, "up") == 0
    assert migrate(pg_db, "up", "--source", str(BAD / "syntax_error")) == 1
    assert rows(pg_db, "SELECT count(*) FROM _migrations WHERE version = 4") == [(0,)]
    index = "SELECT to_regclass('idx_usage_analytics_status') IS NOT NULL"
    assert rows(pg_db, index) == [(False,)]


def test_modified_migration_and_missing_down_file_are_refused(
    pg_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert migrate(pg_db, "up") == 0
    assert migrate(pg_db, "up", "--source", str(BAD / "checksum_mismatch")) == 1
    assert "was modified after it was applied" in capsys.readouterr().err
    assert migrate(pg_db, "up", "--source", str(BAD / "missing_down")) == 0
    assert migrate(pg_db, "down", "--source", str(BAD / "missing_down")) == 1
    assert "has no down file" in capsys.readouterr().err


def test_gateway_migrates_to_its_release_schema_at_startup(pg_db: str) -> None:
    with gateway_client(FIXTURE, database_url=pg_db) as (client, _):
        version = client.get("/version").json()
        assert (version["migration_version"], version["migration_target"]) == (2, 2)
        ready = client.get("/health/readiness").json()
        assert (ready["status"], ready["db"]) == ("healthy", "connected")
    with gateway_client(FIXTURE, database_url=pg_db, release="v2") as (client, _):
        assert client.get("/version").json()["migration_version"] == 3


def test_activation_and_rollback_land_in_the_audit_log_table(pg_db: str) -> None:
    with gateway_client(FIXTURE, database_url=pg_db) as (client, _):
        client.post("/api/v1/providers/anthropic/activate", json={"model": "claude-sonnet"})
        client.post("/api/v1/providers/openai/activate")
        api = client.get("/api/v1/admin/audit?limit=2").json()["entries"]
    stored = rows(
        pg_db, "SELECT action, target, before->>'name', after->>'name' FROM audit_log ORDER BY id"
    )
    assert stored == [
        ("provider.activate", "anthropic", "openai", "anthropic"),
        ("provider.activate", "openai", "anthropic", "openai"),
    ]
    assert [e["target"] for e in api] == ["openai", "anthropic"]
    assert rows(pg_db, "SELECT name FROM providers WHERE is_active") == [("openai",)]


def test_state_survives_a_restart_through_the_database(pg_db: str) -> None:
    with gateway_client(FIXTURE, database_url=pg_db, release="v2") as (client, _):
        client.post("/api/v1/providers/ollama/activate")
        client.put("/api/v1/features/unified_llm_hub", json={"enabled": True})
        key = client.post("/key/generate", json={"key_alias": "ci"}, headers=MASTER).json()["key"]
    assert rows(pg_db, "SELECT count(*) FROM virtual_keys WHERE token_hash = '" + key + "'") == [
        (0,)
    ]
    with gateway_client(FIXTURE, database_url=pg_db, release="v2") as (client, _):
        assert client.get("/api/v1/providers").json()["active_provider"] == "ollama"
        assert client.get("/api/v1/features/unified_llm_hub").json()["source"] == "database"
        auth = {"Authorization": f"Bearer {key}"}
        assert client.get("/v1/models", headers=auth).status_code == 200


def test_v2_hub_page_breaks_on_the_v1_schema(pg_db: str) -> None:
    assert migrate(pg_db, "up", "--to", "2") == 0
    gateway = Gateway(
        GatewayOptions(config_path=FIXTURE, release="v2", database_url=pg_db, migrate=False)
    )
    with TestClient(create_app(gateway)) as client:
        client.put("/api/v1/features/unified_llm_hub", json={"enabled": True})
        page = client.get("/admin/llm-hub")
        assert page.status_code == 500
        assert "needs schema version 3" in page.json()["error"]["message"]


def test_startup_exits_4_when_migrations_fail(pg_db: str) -> None:
    assert migrate(pg_db, "up") == 0
    assert migrate(pg_db, "up", "--source", str(BAD / "partial_no_tx")) == 1
    code, err = run_gateway(
        ["--config", str(FIXTURE), "--port", str(free_port()), "--database-url", pg_db]
    )
    assert code == 4
    assert "startup migrations failed" in err and "partially applied" in err


@pytest.mark.slow
def test_readiness_follows_the_database_down_and_back() -> None:
    server = start_server()
    try:
        url = server.create_database()
        with gateway_client(FIXTURE, database_url=url) as (client, _):
            assert client.get("/health/readiness").status_code == 200
            server.stop("immediate")
            time.sleep(0.6)  # the readiness ping is cached for half a second
            down = client.get("/health/readiness")
            assert (down.status_code, down.json()["db"]) == (503, "disconnected")
            assert client.get("/api/v1/providers/openai/activate").status_code == 405
            assert client.post("/api/v1/providers/openai/activate").status_code == 503
            critical = client.get("/api/v1/alerts?severity=critical").json()["alerts"]
            assert [a["source"] for a in critical] == ["database"]
            # The master key needs no database: the proxy keeps serving.
            chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}
            assert client.post("/v1/chat/completions", json=chat, headers=MASTER).status_code == 200
            server.start()
            time.sleep(0.6)
            assert client.get("/health/readiness").status_code == 200
            assert client.post("/api/v1/providers/openai/activate").status_code == 200
    finally:
        destroy(server)
