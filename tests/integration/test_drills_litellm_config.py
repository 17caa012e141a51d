"""Seed 000 (LiteLLM config) drills: the catalogue passes, and each procedure broken the way
procedures really break fails with the finding that names the break."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.integration.engine_helpers import REPO, cli, findings, run_scenario, scratch_project

SCENARIOS = REPO / "scenarios" / "litellm-config"
DRILLS = "drills/litellm-config"


def _project(tmp_path: Path, scenario: str) -> tuple[Path, str]:
    project = scratch_project(tmp_path)
    return project, (SCENARIOS / f"{scenario}.yaml").read_text()


def _break(project: Path, script: str, old: str, new: str) -> None:
    """Edit one of the team's scripts in the scratch copy; the edit must apply exactly once."""
    path = project / DRILLS / script
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} not found once in {script}"
    path.write_text(text.replace(old, new))


def _with_env(scenario: str, **env: str) -> str:
    """The scenario with extra variables for its scripts (a shorter health window, say)."""
    lines = "".join(f'  {k}: "{v}"\n' for k, v in env.items())
    if re.search(r"^env:\n", scenario, re.M):
        return re.sub(r"^env:\n", "env:\n" + lines, scenario, count=1, flags=re.M)
    return re.sub(
        r"^(seed:|steady_state:)", "env:\n" + lines + r"\1", scenario, count=1, flags=re.M
    )


def _run(project: Path, text: str, tmp_path: Path) -> set[str]:
    path = project / "s.yaml"
    path.write_text(text)
    result = run_scenario(path, tmp_path / "reports")
    assert result.verdict.status == "FAIL", result.verdict.summary()
    return findings(result)


def _short_recover(scenario: str) -> str:
    """Stop watching for the steady state after 5 s: a broken procedure will not get there."""
    out, n = re.subn(r"\brecover: \d+s", "recover: 5s", scenario)
    assert n == 1
    return out


