"""Seed 004 (Research Lab) drills end to end, and the ways their procedures break."""

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

SCENARIOS = REPO / "scenarios" / "research-lab"


def _scenario(name: str, *, recover: str = "10s") -> str:
    return shorter_recovery((SCENARIOS / name).read_text(), recover)


def _failed_probes(result: object) -> set[str]:
    journal = result.journal  # type: ignore[attr-defined]
    return {v.probe for v in journal.verify_results if not v.ok}


def test_research_lab_scenarios_pass_on_the_local_backend(tmp_path: Path) -> None:
    assert_catalogue_passes(SCENARIOS, tmp_path)


def test_rollback_to_the_wrong_revision_fails(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    # The on-call names the revision to roll back to, and names the bad one (2): the
    # procedure "succeeds", v2 keeps serving and failing.
    text = _scenario("bad-release-rollback.yaml").replace(
        "run: drills/research-lab/decide-and-rollback.sh,",
        "run: drills/research-lab/decide-and-rollback.sh 2,",
    )
    result = run_scenario(write(project, "bad-release.yaml", text), tmp_path / "reports")
    step = next(s for s in result.journal.steps if s.phase == "recover")
    assert step.ok
    assert result.verdict.status == "FAIL"
    assert {"STEADY_STATE_NOT_RESTORED", "ERROR_RATE_EXCEEDED"} <= findings(result)
    assert "v1 serving" in _failed_probes(result)


def test_migration_revert_that_forgets_the_down_migration_fails(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    # The "revert" only rewrites the migration record, as the seed's manual rollback's last
    # step does without the ALTERs before it: _migrations says 3, the schema is still 4's.
    break_script(
        project / "drills/research-lab/rollback-migration.sh",
        'migrate down --to "$MIGRATION_VERSION"',
        'psql "$DATABASE_URL" -c "DELETE FROM _migrations WHERE version > $MIGRATION_VERSION"',
    )
    result = run_scenario(
        write(project, "migration.yaml", _scenario("migration-revert.yaml")), tmp_path / "reports"
    )
    step = next(s for s in result.journal.steps if s.phase == "recover")
    assert step.ok
    assert result.verdict.status == "FAIL"
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)
    assert {"api writes a run", "schema is version 3's"} <= _failed_probes(result)


def test_restore_that_forgets_to_switch_database_url_fails(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    # The restore is perfect, then the application is only restarted: it comes back on the
    # damaged database, and the health check still says "connected".
    break_script(
        project / "drills/research-lab/switch-database.sh",
        '"$DRILLBOOK_CTL" deploy "$SERVICE" "DATABASE_URL=$NEW_URL"',
        '"$DRILLBOOK_CTL" restart "$SERVICE"',
    )
    result = run_scenario(
        write(project, "restore.yaml", _scenario("restore-to-new-db.yaml", recover="20s")),
        tmp_path / "reports",
    )
    step = next(s for s in result.journal.steps if s.phase == "recover")
    assert step.ok
    assert result.verdict.status == "FAIL"
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)
    assert {"training config served", "the gateway uses only the new database"} <= (
        _failed_probes(result)
    )


def test_blue_green_switch_that_exits_0_after_a_refusal_fails(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    # The readiness check was dropped ("the edge checks anyway"), the switch's answer is not
    # checked (no --fail) and neither is the result: the script reports success on a 409.
    script = project / "drills/research-lab/rollback-blue-green.sh"
    break_script(script, 'if [[ "$TARGET_READY" != "true" ]]; then', "if false; then")
    break_script(script, "curl -fsS --max-time 10 -X POST", "curl -sS --max-time 10 -X POST")
    break_script(script, '[[ "$NEW_VERSION" == "$ROLLBACK_VERSION" ]] ||', "true ||")
    result = run_scenario(
        write(project, "blue-green.yaml", _scenario("blue-green-rollback.yaml")),
        tmp_path / "reports",
    )
    first = next(s for s in result.journal.steps if s.phase == "recover")
    assert not first.ok
    assert result.verdict.status == "FAIL"
    assert "STEP_FAILED" in findings(result)


def test_secret_rollback_that_forgets_the_restart_fails(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    # The secret file and the store are both restored, but the pods are never restarted:
    # the running API keeps the rotated key.
    break_script(
        project / "drills/research-lab/rollback-secret.sh",
        '"$DRILLBOOK_CTL" restart "$SERVICE"\nrollout_status',
        "rollout_status",
    )
    result = run_scenario(
        write(project, "secret.yaml", _scenario("secret-rollback.yaml")), tmp_path / "reports"
    )
    assert all(s.ok for s in result.journal.steps if s.phase == "recover")
    assert result.verdict.status == "FAIL"
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)
    failed = _failed_probes(result)
    assert "clients' calls accepted" in failed
    assert "original version is AWSCURRENT" not in failed  # the store itself was restored


def test_memory_leak_restart_instead_of_rollback_fails(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    # "Quick fix": restart the leaking revision. Memory drops, so it looks fixed, but v2 is
    # still serving and leaking again from its first request.
    break_script(
        project / "drills/research-lab/watch-memory.sh",
        'exec "$(dirname "$0")/rollback-application.sh" "$@"',
        '"$DRILLBOOK_CTL" restart "$SERVICE"',
    )
    result = run_scenario(
        write(project, "leak.yaml", _scenario("memory-leak-rollback.yaml")), tmp_path / "reports"
    )
    step = next(s for s in result.journal.steps if s.phase == "recover")
    assert step.ok
    assert result.verdict.status == "FAIL"
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)
    assert {"v1 serving", "memory grows under 8 MiB/s"} <= _failed_probes(result)


def test_canary_scaled_down_without_moving_its_traffic_fails(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    # The weights step was skipped ("scaling to 0 drains it anyway"): the canary is stopped
    # and its 10 % of the requests now reach a dead upstream.
    break_script(
        project / "drills/research-lab/rollback-canary.sh",
        "curl -fsS --max-time 10 -X POST",
        "true || curl -fsS --max-time 10 -X POST",
    )
    result = run_scenario(
        write(project, "canary.yaml", _scenario("canary-rollback.yaml")), tmp_path / "reports"
    )
    step = next(s for s in result.journal.steps if s.phase == "recover")
    assert step.ok
    assert result.verdict.status == "FAIL"
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)
    assert {"under 1 % errors through the switch", "all traffic on stable"} <= (
        _failed_probes(result)
    )


def test_config_rollback_that_forgets_the_restart_fails(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    # The backup is applied, but the pods are never restarted: the API keeps serving the
    # config it loaded, and its readiness (which the rollout check reads) is fine all along.
    break_script(
        project / "drills/research-lab/rollback-configmap.sh",
        '"$DRILLBOOK_CTL" restart "$SERVICE"\nrollout_status',
        "rollout_status",
    )
    result = run_scenario(
        write(project, "config.yaml", _scenario("config-rollback.yaml")), tmp_path / "reports"
    )
    step = next(s for s in result.journal.steps if s.phase == "recover")
    assert step.ok
    assert result.verdict.status == "FAIL"
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)
    assert "gpt-4o served" in _failed_probes(result)


def test_flag_rollback_through_the_api_alone_fails_when_the_deployment_pins_it(
    tmp_path: Path,
) -> None:
    project = scratch_project(tmp_path)
    # The seed's one-liner: the flags API answers 200, so "done"; the answer's
    # overridden_by_environment is not read, and the closing check was dropped.
    script = project / "drills/research-lab/disable-feature-flag.sh"
    break_script(
        script,
        'if [[ "$(json_get overridden_by_environment <<<"$ANSWER")" == "true" ]]',
        "if false",
    )
    break_script(script, '[[ "$(json_get enabled <<<"$STATE")" == "false" ]] ||', "true ||")
    result = run_scenario(
        write(project, "flag.yaml", _scenario("feature-flag-rollback.yaml")), tmp_path / "reports"
    )
    step = next(s for s in result.journal.steps if s.phase == "recover")
    assert step.ok
    assert result.verdict.status == "FAIL"
    assert "STEADY_STATE_NOT_RESTORED" in findings(result)
    assert {"provider keys page 200", "flag reports disabled"} <= _failed_probes(result)
