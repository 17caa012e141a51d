"""The control socket behind $DRILLBOOK_CTL.

A recovery script says `$DRILLBOOK_CTL restart gateway` where its runbook says systemctl or
docker restart. The command talks to the running drill over an abstract Unix socket (Linux:
no file to clean up, no path-length limit), and the runner acts on the service handle, so the
same script works on every backend.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from drillbook.backends.base import ServiceHandle
from drillbook.errors import DrillbookError

ACTIONS = (
    "start",
    "stop",
    "restart",
    "kill",
    "signal",
    "status",
    "logs",
    "health",
    "replace-data-dir",
    "deploy",
    "history",
    "undo",
)


def socket_name(run_id: str) -> str:
    return f"\0drillbook-ctl-{run_id}"


def _signal_number(name: str) -> int:
    name = name.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    try:
        return int(signal.Signals[name])
    except KeyError:
        raise DrillbookError(f"unknown signal {name!r}") from None


def perform(handle: ServiceHandle, action: str, arg: str | None) -> str:
    """Carry out one control action; return what to print. Raises DrillbookError on failure."""
    if action == "start":
        handle.start()
    elif action == "stop":
        handle.stop()
    elif action == "restart":
        handle.restart()
    elif action == "kill":
        handle.kill(_signal_number(arg or "SIGKILL"))
    elif action == "signal":
        if not arg:
            raise DrillbookError("signal needs a signal name, e.g. 'signal gateway HUP'")
        handle.kill(_signal_number(arg))
    elif action == "status":
        return str(handle.state())
    elif action == "health":
        if not handle.healthy():
            raise DrillbookError(f"service {handle.name!r} is not healthy")
        return "healthy"
    elif action == "replace-data-dir":
        # PITR and restore-to-new-cluster drills: point a postgres service at a restored dir.
        replace = getattr(handle, "replace_data_dir", None)
        if replace is None or not arg:
            raise DrillbookError(
                f"replace-data-dir needs a postgres service and a directory; got {handle.kind!r}"
            )
        replace(Path(arg))
    elif action in ("deploy", "history", "undo"):
        return _revision_action(handle, action, arg)
    elif action == "logs":
        return "\n".join(handle.log_tail(int(arg or "20")))
    else:
        raise DrillbookError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    return f"{action} {handle.name}: {handle.state()}"


def _revision_action(handle: ServiceHandle, action: str, arg: str | None) -> str:
    """Seed 004's `kubectl rollout undo [--to-revision=N]` / `helm rollback`, on a service
    that keeps a revision history (a local command or gateway)."""
    history = getattr(handle, "revision_history", None)
    if not callable(history):
        raise DrillbookError(
            f"{action} needs a service with a revision history (command, gateway); "
            f"{handle.name!r} is {handle.kind!r}"
        )
    if action == "deploy":
        if not arg:
            raise DrillbookError(
                "deploy needs a release or KEY=VALUE, e.g. 'deploy gateway v2' or "
                "'deploy gateway DATABASE_URL=postgresql://...'"
            )
        key, sep, value = arg.partition("=")
        revision = handle.deploy({key: value} if sep else {"release": arg})  # type: ignore[attr-defined]
    elif action == "undo":
        if arg is not None and not arg.isdigit():
            raise DrillbookError(f"undo takes a revision number, got {arg!r}")
        revision = handle.undo(int(arg) if arg else None)  # type: ignore[attr-defined]
    else:
        revisions = history()
        current = revisions[-1].number
        lines = ["REVISION  RELEASE  CHANGE"]
        for r in revisions:
            mark = "*" if r.number == current else " "
            lines.append(f"{r.number:>7}{mark}  {r.release() or '-':<7}  {r.change}")
        return "\n".join(lines)
    return (
        f"{action} {handle.name}: revision {revision.number} ({revision.change}), "
        f"release {revision.release() or '-'}: {handle.state()}"
    )


class ControlServer:
    def __init__(
        self,
        run_id: str,
        services: Callable[[], Mapping[str, ServiceHandle]],
        on_action: Callable[[str, str, bool], None] = lambda _a, _s, _ok: None,
    ) -> None:
        self._services = services
        self._on_action = on_action
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(socket_name(run_id))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="drillbook-ctl", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            # One thread per request: a slow restart must not block a concurrent status call.
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _dispatch(self, request: dict[str, object]) -> str:
        action = str(request.get("action", ""))
        name = str(request.get("service", ""))
        arg = request.get("arg")
        services = self._services()
        if name not in services:
            raise DrillbookError(
                f"unknown service {name!r}; this drill has: {', '.join(services) or 'none'}"
            )
        try:
            output = perform(services[name], action, None if arg is None else str(arg))
        except Exception:
            self._on_action(action, name, False)
            raise
        self._on_action(action, name, True)
        return output

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                raw = b""
                while not raw.endswith(b"\n"):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    raw += chunk
                reply = {"ok": True, "output": self._dispatch(json.loads(raw or b"{}"))}
            except Exception as exc:
                reply = {"ok": False, "output": f"{type(exc).__name__}: {exc}"}
            conn.sendall(json.dumps(reply).encode() + b"\n")


def write_ctl_command(bin_dir: Path, run_id: str) -> Path:
    """An executable that scripts call as $DRILLBOOK_CTL; bound to this run's socket."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / "drillbook-ctl"
    path.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -m drillbook.ctl --run-id "{run_id}" "$@"\n',
        encoding="utf-8",
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def request(
    run_id: str, action: str, service: str, arg: str | None, timeout: float = 600
) -> tuple[bool, str]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(socket_name(run_id))
        except OSError as exc:
            return False, f"no running drill {run_id!r} to control ({exc})"
        payload = {"action": action, "service": service, "arg": arg}
        sock.sendall(json.dumps(payload).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    reply = json.loads(data or b'{"ok": false, "output": "no reply"}')
    return bool(reply.get("ok")), str(reply.get("output", ""))


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    run_id = os.environ.get("DRILLBOOK_RUN_ID", "")
    if len(args) >= 2 and args[0] == "--run-id":
        run_id, args = args[1], args[2:]
    if len(args) < 2 or args[0] not in ACTIONS:
        print(
            "usage: $DRILLBOOK_CTL ACTION SERVICE [ARG]\n"
            "  ACTION: start | stop | restart | kill [SIG] | signal SIG | status | health"
            " | logs [N]\n          | deploy RELEASE|KEY=VALUE | history | undo [REVISION]",
            file=sys.stderr,
        )
        return 2
    action, service = args[0], args[1]
    arg = args[2] if len(args) > 2 else None
    ok, output = request(run_id, action, service, arg)
    if output:
        print(output, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1
