"""Issue 5's acceptance: the whole catalogue passes with every service in a container."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.engine_helpers import REPO, cli

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.mark.timeout(1800)
def test_the_whole_catalogue_passes_on_the_docker_backend(engine: Any, tmp_path: Path) -> None:
    suite = tmp_path / "suite.json"
    done = cli(
        "run",
        "scenarios",
        "--backend",
        "docker",
        "--reports-dir",
        str(tmp_path / "r"),
        "--json",
        str(suite),
        cwd=REPO,
        timeout=1800,
    )
    runs = json.loads(suite.read_text())["runs"] if suite.exists() else []
    statuses = {r["scenario"]: r["status"] for r in runs}
    assert done.returncode == 0, (
        {k: v for k, v in statuses.items() if v != "PASS"},
        done.stdout[-3000:],
    )
    assert len(runs) == len(list((REPO / "scenarios").rglob("*.yaml")))
    assert all(run["backend"] == "docker" for run in runs)
