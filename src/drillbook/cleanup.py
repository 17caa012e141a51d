"""`drillbook clean`: remove whatever crashed runs left behind.

A run is found by its dir under $DRILLBOOK_HOME/runs/. It is dead when the runner process named
in its run.json is gone (same pid *and* kernel start time) or marked the run ended. For each
dead run every process that belongs to it is killed: those recorded in its state file, those
whose environment carries DRILLBOOK_RUN_ID=<id> (found by scanning /proc, so a kill -9 of the
runner hides nothing), and those working inside its directories (PostgreSQL's children, whose
environment is overwritten by their ps title). Then its directories are removed; their ports
are free once their processes are dead. Last, anything whose run dir no longer exists at all
(a runtime dir, a service process) is removed too, whichever DRILLBOOK_HOME it came from.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from drillbook.backends.docker.cleanup import clean_docker
from drillbook.backends.local.process import find_processes, kill_processes
from drillbook.backends.local.runtime import MARKER, remove_tree, runtime_root
from drillbook.backends.local.state import (
    RUN_DIR_ENV,
    RUN_ID_ENV,
    process_matches,
    read_run,
    read_state,
    register_run,
    run_is_live,
    unregister_run,
)
from drillbook.errors import CleanupReport, DrillbookError
from drillbook.settings import drillbook_home

__all__ = ["CleanupReport", "clean", "register_run", "unregister_run"]

FRESH_SECONDS = 60.0


def clean(
    home: Path | None = None, *, run_id: str | None = None, include_live: bool = False
) -> CleanupReport:
    """Kill the processes and remove the directories of dead runs (all runs with include_live).

    `run_id` limits the sweep to that run. Never raises for one run that cannot be cleaned:
    the reason is in `problems`.
    """
    runs_dir = (home or drillbook_home()) / "runs"
    killed = removed = containers = 0
    problems: list[str] = []
    if runs_dir.is_dir():
        for run_dir in sorted(p for p in runs_dir.iterdir() if p.is_dir()):
            record = read_run(run_dir)
            this_id = record.run_id if record else run_dir.name
            if run_id is not None and this_id != run_id:
                continue
            if not include_live and (run_is_live(record) or (record is None and _fresh(run_dir))):
                continue
            try:
                k, r = _clean_run(run_dir, this_id)
                containers += clean_docker(this_id, include_live=True)[0]
            except (OSError, DrillbookError) as exc:
                problems.append(f"run {this_id}: {exc}")
                continue
            killed += k
            removed += r
    k, r = _clean_orphans(run_id)
    # Containers, networks and volumes of runs whose run dir is gone (or whose runner died).
    containers += clean_docker(run_id, include_live=include_live)[0]
    return CleanupReport(
        processes_killed=killed + k,
        directories_removed=removed + r,
        containers_removed=containers,
        problems=tuple(problems),
    )


def _fresh(run_dir: Path) -> bool:
    """A run dir without run.json yet may be one a runner is creating this instant."""
    try:
        return time.time() - run_dir.stat().st_mtime < FRESH_SECONDS
    except OSError:
        return False


def _clean_run(run_dir: Path, run_id: str) -> tuple[int, int]:
    processes, paths = read_state(run_dir)
    outside = [Path(p.path) for p in paths]
    pids = {p.pid for p in processes if process_matches(p.pid, p.start_ticks)}
    pids.update(find_processes(env={RUN_ID_ENV: run_id}))
    # Not the whole run dir: a shell left in its work/ dir is someone's, not the drill's.
    pids.update(find_processes(cwd_under=[run_dir / "services", *outside]))
    killed = kill_processes(pids)
    removed = sum(remove_tree(path) for path in outside)
    removed += remove_tree(run_dir)
    return killed, removed


def _clean_orphans(run_id: str | None) -> tuple[int, int]:
    """Processes and runtime dirs whose run dir is gone, whichever home it was under.

    A live run always has its run dir (the runner creates it first and removes it last), so
    what points at a missing one belongs to a run that is over.
    """
    killed = removed = 0
    root = runtime_root() / "runs"
    if root.is_dir():
        for path in root.iterdir():
            try:
                marker = json.loads((path / MARKER).read_text())
                rid, dir_text = str(marker["run_id"]), str(marker["run_dir"])
            except (OSError, ValueError, KeyError):
                continue
            if Path(dir_text).exists() or (run_id is not None and rid != run_id):
                continue
            killed += kill_processes(find_processes(cwd_under=[path]))
            removed += remove_tree(path)
    for pid in find_processes(env_key=RUN_DIR_ENV):
        try:
            env = _environ(pid)
        except OSError:
            continue
        rid, dir_text = env.get(RUN_ID_ENV, ""), env.get(RUN_DIR_ENV, "")
        if dir_text and not Path(dir_text).exists() and run_id in (None, rid):
            killed += kill_processes([pid])
    return killed, removed


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs}
