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
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]
import gevent.event  # type: ignore[import-untyped]
import locust.runners
from locust import FastHttpUser, constant, constant_throughput, task
from locust.env import Environment

from drillbook.load.buckets import Bucketer, Sample
from drillbook.load.plan import KEY_ENV, LoadPlan

# A worker reports every 3 s by default; a bucket is only complete once every worker reported.
REPORT_INTERVAL = 0.5


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
        self.pending: list[Sample] = []

    def on_request(
        self, response_time: float, response: Any = None, exception: Any = None, **_: Any
    ) -> None:
        status = int(getattr(response, "status_code", 0) or 0)
        failed = exception is not None
        self.pending.append((time.perf_counter_ns(), float(response_time), status, failed))

    def take(self) -> list[Sample]:
        taken, self.pending = self.pending, []
        return taken


def _serve(plan: LoadPlan, env: Environment, collector: Collector | None, grace: float) -> None:
    """Start the users, print buckets as they complete, stop cleanly on SIGTERM."""
    runner = env.runner
    assert runner is not None
    origin = time.perf_counter_ns()
    bucketer = Bucketer(origin, plan.bucket, lambda: runner.user_count, _emit)
    _emit({"type": "started", "origin_ns": origin, "pid": os.getpid(), "workers": plan.workers})
    runner.start(plan.users, spawn_rate=plan.spawn_rate)
    stopping = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stopping.set)
    gevent.signal_handler(signal.SIGINT, stopping.set)
    lag = int(grace * 1e9)
    parent = os.getppid()
    while not stopping.wait(timeout=min(0.25, plan.bucket / 4)):
        if os.getppid() != parent:  # the harness died: never load a gateway for nobody
            stopping.set()
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
    parent = os.getppid()

    def orphaned() -> None:  # the master died without saying quit
        while os.getppid() == parent:
            gevent.sleep(0.5)
        runner.quit()

    gevent.spawn(orphaned)
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
