"""Each container fault has a drill on the docker backend that shows its effect (failing
samples after the fault) and its recovery (the steady state back, no rows lost)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import drillbook.faults.container  # noqa: F401 - registers container.* and network.* kinds
from drillbook.runner.runner import Runner, RunOptions
from drillbook.scenario.loader import load_scenario

pytestmark = [pytest.mark.docker, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "name",
    [
        "container-kill",
        "container-stop",
        "container-pause",
        "network-disconnect",
    ],
)
def test_container_fault_drill_shows_the_outage_and_the_recovery(
    engine: Any, tmp_path: Path, name: str
) -> None:
    scenario = load_scenario(REPO / "scenarios" / "docker" / f"{name}.yaml")
    result = Runner(RunOptions(reports_dir=tmp_path)).run(scenario)
    assert result.verdict.status == "PASS", result.verdict.summary()
    measured = result.measurements
    assert measured.fault_injected and measured.recovered
    assert measured.failing_samples.value and measured.failing_samples.value >= 1
    assert measured.rows_lost.value == 0


def test_restart_loop_crashes_the_container_again_and_again_until_the_redeploy(
    engine: Any, tmp_path: Path
) -> None:
    scenario = load_scenario(REPO / "scenarios" / "docker" / "container-restart-loop.yaml")
    result = Runner(RunOptions(reports_dir=tmp_path)).run(scenario)
    assert result.verdict.status == "PASS", result.verdict.summary()
    logs = list(tmp_path.glob("*/logs/db.log"))
    assert logs, f"no db log kept under {tmp_path}"
    crashes = logs[0].read_text().count("restart_loop: entrypoint exits with 1")
    assert crashes >= 2, f"the broken entrypoint ran {crashes} time(s)"
    assert result.measurements.failing_samples.value
    assert result.measurements.rows_lost.value == 0


def test_a_full_disk_fails_the_spilling_query_until_space_is_freed(
    engine: Any, tmp_path: Path
) -> None:
    scenario = load_scenario(REPO / "scenarios" / "docker" / "disk-fill.yaml")
    result = Runner(RunOptions(reports_dir=tmp_path)).run(scenario)
    assert result.verdict.status == "PASS", result.verdict.summary()
    (fault,) = result.journal.faults
    assert int(fault.detail["bytes_free_after"]) < 1024 * 1024
    log = next(tmp_path.glob("*/logs/db.log")).read_text()
    assert "No space left on device" in log
    assert result.measurements.failing_samples.value
    assert result.measurements.rows_lost.value == 0
