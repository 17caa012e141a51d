"""What a run records so that `clean` can find it after a crash."""

from __future__ import annotations

import os
from pathlib import Path

from drillbook.backends.local.runtime import run_key, service_key
from drillbook.backends.local.state import (
    STATE_FILE,
    RunState,
    proc_start_ticks,
    process_matches,
    read_run,
    read_state,
    register_run,
    run_is_live,
    unregister_run,
)


def test_a_pid_with_another_start_time_is_not_the_recorded_process() -> None:
    ticks = proc_start_ticks(os.getpid())
    assert ticks is not None
    assert process_matches(os.getpid(), ticks)
    assert not process_matches(os.getpid(), ticks + 1)
    assert proc_start_ticks(2**22 + 12345) is None


def test_a_registered_run_is_live_until_unregistered(tmp_path: Path) -> None:
    register_run(tmp_path / "run", "r-1")
    record = read_run(tmp_path / "run")
    assert record is not None and record.run_id == "r-1" and record.pid == os.getpid()
    assert run_is_live(record)
    unregister_run(tmp_path / "run")
    assert not run_is_live(read_run(tmp_path / "run"))
    assert not run_is_live(None)


def test_state_survives_a_torn_last_line(tmp_path: Path) -> None:
    state = RunState(tmp_path)
    state.add_process("db", os.getpid(), os.getpgid(0))
    state.add_path(tmp_path / "outside")
    with (tmp_path / STATE_FILE).open("a") as out:
        out.write('{"process": {"service": "s3", "pi')
    processes, paths = read_state(tmp_path)
    assert [(p.service, p.pid) for p in processes] == [("db", os.getpid())]
    assert [p.path for p in paths] == [str(tmp_path / "outside")]


def test_runtime_names_stay_short_enough_for_a_unix_socket() -> None:
    long_id = "20260101T000000Z-" + "x" * 40 + "-abcdef"
    assert len(run_key(long_id)) <= 25 and run_key(long_id) != run_key(long_id + "1")
    assert service_key("db") == "db"
    assert len(service_key("a" * 63)) <= 16
