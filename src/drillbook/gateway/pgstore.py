"""The Postgres store: the tables of fixtures/migrations, through one guarded connection.

Admin traffic is light, so one connection behind a lock is enough; it is reopened after a
failure, so the gateway recovers by itself when a drill brings the database back. Statement
and lock timeouts turn a frozen or locked database into errors within seconds, not hangs.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import JsonValue

from drillbook.gateway.migrations import current_version
from drillbook.gateway.store import (
    AuditDraft,
    AuditRecord,
    ConfigValue,
    FeatureFlag,
    GovernanceLimit,
    HubCounts,
    ProviderSelection,
    StoreError,
    StoreUnavailableError,
    VirtualKey,
)

T = TypeVar("T")
Conn = psycopg.Connection[tuple[Any, ...]]

CONNECT_TIMEOUT_S = 3
STATEMENT_TIMEOUT_MS = 5000
PING_CACHE_S = 0.5
_HUB_TABLES = (
    "llm_providers",
    "llm_provider_keys",
    "llm_models",
    "llm_routing_rules",
    "llm_usage_analytics",
)


class PostgresStore:
    kind = "postgres"

    def __init__(self, url: str, on_connect: Callable[[], None] | None = None) -> None:
        self._url = url
        self._lock = threading.Lock()
        self._conn: Conn | None = None
        self._on_connect = on_connect
        self._ping_at = 0.0
        self._ping_ok = False

    def _connect(self, timeout: int = CONNECT_TIMEOUT_S) -> Conn:
        return psycopg.connect(
            self._url,
            autocommit=True,
            connect_timeout=timeout,
            application_name="drillbook-gateway",
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS} "
            f"-c lock_timeout={STATEMENT_TIMEOUT_MS}",
        )

    def _run(self, fn: Callable[[Conn], T]) -> T:
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = self._connect()
                return fn(self._conn)
            except psycopg.OperationalError as exc:
                self._drop()
                raise StoreUnavailableError(f"database unavailable: {_first_line(exc)}") from exc
            except psycopg.Error as exc:
                if self._conn is not None and self._conn.broken:
                    self._drop()
                raise StoreError(f"database error: {_first_line(exc)}") from exc

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None

    def ping(self) -> bool:
        # A fresh connection each time: the shared one may be stuck behind a long query,
        # and connect_timeout bounds a frozen (SIGSTOPped) server too.
        now = time.monotonic()
        if now - self._ping_at < PING_CACHE_S:
            return self._ping_ok
        try:
            with self._connect(timeout=2) as conn:
                conn.execute("SELECT 1")
            ok = True
        except psycopg.Error:
            ok = False
        self._ping_at, self._ping_ok = time.monotonic(), ok
        if ok and self._on_connect is not None:
            hook, self._on_connect = self._on_connect, None
            hook()
        return ok

    def schema_version(self) -> int | None:
        return self._run(current_version)

    # -- audit -------------------------------------------------------------------------------

    @staticmethod
    def _audit(conn: Conn, draft: AuditDraft) -> AuditRecord:
        row = conn.execute(
            "INSERT INTO audit_log (actor, action, target, before, after) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id, ts",
            (draft.actor, draft.action, draft.target, Jsonb(draft.before), Jsonb(draft.after)),
        ).fetchone()
        assert row is not None
        return AuditRecord(id=row[0], ts=row[1], **draft.model_dump())

    def _write(self, draft: AuditDraft, change: Callable[[Conn], T]) -> T:
        def tx(conn: Conn) -> T:
            with conn.transaction():
                out = change(conn)
                self._audit(conn, draft)
                return out

        return self._run(tx)

    def record(self, draft: AuditDraft) -> AuditRecord:
        return self._run(lambda conn: self._audit(conn, draft))

    def audit_entries(self, limit: int) -> list[AuditRecord]:
        rows = self._run(
            lambda c: c.execute(
                "SELECT id, ts, actor, action, target, before, after FROM audit_log "
                "ORDER BY id DESC LIMIT %s",
                (limit,),
            ).fetchall()
        )
        return [
            AuditRecord(
                id=r[0], ts=r[1], actor=r[2], action=r[3], target=r[4], before=r[5], after=r[6]
            )
            for r in rows
        ]

    # -- providers, limits, flags ------------------------------------------------------------

    def active_provider(self) -> ProviderSelection | None:
        row = self._run(
            lambda c: c.execute(
                "SELECT name, active_model FROM providers WHERE is_active"
            ).fetchone()
        )
        return ProviderSelection(name=row[0], model=row[1]) if row else None

    def activate_provider(self, selection: ProviderSelection, audit: AuditDraft) -> None:
        def change(conn: Conn) -> None:
            conn.execute(
                "UPDATE providers SET is_active = false, updated_at = now() WHERE is_active"
            )
            conn.execute(
                "INSERT INTO providers (name, is_active, active_model) VALUES (%s, true, %s) "
                "ON CONFLICT (name) DO UPDATE SET is_active = true, "
                "active_model = excluded.active_model, updated_at = now()",
                (selection.name, selection.model),
            )

        self._write(audit, change)

    def limits(self) -> list[GovernanceLimit]:
        rows = self._run(
            lambda c: c.execute(
                "SELECT limit_type, scope, soft_limit_usd, hard_limit_usd FROM governance_limits "
                "ORDER BY limit_type, scope"
            ).fetchall()
        )
        return [
            GovernanceLimit(
                limit_type=r[0], scope=r[1], soft_limit_usd=float(r[2]), hard_limit_usd=float(r[3])
            )
            for r in rows
        ]

    def put_limit(self, limit: GovernanceLimit, audit: AuditDraft) -> None:
        self._write(
            audit,
            lambda c: c.execute(
                "INSERT INTO governance_limits (limit_type, scope, soft_limit_usd, hard_limit_usd) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (limit_type, scope) DO UPDATE SET "
                "soft_limit_usd = excluded.soft_limit_usd, hard_limit_usd = "
                "excluded.hard_limit_usd, updated_at = now()",
                (limit.limit_type, limit.scope, limit.soft_limit_usd, limit.hard_limit_usd),
            ),
        )

    def flag(self, name: str) -> FeatureFlag | None:
        row = self._run(
            lambda c: c.execute(
                "SELECT name, enabled, rollout_percentage FROM feature_flags WHERE name = %s",
                (name,),
            ).fetchone()
        )
        return FeatureFlag(name=row[0], enabled=row[1], rollout_percentage=row[2]) if row else None

    def put_flag(self, flag: FeatureFlag, audit: AuditDraft) -> None:
        self._write(
            audit,
            lambda c: c.execute(
                "INSERT INTO feature_flags (name, enabled, rollout_percentage) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled, "
                "rollout_percentage = excluded.rollout_percentage, updated_at = now()",
                (flag.name, flag.enabled, flag.rollout_percentage),
            ),
        )

    # -- configs -----------------------------------------------------------------------------

    def config_value(self, namespace: str, key: str, env: str) -> ConfigValue | None:
        row = self._run(
            lambda c: c.execute(
                "SELECT namespace, key, env, value, created_at FROM configs WHERE namespace = %s "
                "AND key = %s AND env = %s ORDER BY created_at DESC, id DESC LIMIT 1",
                (namespace, key, env),
            ).fetchone()
        )
        if row is None:
            return None
        return ConfigValue(
            namespace=row[0], key=row[1], env=row[2], value=row[3], created_at=row[4]
        )

    def put_config_value(
        self, namespace: str, key: str, env: str, value: JsonValue, audit: AuditDraft
    ) -> ConfigValue:
        row = self._write(
            audit,
            lambda c: c.execute(
                "INSERT INTO configs (namespace, key, env, value) VALUES (%s, %s, %s, %s) "
                "RETURNING created_at",
                (namespace, key, env, Jsonb(value)),
            ).fetchone(),
        )
        assert row is not None
        return ConfigValue(namespace=namespace, key=key, env=env, value=value, created_at=row[0])

    # -- virtual keys ------------------------------------------------------------------------

    def add_key(self, key: VirtualKey, audit: AuditDraft) -> None:
        self._write(
            audit,
            lambda c: c.execute(
                "INSERT INTO virtual_keys (token_hash, key_alias, models, blocked, expires_at, "
                "created_at) VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    key.token_hash,
                    key.key_alias,
                    list(key.models),
                    key.blocked,
                    key.expires_at,
                    key.created_at,
                ),
            ),
        )

    def find_key(self, token_hash: str) -> VirtualKey | None:
        row = self._run(
            lambda c: c.execute(
                "SELECT token_hash, key_alias, models, blocked, expires_at, created_at "
                "FROM virtual_keys WHERE token_hash = %s",
                (token_hash,),
            ).fetchone()
        )
        if row is None:
            return None
        return VirtualKey(
            token_hash=row[0],
            key_alias=row[1],
            models=tuple(row[2] or ()),
            blocked=row[3],
            expires_at=row[4],
            created_at=row[5],
        )

    def delete_key(self, token_hash: str, audit: AuditDraft) -> bool:
        def tx(conn: Conn) -> bool:
            with conn.transaction():
                cur = conn.execute("DELETE FROM virtual_keys WHERE token_hash = %s", (token_hash,))
                if cur.rowcount == 0:
                    return False
                self._audit(conn, audit)
                return True

        return self._run(tx)

    # -- hub pages ---------------------------------------------------------------------------

    def hub_counts(self) -> HubCounts:
        def count(conn: Conn) -> HubCounts:
            present = conn.execute(
                "SELECT to_regclass('llm_providers') IS NOT NULL, "
                "to_regclass('llm_hub_layouts') IS NOT NULL"
            ).fetchone()
            if not present or not present[0]:
                return HubCounts(available=False)
            counts = [_count(conn, t) for t in _HUB_TABLES]
            layouts = _count(conn, "llm_hub_layouts") if present[1] else None
            return HubCounts(
                available=True,
                providers=counts[0],
                provider_keys=counts[1],
                models=counts[2],
                routing_rules=counts[3],
                usage_rows=counts[4],
                hub_layouts=layouts,
            )

        return self._run(count)

    def close(self) -> None:
        with self._lock:
            self._drop()


def _count(conn: Conn, table: str) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    return int(row[0]) if row else 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
