"""One service process: spawned in its own process group, logged, signalled, reaped.

Also the /proc scans that find a run's processes without having spawned them (cleanup after a
crash, orphans of a killed postmaster).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from drillbook.backends.local.runas import RunAs


class ManagedProcess:
    """A process started with `start_new_session=True`: its pid is its process group id.

    stdout and stderr go, appended, to `log_path`. The file is opened here and handed over as
    a descriptor, so a service running as another user can log into a directory it cannot see.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        log_path: Path,
        user: RunAs | None = None,
    ) -> None:
        self.argv = list(argv)
        with log_path.open("ab") as log:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            log.write(f"--- drillbook: starting {self.argv[0]} at {stamp} ---\n".encode())
            log.flush()
            self._popen = subprocess.Popen(
                self.argv,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
                user=user.uid if user else None,
                group=user.gid if user else None,
                extra_groups=[] if user else None,
                umask=0o077 if user else -1,
            )
        self.pid = self._popen.pid
        self.pgid = self._popen.pid

    @property
    def returncode(self) -> int | None:
        """The exit code (negative: the signal that killed it), or None while it runs.

        Asked without reaping: until `stop()` reaps it, the leader's zombie keeps the process
        group id ours, so signalling the group can never hit a process that reused the id.
        """
        if self._popen.returncode is not None:
            return self._popen.returncode
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:  # reaped elsewhere
            return self._popen.poll()
        if info is None:
            return None
        return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status

    def alive(self) -> bool:
        return self.returncode is None

    def signal_group(self, sig: int) -> None:
        """Send `sig` to the whole group; a group already gone is not an error."""
        if self._popen.returncode is not None:
            return  # reaped: the id may belong to someone else by now
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, sig)

    def wait_exit(self, timeout: float) -> int | None:
        """Wait (without reaping) until the leader exits; its code, or None at the timeout."""
        deadline = time.monotonic() + timeout
        delay = 0.005
        while (code := self.returncode) is None and time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return code

    def stop(self, sig: int, timeout: float) -> int | None:
        """`sig` to the group, SIGKILL to the group after `timeout`; reaps; the exit code."""
        if self.returncode is None:
            self.signal_group(sig)
            if self.wait_exit(timeout) is None:
                self.signal_group(signal.SIGKILL)
                self.wait_exit(5.0)
        # Members that outlived the leader (a child a shell left behind) go with it, while
        # the leader's zombie still pins the group id; then the leader is reaped.
        self.signal_group(signal.SIGKILL)
        try:
            return self._popen.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            return None


def _environ_items(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return []


def _cwd_under(pid: int, roots: Sequence[str]) -> bool:
    try:
        cwd = str(Path(f"/proc/{pid}/cwd").readlink())
    except OSError:
        return False
    return any(cwd == root or cwd.startswith(root.rstrip("/") + "/") for root in roots)


def _protected() -> set[int]:
    """This process and its ancestors: never killed by a sweep."""
    pids = {0, 1}
    pid = os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_bytes()
            pid = int(stat[stat.rfind(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def find_processes(
    *,
    env: Mapping[str, str] | None = None,
    env_key: str | None = None,
    cwd_under: Iterable[Path] = (),
) -> list[int]:
    """Pids whose initial environment holds every `env` pair (or has a variable `env_key`),
    or whose working directory is under one of `cwd_under`. Never this process or its parents.

    PostgreSQL's child processes overwrite their environment with their ps title, but all of
    them run inside the data directory: the cwd test finds them.
    """
    needles = [f"{key}={value}".encode() for key, value in (env or {}).items()]
    key_prefix = f"{env_key}=".encode() if env_key else None
    roots = [str(p) for p in cwd_under]
    protected = _protected()
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in protected:
            continue
        pid = int(entry.name)
        if needles or key_prefix:
            items = _environ_items(pid)
            if needles and all(n in items for n in needles):
                found.append(pid)
                continue
            if key_prefix and any(item.startswith(key_prefix) for item in items):
                found.append(pid)
                continue
        if roots and _cwd_under(pid, roots):
            found.append(pid)
    return found


def kill_processes(
    pids: Iterable[int], *, wait: float = 5.0, sleep: Callable[[float], None] = time.sleep
) -> int:
    """SIGKILL `pids` (and the groups they lead) and wait until they are gone; how many died."""
    pids = list(pids)
    killed = 0
    for pid in pids:
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
            killed += 1
        except (ProcessLookupError, PermissionError):
            continue
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and any(_running(pid) for pid in pids):
        sleep(0.02)
    return killed


def _running(pid: int) -> bool:
    """Alive and not a zombie (a zombie is dead; its parent reaps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 :][:1] != b"Z"
