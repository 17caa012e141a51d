"""PostgreSQL as a container: the official image's contract (POSTGRES_PASSWORD, _USER, _DB).

Data lives in a labelled named volume, so a restart keeps it and `drillbook clean` finds it.
The server listens on the same port inside the container as on the host, and the run dir and
the scenario's dir are mounted at their host paths, so client tools run by `docker exec` see
the same addresses and files as scripts on the host.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path

import psycopg
from docker.errors import DockerException
from testcontainers.core.container import DockerContainer

from drillbook.backends.base import ServiceInfo
from drillbook.backends.docker.container import ContainerService
from drillbook.backends.docker.engine import DockerRun
from drillbook.backends.docker.pgclients import ClientTools, pick_client_tools
from drillbook.errors import ServiceError
from drillbook.services.postgres import PostgresService

PGDATA = "/var/lib/postgresql/data"
# Quick, quiet defaults for a throwaway server (as on the local backend); `settings:` wins.
_DEFAULTS = {
    "fsync": "off",
    "shared_buffers": "32MB",
    "max_connections": "50",
    "wal_level": "replica",
    "max_wal_senders": "5",
    "log_line_prefix": "%m [%p] ",
    "log_timezone": "UTC",
    "timezone": "UTC",
}


class DockerPostgres(ContainerService):
    kind = "postgres"

    def __init__(
        self, name: str, spec: PostgresService, *, run: DockerRun, image: str, workdir: Path
    ) -> None:
        super().__init__(
            name, run=run, image=image, workdir=workdir, startup_timeout=spec.startup_timeout
        )
        self.spec = spec
        self.password = secrets.token_urlsafe(18)
        self.archive_dir = workdir / "wal_archive" if spec.wal_archive else None
        self.server_version: str | None = None
        self.tools: ClientTools | None = None
        self._volume: str | None = None
        self._replaced = 0

    def _command(self) -> list[str]:
        settings = dict(_DEFAULTS)
        settings["port"] = str(self.port)
        if self.archive_dir is not None:
            where = str(self.archive_dir)
            settings["archive_mode"] = "on"
            settings["archive_command"] = f"test ! -f {where}/%f && cp %p {where}/%f"
            settings["restore_command"] = f"cp {where}/%f %p"
        settings.update(self.spec.settings)
        argv = ["postgres"]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        return argv

    def _spec(self) -> DockerContainer:
        if self._volume is None:
            self._volume = self.run.volume(self.name, "data")
        container = (
            self.base_container()
            .with_env("POSTGRES_PASSWORD", self.password)
            .with_env("POSTGRES_USER", self.spec.user)
            .with_env("POSTGRES_DB", self.spec.database)
            .with_env("PGPORT", str(self.port))  # the image's init steps use the same port
            .with_env("PGDATA", PGDATA)
            .with_volume_mapping(self._volume, PGDATA, "rw")
            .with_volume_mapping(str(self.run.run_dir), str(self.run.run_dir), "rw")
            .with_command(self._command())
        )
        if self.run.base_dir != self.run.run_dir:
            container.with_volume_mapping(str(self.run.base_dir), str(self.run.base_dir), "ro")
        return container

    def _before_start(self) -> None:
        if self.archive_dir is not None:
            self.archive_dir.mkdir(parents=True, exist_ok=True)
            self.archive_dir.chmod(0o777)  # written by the server's own uid in the container

    def _ready(self) -> str | None:
        reason = self._check()
        if reason is None and self.tools is None:
            self.tools = pick_client_tools(self)
        return reason

    def _check(self) -> str | None:
        try:
            with psycopg.connect(self.dsn, connect_timeout=2) as conn:
                row = conn.execute("show server_version").fetchone()
        except psycopg.Error as exc:
            text = str(exc).strip().splitlines()
            return text[-1] if text else type(exc).__name__
        if row is not None:
            self.server_version = str(row[0]).split()[0]
        return None

    def replace_data_dir(
        self, new_dir: Path, *, start: bool = True, timeout: float | None = None
    ) -> None:
        """Put a restored data directory (a base backup, for PITR) in the volume, and start.

        Stops the server, then a short-lived container of the same image (labelled with the
        run) empties the volume, copies `new_dir` in and gives it to the server user. The
        WAL archive is mounted at its host path, so a restore_command naming
        $WAL_ARCHIVE_DIR works inside. Raises ProvisionError (left stopped) if it does not
        come up.
        """
        new_dir = Path(new_dir).resolve()
        if not (new_dir / "PG_VERSION").exists():
            raise ServiceError(
                f"{str(new_dir)!r} is not a PostgreSQL data directory (no PG_VERSION)"
            )
        if self._volume is None:
            raise ServiceError(f"service {self.name!r} has no data volume yet")
        with self._lock:
            self.stop()
            script = (
                "find /data -mindepth 1 -delete && cp -a /src/. /data/ "
                "&& chown -R postgres:postgres /data && chmod 700 /data"
            )
            try:
                self.run.client.containers.run(
                    self.image,
                    entrypoint=["sh", "-c", script],
                    user="root",
                    volumes={
                        self._volume: {"bind": "/data", "mode": "rw"},
                        str(new_dir): {"bind": "/src", "mode": "ro"},
                    },
                    labels=self.run.labels(self.name),
                    network_mode="none",
                    remove=True,
                )
            except DockerException as exc:
                raise ServiceError(
                    f"service {self.name!r}: copying {str(new_dir)!r} into its volume failed: "
                    f"{str(exc).splitlines()[0][:300]}"
                ) from exc
            self._replaced += 1
            if start:
                self.start(timeout)

    @property
    def major(self) -> str | None:
        return self.server_version.split(".")[0] if self.server_version else None

    def _url(self, database: str, host: str = "127.0.0.1") -> str:
        return f"postgresql://{self.spec.user}:{self.password}@{host}:{self.port}/{database}"

    @property
    def dsn(self) -> str:
        return self._url(self.spec.database)

    @property
    def network_dsn(self) -> str:
        """The DSN for containers on the run's network (the service name is its host name)."""
        return self._url(self.spec.database, host=self.name)

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
            bindir=self.tools.bindir if self.tools else None,
            workdir=self.workdir,
            log_path=self.log_path,
            version=self.server_version,
        )

    def env(self) -> Mapping[str, str]:
        env = {
            "DATABASE_URL": self.dsn,
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": self.spec.user,
            "PGPASSWORD": self.password,
            "PGDATABASE": self.spec.database,
        }
        if self.archive_dir is not None:
            env["WAL_ARCHIVE_DIR"] = str(self.archive_dir)
        return env

    def secrets(self) -> tuple[str, ...]:
        return (self.password,)

    def facts(self) -> Mapping[str, str]:
        facts = dict(super().facts())
        facts["version"] = self.server_version or "unknown"
        facts["data_volume"] = self._volume or ""
        if self._replaced:
            facts["data_replaced"] = str(self._replaced)
        if self.tools is not None:
            facts["client_tools"] = self.tools.source
            facts["client_version"] = self.tools.version
            facts["bindir"] = str(self.tools.bindir)
        if self.archive_dir is not None:
            facts["wal_archive_dir"] = str(self.archive_dir)
        return facts
