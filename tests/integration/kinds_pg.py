"""A real PostgreSQL for the kinds' integration tests, from the local backend.

One server per test session; every test gets its own fresh database on it, seen through a
FakeService whose info is the real server's (so faults, steps and probes connect for real).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from drillbook.backends.base import ServiceHandle
from drillbook.backends.local import LocalBackend
from drillbook.probes import close_connections
from drillbook.services.postgres import PostgresService
from drillbook.testing import FakeContext, FakeService

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", name="pg_server")
def pg_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceHandle]:
    run_dir = tmp_path_factory.mktemp("kinds-pg")
    backend = LocalBackend(run_dir, f"kinds-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    try:
        yield backend.provision("db", PostgresService(kind="postgres"), timeout=90)
    finally:
        close_connections()
        backend.teardown()


@dataclass
class PgDrill:
    ctx: FakeContext
    db: FakeService
    server: ServiceHandle
    dsn: str

    def execute(self, statement: str) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(statement)

    def value(self, query: str) -> object:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            row = conn.execute(query).fetchone()
        return None if row is None else row[0]


@pytest.fixture(name="pg")
def pg_fixture(pg_server: ServiceHandle, tmp_path: Path) -> Iterator[PgDrill]:
    info = pg_server.info
    assert info.dsn is not None and info.admin_dsn is not None
    name = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(info.admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    dsn = make_conninfo(info.dsn, dbname=name)
    db = FakeService(
        "db",
        "postgres",
        info=info.model_copy(update={"dsn": dsn, "database": name}),
        env={"DATABASE_URL": dsn},
    )
    work = tmp_path / "work"
    work.mkdir()
    ctx = FakeContext(work, base_dir=REPO, services=[db])
    try:
        yield PgDrill(ctx=ctx, db=db, server=pg_server, dsn=dsn)
    finally:
        close_connections()
        with psycopg.connect(info.admin_dsn, autocommit=True) as admin:
            admin.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
