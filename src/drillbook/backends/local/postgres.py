"""PostgreSQL as a local service: a copy of the template cluster, started as the server user.

Restores into a new data dir (point-in-time recovery) have two ways in: `replace_data_dir()`
copies a restored directory (a base backup) into place and starts the server on it; or a
script stops the service, rewrites $PGDATA itself and starts it again. Either way the start
gives the files to the server user and rewrites drillbook.conf and pg_hba.conf, so a data dir
restored by root, or taken from another cluster, comes up on this service's port and password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import shlex
import signal
from collections.abc import Mapping
from pathlib import Path

import psycopg
from psycopg import sql

from drillbook.backends.base import ServiceInfo
from drillbook.backends.local import pgbin, ports
from drillbook.backends.local.handle import LocalRun, ProcessService, start_new
from drillbook.backends.local.pgbin import PgInstall
from drillbook.backends.local.pgtemplate import INCLUDE_LINE, ensure_template
from drillbook.backends.local.process import find_processes, kill_processes
from drillbook.backends.local.runas import RunAs, chown_tree, service_user
from drillbook.backends.local.runtime import copy_tree, remove_tree
from drillbook.errors import ServiceError
from drillbook.services.postgres import PostgresService

# Quick, quiet defaults for a throwaway server. fsync=off loses nothing when a process is
# killed (the page cache survives); only an OS crash would. A scenario may set it back on.
_DEFAULTS = {
    "fsync": "off",
    "shared_buffers": "32MB",
    "max_connections": "50",
    "wal_level": "replica",  # pg_basebackup and WAL archiving need it
    "max_wal_senders": "5",
    "logging_collector": "off",  # stderr is the service log
    "log_line_prefix": "%m [%p] ",
    "log_timezone": "UTC",
    "timezone": "UTC",
}
_HBA = (
    "# written by drillbook at every start\n"
    "# unix socket: its directory is private to the server user, so trust is for drillbook only\n"
    "local all all trust\n"
    "host all all 127.0.0.1/32 scram-sha-256\n"
    "host replication all 127.0.0.1/32 scram-sha-256\n"
)


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 secret PostgreSQL stores, built here so the password itself is never
    sent to the server (and so never reaches a server log, whatever log_statement says)."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _conf_value(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class PostgresHandle(ProcessService):
    kind = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown, what pg_ctl -m fast sends

    def __init__(
        self,
        name: str,
        spec: PostgresService,
        *,
        install: PgInstall,
        server_bin: Path,
        user: RunAs | None,
        runtime_dir: Path,
        workdir: Path,
        run: LocalRun,
    ) -> None:
        super().__init__(name, workdir=workdir, run=run, startup_timeout=spec.startup_timeout)
        self.spec = spec
        self.install = install
        self.server_bin = server_bin
        self.user = user
        self.runtime_dir = runtime_dir
        self.data_dir = runtime_dir / "data"
        self.socket_dir = runtime_dir / "sock"
        self.archive_dir = runtime_dir / "wal_archive" if spec.wal_archive else None
        self.port = ports.free_port()
        self.password = secrets.token_urlsafe(18)
        self._bootstrapped = False
        self._replaced = 0

    # --- starting ----------------------------------------------------------------------

    def _argv(self) -> list[str]:
        return [
            str(self.server_bin / "postgres"),
            "-D",
            str(self.data_dir),
            "-c",
            f"port={self.port}",
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={self.socket_dir}",
        ]

    def _cwd(self) -> Path:
        return self.runtime_dir

    def _user(self) -> RunAs | None:
        return self.user

    def _before_start(self) -> None:
        self._bootstrapped = False
        # Children of a SIGKILLed postmaster live on for a moment and hold its shared memory.
        kill_processes(find_processes(cwd_under=[self.data_dir]))
        conf = self.data_dir / "postgresql.conf"
        if conf.exists() and "include_if_exists = 'drillbook.conf'" not in conf.read_text(
            errors="replace"
        ):
            with conf.open("a") as out:
                out.write("\n" + INCLUDE_LINE)
        (self.data_dir / "drillbook.conf").write_text(self._conf_text())
        (self.data_dir / "pg_hba.conf").write_text(_HBA)
        for path in (self.socket_dir, self.archive_dir):
            if path is not None:
                path.mkdir(mode=0o700, exist_ok=True)
        if self.user is not None and self.data_dir.stat().st_uid != self.user.uid:
            chown_tree(self.data_dir, self.user)  # restored by root: give it to the server
        else:
            for name in ("drillbook.conf", "pg_hba.conf"):
                chown_tree(self.data_dir / name, self.user)
        for path in (self.socket_dir, self.archive_dir):
            if path is not None:
                chown_tree(path, self.user)
        self.data_dir.chmod(0o700)  # the server refuses a group- or world-readable data dir

    def _conf_text(self) -> str:
        settings = dict(_DEFAULTS)
        if self.archive_dir is not None:
            where = shlex.quote(str(self.archive_dir))
            settings["archive_mode"] = "on"
            settings["archive_command"] = f"test ! -f {where}/%f && cp %p {where}/%f"
            settings["restore_command"] = f"cp {where}/%f %p"  # used only during recovery
        settings.update(self.spec.settings)
        lines = ["# written by drillbook at every start; set `settings:` in the scenario instead"]
        lines += [f"{key} = {_conf_value(value)}" for key, value in settings.items()]
        return "\n".join(lines) + "\n"

    def _ready(self) -> str | None:
        if not self._bootstrapped:
            try:
                self._bootstrap()
            except psycopg.Error as exc:
                return _short(exc)
            self._bootstrapped = True
        return self._check()

    def _bootstrap(self) -> None:
        """At every start: the run's password and the drill database (a restored cluster may
        lack them)."""
        with psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user="postgres",
            dbname="postgres",
            connect_timeout=2,
            autocommit=True,
        ) as conn:
            if conn.execute("select pg_is_in_recovery()").fetchone() == (True,):
                return  # read-only until recovery ends; the catalog has what the backup had
            verifier = sql.Literal(scram_verifier(self.password))
            user = sql.Identifier(self.spec.user)
            if self.spec.user != "postgres":
                exists = conn.execute(
                    "select 1 from pg_roles where rolname = %s", (self.spec.user,)
                ).fetchone()
                if exists is None:
                    conn.execute(sql.SQL("create role {} login superuser").format(user))
            conn.execute(sql.SQL("alter role {} password {}").format(user, verifier))
            if self.spec.user != "postgres":
                conn.execute(sql.SQL("alter role postgres password {}").format(verifier))
            exists = conn.execute(
                "select 1 from pg_database where datname = %s", (self.spec.database,)
            ).fetchone()
            if exists is None:
                conn.execute(
                    sql.SQL("create database {} owner {}").format(
                        sql.Identifier(self.spec.database), user
                    )
                )

    def _check(self) -> str | None:
        try:
            with psycopg.connect(self.dsn, connect_timeout=2) as conn:
                conn.execute("select 1").fetchone()
        except psycopg.Error as exc:
            return _short(exc)
        return None

    def _after_signal(self, sig: int) -> None:
        if sig == signal.SIGKILL:  # the whole server dies, as when its container is killed
            kill_processes(find_processes(cwd_under=[self.data_dir]), wait=0)

    def _cleanup(self) -> None:
        remove_tree(self.runtime_dir)

    def _after_stop(self) -> None:
        kill_processes(find_processes(cwd_under=[self.data_dir]))

    def replace_data_dir(
        self, new_dir: Path, *, start: bool = True, timeout: float | None = None
    ) -> None:
        """Point the service at a restored data directory (say a base backup for PITR).

        Stops the server, moves the current data dir aside (data.replaced-N, removed at
        teardown), copies `new_dir` into its place and, with `start`, starts on it: a
        recovery.signal in it makes the server replay WAL from the archive (restore_command is
        set when `wal_archive` is on). Raises ProvisionError (left stopped) if it does not come up.
        """
        new_dir = Path(new_dir).resolve()
        if not (new_dir / "PG_VERSION").exists():
            raise ServiceError(
                f"{str(new_dir)!r} is not a PostgreSQL data directory (no PG_VERSION)"
            )
        with self._lock:
            self.stop()
            self._replaced += 1
            if self.data_dir.exists():
                self.data_dir.rename(self.data_dir.with_name(f"data.replaced-{self._replaced}"))
            copy_tree(new_dir, self.data_dir)
            if start:
                self.start(timeout)

    # --- what others see ---------------------------------------------------------------

    def _url(self, database: str) -> str:
        return f"postgresql://{self.spec.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    @property
    def dsn(self) -> str:
        return self._url(self.spec.database)

    @property
    def info(self) -> ServiceInfo:
        return ServiceInfo(
            name=self.name,
            kind=self.kind,
            port=self.port,
            dsn=self.dsn,
            admin_dsn=self._url("postgres"),
            database=self.spec.database,
            user=self.spec.user,
            password=self.password,
            bindir=self.install.bindir,
            data_dir=self.data_dir,
            workdir=self.workdir,
            log_path=self.log_path,
            version=self.install.version,
        )

    def env(self) -> Mapping[str, str]:
        env = {
            "DATABASE_URL": self.dsn,
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": self.spec.user,
            "PGPASSWORD": self.password,
            "PGDATABASE": self.spec.database,
            "PGDATA": str(self.data_dir),
        }
        if self.archive_dir is not None:
            env["WAL_ARCHIVE_DIR"] = str(self.archive_dir)
        return env

    def secrets(self) -> tuple[str, ...]:
        return (self.password,)

    def facts(self) -> Mapping[str, str]:
        facts = dict(super().facts())
        facts.update(
            version=self.install.version,
            source=self.install.source,
            bindir=str(self.install.bindir),
            data_dir=str(self.data_dir),
            port=str(self.port),
            os_user=self.user.name if self.user else "(current user)",
        )
        if self.archive_dir is not None:
            facts["wal_archive_dir"] = str(self.archive_dir)
        return facts


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def provision_postgres(
    name: str,
    spec: PostgresService,
    *,
    workdir: Path,
    runtime_dir: Path,
    run: LocalRun,
    timeout: float,
) -> PostgresHandle:
    """Copy the template cluster for the wanted major into `runtime_dir` and start it."""
    install = pgbin.pick(spec.version)
    user = service_user()
    server_bin = pgbin.server_bindir(install, user)
    template = ensure_template(install, server_bin, user)
    runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    chown_tree(runtime_dir, user)
    handle = PostgresHandle(
        name,
        spec,
        install=install,
        server_bin=server_bin,
        user=user,
        runtime_dir=runtime_dir,
        workdir=workdir,
        run=run,
    )
    copy_tree(template, handle.data_dir)
    # The service dir shows where the server's files are (they live in the runtime dir).
    for link, target in (
        ("data", handle.data_dir),
        ("sock", handle.socket_dir),
        ("wal_archive", handle.archive_dir),
    ):
        if target is not None:
            (workdir / link).symlink_to(target, target_is_directory=True)

    def new_port() -> None:
        handle.port = ports.free_port()

    start_new(handle, timeout, new_port)
    return handle
