"""Backup + restore of a generated database through the drills/ scripts, against raw tools.

    python bench/backup_restore.py [--mb 1024] [-n 3]

One PostgreSQL from the local backend; a table of ~MB megabytes of generated rows. Each
repetition, in this one process and alternating A, B so drift hits both:
  A  drills/config-manager/backup-db.sh, then drills/config-manager/restore-db.sh (drop,
     recreate, pg_restore, verify counts), run with the drill environment contract
  B  raw `pg_dump -Fc` to a file, then dropdb/createdb + `pg_restore -j2`
Prints the medians and the ratio A/B (the target in issue 4 is <= 1.05).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from drillbook.backends.local import LocalBackend
from drillbook.services import PostgresService

REPO = Path(__file__).resolve().parents[1]


def generate(dsn: str, megabytes: int) -> int:
    # ~200 bytes a row: jsonb value + text columns, like the configs table.
    rows = megabytes * 1024 * 1024 // 200
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE configs (id bigserial PRIMARY KEY, namespace text, key text, env text,"
            " value jsonb, created_at timestamptz)"
        )
        conn.execute(
            "INSERT INTO configs (namespace, key, env, value, created_at) "
            "SELECT 'ns' || (n %% 50), 'key_' || n, 'prod', "
            "jsonb_build_object('limit', n, 'label', md5(n::text), 'more', md5((n * 7)::text)), "
            "timestamptz '2026-01-01' + make_interval(secs => n) FROM generate_series(1, %s) n",
            (rows,),
        )
        conn.execute("VACUUM ANALYZE configs")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(size[0]) if size else 0


def run(argv: list[str], env: dict[str, str]) -> None:
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, cwd=REPO)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("-n", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="drillbook-bench-br-"))
    os.environ.setdefault("DRILLBOOK_HOME", str(work / "home"))
    backend = LocalBackend(work / "run", "bench-" + secrets.token_hex(3))
    try:
        db = backend.provision("db", PostgresService(kind="postgres"), timeout=120)
        dsn = db.info.dsn or ""
        size = generate(dsn, args.mb)
        env = dict(os.environ, **db.env(), BACKUP_DIR=str(work / "backups"))
        env["PATH"] = os.pathsep.join([*map(str, backend.client_path()), env["PATH"]])
        admin = db.info.admin_dsn or ""
        drill, raw = [], []
        for _ in range(args.n):
            started = time.perf_counter()
            run([str(REPO / "drills/config-manager/backup-db.sh")], env)
            run([str(REPO / "drills/config-manager/restore-db.sh")], env)
            drill.append(time.perf_counter() - started)

            dump = work / "raw.dump"
            started = time.perf_counter()
            run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), dsn], env)
            run(["psql", admin, "-qc", 'DROP DATABASE "drill" WITH (FORCE)'], env)
            run(["psql", admin, "-qc", 'CREATE DATABASE "drill"'], env)
            run(["pg_restore", "-j2", "--no-owner", "-d", dsn, str(dump)], env)
            raw.append(time.perf_counter() - started)
            for old in (work / "backups").glob("*.dump"):
                old.unlink()
        a, b = statistics.median(drill), statistics.median(raw)
        print(f"database size: {size / 2**20:.0f} MiB, repetitions: {args.n}")
        print(f"drills/ backup-db.sh + restore-db.sh: median {a:.2f} s  (all: {drill})")
        print(f"raw pg_dump -Fc + pg_restore -j2:    median {b:.2f} s  (all: {raw})")
        print(f"ratio drill/raw: {a / b:.3f}")
    finally:
        backend.teardown()


if __name__ == "__main__":
    main()
