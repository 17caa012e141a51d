"""A dry run of the whole catalogue: everything is provisioned, seeded and verified, nothing is
broken, and nothing that did not run is reported as passed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.engine_helpers import REPO, cli

pytestmark = pytest.mark.slow


def test_dry_run_of_the_catalogue_injects_nothing_and_reports_not_run(tmp_path: Path) -> None:
    out = tmp_path / "suite.json"
    done = cli(
        "run",
        "scenarios",
        "--exclude-tag",
        "docker",  # the container drills have their own run on the docker backend
        "--dry-run",
        "--reports-dir",
        str(tmp_path / "r"),
        "--json",
        str(out),
        cwd=REPO,
        timeout=900,
    )
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-3000:]
    suite = json.loads(out.read_text())
    assert suite["runs"]
    for run in suite["runs"]:
        journal = run["journal"]
        assert journal["dry_run"] is True
        name = run["scenario"]
        assert all(f["skipped"] and not f["ok"] for f in journal["faults"]), name
        recovery = [s for s in journal["steps"] if s["phase"] == "recover"]
        assert all(s["skipped"] for s in recovery), name
        if journal["faults"] or recovery:  # something was skipped: it must not pass
            codes = {f["code"] for f in run["verdict"]["findings"]}
            assert "NOT_RUN" in codes, name
            assert run["verdict"]["status"] == "COULD NOT VERIFY", name
    assert any(run["journal"]["faults"] for run in suite["runs"])
