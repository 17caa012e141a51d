"""Data checks: exact row-level comparison of tables before the fault and after recovery.

Each snapshot streams one line per row, `<key hash>\\t<row hash>` (md5 of the primary key and
of the whole row's text), sorted, into a file under the run's workdir, so a big table costs
disk, not memory; the diff is a merge of two sorted files. With a primary key on both sides,
rows are matched by key and a row whose key stayed but content changed counts as changed;
without one, rows are compared as a multiset of contents (a change shows as lost + added).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import psycopg
from psycopg import sql

from drillbook import pgclient
from drillbook.context import DrillContext
from drillbook.journal import DataDiff, Recorder, TableSnapshot
from drillbook.scenario.model import DataCheck

# A row's text depends on these settings; pin them so a restore that changed the database's
# defaults does not make every row look changed.
STABLE_SETTINGS = {
    "TimeZone": "UTC",
    "DateStyle": "ISO",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "bytea_output": "hex",
}
_PRIMARY_KEY = """
select a.attname
from pg_index i
join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
where i.indrelid = %s and i.indisprimary
order by array_position(i.indkey::int2[], a.attnum)
"""


def snapshot_table(
    dsn: str,
    table: str,
    *,
    rows_file: Path,
    service: str = "",
    t: float = 0.0,
    timeout: float = 300.0,
) -> TableSnapshot:
    """Fingerprint `table` (row count, per-row hashes into `rows_file`, table checksum).

    Never raises for the database: an unreachable server gives a snapshot with `error` set,
    a missing table one with exists=False.
    """
    rows_file.parent.mkdir(parents=True, exist_ok=True)
    rows_file.write_bytes(b"")
    base = TableSnapshot(service=service, table=table, t=t, exists=False)
    ident = pgclient.table_ident(table)
    try:
        with pgclient.connect(
            dsn, connect_timeout=10.0, statement_timeout=timeout, settings=STABLE_SETTINGS
        ) as conn:
            # One consistent view for the rows and the checksum.
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            with conn.transaction():
                found = conn.execute(
                    "select to_regclass(%s)::oid", (ident.as_string(conn),)
                ).fetchone()
                if found is None or found[0] is None:
                    return base
                keys = tuple(str(r[0]) for r in conn.execute(_PRIMARY_KEY, (found[0],)))
                rows = _copy_hashes(conn, ident, keys, rows_file)
                checksum = conn.execute(
                    sql.SQL(
                        "select md5(coalesce(string_agg(h, '' order by h collate \"C\"), '')) "
                        "from (select md5(t::text) as h from {} as t) as s"
                    ).format(ident)
                ).fetchone()
        return base.model_copy(
            update={
                "exists": True,
                "rows": rows,
                "checksum": str(checksum[0]) if checksum else None,
                "key_columns": keys,
            }
        )
    except psycopg.Error as exc:
        return base.model_copy(
            update={"error": f"cannot read {table!r}: {pgclient.describe_error(exc)}"}
        )


def _copy_hashes(
    conn: psycopg.Connection[tuple[object, ...]],
    ident: sql.Identifier,
    keys: tuple[str, ...],
    rows_file: Path,
) -> int:
    key = (
        sql.SQL("md5(row({})::text)").format(sql.SQL(", ").join(sql.Identifier(k) for k in keys))
        if keys
        else sql.SQL("''")
    )
    query = sql.SQL(
        "copy (select k, h from (select {key} as k, md5(t::text) as h from {table} as t) as s "
        'order by k collate "C", h collate "C") to stdout'
    ).format(key=key, table=ident)
    lines = 0
    with conn.cursor().copy(query) as copy, rows_file.open("wb") as out:
        for chunk in copy:
            data = bytes(chunk)
            lines += data.count(b"\n")
            out.write(data)
    return lines


def diff(
    before: TableSnapshot, after: TableSnapshot, before_rows: Path, after_rows: Path
) -> DataDiff:
    """Compare two snapshots of one table (and their row files) row by row."""
    result = DataDiff(
        service=before.service,
        table=before.table,
        rows_before=before.rows,
        rows_after=after.rows if after.exists else 0,
        rows_lost=0,
        rows_added=0,
        rows_changed=0,
        checksum_match=False,
        exists_after=after.exists,
        keyed=False,
    )
    error = before.error or after.error
    if error is None and not before.exists:
        error = f"table {before.table!r} did not exist before the fault; nothing to compare"
    if error is not None:
        return result.model_copy(update={"error": error, "exists_after": after.exists})
    if not after.exists:
        return result.model_copy(
            update={"rows_lost": before.rows, "keyed": bool(before.key_columns)}
        )
    keyed = bool(before.key_columns) and before.key_columns == after.key_columns
    if keyed:
        lost, added, changed = _merge_keyed(_read(before_rows), _read(after_rows))
    else:
        lost, added = _merge_multiset(
            _sorted_hashes(before_rows, bool(before.key_columns)),
            _sorted_hashes(after_rows, bool(after.key_columns)),
        )
        changed = 0
    return result.model_copy(
        update={
            "rows_lost": lost,
            "rows_added": added,
            "rows_changed": changed,
            "checksum_match": before.checksum is not None and before.checksum == after.checksum,
            "keyed": keyed,
        }
    )


def _read(path: Path) -> Iterator[tuple[str, str]]:
    with path.open(encoding="ascii") as lines:
        for line in lines:
            key, _, row = line.rstrip("\n").partition("\t")
            yield key, row


def _sorted_hashes(path: Path, keyed: bool) -> Iterator[str]:
    """Row hashes in sorted order: streamed for unkeyed files (already sorted by hash), sorted
    in memory for keyed ones (only when the primary key differs between the snapshots)."""
    if not keyed:
        return (row for _, row in _read(path))
    return iter(sorted(row for _, row in _read(path)))


def _merge_keyed(
    before: Iterator[tuple[str, str]], after: Iterator[tuple[str, str]]
) -> tuple[int, int, int]:
    lost = added = changed = 0
    a, b = next(before, None), next(after, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            lost += 1
            a = next(before, None)
        elif a is None or b[0] < a[0]:
            added += 1
            b = next(after, None)
        else:
            changed += a[1] != b[1]
            a, b = next(before, None), next(after, None)
    return lost, added, changed


def _merge_multiset(before: Iterator[str], after: Iterator[str]) -> tuple[int, int]:
    lost = added = 0
    a, b = next(before, None), next(after, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a < b):
            lost += 1
            a = next(before, None)
        elif a is None or b < a:
            added += 1
            b = next(after, None)
        else:
            a, b = next(before, None), next(after, None)
    return lost, added


class DataChecker:
    """Snapshots the scenario's data checks before the fault and compares them after verify.

    The row files live under `<workdir>/data/`; the journal gets only the snapshots and diffs.
    """

    def __init__(self, *, timeout: float = 300.0) -> None:
        self.timeout = timeout
        self._before: dict[tuple[str, str, str], tuple[TableSnapshot, Path]] = {}

    def before(
        self, ctx: DrillContext, checks: Sequence[DataCheck], recorder: Recorder | None = None
    ) -> list[TableSnapshot]:
        taken = []
        for check, table, key in _tables(checks):
            path = _rows_file(ctx, key, "before")
            snap = self._snapshot(ctx, check, table, path, recorder)
            self._before[key] = (snap, path)
            taken.append(snap)
        return taken

    def after(
        self, ctx: DrillContext, checks: Sequence[DataCheck], recorder: Recorder | None = None
    ) -> list[DataDiff]:
        diffs = []
        for check, table, key in _tables(checks):
            path = _rows_file(ctx, key, "after")
            snap = self._snapshot(ctx, check, table, path, recorder)
            earlier = self._before.get(key)
            if earlier is None:
                missing = TableSnapshot(
                    service=check.service,
                    table=table,
                    t=snap.t,
                    exists=False,
                    error="no snapshot was taken before the fault",
                )
                result = diff(missing, snap, path, path)
            else:
                result = diff(earlier[0], snap, earlier[1], path)
            if recorder is not None:
                recorder.data_diff(result)
            diffs.append(result)
        return diffs

    def _snapshot(
        self,
        ctx: DrillContext,
        check: DataCheck,
        table: str,
        path: Path,
        recorder: Recorder | None,
    ) -> TableSnapshot:
        now: Callable[[], float] = recorder.t if recorder is not None else (lambda: 0.0)
        handle = ctx.services().get(check.service)
        dsn = pgclient.dsn_for(handle.info, check.database) if handle is not None else None
        if dsn is None:
            snap = TableSnapshot(
                service=check.service,
                table=table,
                t=now(),
                exists=False,
                error=f"service {check.service!r} is not a database drillbook can read",
            )
        else:
            snap = snapshot_table(
                dsn, table, rows_file=path, service=check.service, t=now(), timeout=self.timeout
            )
        if recorder is not None:
            recorder.snapshot_table(snap)
        return snap


def _tables(checks: Sequence[DataCheck]) -> Iterator[tuple[DataCheck, str, tuple[str, str, str]]]:
    for check in checks:
        for table in check.tables:
            yield check, table, (check.service, check.database or "", table)


def _rows_file(ctx: DrillContext, key: tuple[str, str, str], when: str) -> Path:
    service, database, table = key
    name = ".".join(part for part in (service, database, table, when) if part)
    return ctx.workdir / "data" / f"{name}.rows"
