"""Measured RPO: the canary writer against real restores on a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.engine_helpers import findings, run_scenario, scratch_project, write

pytestmark = pytest.mark.slow

RESTORE_OLD_BACKUP = """
name: rpo-restore
services:
  db: {kind: postgres}
rpo: {service: db, interval: 100ms}
seed:
  - {kind: sql, service: db, file: fixtures/db/configs.sql}
  - {kind: run, id: backup, run: drills/config-manager/backup-db.sh}
  - {kind: wait, duration: 3s}
steady_state:
  - {kind: sql, service: db, query: "select count(*) from configs", expect: ">= 1000"}
fault:
  - {kind: db.drop_table, service: db, table: configs}
recovery:
  - {kind: run, run: "drills/config-manager/restore-db.sh ${steps.backup.stdout}", timeout: 1m}
criteria: {max_rpo: LIMIT}
"""


def test_restore_from_a_backup_taken_seconds_before_the_fault_reports_that_window(
    tmp_path: Path,
) -> None:
    project = scratch_project(tmp_path)
    result = run_scenario(
        write(project, "s.yaml", RESTORE_OLD_BACKUP.replace("LIMIT", "10s")), tmp_path / "r"
    )
    rpo = result.journal.rpo
    assert rpo is not None and rpo.rpo_seconds is not None, rpo
    backup = next(s for s in result.journal.steps if s.id == "backup")
    fault_at = result.journal.mark("inject.start")
    assert fault_at is not None
    # pg_dump's snapshot falls inside the backup step: the truth lies between these bounds.
    earliest = fault_at.t - backup.ended - rpo.interval
    latest = fault_at.t - backup.started + rpo.interval
    assert earliest <= rpo.rpo_seconds <= latest, (earliest, rpo.rpo_seconds, latest)
    assert rpo.rpo_seconds >= 3.0
    assert rpo.rows_lost and rpo.rows_lost >= 25  # ~10 writes a second for 3 s and more
    assert result.verdict.status == "PASS"


def test_rpo_over_the_limit_fails_with_rpo_exceeded(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    result = run_scenario(
        write(project, "s.yaml", RESTORE_OLD_BACKUP.replace("LIMIT", "1s")), tmp_path / "r"
    )
    assert result.verdict.status == "FAIL"
    assert "RPO_EXCEEDED" in findings(result)


def test_a_crash_recovered_from_the_wal_loses_no_acknowledged_write(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    scenario = write(
        project,
        "crash.yaml",
        """
        name: rpo-crash
        services:
          db: {kind: postgres}
        rpo: {service: db, interval: 50ms}
        seed:
          - {kind: wait, duration: 1s}
        steady_state:
          - {kind: sql, service: db, query: "select 1", expect: "1"}
        fault:
          - {kind: service.kill, service: db}
        recovery:
          - {kind: ctl, service: db, action: start, timeout: 30s}
        criteria: {max_rpo: 0.2s}
        """,
    )
    result = run_scenario(scenario, tmp_path / "r")
    rpo = result.journal.rpo
    assert rpo is not None and rpo.writes >= 10
    assert rpo.rows_lost == 0 and rpo.rpo_seconds == 0.0
    assert result.verdict.status == "PASS", result.verdict.summary()


def test_a_restore_from_a_backup_taken_after_the_last_canary_write_reports_no_loss(
    tmp_path: Path,
) -> None:
    project = scratch_project(tmp_path)
    scenario = write(project, "late.yaml", """
        name: rpo-late-backup
        services:
          db: {kind: postgres}
        rpo: {service: db, interval: 100ms}
        seed:
          - {kind: sql, service: db, file: fixtures/db/configs.sql}
          - {kind: wait, duration: 1s}
        steady_state:
          - {kind: sql, service: db, query: "select count(*) from configs", expect: ">= 1000"}
        fault:
          - {kind: service.stop, service: db}
        recovery:
          - {kind: ctl, service: db, action: start, timeout: 30s}
          - {kind: run, id: late, run: drills/config-manager/backup-db.sh}
          - {kind: run, run: "drills/config-manager/restore-db.sh ${steps.late.stdout}"}
        criteria: {max_rpo: 0.2s}
        """)
    result = run_scenario(scenario, tmp_path / "r")
    rpo = result.journal.rpo
    assert rpo is not None and rpo.writes >= 5
    assert rpo.rows_lost == 0 and rpo.rpo_seconds == 0.0
    assert result.verdict.status == "PASS", result.verdict.summary()
