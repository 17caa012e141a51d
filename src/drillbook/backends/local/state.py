"""What a run leaves on disk so that `drillbook clean` can find it after a crash.

`run.json` names the runner process (pid and kernel start time, so a reused pid is never taken
for it); `local-state.jsonl` lists every process group the local backend spawned and every
directory it created outside the run dir. Lines are appended and flushed as things happen,
so a `kill -9` of the runner loses nothing that was started.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from pydantic import BaseModel, ConfigDict

RUN_FILE = "run.json"
STATE_FILE = "local-state.jsonl"
RUN_ID_ENV = "DRILLBOOK_RUN_ID"
RUN_DIR_ENV = "DRILLBOOK_RUN_DIR"


class RunRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    run_id: str
    pid: int
    start_ticks: int | None
    ended: bool = False


class ProcessRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    service: str
    pid: int
    pgid: int
    start_ticks: int | None


class PathRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    path: str


def proc_start_ticks(pid: int) -> int | None:
    """The kernel's start time of `pid` (clock ticks since boot), or None if it is gone.

    Together with the pid it names one process for good: a pid reused later has another
    start time.
    """
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    fields = raw[raw.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])  # field 22 overall
    except (IndexError, ValueError):
        return None


def process_matches(pid: int, start_ticks: int | None) -> bool:
    """True when `pid` is alive and is the very process recorded with `start_ticks`."""
    current = proc_start_ticks(pid)
    return current is not None and (start_ticks is None or current == start_ticks)


def register_run(run_dir: Path, run_id: str) -> None:
    """Record the calling process as the owner of `run_dir`; call it first thing in a run."""
    run_dir.mkdir(parents=True, exist_ok=True)
    record = RunRecord(run_id=run_id, pid=os.getpid(), start_ticks=proc_start_ticks(os.getpid()))
    _write_atomic(run_dir / RUN_FILE, record.model_dump_json())


def unregister_run(run_dir: Path) -> None:
    """Mark the run as ended (a run dir kept with --keep is then removed by the next clean)."""
    record = read_run(run_dir)
    if record is not None:
        _write_atomic(
            run_dir / RUN_FILE, record.model_copy(update={"ended": True}).model_dump_json()
        )


def read_run(run_dir: Path) -> RunRecord | None:
    try:
        return RunRecord.model_validate_json((run_dir / RUN_FILE).read_text())
    except (OSError, ValueError):
        return None


def run_is_live(record: RunRecord | None) -> bool:
    return (
        record is not None and not record.ended and process_matches(record.pid, record.start_ticks)
    )


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


class RunState:
    """Appends the local backend's process groups and outside directories to the state file."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / STATE_FILE
        self._lock = threading.Lock()

    def add_process(self, service: str, pid: int, pgid: int) -> None:
        record = ProcessRecord(
            service=service, pid=pid, pgid=pgid, start_ticks=proc_start_ticks(pid)
        )
        self._append({"process": record.model_dump()})

    def add_path(self, path: Path) -> None:
        self._append({"path": PathRecord(path=str(path)).model_dump()})

    def _append(self, entry: dict[str, object]) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as out:
                out.write(json.dumps(entry) + "\n")
                out.flush()  # written through to the kernel: survives a kill -9 of the runner


def read_state(run_dir: Path) -> tuple[list[ProcessRecord], list[PathRecord]]:
    """Everything recorded for `run_dir`; a torn last line (crash mid-write) is skipped."""
    processes: list[ProcessRecord] = []
    paths: list[PathRecord] = []
    try:
        lines = (run_dir / STATE_FILE).read_text().splitlines()
    except OSError:
        return processes, paths
    for line in lines:
        try:
            entry = json.loads(line)
            if "process" in entry:
                processes.append(ProcessRecord.model_validate(entry["process"]))
            elif "path" in entry:
                paths.append(PathRecord.model_validate(entry["path"]))
        except ValueError:
            continue
    return processes, paths
