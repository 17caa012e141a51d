"""A runner killed with SIGKILL leaves things behind; `drillbook clean` must remove all of it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.engine_helpers import scratch_project, write

pytestmark = pytest.mark.slow


def processes_of(run_marker: str) -> list[int]:
    """Pids whose environment carries a DRILLBOOK_RUN_ID containing `run_marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        for var in environ.split(b"\0"):
            if var.startswith(b"DRILLBOOK_RUN_ID=") and run_marker.encode() in var:
                found.append(int(entry.name))
    return found


def test_clean_after_kill_9_leaves_no_process_port_or_directory(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    home = tmp_path / "home"
    write(
        project,
        "crash.yaml",
        """
        name: crash-me
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
        [
            sys.executable,
            "-m",
            "drillbook",
            "run",
            "crash.yaml",
            "--reports-dir",
            str(tmp_path / "r"),
        ],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        # Wait until the drill is in its recovery step (a `sleep 300` of this run exists).
        while time.monotonic() < deadline:
            sleepers = [
                p
                for p in processes_of("crash-me")
                if b"sleep" in Path(f"/proc/{p}/cmdline").read_bytes()
            ]
            if sleepers:
                break
            assert runner.poll() is None, "runner ended before the recovery step"
            time.sleep(0.2)
        else:
            pytest.fail("the drill never reached its recovery step")
        left_before = processes_of("crash-me")
        commands = b" ".join(Path(f"/proc/{p}/cmdline").read_bytes() for p in left_before)
        # The postmaster (its children rewrite their environ for ps titles) and the step's sleep.
        assert b"postgres" in commands and b"sleep" in commands, commands
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
        assert processes_of("crash-me"), "something should be left behind by a kill -9"
        run_dirs = list((home / "runs").iterdir())
        assert run_dirs

        done = subprocess.run(
            [sys.executable, "-m", "drillbook", "clean"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        time.sleep(0.5)
        assert processes_of("crash-me") == []
        assert list((home / "runs").iterdir()) == []
    finally:
        if runner.poll() is None:
            runner.kill()
        for pid in processes_of("crash-me"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
