"""Versioned up/down SQL migrations with a `_migrations` table shaped like sqlx's.

Files are `NNNN_description.up.sql` / `NNNN_description.down.sql`. Each runs in a transaction
unless its first line is `-- no-transaction`; then its statements run one by one, so a failure
half way leaves it partially applied, recorded with success = false ("dirty") until fixed by
hand, as sqlx does. Sources overlay: a later directory's file replaces an earlier one's of the
same version (how the drill fixtures swap one good migration for a bad one).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import psycopg
from psycopg import sql

from drillbook.errors import DrillbookError

TABLE = "_migrations"
_NAME = re.compile(r"^(\d+)_([A-Za-z0-9_]+)\.(up|down)\.sql$")
_LOCK_KEY = 0x6472696C6C  # 'drill': one migrator per database at a time
NO_TRANSACTION = "-- no-transaction"


class MigrationError(DrillbookError):
    """A migration could not be resolved, applied or reverted; the database says why."""


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    up_sql: str
    down_sql: str | None
    up_path: Path

    @property
    def source(self) -> Path:
        return self.up_path.parent

    @property
    def checksum(self) -> bytes:
        return hashlib.sha384(self.up_sql.encode()).digest()

    @property
    def no_transaction(self) -> bool:
        return self.up_sql.lstrip().startswith(NO_TRANSACTION)


@dataclass(frozen=True)
class Applied:
    version: int
    description: str
    checksum: bytes
    success: bool
    execution_ms: int


def default_source() -> Path:
    """fixtures/migrations of the source tree (the image copies it to the same place)."""
    return Path(__file__).resolve().parents[3] / "fixtures" / "migrations"


def discover(sources: Iterable[Path]) -> list[Migration]:
    """Migrations found in `sources`, in version order; later sources override earlier ones."""
    found: dict[int, dict[str, Path]] = {}
    names: dict[int, str] = {}
    for source in sources:
        if not source.is_dir():
            raise MigrationError(f"migrations directory {str(source)!r} does not exist")
        seen_here: set[int] = set()
        for path in sorted(source.iterdir()):
            match = _NAME.match(path.name)
            if not match:
                continue
            version, desc, direction = int(match[1]), match[2], match[3]
            if version not in seen_here:
                found[version] = {}  # the whole pair comes from the latest source having it
                seen_here.add(version)
            found[version][direction] = path
            names[version] = desc
    out = []
    for version in sorted(found):
        files = found[version]
        if "up" not in files:
            raise MigrationError(
                f"migration {version} ({names[version]}) has a down file but no up file "
                f"in {str(files['down'].parent)!r}"
            )
        down = files.get("down")
        out.append(
            Migration(
                version,
                names[version],
                files["up"].read_text(),
                down.read_text() if down else None,
                files["up"],
            )
        )
    return out


def split_statements(text: str) -> list[str]:
    """Split SQL on top-level ';', respecting quotes, dollar quotes and comments."""
    out, buf, i, n = [], [], 0, len(text)
    while i < n:
        ch = text[i]
        if text.startswith("--", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            buf.append(text[i:end])
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            buf.append(text[i:end])
            i = end
        elif ch in "'\"":
            end = i + 1
            while end < n and not (text[end] == ch and text[end + 1 : end + 2] != ch):
                end += 2 if text[end] == ch else 1
            buf.append(text[i : end + 1])
            i = end + 1
        elif ch == "$" and (m := re.match(r"\$[A-Za-z_]*\$", text[i:])):
            tag = m.group(0)
            end = text.find(tag, i + len(tag))
            end = n if end < 0 else end + len(tag)
            buf.append(text[i:end])
            i = end
        elif ch == ";":
            out.append("".join(buf))
            buf, i = [], i + 1
        else:
            buf.append(ch)
            i += 1
    out.append("".join(buf))
    return [s.strip() for s in out if _has_code(s)]


def _has_code(stmt: str) -> bool:
    lines = [ln for ln in stmt.splitlines() if ln.strip() and not ln.strip().startswith("--")]
    return bool(lines)


class Migrator:
    """Applies and reverts migrations on one database URL."""

    def __init__(self, database_url: str, migrations: Sequence[Migration]) -> None:
        self.url = database_url
        self.migrations = list(migrations)
        self._by_version = {m.version: m for m in self.migrations}

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise MigrationError(f"cannot connect to the database: {exc}".strip()) from exc

    def _ensure_table(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (version BIGINT PRIMARY KEY, description TEXT NOT "
                "NULL, installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, "
                "checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)"
            ).format(sql.Identifier(TABLE))
        )

    def applied(self, conn: psycopg.Connection[tuple[object, ...]] | None = None) -> list[Applied]:
        own = conn is None
        conn = conn or self._connect()
        try:
            self._ensure_table(conn)
            rows = conn.execute(
                sql.SQL(
                    "SELECT version, description, checksum, success, execution_time FROM {} "
                    "ORDER BY version"
                ).format(sql.Identifier(TABLE))
            ).fetchall()
        finally:
            if own:
                conn.close()
        return [
            Applied(int(str(r[0])), str(r[1]), bytes(cast(bytes, r[2])), bool(r[3]), int(str(r[4])))
            for r in rows
        ]

    def _check(self, applied: Sequence[Applied]) -> None:
        for row in applied:
            if not row.success:
                raise MigrationError(
                    f"migration {row.version} ({row.description}) is partially applied (dirty); "
                    f"repair the schema by hand, then delete its row from {TABLE}"
                )
            local = self._by_version.get(row.version)
            if local is None:
                raise MigrationError(
                    f"migration {row.version} ({row.description}) was applied but is missing "
                    "from the migration sources"
                )
            if local.checksum != row.checksum:
                raise MigrationError(
                    f"migration {row.version} ({row.description}) was modified after it was "
                    f"applied: checksum of {str(local.up_path)!r} differs from the one recorded"
                )

    def up(self, to: int | None = None) -> list[int]:
        """Apply pending migrations up to version `to` (all when None); return those applied."""
        done: list[int] = []
        with self._connect() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
            try:
                applied = self.applied(conn)
                self._check(applied)
                have = {a.version for a in applied}
                for m in self.migrations:
                    if m.version in have or (to is not None and m.version > to):
                        continue
                    self._apply(conn, m)
                    done.append(m.version)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
        return done

    def down(self, to: int | None = None) -> list[int]:
        """Revert applied migrations above `to`, newest first; only the newest when None."""
        done: list[int] = []
        with self._connect() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
            try:
                applied = self.applied(conn)
                self._check(applied)
                targets = sorted((a.version for a in applied), reverse=True)
                targets = targets[:1] if to is None else [v for v in targets if v > to]
                for version in targets:
                    self._revert(conn, self._by_version[version])
                    done.append(version)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
        return done

    def _apply(self, conn: psycopg.Connection[tuple[object, ...]], m: Migration) -> None:
        start = time.perf_counter_ns()
        record = sql.SQL(
            "INSERT INTO {} (version, description, success, checksum, execution_time) "
            "VALUES (%s, %s, %s, %s, %s)"
        ).format(sql.Identifier(TABLE))
        if m.no_transaction:
            for i, stmt in enumerate(split_statements(m.up_sql), 1):
                try:
                    conn.execute(stmt.encode())
                except psycopg.Error as exc:
                    ms = (time.perf_counter_ns() - start) // 1_000_000
                    conn.execute(record, (m.version, m.description, False, m.checksum, ms))
                    raise MigrationError(
                        f"migration {m.version} ({m.description}) failed and is now partially "
                        f"applied: {_pg_message(exc, stmt, f'statement {i}')}"
                    ) from exc
            ms = (time.perf_counter_ns() - start) // 1_000_000
            conn.execute(record, (m.version, m.description, True, m.checksum, ms))
            return
        try:
            with conn.transaction():
                conn.execute(m.up_sql.encode())
                ms = (time.perf_counter_ns() - start) // 1_000_000
                conn.execute(record, (m.version, m.description, True, m.checksum, ms))
        except psycopg.Error as exc:
            raise MigrationError(
                f"migration {m.version} ({m.description}) failed and was rolled back: "
                f"{_pg_message(exc, m.up_sql)}"
            ) from exc

    def _revert(self, conn: psycopg.Connection[tuple[object, ...]], m: Migration) -> None:
        if m.down_sql is None:
            raise MigrationError(
                f"migration {m.version} ({m.description}) has no down file "
                f"({m.version:04d}_{m.description}.down.sql) in {str(m.source)!r}"
            )
        try:
            with conn.transaction():
                conn.execute(m.down_sql.encode())
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE version = %s").format(sql.Identifier(TABLE)),
                    (m.version,),
                )
        except psycopg.Error as exc:
            raise MigrationError(
                f"revert of migration {m.version} ({m.description}) failed and was rolled "
                f"back: {_pg_message(exc, m.down_sql)}"
            ) from exc


def current_version(conn: psycopg.Connection[tuple[object, ...]]) -> int | None:
    """Highest successfully applied version; None when the table does not exist."""
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,)).fetchone()
    if not row or not row[0]:
        return None
    row = conn.execute(
        sql.SQL("SELECT max(version) FROM {} WHERE success").format(sql.Identifier(TABLE))
    ).fetchone()
    return int(str(row[0])) if row and row[0] is not None else 0


def _pg_message(exc: psycopg.Error, source: str, where: str = "the file") -> str:
    diag = exc.diag
    text = (diag.message_primary or str(exc)).strip()
    if diag.statement_position and diag.statement_position.isdigit():
        line = source[: int(diag.statement_position)].count("\n") + 1
        text += f" (line {line} of {where})"
    return text
