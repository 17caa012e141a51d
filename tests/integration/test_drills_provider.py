"""Seed 003 (provider configuration) drills end to end, and the ways their procedures break."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.engine_helpers import (
    REPO,
    assert_catalogue_passes,
    break_script,
    findings,
    run_scenario,
    scratch_project,
    shorter_recovery,
    write,
)

pytestmark = pytest.mark.slow

SCENARIOS = REPO / "scenarios" / "provider"


def _scenario(name: str, *, recover: str) -> str:
    return shorter_recovery((SCENARIOS / name).read_text(), recover)


def test_provider_scenarios_pass_on_the_local_backend(tmp_path: Path) -> None:
    assert_catalogue_passes(SCENARIOS, tmp_path)


def test_rollback_that_reactivates_the_degraded_provider_fails(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    # The classic slip: the audit entry's `after` (the provider just activated) taken for the
    # previous one, so the "rollback" activates the degraded provider again.
    break_script(
        project / "drills/provider/rollback-provider.sh",
        'print(e["before"]["name"])',
        'print(e["after"]["name"])',
    )
    scenario = write(
        project, "degraded.yaml", _scenario("degraded-provider-rollback.yaml", recover="10s")
    )
    result = run_scenario(scenario, tmp_path / "reports")
    assert result.verdict.status == "FAIL"
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)


def test_emergency_command_that_exits_0_after_a_404_fails(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    # The seed's command taken literally (curl without -f, no check after) with a provider
    # name from a stale runbook: the activation answers 404 and the script still says done.
    write(
        project,
        "drills/provider/emergency-rollback.sh",
        """
        #!/usr/bin/env bash
        python3 "$(dirname "$0")/api.py" POST /api/v1/providers/openai-prod/activate
        echo "Emergency rollback completed at $(date)"
        """,
        executable=True,
    )
    scenario = write(project, "emergency.yaml", _scenario("emergency-rollback.yaml", recover="8s"))
    result = run_scenario(scenario, tmp_path / "reports")
    step = next(s for s in result.journal.steps if s.phase == "recover")
    assert step.ok  # the procedure believes it worked
    assert result.verdict.status == "FAIL"
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)


def test_restore_from_the_oldest_backup_instead_of_the_newest_fails(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    # `head` for `tail`: the restore takes the backup from before any limit was set, which
    # does not hold the 200 / 250 limits (nor clear the bad 0 / 0 ones).
    break_script(
        project / "drills/provider/restore-runtime-config.sh",
        "| sort | tail -n1)",
        "| sort | head -n1)",
    )
    scenario = write(
        project, "limits.yaml", _scenario("governance-limits-rollback.yaml", recover="8s")
    )
    result = run_scenario(scenario, tmp_path / "reports")
    assert result.verdict.status == "FAIL"
    assert {"STEP_FAILED", "STEADY_STATE_NOT_RESTORED"} <= findings(result)
    failed = {v.probe for v in result.journal.verify_results if not v.ok}
    assert "openai limits back at 200 / 250 usd" in failed


def test_rollout_that_skips_the_pre_change_backup_fails(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    # "It is only a provider switch": the checklist's backup step is skipped.
    break_script(project / "drills/provider/provider-rollout.sh", "\nbackup_runtime\n", "\n")
    # The seed's own rollout (to openai) still backs up: start from an empty BACKUP_DIR.
    text = _scenario("rollout-success.yaml", recover="30s").replace(
        "  - {kind: run, run: drills/provider/provider-rollout.sh openai gpt-4o, timeout: 30s}\n",
        '  - {kind: run, run: rm -rf "$BACKUP_DIR"}\n',
    )
    result = run_scenario(write(project, "rollout.yaml", text), tmp_path / "reports")
    assert result.verdict.status == "FAIL"
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)
    failed = {v.probe for v in result.journal.verify_results if not v.ok}
    assert failed == {"pre-change backups name openai"}


def test_canary_abort_that_forgets_the_reload_leaves_traffic_on_the_canary(
    tmp_path: Path,
) -> None:
    project = scratch_project(tmp_path)
    # The abort rewrites the file but never reloads it: the gateway keeps sending 10 %.
    break_script(
        project / "drills/provider/canary-rollout.py",
        'reload(f"abort: 0 % to {provider}")',
        "pass",
    )
    scenario = write(project, "canary.yaml", _scenario("canary-abort.yaml", recover="30s"))
    result = run_scenario(scenario, tmp_path / "reports")
    assert result.journal.steps[-1].ok  # the script reports ABORTED and exits 0
    assert result.verdict.status == "FAIL"
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)
    failed = {v.probe for v in result.journal.verify_results if not v.ok}
    assert "chat traffic to anthropic back to 0 %" in failed


def test_rollback_that_reads_the_baseline_in_the_wrong_unit_misses_a_slow_provider(
    tmp_path: Path,
) -> None:
    project = scratch_project(tmp_path)
    # Milliseconds against seconds: "2x baseline" becomes 2,000x, the slow provider looks
    # healthy, and the procedure exits 0 having done nothing.
    break_script(
        project / "drills/provider/rollback-provider.sh",
        "p95 > 2 * baseline:",
        "p95 > 2 * baseline * 1000:",
    )
    scenario = write(project, "slow.yaml", _scenario("slow-provider-rollback.yaml", recover="12s"))
    result = run_scenario(scenario, tmp_path / "reports")
    step = next(s for s in result.journal.steps if s.phase == "recover")
    assert step.ok
    assert result.verdict.status == "FAIL"
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)
