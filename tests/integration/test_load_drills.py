"""Load drills end to end: a real gateway, locust in its own process, a real rollback script."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.result import RunResult
from drillbook.verdict import Status
from tests.integration.engine_helpers import REPO, findings, run_scenario, scratch_project, write

SCENARIO = REPO / "scenarios" / "load" / "error-spike-rollback.yaml"

pytestmark = pytest.mark.slow


def _fault_window_rate(result: RunResult) -> float:
    load = result.measurements.load
    assert load is not None
    rate = load.window("fault").error_rate
    assert rate is not None
    return rate


def _copy_scenario(project: Path, text: str | None = None) -> Path:
    (project / "scenarios" / "load").mkdir(parents=True, exist_ok=True)
    path = project / "scenarios" / "load" / "s.yaml"
    path.write_text(text if text is not None else SCENARIO.read_text())
    return path


def test_six_percent_spike_is_measured_within_one_point_and_the_rollback_passes(
    tmp_path: Path,
) -> None:
    result = run_scenario(SCENARIO, tmp_path / "reports")
    assert result.verdict.status is Status.PASS, result.verdict.summary()
    rate = _fault_window_rate(result)
    assert abs(rate - 0.06) <= 0.01, rate
    load = result.measurements.load
    assert load is not None and load.detected_at is not None
    # Truth: the spike is in force once the drill hook answered (the fault record's end).
    fault = result.journal.faults[0]
    assert fault.kind == "gateway.error_spike" and fault.ok
    assert abs(load.detected_at - fault.ended) <= load.bucket, (load.detected_at, fault.ended)
    after = load.window("after")
    assert after.requests > 0 and after.error_rate is not None and after.error_rate < 0.01
    assert result.report_dir is not None
    assert (Path(result.report_dir) / "timeline.png").exists()


def test_a_rollback_that_leaves_the_spike_on_fails_error_rate_exceeded(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    write(
        project,
        "drills/load/rollback-restart.sh",
        "#!/usr/bin/env bash\necho 'rolled back (not really: nothing was restarted)'\n",
        executable=True,
    )
    result = run_scenario(_copy_scenario(project), tmp_path / "reports")
    assert result.verdict.status is Status.FAIL
    assert "ERROR_RATE_EXCEEDED" in findings(result)
    load = result.measurements.load
    assert load is not None
    after = load.window("after").error_rate
    assert after is not None and abs(after - 0.06) <= 0.02, after


def test_distributed_locust_with_two_workers_measures_the_same_spike(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    text = SCENARIO.read_text().replace("  users: 8\n", "  users: 8\n  workers: 2\n")
    assert "workers: 2" in text
    result = run_scenario(_copy_scenario(project, text), tmp_path / "reports")
    start = result.journal.mark("load.start")
    assert start is not None and start.detail["workers"] == "2"
    assert result.verdict.status is Status.PASS, result.verdict.summary()
    assert abs(_fault_window_rate(result) - 0.06) <= 0.01


def test_fifteen_percent_for_the_scaled_two_minutes_calls_for_immediate_rollback(
    tmp_path: Path,
) -> None:
    scenario = REPO / "scenarios" / "load" / "error-spike-immediate-rollback.yaml"
    result = run_scenario(scenario, tmp_path / "reports")
    assert result.verdict.status is Status.PASS, result.verdict.summary()
    matrix = next(f for f in result.verdict.findings if f.criterion == "decision_matrix")
    assert "calls for immediate_rollback" in matrix.message
