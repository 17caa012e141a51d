"""Preflight catches what would make a recovery impossible, before any fault is injected."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.runner.runner import Runner, RunOptions
from drillbook.scenario.loader import load_scenario
from tests.integration.engine_helpers import cli, findings, run_scenario, scratch_project, write

pytestmark = pytest.mark.slow

BASE = """
name: preflight
services:
  db: {kind: postgres}
steady_state:
  - {kind: sql, service: db, query: "select 1", expect: "1"}
fault:
  - {kind: db.drop_table, service: db, table: nothing_here}
recovery:
  - {kind: run, run: drills/restore.sh}
EXTRA
"""


def preflight_of(
    tmp_path: Path, extra: str = "", *, script: str = "#!/usr/bin/env bash\n", mode: int = 0o755
) -> tuple[set[str], str, int]:
    project = scratch_project(tmp_path)
    write(project, "drills/restore.sh", script).chmod(mode)
    write(project, "fixtures/nightly.dump", "not really a dump\n")
    result = run_scenario(write(project, "s.yaml", BASE.replace("EXTRA", extra)), tmp_path / "r")
    assert result.verdict.status == "COULD NOT VERIFY"
    assert result.journal.faults == ()  # nothing was injected
    return findings(result), result.journal.abort_reason or "", len(result.journal.steps)


def test_a_script_gone_since_validation_is_caught(tmp_path: Path) -> None:
    # A missing script is a validation error (exit 3); one removed after validation, e.g. by a
    # deploy between `drillbook validate` and the monthly run, is preflight's to catch.
    project = scratch_project(tmp_path)
    script = write(project, "drills/restore.sh", "#!/usr/bin/env bash\n", executable=True)
    scenario = load_scenario(write(project, "s.yaml", BASE.replace("EXTRA", "")))
    script.unlink()
    result = Runner(RunOptions(reports_dir=tmp_path / "r")).run(scenario)
    assert result.verdict.status == "COULD NOT VERIFY"
    assert "PREFLIGHT_FAILED" in findings(result)
    assert "not found" in (result.journal.abort_reason or "")
    assert result.journal.faults == ()


def test_a_script_without_its_run_bit_is_caught(tmp_path: Path) -> None:
    codes, reason, _ = preflight_of(tmp_path, mode=0o644)
    assert "PREFLIGHT_FAILED" in codes and "chmod +x" in reason


def test_a_missing_backup_is_caught(tmp_path: Path) -> None:
    _, reason, _ = preflight_of(tmp_path, "preflight: {backups: [{path: fixtures/none.dump}]}")
    assert "does not exist" in reason


def test_a_backup_that_fails_verification_is_caught(tmp_path: Path) -> None:
    extra = (
        'preflight: {backups: [{path: fixtures/nightly.dump, verify: "pg_restore --list {path}"}]}'
    )
    _, reason, _ = preflight_of(tmp_path, extra)
    assert "failed verification" in reason


def test_a_missing_credential_is_caught_without_printing_values(tmp_path: Path) -> None:
    _, reason, _ = preflight_of(tmp_path, "preflight: {env: [PGPASSWORD, VAULT_TOKEN]}")
    assert "VAULT_TOKEN is not set" in reason
    assert "PGPASSWORD" not in reason  # present: not mentioned, and its value never is


def test_not_enough_disk_is_caught(tmp_path: Path) -> None:
    _, reason, _ = preflight_of(tmp_path, "preflight: {min_free_disk: 500TB}")
    assert "MiB free" in reason


def test_a_missing_tool_is_caught(tmp_path: Path) -> None:
    _, reason, _ = preflight_of(tmp_path, script="#!/usr/bin/env no-such-shell\n")
    assert "'no-such-shell' is not on the drill's PATH" in reason


def test_the_preflight_command_checks_without_starting_anything(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    write(project, "drills/restore.sh", "#!/usr/bin/env bash\n").chmod(0o644)
    write(project, "s.yaml", BASE.replace("EXTRA", ""))
    done = cli("preflight", "s.yaml", cwd=project)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "chmod +x" in done.stdout
    good = cli("preflight", str(Path(__file__).parents[2] / "scenarios"), cwd=project)
    assert good.returncode == 0, good.stdout
