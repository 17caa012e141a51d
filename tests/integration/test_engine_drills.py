"""The engine end to end on the local backend: real PostgreSQL, real scripts, real timing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.engine_helpers import (
    REPO,
    cli,
    findings,
    run_scenario,
    scratch_project,
    write,
)

pytestmark = pytest.mark.slow

DROP_TABLE = """
name: drop-table
services:
  db: {kind: postgres}
seed:
  - {kind: sql, service: db, file: fixtures/db/configs.sql}
  - {kind: run, id: backup, run: drills/config-manager/backup-db.sh}
steady_state:
  - {kind: sql, service: db, query: "select count(*) from configs", expect: ">= 1000"}
fault:
  - {kind: db.drop_table, service: db, table: configs}
recovery:
  - {kind: run, run: "RESTORE", timeout: 1m}
verify:
  data: {service: db, tables: [configs]}
timeouts: {recover: 10s}
criteria: {max_time_to_recover: 5s, max_rows_lost: 0}
"""


def test_seed_scenarios_pass_on_the_local_backend(tmp_path: Path) -> None:
    done = cli(
        "run",
        "scenarios/postgres/drop-table-restore.yaml",
        "scenarios/service/corrupt-config-restore.yaml",
        "--reports-dir",
        str(tmp_path / "reports"),
        "--json",
        str(tmp_path / "suite.json"),
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "suite.json").is_file()


def test_restore_that_restores_nothing_fails_with_rows_lost(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    # The classic broken runbook: the restore "succeeds" (exit 0) but restores nothing.
    write(
        project,
        "drills/broken-restore.sh",
        "#!/usr/bin/env bash\necho 'restore complete'\n",
        executable=True,
    )
    scenario = write(project, "s.yaml", DROP_TABLE.replace("RESTORE", "drills/broken-restore.sh"))
    result = run_scenario(scenario, tmp_path / "reports")
    assert result.verdict.status == "FAIL"
    assert {"ROWS_LOST", "STEADY_STATE_NOT_RESTORED"} <= findings(result)


def test_hung_recovery_step_is_killed_at_its_timeout_and_fails(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    write(
        project, "drills/hang.sh", "#!/usr/bin/env bash\nsleep 600 &\nsleep 600\n", executable=True
    )
    text = DROP_TABLE.replace('"RESTORE", timeout: 1m', "drills/hang.sh, timeout: 2s")
    result = run_scenario(write(project, "s.yaml", text), tmp_path / "reports")
    step = next(s for s in result.journal.steps if s.phase == "recover")
    assert step.timed_out
    assert step.duration < 6
    assert result.verdict.status == "FAIL"
    assert "STEP_TIMED_OUT" in findings(result)


def test_unhealthy_baseline_cannot_verify_and_exits_2(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    write(
        project,
        "s.yaml",
        """
        name: bad-baseline
        services:
          db: {kind: postgres}
        steady_state:
          - {kind: sql, service: db, query: "select count(*) from configs", expect: ">= 1000"}
        fault:
          - {kind: db.drop_table, service: db, table: configs}
        timeouts: {baseline: 2s}
        criteria: {max_time_to_recover: 60s}
        """,
    )
    done = cli("run", "s.yaml", "--reports-dir", str(tmp_path / "reports"), cwd=project)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "BASELINE_UNHEALTHY" in done.stdout


def test_time_to_recover_matches_a_known_two_second_recovery(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    scenario = write(
        project,
        "calibrate.yaml",
        """
        name: calibrate
        services:
          db: {kind: postgres}
        seed:
          - {kind: sql, service: db, sql: "create table beat (n int); insert into beat values (1)"}
        steady_state:
          - {kind: sql, service: db, query: "select count(*) from beat", expect: ">= 1"}
        fault:
          - {kind: db.delete_rows, service: db, table: beat, where: "true"}
        recovery:
          - {kind: run, run: "sleep 2 && psql -q -c 'insert into beat values (1)'", timeout: 30s}
        criteria: {max_time_to_recover: 10s}
        """,
    )
    result = run_scenario(scenario, tmp_path / "reports")
    ttr = result.measurements.time_to_recover.value
    assert ttr is not None
    assert abs(ttr - 2.0) <= 0.15, ttr
    assert result.verdict.status == "PASS"
