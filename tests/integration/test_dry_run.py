"""The whole catalogue as a dry run: everything is provisioned, seeded and verified, nothing is
broken, nothing that did not run is reported as passed — and a secret planted in every
scenario appears in no file the runs write."""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.integration.engine_helpers import REPO, cli, scratch_project

pytestmark = pytest.mark.slow


def plant_canary(project: Path, canary: str) -> int:
    """Copy the catalogue (container drills aside) and give every scenario an API key."""
    yaml = YAML()
    planted = 0
    for source in sorted((REPO / "scenarios").rglob("*.yaml")):
        data = yaml.load(source.read_text())
        if "docker" in (data.get("tags") or []):
            continue
        data.setdefault("env", {})["DRILL_PROVIDER_API_KEY"] = canary
        target = project / "scenarios" / source.relative_to(REPO / "scenarios")
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w") as out:
            yaml.dump(data, out)
        planted += 1
    return planted


def test_dry_run_of_the_catalogue_injects_nothing_reports_not_run_and_leaks_no_secret(
    tmp_path: Path,
) -> None:
    project = scratch_project(tmp_path)
    shutil.copytree(REPO / "docker", project / "docker")  # a few drills read these files
    canary = "sk-canary-" + secrets.token_hex(12)
    planted = plant_canary(project, canary)
    out = tmp_path / "suite.json"
    reports = tmp_path / "r"
    done = cli(
        "run",
        "scenarios",
        "--dry-run",
        "--reports-dir",
        str(reports),
        "--json",
        str(out),
        "--junit",
        str(tmp_path / "junit.xml"),
        "--html",
        str(tmp_path / "suite.html"),
        cwd=project,
        timeout=900,
    )
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-3000:]
    suite = json.loads(out.read_text())
    assert len(suite["runs"]) == planted
    for run in suite["runs"]:
        journal, name = run["journal"], run["scenario"]
        assert journal["dry_run"] is True
        assert all(f["skipped"] and not f["ok"] for f in journal["faults"]), name
        recovery = [s for s in journal["steps"] if s["phase"] == "recover"]
        assert all(s["skipped"] for s in recovery), name
        if journal["faults"] or recovery:  # something was skipped: it must not pass
            codes = {f["code"] for f in run["verdict"]["findings"]}
            assert "NOT_RUN" in codes, name
            assert run["verdict"]["status"] == "COULD NOT VERIFY", name
    assert any(run["journal"]["faults"] for run in suite["runs"])

    assert canary not in done.stdout + done.stderr
    written = [p for p in [*tmp_path.rglob("*"), *project.rglob("reports/**/*")] if p.is_file()]
    leaks = [
        str(p) for p in written if "scenarios" not in p.parts and canary.encode() in p.read_bytes()
    ]
    assert leaks == []
    assert any(p.name == "result.json" for p in written)
    assert any(p.suffix == ".sqlite" for p in written), "the history store was checked too"
