"""A throwaway PostgreSQL 15 for the gateway's tests (until they move onto the local backend).

initdb refuses root, so the server runs as the unprivileged `drillbook` user (or `nobody`),
with its data dir in a fresh /tmp directory it owns. Import `pg_server` and `pg_db` into a test
module: `pg_server` is one server per session, `pg_db` a fresh database per test.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

BINDIR = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _user() -> str | None:
    if os.geteuid() != 0:
        return None
    names = {entry.pw_name for entry in pwd.getpwall()}
    return next((n for n in ("drillbook", "nobody") if n in names), None)


@dataclass
class PgServer:
    root: Path
    port: int
    user: str | None

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def _as_user(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", self.user, "--", *argv] if self.user else argv

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        subprocess.run(
            self._as_user(
                [
                    str(BINDIR / "initdb"),
                    "-D",
                    str(self.datadir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            self._as_user(
                [
                    str(BINDIR / "pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.root / "log"),
                    "-o",
                    opts,
                    "-w",
                    "-t",
                    "30",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            self._as_user(
                [str(BINDIR / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"]
            ),
            check=False,
            capture_output=True,
        )

    def create_database(self, name: str | None = None) -> str:
        name = name or f"gw_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return self.url(name)

    def dump_schema(self, url: str) -> str:
        """pg_dump --schema-only, comments and settings stripped: the catalog to compare."""
        out = subprocess.run(
            [str(BINDIR / "pg_dump"), "--schema-only", "--no-owner", "--no-privileges", url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return "\n".join(
            line
            for line in out.splitlines()
            if line.strip()
            and not line.startswith(
                ("--", "SET ", "SELECT pg_catalog", "\\restrict", "\\unrestrict")
            )
        )


def start_server() -> PgServer:
    if not (BINDIR / "initdb").exists():
        pytest.skip(f"no PostgreSQL 15 in {BINDIR}")
    user = _user()
    root = Path(tempfile.mkdtemp(prefix="drillbook-gwpg-"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    server = PgServer(root, _free_port(), user)
    server.init()
    server.start()
    return server


def destroy(server: PgServer) -> None:
    server.stop("immediate")
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session", name="pg_server")
def pg_server_fixture() -> Iterator[PgServer]:
    server = start_server()
    try:
        yield server
    finally:
        destroy(server)


@pytest.fixture(name="pg_db")
def pg_db_fixture(pg_server: PgServer) -> str:
    return pg_server.create_database()
