"""Seed 001 (LLM Hub) drills end to end, and the ways their procedures break."""

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

SCENARIOS = REPO / "scenarios" / "llm-hub"


def _scenario(name: str, *, recover: str) -> str:
    return shorter_recovery((SCENARIOS / name).read_text(), recover)


def test_llm_hub_scenarios_pass_on_the_local_backend(tmp_path: Path) -> None:
    assert_catalogue_passes(SCENARIOS, tmp_path)


def test_flag_rollback_that_forgets_the_restart_fails(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    hub = project / "drills/llm-hub"
    # The .env is edited but the console never restarted, and the closing check was dropped
    # "because it is slow": the procedure exits 0, the old pages still redirect to the hub.
    break_script(hub / "disable-hub-flag.sh", '"$DRILLBOOK_CTL" restart "$SERVICE"', "true")
    break_script(hub / "disable-hub-flag.sh", '"$(dirname "$0")/verify-old-pages.sh"', "true")
    scenario = write(project, "flag.yaml", _scenario("feature-flag-rollback.yaml", recover="8s"))
    result = run_scenario(scenario, tmp_path / "reports")
    step = next(s for s in result.journal.steps if s.phase == "recover")
    assert step.ok
    assert result.verdict.status == "FAIL"
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)


def test_full_rollback_that_exits_0_after_a_failed_drop_fails(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    hub = project / "drills/llm-hub"
    # Someone "tidied" the rollback SQL into creation order without CASCADE, psql runs it
    # without ON_ERROR_STOP (so it exits 0 past the errors) and the table check was stubbed.
    sql = hub / "rollback_llm_management_tables.sql"
    drops = [line for line in sql.read_text().splitlines() if line.startswith("DROP TABLE")]
    tidy = [line.replace(" CASCADE", "") for line in reversed(drops)]
    sql.write_text("\n".join(tidy) + "\nDELETE FROM _migrations WHERE version IN (2, 3);\n")
    break_script(hub / "full-rollback.sh", "-v ON_ERROR_STOP=1 --single-transaction", "")
    (hub / "check-no-llm-tables.sh").write_text("#!/usr/bin/env bash\necho 'tables checked'\n")
    scenario = write(project, "full.yaml", _scenario("full-db-rollback.yaml", recover="30s"))
    result = run_scenario(scenario, tmp_path / "reports")
    step = next(s for s in result.journal.steps if s.phase == "recover")
    assert step.ok
    assert result.verdict.status == "FAIL"
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)
    failed = {v.probe for v in result.journal.verify_results if not v.ok}
    assert "no llm_ tables left" in failed


# How assessment code really goes wrong, one slip per row of the seed's table.
CRITERIA_SLIPS = [
    # Anything non-zero alarms: a 0.5 % spike becomes "consider", and people roll back noise.
    ("rollback-criteria-0-5pct-errors.yaml", "errors > 0.02", "errors > 0", "fix_forward"),
    # Percent against a fraction: 3 % is never "> 2".
    ("rollback-criteria-3pct-errors.yaml", "errors > 0.02", "errors > 2", "consider_rollback"),
    ("rollback-criteria-6pct-errors.yaml", "errors > 0.05", "errors > 5", "rollback_within_1h"),
    # "Doubled" read as 100 % slower rather than the seed's > 50 %.
    ("rollback-criteria-60pct-slower.yaml", "slower > 0.50", "slower > 1.0", "rollback_within_1h"),
    # A strict comparison at the boundary: a complete outage is never "> 100 %".
    ("rollback-criteria-outage.yaml", "errors >= 1.0", "errors > 1.0", "immediate"),
]


@pytest.mark.parametrize(("scenario", "right", "wrong", "decision"), CRITERIA_SLIPS)
def test_assessment_with_a_wrong_threshold_fails_its_decision_check(
    tmp_path: Path, scenario: str, right: str, wrong: str, decision: str
) -> None:
    project = scratch_project(tmp_path)
    break_script(project / "drills/llm-hub/assess-rollback.py", right, wrong)
    result = run_scenario(
        write(project, scenario, _scenario(scenario, recover="30s")), tmp_path / "reports"
    )
    assert result.verdict.status == "FAIL"
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)
    failed = {v.probe for v in result.journal.verify_results if not v.ok}
    assert failed == {f"decision is {decision}"}


def test_api_rollback_that_only_dials_the_rollout_to_zero_fails(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    # "Set the rollout to 0 %" instead of disabling: users see the old pages, but the flag
    # still reports enabled, so the next percentage change brings the broken hub back.
    break_script(
        project / "drills/llm-hub/disable-hub-flag.sh",
        '{"enabled": false, "rollout_percentage": 0}',
        '{"enabled": true, "rollout_percentage": 0}',
    )
    scenario = write(
        project, "api.yaml", _scenario("feature-flag-rollback-api.yaml", recover="30s")
    )
    result = run_scenario(scenario, tmp_path / "reports")
    assert result.verdict.status == "FAIL"
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)
    failed = {v.probe for v in result.journal.verify_results if not v.ok}
    assert failed == {"flag reports enabled false, rollout 0"}


def test_rehearsal_that_rolls_back_the_real_database_fails_with_rows_lost(
    tmp_path: Path,
) -> None:
    project = scratch_project(tmp_path)
    # The wrong-terminal mistake: the rehearsal's rollback SQL runs against DATABASE_URL.
    break_script(
        project / "drills/llm-hub/rehearse-rollback.sh",
        'psql "$test_url" -Xq -v ON_ERROR_STOP=1 --single-transaction',
        'psql "$DATABASE_URL" -Xq -v ON_ERROR_STOP=1 --single-transaction',
    )
    scenario = write(project, "rehearsal.yaml", _scenario("staging-rehearsal.yaml", recover="30s"))
    result = run_scenario(scenario, tmp_path / "reports")
    assert result.verdict.status == "FAIL"
    assert {"ROWS_LOST", "STEADY_STATE_NOT_RESTORED"} <= findings(result)
    failed = {v.probe for v in result.journal.verify_results if not v.ok}
    assert "staging database keeps its seven llm_ tables" in failed
