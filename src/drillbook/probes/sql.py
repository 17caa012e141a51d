"""The `sql` probe: a query answers, with the expected value, within the probe timeout.

The sampler runs probes every 100 ms, so connections are cached per (thread, database,
timeout) and reused; any connection that is broken or not idle after an error is dropped at
once, so a killed server fails the very next check and a restarted one passes it.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Literal

import psycopg
from pydantic import Field

from drillbook import pgclient
from drillbook.context import DrillContext
from drillbook.errors import ProbeError
from drillbook.registry import PROBES
from drillbook.scenario.kinds import ProbeResult, ProbeSpec

_Conn = psycopg.Connection[tuple[Any, ...]]
_Key = tuple[int, str, int]
_pool: dict[_Key, _Conn] = {}
_pool_lock = threading.Lock()
# Probes observe: their sessions refuse writes.
_READ_ONLY = {"default_transaction_read_only": "on"}


@PROBES.register
class SqlProbe(ProbeSpec):
    """Run `query` read-only; pass when it succeeds and (if given) its first value matches."""

    kind: Literal["sql"]
    service: str
    database: str | None = Field(None, description="default: the service's drill database")
    query: str = Field(description="e.g. select count(*) from configs")
    expect: pgclient.ExpectText | None = None
    keep_connection: bool = Field(
        True,
        description="reuse one connection between checks (fast); false connects every time, "
        "for procedures that need the database to themselves (DROP DATABASE without FORCE)",
    )

    def label(self) -> str:
        return self.name or f"sql {self.service}: {self.query}"[:80]

    def check(self, ctx: DrillContext, timeout: float) -> ProbeResult:
        handle = ctx.service(self.service)
        dsn = pgclient.dsn_for(handle.info, self.database)
        if dsn is None:
            raise ProbeError(f"sql probe: service {self.service!r} ({handle.kind}) has no dsn")
        key: _Key = (threading.get_ident(), dsn, int(timeout * 1000))
        for attempt in (1, 2):
            conn = _take(key) if self.keep_connection else None
            reused = conn is not None
            try:
                if conn is None:
                    conn = pgclient.connect(
                        dsn,
                        connect_timeout=timeout,
                        statement_timeout=timeout,
                        settings=_READ_ONLY,
                        application_name="drillbook-probe",
                    )
                row = conn.execute(self.query).fetchone()
            except psycopg.Error as exc:
                healthy = conn is not None and _usable(conn)
                if conn is not None and healthy and self.keep_connection:
                    _give(key, conn)
                elif conn is not None:
                    conn.close()
                # A cached connection can die with a restart the check must not blame.
                if reused and not healthy and attempt == 1:
                    continue
                return ProbeResult(ok=False, detail=pgclient.describe_error(exc))
            if self.keep_connection:
                _give(key, conn)
            else:
                conn.close()
            return self._judge(row)
        raise AssertionError("unreachable")

    def _judge(self, row: tuple[Any, ...] | None) -> ProbeResult:
        if self.expect is None:
            return ProbeResult(ok=True, detail="query ok")
        expectation = pgclient.Expectation.parse(self.expect)
        if row is None or not row:
            return ProbeResult(ok=False, detail=f"no rows (expected {expectation})")
        value = pgclient.render_value(row[0])
        if not expectation.matches(row[0]):
            return ProbeResult(ok=False, detail=f"got {value}, expected {expectation}")
        return ProbeResult(ok=True, detail=value)


def _usable(conn: _Conn) -> bool:
    return (
        not conn.closed
        and not conn.broken
        and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    )


def _take(key: _Key) -> _Conn | None:
    with _pool_lock:
        conn = _pool.pop(key, None)
    if conn is not None and not _usable(conn):
        conn.close()
        return None
    return conn


def _give(key: _Key, conn: _Conn) -> None:
    with _pool_lock:
        old = _pool.get(key)
        _pool[key] = conn
    if old is not None and old is not conn:
        old.close()


def close_connections() -> None:
    """Close every cached probe connection (the runner calls this at teardown)."""
    with _pool_lock:
        conns = list(_pool.values())
        _pool.clear()
    for conn in conns:
        with contextlib.suppress(psycopg.Error):
            conn.close()
