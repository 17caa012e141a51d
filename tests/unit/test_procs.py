"""procs: own process group, hard timeout, output capture, nothing left running."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from drillbook.procs import group_members, parse_signal, run_process


def alive(pid: int) -> bool:
    """Running (not a zombie: orphans may never be reaped where init does not reap)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def bash(script: str) -> list[str]:
    return ["/bin/bash", "-c", script]


def test_exit_code_stdout_and_stderr_are_captured(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    result = run_process(bash("echo out; echo err >&2; exit 3"), timeout=5, output_file=log)
    assert result.exit_code == 3
    assert not result.ok and not result.timed_out
    assert result.stdout == "out\n"
    assert sorted(result.tail) == ["err", "out"]
    assert sorted(log.read_text().split()) == ["err", "out"]
    assert result.describe() == "exited with code 3"


def test_hung_command_is_killed_at_its_timeout_with_its_grandchildren(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = f"sleep 1000 & echo $! > {pids}; echo started; sleep 1000"
    started = time.monotonic()
    result = run_process(bash(script), timeout=0.5, grace=1.0)
    took = time.monotonic() - started
    assert result.timed_out and not result.ok
    assert result.tail == ("started",)
    assert 0.5 <= took < 2.0
    background = int(pids.read_text())
    deadline = time.monotonic() + 2
    while alive(background) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(background)
    assert not group_members(background)  # its group (the step's) is empty
    assert "timed out after 0.5s" in result.describe(0.5)


def test_a_command_ignoring_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    script = "trap '' TERM; echo ready; while true; do sleep 0.05; done"
    started = time.monotonic()
    result = run_process(bash(script), timeout=0.3, grace=0.4)
    assert result.timed_out
    assert 0.7 <= time.monotonic() - started < 2.0


def test_background_children_left_behind_are_removed_when_the_command_exits(
    tmp_path: Path,
) -> None:
    pids = tmp_path / "pids"
    # The background sleep keeps stdout open: without the group kill this would hang.
    result = run_process(bash(f"sleep 1000 & echo $! > {pids}; echo done"), timeout=10)
    assert result.ok and result.stdout == "done\n"
    assert result.leftovers_killed
    time.sleep(0.1)
    assert not alive(int(pids.read_text()))


def test_stdin_is_dev_null() -> None:
    result = run_process(bash("readlink /proc/self/fd/0; cat; echo eof"), timeout=5)
    assert result.ok
    assert result.stdout == "/dev/null\neof\n"


def test_tail_keeps_the_last_lines_and_the_file_everything(tmp_path: Path) -> None:
    log = tmp_path / "seq.log"
    result = run_process(["seq", "1", "100"], timeout=5, output_file=log, tail_lines=40)
    assert result.tail == tuple(str(n) for n in range(61, 101))
    assert log.read_text().split() == [str(n) for n in range(1, 101)]


def test_stdout_beyond_the_limit_is_cut_and_flagged(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    result = run_process(
        bash("head -c 300000 /dev/zero | tr '\\0' x"),
        timeout=5,
        output_file=log,
        stdout_limit=1000,
    )
    assert result.ok
    assert result.stdout == "x" * 1000 and result.stdout_truncated
    assert log.stat().st_size == 300000
    assert len(result.tail[-1]) < 3000  # one huge line is shortened in the tail


def test_environment_and_cwd_are_exactly_as_given(tmp_path: Path) -> None:
    result = run_process(
        bash('echo "$ONLY:$HOME:$PWD"'), timeout=5, env={"ONLY": "yes"}, cwd=tmp_path
    )
    assert result.stdout.strip() == f"yes::{tmp_path}"


def test_a_missing_program_raises_oserror() -> None:
    with pytest.raises(OSError):
        run_process(["/nonexistent/program"], timeout=1)


def test_death_by_signal_is_described() -> None:
    result = run_process(bash("kill -TERM $$"), timeout=5)
    assert result.exit_code == -signal.SIGTERM
    assert result.describe() == "was killed by SIGTERM"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SIGKILL", signal.SIGKILL),
        ("hup", signal.SIGHUP),
        ("9", signal.SIGKILL),
        (15, signal.SIGTERM),
    ],
)
def test_signals_are_named_any_usual_way(text: str | int, expected: signal.Signals) -> None:
    assert parse_signal(text) is expected


def test_an_unknown_signal_is_refused_with_examples() -> None:
    with pytest.raises(ValueError, match=r"unknown signal 'SIGFOO'; e\.g\. SIGKILL"):
        parse_signal("SIGFOO")
