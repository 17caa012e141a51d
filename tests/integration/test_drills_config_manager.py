"""Seed 002 (LLM Config Manager) drills end to end: the catalogue passes, and each procedure,
broken the way procedures really break, fails its drill with the finding that names why."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import boto3
import pytest

from drillbook.backends.local import LocalBackend
from drillbook.errors import FaultError
from drillbook.faults.storage import S3DeleteObjects
from drillbook.result import RunResult
from drillbook.services.s3 import S3Service
from drillbook.testing import FakeContext
from tests.integration.engine_helpers import (
    REPO,
    cli,
    findings,
    run_scenario,
    scratch_project,
)

pytestmark = pytest.mark.slow

SCENARIOS = REPO / "scenarios" / "config-manager"
CATALOGUE = (
    "complete-restore",
    "pitr",
    "truncated-backup-detected",
    "restore-from-s3",
    "partial-restore",
    "full-backup-and-verify",
    "retention",
)


def _broken_run(tmp_path: Path, scenario: str, script: str, *edits: tuple[str, str]) -> RunResult:
    """Run `scenario` against a copy of the drills in which `script` has each (old, new)
    edit applied."""
    project = scratch_project(tmp_path)
    path = project / "drills" / "config-manager" / script
    text = path.read_text()
    for old, new in edits:
        assert old in text, f"{script} no longer contains {old!r}; update the negative control"
        text = text.replace(old, new)
    path.write_text(text)
    target = project / "scenarios" / "config-manager" / f"{scenario}.yaml"
    target.parent.mkdir(parents=True)
    # A broken procedure never restores the steady state: do not wait the full budget for it.
    text = (SCENARIOS / f"{scenario}.yaml").read_text()
    target.write_text(text.replace("timeouts: {recover: 90s}", "timeouts: {recover: 10s}"))
    return run_scenario(target, tmp_path / "reports")


def _failed_with(result: RunResult, code: str) -> None:
    assert result.verdict.status == "FAIL", result.verdict.summary()
    assert code in findings(result), result.verdict.summary()


def test_config_manager_catalogue_passes_on_the_local_backend(tmp_path: Path) -> None:
    assert sorted(p.stem for p in SCENARIOS.glob("*.yaml")) == sorted(CATALOGUE)
    done = cli(
        "run",
        "scenarios/config-manager",
        "--reports-dir",
        str(tmp_path / "reports"),
        "--json",
        str(tmp_path / "suite.json"),
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_restore_of_an_older_backup_loses_the_days_rows(tmp_path: Path) -> None:
    # `ls -t` vs `ls -tr`: the restore takes the oldest backup instead of the newest.
    result = _broken_run(
        tmp_path,
        "complete-restore",
        "restore.sh",
        ("backup=$(list_backups | head -n 1)", "backup=$(list_backups | tail -n 1)"),
    )
    _failed_with(result, "ROWS_LOST")
    lost = next(f for f in result.verdict.findings if f.code == "ROWS_LOST")
    assert lost.measured == 100


def test_restore_that_forgets_the_file_storage_leaves_the_steady_state_broken(
    tmp_path: Path,
) -> None:
    result = _broken_run(
        tmp_path,
        "complete-restore",
        "restore.sh",
        ('tar -xzf "$tmp"/storage-*.tar.gz -C "$CM_HOME"', "true  # storage restore dropped"),
    )
    _failed_with(result, "STEADY_STATE_NOT_RESTORED")


def test_pitr_without_a_target_replays_the_delete_and_loses_every_row(tmp_path: Path) -> None:
    # Recovery "to the latest" replays the DELETE and the writes made after it.
    result = _broken_run(
        tmp_path,
        "pitr",
        "pitr.sh",
        ("recovery_target_time = '$target'\n", ""),
    )
    _failed_with(result, "ROWS_LOST")
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)


def test_verify_that_checks_nothing_fails_the_truncated_backup_drill(tmp_path: Path) -> None:
    result = _broken_run(
        tmp_path,
        "truncated-backup-detected",
        "verify-backup.sh",
        (
            'echo "verifying backup: $file"\n',
            'echo "verifying backup: $file"\necho "backup verification OK: $file"; exit 0\n',
        ),
    )
    _failed_with(result, "STEP_FAILED")
    failed = [f for f in result.verdict.findings if f.code == "STEP_FAILED"]
    assert "recovery step 0" in failed[0].criterion


def test_backup_that_skips_the_upload_silently_cannot_be_restored_from_s3(
    tmp_path: Path,
) -> None:
    # The runbook's own variable name: the upload is skipped, and the backup still exits 0.
    result = _broken_run(
        tmp_path,
        "restore-from-s3",
        "backup.sh",
        (
            'if [[ "$upload" == yes ]] && s3_enabled; then',
            'if [[ "$upload" == yes && -n "${AWS_BACKUP_BUCKET:-}" ]]; then',
        ),
    )
    _failed_with(result, "STEP_FAILED")
    assert "ROWS_LOST" in findings(result)


def test_partial_restore_that_restores_every_namespace_undoes_other_teams_changes(
    tmp_path: Path,
) -> None:
    # "Simplified" to restore the whole table: the namespace filter dropped on both sides.
    result = _broken_run(
        tmp_path,
        "partial-restore",
        "partial-restore.sh",
        (
            "SELECT * FROM configs WHERE namespace = '$namespace' ORDER BY id",
            "SELECT * FROM configs ORDER BY id",
        ),
        ("DELETE FROM configs WHERE namespace = '$namespace'", "DELETE FROM configs"),
    )
    _failed_with(result, "ROWS_CHANGED")
    assert "ROWS_LOST" in findings(result)


def test_backup_missing_the_audit_logs_is_caught_even_when_its_verify_checks_nothing(
    tmp_path: Path,
) -> None:
    project = scratch_project(tmp_path)
    backup = project / "drills" / "config-manager" / "backup.sh"
    text = backup.read_text()
    member = 'members=("database-$stamp.dump" "storage-$stamp.tar.gz" "audit-$stamp.tar.gz"'
    verify = '"$(dirname "$0")/verify-backup.sh" "$archive" >&2'
    assert member in text and verify in text
    text = text.replace(member, 'members=("database-$stamp.dump" "storage-$stamp.tar.gz"')
    backup.write_text(text.replace(verify, "true  # verification skipped"))
    verify_script = project / "drills" / "config-manager" / "verify-backup.sh"
    verify_script.write_text("#!/usr/bin/env bash\necho 'backup verification OK'\n")
    target = project / "scenarios" / "config-manager" / "full-backup-and-verify.yaml"
    target.parent.mkdir(parents=True)
    shutil.copy(SCENARIOS / "full-backup-and-verify.yaml", target)
    result = run_scenario(target, tmp_path / "reports")
    _failed_with(result, "STEADY_STATE_NOT_RESTORED")
    bad = next(f for f in result.verdict.findings if f.code == "STEADY_STATE_NOT_RESTORED")
    assert "4 of the 5 members" in bad.message


def test_retention_sorted_the_wrong_way_deletes_the_newest_backups(tmp_path: Path) -> None:
    result = _broken_run(
        tmp_path,
        "retention",
        "retention.py",
        ("key=lambda b: b.taken)[::-1]", "key=lambda b: b.taken)"),
    )
    _failed_with(result, "STEADY_STATE_NOT_RESTORED")


def test_s3_delete_objects_empties_the_prefix_and_nothing_else(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "backend", f"cm-s3-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    try:
        store = backend.provision("s3", S3Service(kind="s3"), timeout=60)
        info = store.info
        client = boto3.client(
            "s3",
            endpoint_url=info.endpoint_url,
            aws_access_key_id=info.access_key,
            aws_secret_access_key=info.secret_key,
            region_name=info.region,
        )
        bucket = info.buckets[0]
        for key in ("llm-config/backups/a.tar.gz", "llm-config/backups/b.tar.gz", "other/c"):
            client.put_object(Bucket=bucket, Key=key, Body=b"x")
        ctx = FakeContext(tmp_path, services=[store])
        fault = S3DeleteObjects(kind="s3.delete_objects", service="s3", prefix="llm-config/")
        assert fault.inject(ctx).detail == {"deleted": "2"}
        left = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
        assert left == ["other/c"]
        with pytest.raises(FaultError, match="no object under"):
            fault.inject(ctx)
    finally:
        backend.teardown()
