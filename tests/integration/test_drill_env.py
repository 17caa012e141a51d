"""The drill_env fixture (from the pytest plugin) provisions real services for Python drills."""

from __future__ import annotations

import boto3
import psycopg
import pytest

from drillbook.drill_env import DrillEnv
from drillbook.errors import UsageError

pytestmark = pytest.mark.slow


def test_drill_env_gives_a_real_postgres_and_s3_with_their_env(drill_env: DrillEnv) -> None:
    db = drill_env.postgres("db")
    drill_env.s3("store", buckets=["backups"])
    env = drill_env.env()

    with psycopg.connect(env["DATABASE_URL"]) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"],
                      aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["backups"]
    db.kill()
    assert not db.healthy()


def test_an_unknown_service_kind_names_the_known_ones(drill_env: DrillEnv) -> None:
    with pytest.raises(UsageError, match=r"unknown service kind 'mysql'; known: .*postgres"):
        drill_env.service("x", "mysql")


def test_a_python_drill_injects_a_fault_and_runs_a_real_restore(drill_env: DrillEnv) -> None:
    drill_env.postgres("db")
    drill_env.step("sql", service="db", sql="create table orders (id int); "
                   "insert into orders select generate_series(1, 50)")
    backup = drill_env.step("run", run='pg_dump -Fc -f "$BACKUP_DIR/db.dump" "$DATABASE_URL"')
    assert backup.ok, backup

    fault = drill_env.inject("db.drop_table", service="db", table="orders")
    assert fault.target
    with psycopg.connect(drill_env.env()["DATABASE_URL"]) as conn:
        assert conn.execute("select to_regclass('orders')").fetchone() == (None,)
    started = drill_env.clock.now_ns()
    restore = drill_env.step(
        "run", timeout=60,
        run='pg_restore -d "$DATABASE_URL" "$BACKUP_DIR/db.dump" && $DRILLBOOK_CTL status db',
    )
    took = (drill_env.clock.now_ns() - started) / 1e9

    assert restore.ok, restore
    with psycopg.connect(drill_env.env()["DATABASE_URL"]) as conn:
        assert conn.execute("select count(*) from orders").fetchone() == (50,)
    assert 0 < took < 60
