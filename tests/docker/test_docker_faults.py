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
    "name", ["container-kill", "container-stop", "container-pause", "network-disconnect"]
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
