"""The first scenarios of the catalogue pass unchanged on `--backend docker`, and a runner
killed with SIGKILL leaves containers that `drillbook clean` removes, network and volumes too."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.docker.conftest import labelled, nothing_left
from tests.integration.engine_helpers import scratch_project, write

pytestmark = [pytest.mark.docker, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drillbook", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    "scenario",
    [
        "scenarios/postgres/drop-table-restore.yaml",
        "scenarios/service/corrupt-config-restore.yaml",
        # replace-data-dir: a base backup swapped into the container's volume, WAL replayed
        "scenarios/config-manager/pitr.yaml",
        # a host DATABASE_URL handed to `$DRILLBOOK_CTL deploy` reaches the gateway container
        "scenarios/research-lab/restore-to-new-db.yaml",
    ],
)
def test_scenario_passes_on_the_docker_backend(
    engine: Any, sweep: list[str], tmp_path: Path, scenario: str
) -> None:
    env = dict(os.environ, DRILLBOOK_HOME=str(tmp_path / "home"))
    reports = tmp_path / "reports"
    done = run_cli(
        "run", scenario, "--backend", "docker", "--json", str(tmp_path / "out.json"),
        "--reports-dir", str(reports), cwd=REPO, env=env,
    )  # fmt: skip
    result_file = next(reports.glob("*/result.json"))
    result = json.loads(result_file.read_text())
    run_id = result_file.parent.name
    sweep.append(run_id)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    facts = json.dumps(result)
    assert '"service.' in facts and "drillbook-" in facts  # containers named in the facts
    assert nothing_left(engine, run_id), labelled(engine, run_id)


def test_clean_after_kill_9_removes_every_container_network_and_volume(
    engine: Any, sweep: list[str], tmp_path: Path
) -> None:
    project = scratch_project(tmp_path)
    home = tmp_path / "home"
    write(
        project,
        "crash.yaml",
        """
        name: docker-crash-me
        backend: docker
        services:
          db: {kind: postgres}
          s3: {kind: s3}
        steady_state:
          - {kind: sql, service: db, query: "select 1", expect: "1"}
        fault:
          - {kind: service.kill, service: s3}
        timeouts: {detect: 1s}
        recovery:
          - {kind: run, run: "sleep 300", timeout: 10m}
        """,
    )
    env = dict(os.environ, DRILLBOOK_HOME=str(home))
    runner = subprocess.Popen(
        [sys.executable, "-m", "drillbook", "run", "crash.yaml", "--reports-dir", str(tmp_path)],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    run_id = ""
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not run_id:
            assert runner.poll() is None, "runner ended before its recovery step"
            runs = sorted((home / "runs").glob("*")) if (home / "runs").is_dir() else []
            if runs and _recovery_pids(runs[0].name):
                run_id = runs[0].name
            time.sleep(0.3)
        assert run_id, "the drill never reached its recovery step"
        sweep.append(run_id)
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
        left = labelled(engine, run_id)
        assert len(left["containers"]) == 2 and left["networks"] and left["volumes"], left

        done = run_cli("clean", cwd=project, env=env)
        assert done.returncode == 0, done.stderr
        assert nothing_left(engine, run_id), labelled(engine, run_id)
        assert "2 container(s)" in done.stdout, done.stdout
    finally:
        if runner.poll() is None:
            runner.kill()
        for pid in _recovery_pids(run_id) if run_id else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _recovery_pids(run_id: str) -> list[int]:
    """Pids of the run's `sleep 300` recovery step (found by their environment)."""
    marker = f"DRILLBOOK_RUN_ID={run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            if marker in environ and b"sleep" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found
