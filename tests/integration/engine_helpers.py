"""Helpers for end-to-end engine tests: write a scenario into a scratch project and run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from drillbook.result import RunResult
from drillbook.runner.runner import Runner, RunOptions
from drillbook.scenario.loader import load_scenario

REPO = Path(__file__).resolve().parents[2]


def scratch_project(tmp_path: Path) -> Path:
    """A project folder with the repo's fixtures and drills, free to be broken by a test."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "drillbook.toml").write_text("")
    shutil.copytree(REPO / "fixtures", project / "fixtures")
    shutil.copytree(REPO / "drills", project / "drills")
    return project


def write(project: Path, relative: str, text: str, *, executable: bool = False) -> Path:
    path = project / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    if executable:
        path.chmod(0o755)
    return path


def run_scenario(path: Path, reports: Path) -> RunResult:
    return Runner(RunOptions(reports_dir=reports)).run(load_scenario(path))


def cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, "-m", "drillbook", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def findings(result: RunResult) -> set[str]:
    return {f.code for f in result.verdict.findings if f.status != "PASS"}


def break_script(script: Path, old: str, new: str) -> None:
    """Break a team's procedure in a scratch copy the way procedures really break; the text
    being replaced must be there, so a reworded script cannot silently disarm the control."""
    text = script.read_text()
    assert old in text, f"{script.name} no longer contains {old!r}"
    script.write_text(text.replace(old, new))


def shorter_recovery(text: str, recover: str) -> str:
    """A catalogue scenario (`timeouts: {recover: 1m}`) with a shorter recovery window: long
    enough for the procedure, short where a broken one never brings the steady state back."""
    assert "recover: 1m}" in text
    return text.replace("recover: 1m}", f"recover: {recover}}}")


def assert_catalogue_passes(folder: Path, tmp_path: Path) -> None:
    """Every scenario in `folder`, run through the CLI, passes."""
    suite = tmp_path / "suite.json"
    done = cli(
        "run",
        str(folder),
        "--reports-dir",
        str(tmp_path / "reports"),
        "--json",
        str(suite),
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    runs = json.loads(suite.read_text())["runs"]
    assert len(runs) == len(list(folder.glob("*.yaml")))
    assert {r["scenario"]: r["status"] for r in runs} == {r["scenario"]: "PASS" for r in runs}