@pytest.mark.slow
def test_the_litellm_config_catalogue_passes(tmp_path: Path) -> None:
    suite = tmp_path / "suite.json"
    done = cli(
        "run", "scenarios/litellm-config", "--reports-dir", str(tmp_path / "reports"),
        "--json", str(suite), cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    runs = json.loads(suite.read_text())["runs"]
    expected = {f"litellm-{p.stem}" for p in SCENARIOS.glob("*.yaml")}
    assert {r["scenario"]: r["status"] for r in runs} == dict.fromkeys(expected, "PASS")


@pytest.mark.slow
def test_auto_rollback_that_forgets_the_restart_leaves_the_gateway_down(tmp_path: Path) -> None:
    project, text = _project(tmp_path, "reload-auto-rollback")
    _break(
        project,
        "reload-litellm-config.sh",
        'if reload "$backup" && wait_healthy "$(sha256_of "$backup")"; then',
        'if wait_healthy "$(sha256_of "$backup")"; then',
    )
    found = _run(project, _with_env(text, HEALTH_TIMEOUT="3"), tmp_path)
    assert "STEADY_STATE_NOT_RESTORED" in found
    assert "STEP_FAILED" in found  # the script said "rollback failed" (exit 4), not 3


@pytest.mark.slow
def test_auto_rollback_that_waits_out_the_health_window_exceeds_30_s(tmp_path: Path) -> None:
    # The restart's failure is ignored, so the rollback only starts when the 30 s health
    # window has run out: the gateway comes back, but too late.
    project, text = _project(tmp_path, "reload-auto-rollback")
    ignored = 'if ! { reload "${backup:-$new}" || true; }; then'
    _break(project, "reload-litellm-config.sh", 'if ! reload "${backup:-$new}"; then', ignored)
    found = _run(project, text, tmp_path)
    assert "TTR_EXCEEDED" in found


@pytest.mark.slow
def test_rollback_that_leaves_the_refused_file_on_disk_fails(tmp_path: Path) -> None:
    # "The gateway refused it and kept serving, so nothing to undo": the bad file stays
    # deployed, waiting for the next restart.
    project, text = _project(tmp_path, "reload-rejected-no-outage")
    _break(project, "reload-litellm-config.sh", 'install_config "$backup"\n', "")
    found = _run(project, text, tmp_path)
    assert found >= {"STEADY_STATE_NOT_RESTORED", "STEP_FAILED"}


@pytest.mark.slow
def test_manual_rollback_without_restart_fails_the_wont_start_drill(tmp_path: Path) -> None:
    project, text = _project(tmp_path, "wont-start-invalid-model")
    _break(project, "restore-latest-backup.sh", '"$DRILLBOOK_CTL" restart "$SERVICE"\n', "")
    found = _run(project, _with_env(text, HEALTH_TIMEOUT="3"), tmp_path)
    assert found >= {"STEADY_STATE_NOT_RESTORED", "STEP_FAILED"}


@pytest.mark.slow
def test_rollback_that_exits_0_after_a_failed_copy_fails_the_drill(tmp_path: Path) -> None:
    # No `set -e`, a wrong destination, and an unconditional "done": exit 0, nothing fixed.
    project, text = _project(tmp_path, "wont-start-missing-field")
    script = project / DRILLS / "restore-latest-backup.sh"
    script.write_text(
        "#!/usr/bin/env bash\n"
        'latest=$(ls -t "$BACKUP_DIR"/litellm.yaml.backup-* | head -1)\n'
        'cp "$latest" "$(dirname "$GATEWAY_CONFIG")/litellm/config.yaml"\n'
        '"$DRILLBOOK_CTL" restart gateway\n'
        'echo "rollback done"\n'
    )
    found = _run(project, _short_recover(text), tmp_path)
    assert "STEADY_STATE_NOT_RESTORED" in found
    assert "STEP_FAILED" not in found  # the script claimed success: only the drill saw through it


@pytest.mark.slow
def test_restoring_the_newest_backup_unverified_picks_the_corrupt_one(tmp_path: Path) -> None:
    project, text = _project(tmp_path, "corrupted-file")
    _break(
        project,
        "recover-corrupted-config.sh",
        'if "$LC_DIR/verify-backup.sh" "$candidate" >/dev/null; then',
        "if true; then",
    )
    found = _run(project, text, tmp_path)
    assert "STEADY_STATE_NOT_RESTORED" in found


@pytest.mark.slow
def test_a_verify_that_checks_nothing_misses_the_corrupt_backup(tmp_path: Path) -> None:
    project, text = _project(tmp_path, "verify-all-finds-corrupt")
    _break(
        project,
        "verify-backup.sh",
        "def problems(path):\n",
        'def problems(path):\n    return "fields", []\n',
    )
    found = _run(project, text, tmp_path)
    assert found >= {"STEADY_STATE_NOT_RESTORED", "STEP_FAILED"}


@pytest.mark.slow
def test_restoring_a_stale_backup_drops_models_and_fails(tmp_path: Path) -> None:
    # The Scenario 1 habit (restore the latest backup) applied when every backup is stale.
    project, text = _project(tmp_path, "stale-backups")
    text = text.replace("recover-from-source.sh", "restore-latest-backup.sh")
    text = _short_recover(_with_env(text, HEALTH_PATH="/health/readiness"))
    found = _run(project, text, tmp_path)
    assert "STEADY_STATE_NOT_RESTORED" in found


@pytest.mark.slow
def test_rollback_not_chosen_by_timestamp_restores_the_degraded_config(tmp_path: Path) -> None:
    project, text = _project(tmp_path, "gradual-degradation")
    newer = 'if [[ "$stamp" > "$before" ]]; then'
    _break(project, "rollback-to-before.sh", newer, "if false; then")
    found = _run(project, _short_recover(text), tmp_path)
    assert "STEADY_STATE_NOT_RESTORED" in found


@pytest.mark.slow
def test_retention_counting_weeks_from_today_keeps_the_wrong_set(tmp_path: Path) -> None:
    # Weekly backups counted from the newest week overlap the daily ones: ~3 weeks, not ~5.
    project, text = _project(tmp_path, "backup-retention")
    _break(
        project,
        "prune-backups.py",
        "if week < oldest_week and week not in weeks",
        "if week not in weeks",
    )
    found = _run(project, text, tmp_path)
    assert "STEADY_STATE_NOT_RESTORED" in found


# -- the scripts on their own: no drill, no service (fast) --------------------------------------


def _script(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / DRILLS / argv[0]), *argv[1:]],
        env={**os.environ, **(env or {})},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_validate_only_refuses_a_broken_config_with_exit_2() -> None:
    bad = _script(
        "reload-litellm-config.sh", "--validate-only", "fixtures/gateway/bad/truncated.yaml"
    )
    good = _script("reload-litellm-config.sh", "--validate-only", "fixtures/gateway/config.yaml")
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert "nothing deployed" in bad.stdout
    assert good.returncode == 0, good.stdout + good.stderr


def test_verify_all_names_each_bad_backup_in_its_summary(tmp_path: Path) -> None:
    for stamp, source in [
        ("20251021_120000", "config.yaml"),
        ("20251021_130000", "bad/truncated.yaml"),
        ("20251021_140000", "bad/missing_master_key.yaml"),
    ]:
        (tmp_path / f"litellm.yaml.backup-{stamp}").write_text(
            (REPO / "fixtures/gateway" / source).read_text()
        )
    done = _script("verify-backup.sh", "--all", env={"BACKUP_DIR": str(tmp_path)})
    summary = done.stdout.split("=== Summary ===")[1]
    assert done.returncode == 1
    assert "Verified: 1" in summary
    assert "INVALID: litellm.yaml.backup-20251021_130000" in summary
    assert "INVALID: litellm.yaml.backup-20251021_140000" in summary
    assert "120000" not in summary


def test_generated_config_is_consistent_with_its_sources(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("providers.yaml", "model-mappings.yaml"):
        (source / name).write_text((REPO / "fixtures/gateway/source" / name).read_text())
    env = {"CONFIG_SOURCE_DIR": str(source)}
    assert _script("generate-litellm-config.py", env=env).returncode == 0
    assert _script("validate-config-consistency.py", env=env).returncode == 0
    typo = _script(
        "validate-config-consistency.py", "fixtures/gateway/bad/unknown_provider.yaml", env=env
    )
    assert typo.returncode == 1
    assert "'antropic'" in typo.stderr
