"""Provisioning cost of one drill on the local backend, against raw PostgreSQL.

    python bench/provision.py [-n 10]

Measures, N times each in this one process (after one warm-up that builds the template):
  drill pg+s3    LocalBackend: provision postgres, provision s3, teardown (what a drill pays)
  drill pg       LocalBackend: provision postgres, teardown
  raw pg_ctl     cp -a of the template cluster, pg_ctl start -w, pg_ctl stop -m fast -w, rm
  initdb+start   initdb, pg_ctl start -w (what a drill would pay without the template)
  copy+start     cp -a of the template, pg_ctl start -w
and prints medians and the ratios drill / raw.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from drillbook.backends.local import LocalBackend, pgbin
from drillbook.backends.local.pgtemplate import ensure_template
from drillbook.backends.local.ports import free_port
from drillbook.backends.local.runas import RunAs, chown_tree, service_user
from drillbook.backends.local.runtime import copy_tree, runtime_root
from drillbook.services import PostgresService, S3Service


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def as_user(argv: list[str], user: RunAs | None) -> None:
    subprocess.run(
        argv,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        user=user.uid if user else None,
        group=user.gid if user else None,
        extra_groups=[] if user else None,
        cwd="/",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=10)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="drillbook-bench-"))
    os.environ["DRILLBOOK_HOME"] = str(home)
    install = pgbin.pick(None)
    user = service_user()
    server_bin = pgbin.server_bindir(install, user)
    template = ensure_template(install, server_bin, user)
    scratch = runtime_root() / f"bench-{secrets.token_hex(4)}"
    scratch.mkdir(mode=0o700)
    chown_tree(scratch, user)
    results: dict[str, list[float]] = {}

    def drill(with_s3: bool) -> tuple[float, float]:
        run_id = f"bench-{secrets.token_hex(4)}"
        backend = LocalBackend(home / "runs" / run_id, run_id)
        started = time.perf_counter()
        backend.provision("db", PostgresService(kind="postgres"), timeout=60)
        if with_s3:
            backend.provision("s3", S3Service(kind="s3"), timeout=60)
        up = time.perf_counter() - started
        down = timed(backend.teardown)
        return up, down

    def pg_ctl_start(data: Path) -> None:
        options = f"-p {free_port()} -c listen_addresses=127.0.0.1 -k {scratch}"
        as_user(
            [
                str(server_bin / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                f"{data}.log",
                "-w",
                "start",
            ],
            user,
        )

    def pg_ctl_stop(data: Path) -> None:
        as_user([str(server_bin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], user)

    def raw() -> tuple[float, float, float]:
        data = scratch / f"raw-{secrets.token_hex(4)}"
        copy = timed(lambda: copy_tree(template, data))
        start = timed(lambda: pg_ctl_start(data))
        stop = timed(lambda: (pg_ctl_stop(data), shutil.rmtree(data)))
        return copy, start, stop

    def initdb_start() -> float:
        data = scratch / f"init-{secrets.token_hex(4)}"
        argv = [
            str(server_bin / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
        ]
        took = timed(lambda: (as_user(argv, user), pg_ctl_start(data)))
        pg_ctl_stop(data)
        shutil.rmtree(data)
        return took

    drill(True)  # warm-up: imports, first moto start, wheel copy if any
    for _ in range(args.n):
        up, down = drill(True)
        results.setdefault("drill pg+s3: provision", []).append(up)
        results.setdefault("drill pg+s3: teardown", []).append(down)
        results.setdefault("drill pg+s3: total", []).append(up + down)
        up, down = drill(False)
        results.setdefault("drill pg: provision", []).append(up)
        results.setdefault("drill pg: total", []).append(up + down)
        copy, start, stop = raw()
        results.setdefault("raw pg_ctl: copy+start", []).append(copy + start)
        results.setdefault("raw pg_ctl: total", []).append(copy + start + stop)
    for _ in range(min(args.n, 5)):
        results.setdefault("initdb+start", []).append(initdb_start())

    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in results.items()}
    print(f"PostgreSQL {install.version} ({install.source}), n={args.n}, medians:")
    for name, value in medians.items():
        print(f"  {name:<28} {value * 1000:8.0f} ms")
    raw_total = medians["raw pg_ctl: total"]
    print(f"  ratio drill pg+s3 / raw pg_ctl   {medians['drill pg+s3: total'] / raw_total:.2f}x")
    print(f"  ratio drill pg / raw pg_ctl      {medians['drill pg: total'] / raw_total:.2f}x")
    template_gain = medians["initdb+start"] / medians["raw pg_ctl: copy+start"]
    print(f"  ratio initdb+start / copy+start  {template_gain:.2f}x")


if __name__ == "__main__":
    main()
