"""`drillbook clean`: remove whatever crashed runs left behind.

A run is found by its dir under $DRILLBOOK_HOME/runs/. It is dead when the runner process named
in its run.json is gone (same pid *and* kernel start time) or marked the run ended. For each
dead run every process that belongs to it is killed: those recorded in its state file, those
whose environment carries DRILLBOOK_RUN_ID=<id> (found by scanning /proc, so a kill -9 of the
runner hides nothing), and those working inside its directories (PostgreSQL's children, whose
environment is overwritten by their ps title). Then its directories are removed; their ports
are free once their processes are dead.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

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


def clean(
    home: Path | None = None, *, run_id: str | None = None, include_live: bool = False
) -> CleanupReport:
    """Kill the processes and remove the directories of dead runs (all runs with include_live).

    `run_id` limits the sweep to that run. Never raises for one run that cannot be cleaned:
    the reason is in `problems`.
    """
    runs_dir = (home or drillbook_home()) / "runs"
    killed = removed = 0
    problems: list[str] = []
    if runs_dir.is_dir():
        for run_dir in sorted(p for p in runs_dir.iterdir() if p.is_dir()):
            record = read_run(run_dir)
            this_id = record.run_id if record else run_dir.name
            if run_id is not None and this_id != run_id:
                continue
            if not include_live and run_is_live(record):
                continue
            try:
                k, r = _clean_run(run_dir, this_id)
            except (OSError, DrillbookError) as exc:
                problems.append(f"run {this_id}: {exc}")
                continue
            killed += k
            removed += r
    k, r = _clean_orphans(runs_dir, run_id, include_live, problems)
    return CleanupReport(
        processes_killed=killed + k, directories_removed=removed + r, problems=tuple(problems)
    )


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


def _clean_orphans(
    runs_dir: Path, run_id: str | None, include_live: bool, problems: list[str]
) -> tuple[int, int]:
    """Processes and runtime dirs of this home's runs whose run dir is already gone."""
    killed = removed = 0
    prefix = str(runs_dir) + os.sep

    def belongs(dir_text: str, rid: str) -> bool:
        run_dir = Path(dir_text)
        if not dir_text.startswith(prefix) or (run_id is not None and rid != run_id):
            return False
        return include_live or not run_is_live(read_run(run_dir))

    # Runtime dirs (PostgreSQL data) whose run dir was removed without them.
    root = runtime_root() / "runs"
    if root.is_dir():
        for path in root.iterdir():
            try:
                marker = json.loads((path / MARKER).read_text())
                rid, dir_text = str(marker["run_id"]), str(marker["run_dir"])
            except (OSError, ValueError, KeyError):
                continue
            if Path(dir_text).exists() or not belongs(dir_text, rid):
                continue
            killed += kill_processes(find_processes(cwd_under=[path]))
            removed += remove_tree(path)
    # Processes of this home's runs whose run dir is gone (found by their environment).
    for pid in _pids_with_run_dir_under(prefix):
        try:
            env = _environ(pid)
            rid, dir_text = env.get(RUN_ID_ENV, ""), env.get(RUN_DIR_ENV, "")
            if not Path(dir_text).exists() and belongs(dir_text, rid):
                killed += kill_processes([pid])
        except OSError as exc:
            problems.append(f"process {pid}: {exc}")
    return killed, removed


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs}


def _pids_with_run_dir_under(prefix: str) -> list[int]:
    found = []
    for pid in find_processes(env_key=RUN_DIR_ENV):
        try:
            if _environ(pid).get(RUN_DIR_ENV, "").startswith(prefix):
                found.append(pid)
        except OSError:
            continue
    return found
