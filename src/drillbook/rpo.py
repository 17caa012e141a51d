"""Measured RPO: a canary writer and what survives the recovery.

From the start of seeding until the fault, a canary thread inserts a numbered row into a
drill-owned table every `interval`, remembering when each insert was acknowledged. The fault
marks the incident: the canary stops there (or earlier, at the first refused write). After
recovery, the newest canary row that survived tells how much acknowledged data the recovery
lost, in seconds and in rows:

    rpo = ack time of the last write before the incident - ack time of the newest survivor

The table is created before the scenario's own seed steps, so backups the drill takes
include it like any application table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg

from drillbook.journal import RpoRecord
from drillbook.pgclient import connect, describe_error

CANARY_TABLE = "drillbook_canary"


class CanaryWriter:
    def __init__(self, dsn: str, service: str, interval: float, now: Callable[[], float]) -> None:
        self._dsn = dsn
        self._service = service
        self._interval = interval
        self._now = now
        self._stop = threading.Event()
        self._acks: dict[int, float] = {}
        self._stopped_by = ""
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="drillbook-canary", daemon=True)

    def start(self) -> None:
        with connect(self._dsn, statement_timeout=5) as conn:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {CANARY_TABLE} "
                "(seq bigint PRIMARY KEY,"
                " written_at timestamptz NOT NULL DEFAULT clock_timestamp())"
            )
        self._thread.start()

    def stop(self, reason: str = "fault") -> None:
        with self._lock:
            if not self._stopped_by:
                self._stopped_by = reason
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        seq = 0
        conn: psycopg.Connection[tuple[object, ...]] | None = None
        try:
            conn = connect(self._dsn, statement_timeout=max(1.0, self._interval * 10))
            while not self._stop.is_set():
                seq += 1
                conn.execute(f"INSERT INTO {CANARY_TABLE} (seq) VALUES (%s)", (seq,))
                acked = self._now()
                with self._lock:
                    if self._stopped_by:  # acknowledged after the incident: not ours to count
                        break
                    self._acks[seq] = acked
                self._stop.wait(self._interval)
        except psycopg.Error as exc:
            with self._lock:
                self._stopped_by = self._stopped_by or f"write refused: {describe_error(exc)}"
        finally:
            if conn is not None:
                conn.close()

    def record(self) -> RpoRecord:
        with self._lock:
            acks = dict(self._acks)
            stopped_by = self._stopped_by
        last_seq = max(acks) if acks else None
        return RpoRecord(
            service=self._service,
            interval=self._interval,
            writes=len(acks),
            first_t=min(acks.values()) if acks else None,
            last_seq=last_seq,
            last_t=acks[last_seq] if last_seq is not None else None,
            stopped_by=stopped_by,
        )

    def measure(self, dsn: str) -> RpoRecord:
        """Read what survived the recovery and compute the loss window."""
        base = self.record()
        if base.last_seq is None or base.last_t is None:
            return base.model_copy(update={"error": "no canary write was acknowledged"})
        try:
            with connect(dsn, statement_timeout=5) as conn:
                exists = conn.execute(
                    "SELECT to_regclass(%s) IS NOT NULL", (CANARY_TABLE,)
                ).fetchone()
                row = (
                    conn.execute(
                        f"SELECT max(seq) FROM {CANARY_TABLE} WHERE seq <= %s", (base.last_seq,)
                    ).fetchone()
                    if exists and exists[0]
                    else None
                )
        except psycopg.Error as exc:
            return base.model_copy(
                update={"error": f"cannot read the canary: {describe_error(exc)}"}
            )
        survivor = row[0] if row else None
        with self._lock:
            acks = dict(self._acks)
        if survivor is None or int(str(survivor)) not in acks:
            first = base.first_t if base.first_t is not None else base.last_t
            return base.model_copy(
                update={
                    "rpo_seconds": base.last_t - first,
                    "rows_lost": base.writes,
                    "lower_bound": True,
                }
            )
        seq = int(str(survivor))
        return base.model_copy(
            update={
                "survivor_seq": seq,
                "survivor_t": acks[seq],
                "rpo_seconds": max(0.0, base.last_t - acks[seq]),
                "rows_lost": base.last_seq - seq,
            }
        )
