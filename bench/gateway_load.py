"""Throughput and latency of the reference gateway, measured from outside with wrk.

    python bench/gateway_load.py [--duration 10] [--connections 32] [--gateway-cpu 0] [--wrk-cpu 1]

Starts `python -m drillbook.gateway` (one worker, pinned to one core with taskset), then drives
POST /v1/chat/completions with wrk (pinned to another core) for each case, and prints a
markdown table: requests/s, p50/p95/p99 latency, non-2xx responses, and the gateway's CPU use
(cores) over the run. wrk comes from Debian: apt-get install -y wrk.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "fixtures" / "gateway" / "config.yaml"
MASTER_KEY = "sk-drill-7f3c9a1e5b2d4860"

LUA = """
wrk.method = "POST"
wrk.body = '{"model": "%(model)s", "messages": [{"role": "user", "content": "hello from wrk"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
done = function(summary, latency, requests)
  io.write(string.format("BENCH p50=%%d p95=%%d p99=%%d max=%%d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass
class Result:
    case: str
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    non_2xx: int
    requests: int
    gateway_cores: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pinned(cpu: int | None, argv: list[str]) -> list[str]:
    if cpu is None or shutil.which("taskset") is None:
        return argv
    return ["taskset", "-c", str(cpu), *argv]


def wait_up(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health/liveliness", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"gateway at {url} did not come up in {timeout}s")


def run_wrk(url: str, script: Path, args: argparse.Namespace, duration: float) -> str:
    argv = pinned(
        args.wrk_cpu,
        [
            "wrk",
            "-t",
            str(args.threads),
            "-c",
            str(args.connections),
            "-d",
            f"{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url + "/v1/chat/completions",
        ],
    )
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def parse(case: str, out: str, cores: float) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = re.search(r"BENCH p50=(\d+) p95=(\d+) p99=(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    assert lat is not None, out
    return Result(
        case,
        rps,
        int(lat[1]) / 1000,
        int(lat[2]) / 1000,
        int(lat[3]) / 1000,
        int(non2xx[1]) if non2xx else 0,
        total,
        cores,
    )


def measure(
    case: str, url: str, key: str, model: str, pid: int, args: argparse.Namespace
) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA % {"model": model, "key": key})
        script = Path(f.name)
    try:
        run_wrk(url, script, args, min(2.0, args.duration))  # warm up
        proc = psutil.Process(pid)
        cpu0, t0 = sum(proc.cpu_times()[:2]), time.perf_counter()
        out = run_wrk(url, script, args, args.duration)
        cores = (sum(proc.cpu_times()[:2]) - cpu0) / (time.perf_counter() - t0)
    finally:
        script.unlink()
    return parse(case, out, cores)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--gateway-cpu", type=int, default=0)
    p.add_argument("--wrk-cpu", type=int, default=1)
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DRILLBOOK_DRILL_TOKEN": "bench"}
    quiet = ["--log-level", "warning"]
    gateway_argv = [sys.executable, "-m", "drillbook.gateway", "--config", str(FIXTURE)]
    gateway = subprocess.Popen(
        pinned(args.gateway_cpu, [*gateway_argv, "--port", str(port), *quiet]), env=env
    )
    edge: subprocess.Popen[bytes] | None = None
    results = []
    try:
        wait_up(url)
        pid = gateway.pid  # taskset execs the command: same pid
        master = {"Authorization": f"Bearer {MASTER_KEY}"}
        vkey = httpx.post(url + "/key/generate", json={"key_alias": "bench"}, headers=master)
        mini = "gpt-4o-mini"
        results.append(measure("master key, no mock latency", url, MASTER_KEY, mini, pid, args))
        virtual = vkey.json()["key"]
        results.append(measure("virtual key (cached)", url, virtual, mini, pid, args))
        results.append(measure("2 ms mock latency", url, MASTER_KEY, "gpt-4o", pid, args))
        drill = {"X-Drill-Token": "bench"}
        httpx.post(url + "/_drill/faults", json={"error_rate": 0.06}, headers=drill)
        results.append(measure("6 % injected errors", url, MASTER_KEY, mini, pid, args))
        httpx.delete(url + "/_drill/faults", headers=drill)
        # The edge (a 90/10 canary split, both to this gateway) shares wrk's core.
        edge_port = free_port()
        edge_argv = [
            sys.executable,
            "-m",
            "drillbook.gateway.edge",
            "--port",
            str(edge_port),
            "--upstream",
            f"blue={url}",
            "--upstream",
            f"green={url}",
            "--weight",
            "blue=90",
            "--weight",
            "green=10",
            *quiet,
        ]
        edge = subprocess.Popen(pinned(args.wrk_cpu, edge_argv))
        edge_url = f"http://127.0.0.1:{edge_port}"
        wait_up(edge_url)
        results.append(measure("through the edge, 90/10", edge_url, MASTER_KEY, mini, pid, args))
    finally:
        for proc in (edge, gateway):
            if proc is not None:
                proc.terminate()
                proc.wait(10)
    print(
        f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration:g}s, gateway pinned to "
        f"cpu {args.gateway_cpu}, wrk to cpu {args.wrk_cpu}, {os.cpu_count()} cpus\n"
    )
    print("| case | requests/s | p50 ms | p95 ms | p99 ms | non-2xx | gateway cores |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.case} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p95_ms:.2f} | {r.p99_ms:.2f} | "
            f"{r.non_2xx} of {r.requests} | {r.gateway_cores:.2f} |"
        )
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
