"""Helpers for end-to-end engine tests: write a scenario into a scratch project and run it."""

from __future__ import annotations

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
