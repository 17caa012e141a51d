"""Provision + teardown of postgres + s3 + gateway: docker backend against the local backend.

    python bench/docker_vs_local.py [-n 5]

One warm-up cycle per backend (template cluster, image layers in the page cache), then N
cycles each, alternating, in this one process. Each cycle: provision db (postgres), s3 and
gateway (database: db), all healthy, then teardown. Prints medians per phase and the ratio
docker / local. Needs the images (`drillbook images build`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from drillbook.backends import make_backend
from drillbook.clock import MonotonicClock
from drillbook.services.gateway import GatewayService
from drillbook.services.postgres import PostgresService
from drillbook.services.s3 import S3Service

REPO = Path(__file__).resolve().parents[1]


def cycle(backend_name: str, index: int) -> dict[str, float]:
    run_dir = Path(tempfile.mkdtemp(prefix=f"drillbook-bench-{backend_name}-"))
    backend = make_backend(
        backend_name, run_dir, f"bench-{backend_name}-{index}-{os.getpid()}", MonotonicClock(), REPO
    )
    times: dict[str, float] = {}
    started = time.perf_counter()
    try:
        backend.provision("db", PostgresService(kind="postgres"), timeout=120)
        times["postgres"] = time.perf_counter() - started
        mark = time.perf_counter()
        backend.provision("s3", S3Service(kind="s3"), timeout=120)
        times["s3"] = time.perf_counter() - mark
        mark = time.perf_counter()
        spec = GatewayService(kind="gateway", config="fixtures/gateway/config.yaml", database="db")
        backend.provision("gateway", spec, timeout=120)
        times["gateway"] = time.perf_counter() - mark
        times["provision"] = time.perf_counter() - started
    finally:
        mark = time.perf_counter()
        backend.teardown()
        times["teardown"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - started
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DRILLBOOK_HOME", tempfile.mkdtemp(prefix="drillbook-bench-home-"))
    results: dict[str, list[dict[str, float]]] = {"local": [], "docker": []}
    for name in results:
        cycle(name, -1)  # warm-up
    for i in range(args.n):
        for name, cycles in results.items():
            cycles.append(cycle(name, i))
    phases = ["postgres", "s3", "gateway", "provision", "teardown", "total"]
    print(f"{'phase':<10} {'local ms':>9} {'docker ms':>10} {'ratio':>6}   (median of {args.n})")
    for phase in phases:
        local = statistics.median(r[phase] for r in results["local"]) * 1000
        docker = statistics.median(r[phase] for r in results["docker"]) * 1000
        print(f"{phase:<10} {local:>9.0f} {docker:>10.0f} {docker / local:>5.2f}x")


if __name__ == "__main__":
    main()
