"""Database faults, the sql step and probe, and the data check against a real PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import pytest

from drillbook.backends.base import ServiceState
from drillbook.datacheck import DataChecker, snapshot_table
from drillbook.errors import FaultError
from drillbook.faults import DeleteRows, DropTable
from drillbook.probes import SqlProbe
from drillbook.scenario.model import DataCheck
from drillbook.steps import SqlStep
from tests.integration.kinds_pg import PgDrill, pg_fixture, pg_server_fixture

__all__ = ["pg_fixture", "pg_server_fixture"]  # the fixtures `pg` and `pg_server`

COUNT = "select count(*) from configs"


def seed(pg: PgDrill) -> None:
    out = SqlStep(kind="sql", service="db", file="fixtures/db/configs.sql").execute(pg.ctx, 30)
    assert out.ok, out.error


def sql_step(**fields: Any) -> SqlStep:
    return SqlStep.model_validate({"kind": "sql", "service": "db", **fields})


# --- sql step ----------------------------------------------------------------------------------


def test_sql_step_seeds_from_a_file_and_checks_a_value(pg: PgDrill) -> None:
    seed(pg)
    out = sql_step(sql=COUNT, expect=">= 1000").execute(pg.ctx, 10)
    assert out.ok and out.stdout == "1200"
    low = sql_step(sql=COUNT, expect="== 0").execute(pg.ctx, 10)
    assert not low.ok and low.error == "expected == 0, got 1200"


def test_sql_step_output_is_the_last_result_in_psql_style(pg: PgDrill) -> None:
    out = sql_step(
        sql="create table t(a int, b text); insert into t values (1,'x'),(2,null); "
        "select a, b from t order by a"
    ).execute(pg.ctx, 10)
    assert out.ok and out.stdout == "1|x\n2|null"
    assert out.detail["rows"] == "2"


def test_a_failing_statement_fails_the_step_with_the_servers_message(pg: PgDrill) -> None:
    out = sql_step(sql="select * from missing_table").execute(pg.ctx, 10)
    assert not out.ok
    assert out.error == 'sql failed: relation "missing_table" does not exist'
    assert out.detail["sqlstate"] == "42P01"


def test_a_slow_statement_is_cancelled_at_the_step_timeout(pg: PgDrill) -> None:
    started = time.monotonic()
    out = sql_step(sql="select pg_sleep(5)").execute(pg.ctx, 0.3)
    assert out.timed_out and not out.ok
    assert time.monotonic() - started < 2


# --- faults ------------------------------------------------------------------------------------


def test_drop_table_drops_only_the_named_table(pg: PgDrill) -> None:
    seed(pg)
    pg.execute("create table keep(a int)")
    outcome = DropTable(kind="db.drop_table", service="db", table="public.configs").inject(pg.ctx)
    assert outcome.target == "db:public.configs"
    assert pg.value("select to_regclass('configs')") is None
    assert pg.value("select to_regclass('keep')") is not None


def test_drop_table_needs_cascade_when_something_depends_on_it(pg: PgDrill) -> None:
    seed(pg)
    pg.execute("create view billing as select * from configs where namespace = 'billing'")
    with pytest.raises(FaultError, match="depend"):
        DropTable(kind="db.drop_table", service="db", table="configs").inject(pg.ctx)
    DropTable(kind="db.drop_table", service="db", table="configs", cascade=True).inject(pg.ctx)
    assert pg.value("select to_regclass('billing')") is None


def test_dropping_a_missing_table_is_a_fault_error(pg: PgDrill) -> None:
    with pytest.raises(FaultError, match="table 'nope' does not exist in database 't_"):
        DropTable(kind="db.drop_table", service="db", table="nope").inject(pg.ctx)


def test_mixed_case_names_are_quoted_not_injected(pg: PgDrill) -> None:
    pg.execute('create table "Odd"(a int)')
    DropTable(kind="db.drop_table", service="db", table="Odd").inject(pg.ctx)
    assert pg.value("""select to_regclass('"Odd"')""") is None


def test_delete_rows_counts_what_it_deleted(pg: PgDrill) -> None:
    seed(pg)
    outcome = DeleteRows(
        kind="db.delete_rows", service="db", table="configs", where="namespace = 'billing'"
    ).inject(pg.ctx)
    assert outcome.detail["rows_deleted"] == "300"
    assert pg.value(COUNT) == 900
    everything = DeleteRows(kind="db.delete_rows", service="db", table="configs", where="true")
    assert everything.inject(pg.ctx).detail["rows_deleted"] == "900"


# --- sql probe ---------------------------------------------------------------------------------


def test_sql_probe_sees_a_dropped_table_at_once_and_its_restore_at_once(pg: PgDrill) -> None:
    seed(pg)
    probe = SqlProbe(kind="sql", service="db", query=COUNT, expect=">= 1000")
    assert probe.check(pg.ctx, 2).ok
    DropTable(kind="db.drop_table", service="db", table="configs").inject(pg.ctx)
    failed = probe.check(pg.ctx, 2)
    assert not failed.ok and failed.detail == 'relation "configs" does not exist'
    seed(pg)
    assert probe.check(pg.ctx, 2).ok


def test_sql_probe_keeps_one_connection_and_is_fast(pg: PgDrill) -> None:
    probe = SqlProbe(kind="sql", service="db", query="select 1", expect="1")
    probe.check(pg.ctx, 2)
    started = time.perf_counter()
    for _ in range(100):
        assert probe.check(pg.ctx, 2).ok
    per_check = (time.perf_counter() - started) / 100
    assert per_check < 0.01, f"{per_check * 1000:.1f} ms per check"
    sessions = pg.value(
        "select count(*) from pg_stat_activity where application_name = 'drillbook-probe'"
    )
    assert sessions == 1


def test_sql_probe_sessions_are_read_only(pg: PgDrill) -> None:
    pg.execute("create table t(a int)")
    result = SqlProbe(kind="sql", service="db", query="insert into t values (1)").check(pg.ctx, 2)
    assert not result.ok and "read-only" in result.detail


def test_sql_probe_fails_while_the_server_is_down_and_passes_once_it_is_back(
    pg: PgDrill,
) -> None:
    probe = SqlProbe(kind="sql", service="db", query="select 1")
    assert probe.check(pg.ctx, 2).ok
    pg.server.kill()
    deadline = time.monotonic() + 5
    while pg.server.state() == ServiceState.RUNNING and time.monotonic() < deadline:
        time.sleep(0.02)
    started = time.monotonic()
    down = probe.check(pg.ctx, 2)
    assert not down.ok and time.monotonic() - started < 1.0
    pg.server.start(timeout=30)
    started = time.monotonic()
    up = probe.check(pg.ctx, 2)
    assert up.ok, up.detail  # the stale cached connection is not blamed on the server
    assert time.monotonic() - started < 1.0


# --- data check --------------------------------------------------------------------------------


def test_data_check_counts_lost_added_and_changed_rows_by_key(pg: PgDrill) -> None:
    seed(pg)
    check = [DataCheck(service="db", tables=["configs"])]
    checker = DataChecker()
    (before,) = checker.before(pg.ctx, check)
    assert before.exists and before.rows == 1200 and before.key_columns == ("id",)
    pg.execute("delete from configs where id <= 10")
    pg.execute("update configs set env = 'qa' where id between 100 and 104")
    pg.execute(
        "insert into configs (namespace, key, env, value, created_at) "
        "values ('new', 'k', 'dev', '{}', now())"
    )
    (result,) = checker.after(pg.ctx, check)
    assert (result.rows_lost, result.rows_added, result.rows_changed) == (10, 1, 5)
    assert result.rows_before == 1200 and result.rows_after == 1191
    assert result.keyed and not result.checksum_match and result.error is None
    assert (pg.ctx.workdir / "data" / "db.configs.before.rows").exists()


def test_data_check_of_an_unkeyed_table_compares_contents(pg: PgDrill) -> None:
    pg.execute("create table events(kind text, n int)")
    pg.execute("insert into events select 'e', g % 5 from generate_series(1, 50) g")
    check = [DataCheck(service="db", tables=["events"])]
    checker = DataChecker()
    checker.before(pg.ctx, check)
    pg.execute("delete from events where ctid in (select ctid from events where n = 0 limit 3)")
    pg.execute("update events set kind = 'x' where n = 1")  # 10 rows changed
    (result,) = checker.after(pg.ctx, check)
    assert not result.keyed
    assert (result.rows_lost, result.rows_added, result.rows_changed) == (13, 10, 0)


def test_an_unchanged_table_matches_its_checksum_even_after_a_rewrite(pg: PgDrill) -> None:
    seed(pg)
    path = pg.ctx.workdir / "x.rows"
    first = snapshot_table(pg.dsn, "configs", rows_file=path)
    # Same rows, new physical order and a different session time zone default.
    pg.execute("create table c2 as select * from configs order by random()")
    pg.execute("drop table configs")
    pg.execute("alter table c2 rename to configs")
    pg.execute("alter table configs add primary key (id)")
    pg.execute(f"alter database {pg.db.info.database} set timezone = 'Asia/Tokyo'")
    second = snapshot_table(pg.dsn, "configs", rows_file=pg.ctx.workdir / "y.rows")
    assert second.checksum == first.checksum and second.rows == first.rows == 1200


def test_a_dropped_table_means_every_row_lost(pg: PgDrill) -> None:
    seed(pg)
    check = [DataCheck(service="db", tables=["configs"])]
    checker = DataChecker()
    checker.before(pg.ctx, check)
    DropTable(kind="db.drop_table", service="db", table="configs").inject(pg.ctx)
    (result,) = checker.after(pg.ctx, check)
    assert not result.exists_after and result.rows_after == 0
    assert result.rows_lost == 1200 and result.error is None


def test_an_unreachable_database_makes_the_check_an_error(pg: PgDrill) -> None:
    path = pg.ctx.workdir / "z.rows"
    snap = snapshot_table(
        "postgresql://postgres:x@127.0.0.1:1/none", "configs", rows_file=path, service="db"
    )
    assert snap.error is not None and snap.error.startswith("cannot read 'configs':")
    assert not snap.exists
