"""`exec_in: SERVICE` runs a step inside that service's container (the seed runbooks'
`docker exec db pg_dump ...`); the local backend refuses it at preflight, before any fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drillbook.runner.runner import Runner, RunOptions
from drillbook.scenario.loader import load_scenario
from tests.integration.engine_helpers import findings, run_scenario, scratch_project, write

pytestmark = [pytest.mark.docker, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def test_pg_dump_and_pg_restore_run_inside_the_db_container(engine: Any, tmp_path: Path) -> None:
    scenario = load_scenario(REPO / "scenarios" / "docker" / "exec-in-pg-dump.yaml")
    result = Runner(RunOptions(reports_dir=tmp_path)).run(scenario)
    assert result.verdict.status == "PASS", result.verdict.summary()
    backup = next(s for s in result.journal.steps if s.id == "backup")
    # the step checks /.dockerenv, which exists only inside a container
    assert backup.ok and any("pg_dump (PostgreSQL)" in line for line in backup.output_tail)
    assert result.measurements.rows_lost.value == 0


LOCAL = """
name: exec-in-local
backend: local
services:
  app: {kind: command, command: ["sleep", "600"]}
steady_state:
  - {kind: process, service: app}
fault:
  - {kind: service.kill, service: app}
recovery:
  - {kind: run, exec_in: app, run: "true"}
"""


def test_the_local_backend_refuses_exec_in_before_any_fault(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    result = run_scenario(write(project, "s.yaml", LOCAL), tmp_path / "r")
    assert result.verdict.status == "COULD NOT VERIFY"
    assert "PREFLIGHT_FAILED" in findings(result)
    assert "exec_in 'app' needs a container" in (result.journal.abort_reason or "")
    assert result.journal.faults == ()
