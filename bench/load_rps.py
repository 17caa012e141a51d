"""The load generator's ceiling against the gateway vs wrk's, and the harness's own CPU.

    python bench/load_rps.py [--duration 5] [--users 32] [--json FILE]

1. Starts `python -m drillbook.gateway` (one worker, fixture config) pinned to cpu 0.
2. Drives POST /v1/chat/completions (gpt-4o-mini, master key) for `duration` seconds, each
   load tool pinned to cpu 1: drillbook's load (locust FastHttpUser in its own process, as a
   drill runs it: LoadSession, `users` users, no rps cap) and then wrk (-t1 -c`users`).
   Locust's rate counts whole one-second buckets after the first (the ramp) only.
3. The harness's CPU (this process: user + system time over wall time) while its sampler
   probes /health/readiness at 10 Hz, alone and while reading the load's buckets.
Prints a markdown table; wrk from Debian: apt-get install -y wrk.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from gateway_load import FIXTURE, MASTER_KEY, free_port, pinned, wait_up  # noqa: E402

from drillbook.backends.base import ServiceInfo  # noqa: E402
from drillbook.clock import MonotonicClock  # noqa: E402
from drillbook.journal import Recorder  # noqa: E402
from drillbook.load.session import LoadSession  # noqa: E402
from drillbook.probes.http import HttpProbe  # noqa: E402
from drillbook.runner.sampler import Sampler  # noqa: E402
from drillbook.scenario.load import Load, LoadRequest  # noqa: E402
from drillbook.testing import FakeContext, FakeService  # noqa: E402

LUA = """
wrk.method = "POST"
wrk.body = '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "drill load"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


def recorder() -> Recorder:
    return Recorder(run_id="bench", scenario="bench", scenario_file=None, backend="local",
                    clock=MonotonicClock(), probe_interval=0.1, stable_samples=3)


def cpu() -> float:
    t = os.times()
    return t.user + t.system


def harness_cpu(ctx: FakeContext, seconds: float, load: Load | None) -> tuple[float, int, int]:
    """(cores used by this process, samples taken, buckets read) over `seconds`."""
    rec = recorder()
    probe = HttpProbe(kind="http", service="gateway", path="/health/readiness")
    sampler = Sampler([probe], ctx, rec, 0.1)
    session = LoadSession(load, ctx, rec) if load is not None else None
    if session is not None:
        session.start()  # runs load.baseline seconds
    c0, t0 = cpu(), time.perf_counter()
    sampler.start()
    time.sleep(seconds)
    sampler.stop()
    cores = (cpu() - c0) / (time.perf_counter() - t0)
    if session is not None:
        session.stop(linger=False)
    return cores, len(rec.samples()), len(rec.load_buckets())


def locust_rps(
    ctx: FakeContext, users: int, seconds: float
) -> tuple[float, int, int, float]:
    """(requests/s, requests, failed, cores the locust process used)."""
    load = Load(
        service="gateway", users=users, spawn_rate=1000, key=MASTER_KEY,
        mix=[LoadRequest(kind="chat_completion", model="gpt-4o-mini")],
        baseline=1.0, after=0,
    )
    rec = recorder()
    session = LoadSession(load, ctx, rec)
    session.start()
    assert session.proc is not None
    proc = psutil.Process(session.proc.pid)
    c0, t0 = sum(proc.cpu_times()[:2]), time.perf_counter()
    time.sleep(seconds)
    cores = (sum(proc.cpu_times()[:2]) - c0) / (time.perf_counter() - t0)
    session.stop(linger=False)
    whole = [b for b in rec.load_buckets()[1:] if b.end - b.start >= 0.999]
    requests = sum(b.requests for b in whole)
    rate = requests / max(1e-9, sum(b.end - b.start for b in whole))
    return rate, requests, sum(b.failures for b in whole), cores


def wrk_rps(url: str, users: int, seconds: float) -> tuple[float, int]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA % MASTER_KEY)
    try:
        argv = pinned(1, ["wrk", "-t1", f"-c{users}", f"-d{max(1, round(seconds))}s",
                          "-s", f.name, url + "/v1/chat/completions"])
        out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    finally:
        Path(f.name).unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return rps, total


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--users", type=int, default=32)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    gateway = subprocess.Popen(
        pinned(0, [sys.executable, "-m", "drillbook.gateway", "--config", str(FIXTURE),
                   "--port", str(port), "--log-level", "warning"]),
        env={**os.environ, "DRILLBOOK_DRILL_TOKEN": "bench"},
    )
    try:
        wait_up(url)
        with tempfile.TemporaryDirectory() as tmp:
            info = ServiceInfo(name="gateway", kind="gateway", url=url)
            ctx = FakeContext(Path(tmp), services=[FakeService("gateway", "gateway", info=info)])
            # taskset for the load process: run the whole bench's children on cpu 1.
            if hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, {1} if (os.cpu_count() or 1) > 1 else {0})
            l_rps, l_total, l_failed, l_cores = locust_rps(ctx, args.users, args.duration)
            w_rps, w_total = wrk_rps(url, args.users, args.duration)
            idle = harness_cpu(ctx, args.duration, None)
            light = Load(service="gateway", users=8, rps=100, key=MASTER_KEY, baseline=1.0)
            loaded = harness_cpu(ctx, args.duration, light)
    finally:
        gateway.terminate()
        gateway.wait(10)
    result = {
        "duration_s": args.duration, "users": args.users,
        "locust_rps": round(l_rps, 1), "locust_requests": l_total, "locust_failed": l_failed,
        "locust_cores": round(l_cores, 3),
        "wrk_rps": round(w_rps, 1), "wrk_requests": w_total,
        "ratio": round(l_rps / w_rps, 3) if w_rps else None,
        "harness_cores_probing_10hz": round(idle[0], 4), "samples": idle[1],
        "harness_cores_probing_and_reading_load": round(loaded[0], 4),
        "samples_with_load": loaded[1], "buckets_read": loaded[2],
    }
    print(f"\n{args.users} connections/users, {args.duration:g} s each, gateway on cpu 0, "
          f"load tool on cpu 1, {os.cpu_count()} cpus\n")
    print("| load tool | requests/s | requests |")
    print("|---|---:|---:|")
    print(f"| drillbook load (locust FastHttpUser, 1 process) | {l_rps:,.0f} | {l_total:,} |")
    print(f"| wrk -t1 | {w_rps:,.0f} | {w_total:,} |")
    print(f"\nratio locust / wrk: {result['ratio']} (locust used {l_cores:.2f} cores)")
    print(f"harness CPU probing at 10 Hz: {idle[0] * 100:.2f} % of a core ({idle[1]} samples); "
          f"with 8 users at 100 rps reading buckets: {loaded[0] * 100:.2f} % ({loaded[2]} buckets)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
