"""Services declared `external:` are attached to, never provisioned, and not broken unless the
command line allows it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from drillbook.backends.local import LocalBackend
from drillbook.runner.runner import Runner, RunOptions
from drillbook.scenario.loader import load_scenario
from drillbook.services import PostgresService
from tests.integration.engine_helpers import findings, scratch_project, write

pytestmark = pytest.mark.slow

SCENARIO = """
name: external-db
services:
  staging: {kind: postgres, external: {dsn_env: STAGING_DSN}}
steady_state:
  - {kind: sql, service: staging, query: "select count(*) from accounts", expect: ">= 3"}
fault:
  - {kind: db.delete_rows, service: staging, table: accounts, where: "id = 1"}
recovery:
  - {kind: sql, service: staging, sql: "insert into accounts values (1, 'restored')"}
criteria: {max_time_to_recover: 30s}
"""


@pytest.fixture
def staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database the drill did not provision: started here, outside any drill."""
    backend = LocalBackend(tmp_path / "staging", "staging-" + secrets.token_hex(3))
    try:
        db = backend.provision("staging", PostgresService(kind="postgres"), timeout=60)
        dsn = db.info.dsn or ""
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("create table accounts (id int primary key, name text)")
            conn.execute("insert into accounts values (1, 'a'), (2, 'b'), (3, 'c')")
        monkeypatch.setenv("STAGING_DSN", dsn)
        yield dsn
    finally:
        backend.teardown()


def count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select count(*) from accounts").fetchone()
    return int(row[0]) if row else -1


def test_faults_on_an_external_service_are_refused_without_the_flag(
    tmp_path: Path, staging: str
) -> None:
    scenario = load_scenario(write(scratch_project(tmp_path), "s.yaml", SCENARIO))
    result = Runner(RunOptions(reports_dir=tmp_path / "r")).run(scenario)
    assert result.verdict.status == "COULD NOT VERIFY"
    assert "PREFLIGHT_FAILED" in findings(result)
    assert "--allow-external-faults" in (result.journal.abort_reason or "")
    assert result.journal.faults == ()
    assert count(staging) == 3  # untouched


def test_with_the_flag_the_drill_runs_against_the_external_service_and_leaves_it_running(
    tmp_path: Path, staging: str
) -> None:
    scenario = load_scenario(write(scratch_project(tmp_path), "s.yaml", SCENARIO))
    result = Runner(RunOptions(reports_dir=tmp_path / "r", allow_external_faults=True)).run(
        scenario
    )
    assert result.verdict.status == "PASS", result.verdict.summary()
    assert result.journal.facts["service.staging.external"] == "true"
    assert count(staging) == 3  # recovered, and still running after teardown
