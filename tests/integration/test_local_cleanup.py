"""Nothing a run started outlives it: teardown, and `clean` after a kill -9 of the runner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from drillbook.backends.local import LocalBackend
from drillbook.backends.local.ports import port_is_free
from drillbook.backends.local.process import find_processes
from drillbook.backends.local.runtime import runtime_root
from drillbook.backends.local.state import RUN_ID_ENV, register_run, unregister_run
from drillbook.cleanup import clean
from drillbook.services import CommandService, PostgresService, S3Service
from tests.integration.local_helpers import home_fixture  # noqa: F401

CRASHING_RUNNER = """
import sys, time
from pathlib import Path
from drillbook.backends.local import LocalBackend
from drillbook.cleanup import register_run
from drillbook.services import CommandService, PostgresService, S3Service

run_dir, run_id = Path(sys.argv[1]), sys.argv[2]
register_run(run_dir, run_id)
backend = LocalBackend(run_dir, run_id)
db = backend.provision("db", PostgresService(kind="postgres"), timeout=60)
s3 = backend.provision("s3", S3Service(kind="s3"), timeout=60)
web = backend.provision("web", CommandService(kind="command",
    command=[sys.executable, "-m", "http.server", "{port}", "--bind", "127.0.0.1"],
    health={"tcp": True}), timeout=30)
print(db.info.port, s3.info.port, web.info.port, db.info.data_dir, flush=True)
time.sleep(600)
"""


def run_processes(run_id: str, *dirs: Path) -> list[int]:
    return sorted(set(find_processes(env={RUN_ID_ENV: run_id}) + find_processes(cwd_under=dirs)))


@pytest.mark.slow
def test_teardown_leaves_no_process_no_dir_and_is_idempotent(home: Path) -> None:
    run_id = "teardown-check"
    run_dir = home / "runs" / run_id
    backend = LocalBackend(run_dir, run_id)
    db = backend.provision("db", PostgresService(kind="postgres"), timeout=60)
    backend.provision("s3", S3Service(kind="s3"), timeout=60)
    backend.provision(
        "web", CommandService(kind="command", command=["sh", "-c", "sleep 300 & wait"]), timeout=10
    )
    runtime = db.info.data_dir.parent.parent  # type: ignore[union-attr]
    assert len(run_processes(run_id, runtime)) >= 5  # postmaster + children, moto, sh, sleep
    backend.teardown()
    backend.teardown()
    assert run_processes(run_id, runtime) == []
    assert not (run_dir / "services").exists() and not runtime.exists()
    assert port_is_free(db.info.port or 0)


@pytest.mark.slow
def test_clean_removes_a_run_whose_runner_was_killed_9(home: Path) -> None:
    run_id = "crashed-run"
    run_dir = home / "runs" / run_id
    runner = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CRASHING_RUNNER), str(run_dir), run_id],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        assert runner.stdout is not None
        line = runner.stdout.readline().split()
        assert len(line) == 4, "the runner did not get its services up"
        ports = [int(p) for p in line[:3]]
        data_dir = Path(line[3])
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
    finally:
        if runner.poll() is None:
            runner.kill()
    runtime = data_dir.parent.parent
    left = run_processes(run_id, runtime)
    assert len(left) >= 4, "a kill -9 of the runner leaves its services running"
    assert all(not port_is_free(port) for port in ports)

    report = clean(home)

    assert report.processes_killed >= 3 and report.directories_removed >= 2, report
    assert report.problems == ()
    assert run_processes(run_id, runtime) == []
    assert not run_dir.exists() and not runtime.exists()
    assert all(port_is_free(port) for port in ports)


def test_clean_leaves_live_runs_alone_unless_asked(home: Path) -> None:
    live = home / "runs" / "live-run"
    register_run(live, "live-run")
    assert clean(home).directories_removed == 0 and live.exists()
    assert clean(home, run_id="other-run").directories_removed == 0 and live.exists()
    assert clean(home, include_live=True).directories_removed == 1 and not live.exists()


def test_an_ended_run_kept_for_inspection_is_cleaned(home: Path) -> None:
    kept = home / "runs" / "kept-run"
    register_run(kept, "kept-run")
    unregister_run(kept)
    assert clean(home).directories_removed == 1 and not kept.exists()


def test_clean_removes_runtime_dirs_whose_run_dir_is_gone(home: Path) -> None:
    from drillbook.backends.local.runtime import run_runtime_dir

    orphan = run_runtime_dir("vanished-run", home / "runs" / "vanished-run")
    (orphan / "db").mkdir()
    assert clean(home).directories_removed == 1 and not orphan.exists()
    assert runtime_root().exists()


def test_clean_kills_service_processes_whose_run_dir_was_deleted(home: Path) -> None:
    import shutil

    run_id = "deleted-run"
    run_dir = home / "runs" / run_id
    backend = LocalBackend(run_dir, run_id)
    spec = CommandService(kind="command", command=["sleep", "300"])
    backend.provision("sleeper", spec, timeout=10)
    shutil.rmtree(run_dir)  # a runner that removed its dir but died before its teardown
    assert find_processes(env={RUN_ID_ENV: run_id})
    assert clean(home, run_id=run_id).processes_killed == 1
    assert find_processes(env={RUN_ID_ENV: run_id}) == []
