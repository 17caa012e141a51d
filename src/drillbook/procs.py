"""Running a command the way drills need it: its own process group, a hard timeout, captured output.

Used by the `run` step, the `command` probe and the runner. A command runs in a new session, so
at its timeout (or when it exits leaving background children behind) the whole group is signalled:
SIGTERM, then SIGKILL after a short grace. Output is written to a file as it arrives; stdout is also
kept in memory up to a limit (for `${steps.ID.stdout}`), and the last lines of the combined output
are kept for reports.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

STDOUT_LIMIT = 1 << 20  # bytes of stdout kept in memory
TAIL_LINES = 40
GRACE = 2.0  # seconds between SIGTERM and SIGKILL
_DRAIN = 1.0  # seconds to keep reading after the group is gone (escaped daemons may hold the pipe)
_MAX_LINE = 2000  # characters of one output line kept in the tail
_POLL = 0.05


@dataclass(frozen=True)
class ProcResult:
    argv: tuple[str, ...]
    exit_code: int | None  # negative: killed by that signal (subprocess convention)
    timed_out: bool
    stdout: str
    stdout_truncated: bool
    tail: tuple[str, ...]  # last lines of stdout and stderr, interleaved as they arrived
    duration: float  # seconds from start to exit (including the kill grace on timeout)
    leftovers_killed: bool  # the command exited but left processes in its group; they were killed
    output_file: Path | None

    @property
    def ok(self) -> bool:
        return not self.timed_out and self.exit_code == 0

    def describe(self, timeout: float | None = None) -> str:
        """One lowercase sentence: how the command ended."""
        if self.timed_out:
            limit = f" after {timeout:g}s" if timeout is not None else ""
            return f"timed out{limit}; its process group was killed"
        if self.exit_code is None:
            return "did not report an exit code"
        if self.exit_code < 0:
            try:
                name = signal.Signals(-self.exit_code).name
            except ValueError:
                name = str(-self.exit_code)
            return f"was killed by {name}"
        return f"exited with code {self.exit_code}"


class _Capture:
    """Collects both pipes: a file of everything, stdout up to a limit, the last lines."""

    def __init__(self, out: BinaryIO | None, tail_lines: int, stdout_limit: int) -> None:
        self._out = out
        self._stdout = bytearray()
        self._limit = stdout_limit
        self.truncated = False
        self._tail: deque[str] = deque(maxlen=max(tail_lines, 1))
        self._want_tail = tail_lines > 0
        self._partial: dict[str, bytes] = {"out": b"", "err": b""}

    def feed(self, stream: str, data: bytes) -> None:
        if self._out is not None:
            self._out.write(data)
        if stream == "out":
            room = self._limit - len(self._stdout)
            if len(data) > room:
                self.truncated = True
            if room > 0:
                self._stdout += data[:room]
        if not self._want_tail:
            return
        lines = (self._partial[stream] + data).split(b"\n")
        self._partial[stream] = lines.pop()[-_MAX_LINE * 4 :]
        for line in lines:
            self._tail.append(_line(line))

    def finish(self) -> tuple[str, tuple[str, ...]]:
        for stream, rest in self._partial.items():
            if rest and self._want_tail:
                self._tail.append(_line(rest))
            self._partial[stream] = b""
        tail = tuple(self._tail) if self._want_tail else ()
        return self._stdout.decode("utf-8", errors="replace"), tail


def _line(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").rstrip("\r")
    return text if len(text) <= _MAX_LINE else text[:_MAX_LINE] + " [...]"


def parse_signal(value: str | int) -> signal.Signals:
    """'SIGKILL', 'kill', 'HUP' or 9 -> the signal; ValueError naming the value otherwise."""
    if isinstance(value, int):
        try:
            return signal.Signals(value)
        except ValueError:
            raise ValueError(f"unknown signal number {value}") from None
    text = value.strip().upper()
    if text.isdigit():
        return parse_signal(int(text))
    name = text if text.startswith("SIG") else "SIG" + text
    try:
        return signal.Signals[name]
    except KeyError:
        raise ValueError(
            f"unknown signal {value!r}; e.g. SIGKILL, SIGTERM, SIGHUP, SIGINT, SIGSTOP"
        ) from None


def signal_name(value: str | int) -> str:
    return parse_signal(value).name


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group `pgid`.

    `killpg(pgid, 0)` is not enough: where init does not reap orphans, a dead grandchild stays a
    zombie in the group forever.
    """
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: trust the kernel's answer
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [pgid]
    members: list[int] = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) >= 3 and fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def kill_process_group(pgid: int, *, grace: float = GRACE) -> bool:
    """SIGTERM every live process of group `pgid`, then SIGKILL whatever is left after `grace`.

    Returns whether anything was alive to signal. Never raises.
    """
    if not group_members(pgid):
        return False
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        time.sleep(_POLL)
        if not group_members(pgid):
            return True
    _signal_group(pgid, signal.SIGKILL)
    deadline = time.monotonic() + grace
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(_POLL)
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def run_process(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    output_file: Path | None = None,
    tail_lines: int = TAIL_LINES,
    stdout_limit: int = STDOUT_LIMIT,
    grace: float = GRACE,
) -> ProcResult:
    """Run `argv` with stdin from /dev/null in its own process group, for at most `timeout` s.

    At the timeout the group gets SIGTERM, then SIGKILL after `grace`; processes the command
    leaves running in its group when it exits are removed the same way, so nothing a step
    started outlives it. Raises OSError only when the command cannot be started at all.
    """
    argv = tuple(argv)
    out: BinaryIO | None = None
    if output_file is not None:
        output_file.parent.mkdir(parents=True, exist_ok=True)
        out = output_file.open("wb")
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    except OSError:
        if out is not None:
            out.close()
        raise
    capture = _Capture(out, tail_lines, stdout_limit)
    try:
        timed_out, leftovers = _supervise(proc, capture, started + timeout, grace)
    finally:
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        if proc.poll() is None:  # only if supervising itself failed
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
        if out is not None:
            out.close()
    stdout, tail = capture.finish()
    return ProcResult(
        argv=argv,
        exit_code=proc.returncode,
        timed_out=timed_out,
        stdout=stdout,
        stdout_truncated=capture.truncated,
        tail=tail,
        duration=time.monotonic() - started,
        leftovers_killed=leftovers,
        output_file=output_file,
    )


