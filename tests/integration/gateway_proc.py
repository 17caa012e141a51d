"""Start the gateway (and the edge) as real processes for integration tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "gateway" / "config.yaml"
MASTER_KEY = "sk-drill-7f3c9a1e5b2d4860"
MASTER = {"Authorization": f"Bearer {MASTER_KEY}"}
TOKEN = "integration-drill-token"
DRILL = {"X-Drill-Token": TOKEN}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    popen: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        self.popen.send_signal(sig)


def run_gateway(
    args: Sequence[str], env: dict[str, str] | None = None, timeout: float = 20
) -> tuple[int, str]:
    """Run `python -m drillbook.gateway ARGS` to completion: (exit code, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "drillbook.gateway", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    return done.returncode, done.stderr


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode} before it was ready")
        try:
            if httpx.get(url + "/health/liveliness", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} not up within {timeout}s")


@contextmanager
def started(
    module: str, args: Sequence[str], log: Path, port: int, env: dict[str, str] | None = None
) -> Iterator[Proc]:
    full_env = {**os.environ, "DRILLBOOK_DRILL_TOKEN": TOKEN, **(env or {})}
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=full_env,
            start_new_session=True,
        )
    proc = Proc(popen, f"http://127.0.0.1:{port}", log)
    try:
        wait_ready(proc.url, popen)
        yield proc
    finally:
        if popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(popen.pid, signal.SIGKILL)
                popen.wait(5)


@contextmanager
def gateway(
    tmp: Path,
    *extra: str,
    config: Path | None = None,
    env: dict[str, str] | None = None,
    name: str = "gateway",
) -> Iterator[Proc]:
    """A gateway on a free port with the fixture config copied to `tmp/<name>.yaml`."""
    port = free_port()
    path = config or tmp / f"{name}.yaml"
    if config is None:
        path.write_text(FIXTURE.read_text())
    args = ["--config", str(path), "--port", str(port), *extra]
    with started("drillbook.gateway", args, tmp / f"{name}.log", port, env) as proc:
        yield proc
