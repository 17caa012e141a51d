"""Migration files: naming, overlays of bad fixtures, statement splitting (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.gateway.migrations import MigrationError, default_source, discover, split_statements
from drillbook.services.gateway import GatewayService

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "fixtures" / "migrations-bad"


def test_good_migrations_are_numbered_and_each_has_a_down_file() -> None:
    found = discover([default_source()])
    assert [(m.version, m.description) for m in found] == [
        (1, "init"),
        (2, "llm_management_tables"),
        (3, "unified_hub"),
    ]
    assert all(m.down_sql for m in found)
    assert not any(m.no_transaction for m in found)


def test_a_later_source_replaces_the_same_version_whole() -> None:
    found = discover([default_source(), BAD / "checksum_mismatch"])
    init = found[0]
    assert init.up_path.parent == BAD / "checksum_mismatch"
    assert init.checksum != discover([default_source()])[0].checksum
    assert len(found) == 3


def test_bad_fixtures_each_add_a_version_4() -> None:
    for case in ("syntax_error", "partial_no_tx", "destructive", "lock_hang", "missing_down"):
        found = discover([default_source(), BAD / case])
        assert found[-1].version == 4, case
    assert discover([default_source(), BAD / "partial_no_tx"])[-1].no_transaction
    assert discover([default_source(), BAD / "missing_down"])[-1].down_sql is None


def test_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="does not exist"):
        discover([tmp_path / "nope"])


def test_split_respects_quotes_dollar_quotes_and_comments() -> None:
    text = """
    -- a comment; with a semicolon
    CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$;
    INSERT INTO t VALUES ('a;b', 'it''s');
    /* block; comment */ SELECT 1
    """
    statements = split_statements(text)
    assert len(statements) == 3
    assert statements[0].endswith("END; $$")
    assert "'a;b', 'it''s'" in statements[1]


def test_gateway_service_spec_runs_as_a_command_with_its_config_copied() -> None:
    spec = GatewayService.model_validate(
        {"kind": "gateway", "config": "fixtures/gateway/config.yaml", "release": "v2"}
    )
    command = spec.as_command(database_url="postgresql://db", drill_token="t")
    assert command.config_files == {"config.yaml": "fixtures/gateway/config.yaml"}
    assert command.env["DRILLBOOK_DRILL_TOKEN"] == "t"
    assert command.env["DATABASE_URL"] == "postgresql://db"
    assert "--release" in command.command and "v2" in command.command
    assert command.health.http == "http://127.0.0.1:{port}/health/readiness"


def test_gateway_service_spec_rejects_an_unknown_release() -> None:
    with pytest.raises(ValueError, match="unknown release 'v9'; known: v1, v2"):
        GatewayService.model_validate({"kind": "gateway", "config": "x.yaml", "release": "v9"})