def _supervise(
    proc: subprocess.Popen[bytes], capture: _Capture, deadline: float, grace: float
) -> tuple[bool, bool]:
    """Pump output until the leader exits or the deadline passes; then clear its group."""
    assert proc.stdout is not None and proc.stderr is not None
    sel = selectors.DefaultSelector()
    for pipe, name in ((proc.stdout, "out"), (proc.stderr, "err")):
        os.set_blocking(pipe.fileno(), False)
        sel.register(pipe.fileno(), selectors.EVENT_READ, name)
    timed_out = False
    try:
        while proc.poll() is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            if not sel.get_map():  # both pipes closed early: just wait for the exit
                try:
                    proc.wait(timeout=remaining)
                except subprocess.TimeoutExpired:
                    timed_out = True
                break
            _pump(sel, capture, min(_POLL, remaining))
        # Timed out, or exited with possible stragglers: either way the group goes now.
        leftovers = kill_process_group(proc.pid, grace=grace)
        proc.wait()
        drain_until = time.monotonic() + _DRAIN
        while sel.get_map() and time.monotonic() < drain_until:
            _pump(sel, capture, _POLL)
    finally:
        sel.close()
    return timed_out, (leftovers and not timed_out)


def _pump(sel: selectors.BaseSelector, capture: _Capture, wait: float) -> None:
    for key, _ in sel.select(timeout=wait):
        fd = key.fd
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if data:
            capture.feed(str(key.data), data)
        else:
            sel.unregister(fd)
