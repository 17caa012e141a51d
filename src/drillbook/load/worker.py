"""The load process: locust as a library, printing one JSON line per bucket on stdout.

    python -m drillbook.load.worker --plan PLAN.json [--role local|master|worker] [--port P]

Run by drillbook.load.session, never imported by the harness: importing locust monkey-patches
the whole interpreter with gevent. `local` runs the users here; `master` starts `workers`
child processes (`--role worker`) that run the users and send their raw samples with each
report, and merges them. Buckets are cut by each request's completion time on CLOCK_MONOTONIC,
which every process of the machine shares (so the harness can place them on its own clock).
SIGTERM stops the users, prints the remaining buckets and a `done` line, and exits.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]
import gevent.event  # type: ignore[import-untyped]
import locust.runners
from locust import FastHttpUser, constant, constant_throughput, task
from locust.env import Environment

from drillbook.load.plan import KEY_ENV, BucketLine, LoadPlan, round_ms

# A worker reports every 3 s by default; a bucket is only complete once every worker reported.
REPORT_INTERVAL = 0.5
_Sample = tuple[int, float, int, bool]  # completion ns, response ms, status, failed


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def make_user(plan: LoadPlan) -> type[FastHttpUser]:
    key = os.environ.get(KEY_ENV, "")
    value = f"Bearer {key}" if plan.header.lower() == "authorization" and key else key
    requests = list(plan.requests)
    weights = [r.weight for r in requests]
    rng = random.Random(plan.seed)

    class DrillUser(FastHttpUser):
        host = plan.base_url
        network_timeout = plan.timeout
        connection_timeout = plan.timeout
        # rps caps the whole swarm: each user may do rps/users requests per second.
        wait_time = constant_throughput(plan.rps / plan.users) if plan.rps else constant(0)

        @task
        def one(self) -> None:
            req = rng.choices(requests, weights)[0]
            headers = {plan.header: value} if req.auth and key else {}
            self.client.request(
                req.method, req.path, name=req.label, headers=headers, json=req.body
            )

    return DrillUser


class Collector:
    """Request samples waiting to be cut into buckets (here, or sent on to the master)."""

    def __init__(self) -> None:
        self.pending: list[_Sample] = []

    def on_request(
        self, response_time: float, response: Any = None, exception: Any = None, **_: Any
    ) -> None:
        status = int(getattr(response, "status_code", 0) or 0)
        failed = exception is not None
        self.pending.append((time.perf_counter_ns(), float(response_time), status, failed))

    def take(self) -> list[_Sample]:
        taken, self.pending = self.pending, []
        return taken


class Bucketer:
    """Cuts samples into fixed buckets from `origin` and prints each one once it is complete."""

    def __init__(self, origin_ns: int, width: float, users: Callable[[], int]) -> None:
        self.origin = origin_ns
        self.width = int(width * 1e9)
        self.users = users
        self.open: dict[int, list[_Sample]] = {}
        self.next_index = 0

    def add(self, samples: list[_Sample]) -> None:
        for sample in samples:
            index = max(0, (sample[0] - self.origin) // self.width)
            index = max(index, self.next_index)  # a late report counts in the oldest open one
            self.open.setdefault(index, []).append(sample)

    def flush(self, *, before_ns: int) -> None:
        """Print every bucket ending before `before_ns` (empty ones too: no request is news)."""
        while self.origin + (self.next_index + 1) * self.width <= before_ns:
            self._print(self.next_index, self.origin + (self.next_index + 1) * self.width)
            self.next_index += 1

    def flush_all(self, now_ns: int) -> None:
        self.flush(before_ns=now_ns)
        if self.open:
            last = max(self.open)
            while self.next_index <= last:
                start = self.origin + self.next_index * self.width
                end = min(now_ns, start + self.width)
                self._print(self.next_index, max(end, start + 1))
                self.next_index += 1

    def _print(self, index: int, end_ns: int) -> None:
        samples = self.open.pop(index, [])
        times = sorted(s[1] for s in samples)
        failed = [s for s in samples if s[3]]
        by_status: dict[str, int] = {}
        for s in failed:
            by_status[str(s[2])] = by_status.get(str(s[2]), 0) + 1
        hist: dict[int, int] = {}
        for ms in times:
            key = round_ms(ms)
            hist[key] = hist.get(key, 0) + 1

        def pct(q: float) -> float | None:
            if not times:
                return None
            return times[min(len(times) - 1, max(0, int(q * len(times) + 0.999999) - 1))]

        line = BucketLine(
            start_ns=self.origin + index * self.width,
            end_ns=end_ns,
            requests=len(samples),
            failures=len(failed),
            by_status=by_status,
            p50=pct(0.5),
            p95=pct(0.95),
            p99=pct(0.99),
            max=times[-1] if times else None,
            first_failure_ns=min((s[0] for s in failed), default=None),
            last_failure_ns=max((s[0] for s in failed), default=None),
            users=self.users(),
            hist=hist,
        )
        _emit(line.model_dump(mode="json"))


def _serve(plan: LoadPlan, env: Environment, collector: Collector | None, grace: float) -> None:
    """Start the users, print buckets as they complete, stop cleanly on SIGTERM."""
    runner = env.runner
    assert runner is not None
    origin = time.perf_counter_ns()
    bucketer = Bucketer(origin, plan.bucket, lambda: runner.user_count)
    _emit({"type": "started", "origin_ns": origin, "pid": os.getpid(), "workers": plan.workers})
    runner.start(plan.users, spawn_rate=plan.spawn_rate)
    stopping = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stopping.set)
    gevent.signal_handler(signal.SIGINT, stopping.set)
    lag = int(grace * 1e9)
    while not stopping.wait(timeout=min(0.25, plan.bucket / 4)):
        if collector is not None:
            bucketer.add(collector.take())
        bucketer.flush(before_ns=time.perf_counter_ns() - lag)
    stopped_at = time.perf_counter_ns()
    runner.stop()
    if plan.workers:
        gevent.sleep(REPORT_INTERVAL * 2 + 0.2)  # the workers' last reports
    if collector is not None:
        bucketer.add(collector.take())
    bucketer.flush_all(stopped_at)
    _emit({"type": "done", "stopped_ns": stopped_at})
    runner.quit()


def run_local(plan: LoadPlan) -> None:
    env = Environment(user_classes=[make_user(plan)], catch_exceptions=True)
    collector = Collector()
    env.events.request.add_listener(collector.on_request)  # type: ignore[no-untyped-call]
    env.create_local_runner()
    _serve(plan, env, collector, grace=0.05)


def run_master(plan: LoadPlan, plan_path: str, port: int) -> None:
    env = Environment(user_classes=[make_user(plan)], catch_exceptions=True)
    collector = Collector()

    def on_worker_report(client_id: str, data: dict[str, Any]) -> None:
        for s in data.get("drillbook", ()):
            collector.pending.append((int(s[0]), float(s[1]), int(s[2]), bool(s[3])))

    env.events.worker_report.add_listener(on_worker_report)  # type: ignore[no-untyped-call]
    runner = env.create_master_runner("127.0.0.1", port)
    children = [
        subprocess.Popen(_worker_argv(plan_path, port)) for _ in range(plan.workers)
    ]
    deadline = time.monotonic() + 30
    while len(runner.clients.ready) < plan.workers:
        if time.monotonic() > deadline or any(c.poll() is not None for c in children):
            _emit({"type": "error", "message": f"only {len(runner.clients.ready)} of "
                   f"{plan.workers} locust workers connected within 30 s"})
            runner.quit()
            for child in children:
                child.kill()
            sys.exit(3)
        gevent.sleep(0.1)
    try:
        _serve(plan, env, collector, grace=REPORT_INTERVAL * 2 + 0.2)
    finally:
        for child in children:
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()


def _worker_argv(plan_path: str, port: int) -> list[str]:
    module = "drillbook.load.worker"
    return [sys.executable, "-m", module, "--plan", plan_path, "--role", "worker",
            "--port", str(port)]


def run_worker(plan: LoadPlan, port: int) -> None:
    env = Environment(user_classes=[make_user(plan)], catch_exceptions=True)
    collector = Collector()
    env.events.request.add_listener(collector.on_request)  # type: ignore[no-untyped-call]

    def on_report(client_id: str, data: dict[str, Any]) -> None:
        data["drillbook"] = [list(s) for s in collector.take()]

    env.events.report_to_master.add_listener(on_report)  # type: ignore[no-untyped-call]
    # SIGTERM to the whole group must not cut a worker's last report short: the master decides.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    runner = env.create_worker_runner("127.0.0.1", port)
    runner.greenlet.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drillbook.load.worker")
    parser.add_argument("--plan", required=True)
    parser.add_argument("--role", choices=("local", "master", "worker"), default=None)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    plan = LoadPlan.model_validate_json(Path(args.plan).read_text(encoding="utf-8"))
    locust.runners.WORKER_REPORT_INTERVAL = REPORT_INTERVAL
    role = args.role or ("master" if plan.workers else "local")
    if role == "worker":
        run_worker(plan, args.port)
    elif role == "master":
        run_master(plan, args.plan, args.port or _free_port())
    else:
        run_local(plan)
    return 0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
