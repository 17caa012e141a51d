"""A service the drill attaches to instead of provisioning: staging, a compose stack.

drillbook never starts, stops or signals it; faults that would change it are refused by the
runner unless the command line allows them (--allow-external-faults).
"""

from __future__ import annotations

import os
import signal as _signal
import urllib.error
import urllib.request
from collections.abc import Mapping
from urllib.parse import urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from drillbook.backends.base import ServiceInfo, ServiceState
from drillbook.errors import ProvisionError, ServiceError
from drillbook.scenario.kinds import External


class ExternalHandle:
    def __init__(self, name: str, kind: str, external: External) -> None:
        self._name, self._kind, self._ext = name, kind, external
        dsn = external.dsn
        if external.dsn_env:
            dsn = os.environ.get(external.dsn_env)
            if not dsn:
                raise ProvisionError(
                    f"external service {name!r}: variable {external.dsn_env} is not set"
                )
        self._dsn = dsn
        if kind == "postgres" and not dsn:
            raise ProvisionError(f"external postgres service {name!r} needs dsn or dsn_env")
        if kind != "postgres" and not external.url:
            raise ProvisionError(f"external {kind} service {name!r} needs url")
        self._params = conninfo_to_dict(dsn) if dsn else {}

    @property
    def name(self) -> str:
        return self._name

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def info(self) -> ServiceInfo:
        url = self._ext.url.rstrip("/") if self._ext.url else None
        port = self._params.get("port") or (urlsplit(url).port if url else None)
        return ServiceInfo(
            name=self._name,
            kind=self._kind,
            host=str(self._params.get("host") or (urlsplit(url).hostname if url else "")),
            port=int(port) if port else None,
            url=url,
            dsn=self._dsn,
            database=self._params.get("dbname"),
            user=self._params.get("user"),
            password=self._params.get("password"),
            endpoint_url=url if self._kind == "s3" else None,
        )

    def env(self) -> Mapping[str, str]:
        env = dict(self._ext.env)
        if self._dsn:
            pg = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER",
                  "password": "PGPASSWORD", "dbname": "PGDATABASE"}  # fmt: skip
            env.setdefault("DATABASE_URL", self._dsn)
            for key, var in pg.items():
                if self._params.get(key):
                    env.setdefault(var, str(self._params[key]))
        if self._ext.url and self._kind == "s3":
            env.setdefault("AWS_ENDPOINT_URL", self._ext.url)
        elif self._ext.url and self._kind == "gateway":
            env.setdefault("GATEWAY_URL", self._ext.url.rstrip("/"))
        elif self._ext.url:
            env.setdefault(f"{self._name.upper().replace('-', '_')}_URL", self._ext.url.rstrip("/"))
        return env

    def secrets(self) -> tuple[str, ...]:
        password = self._params.get("password")
        return (str(password),) if password else ()

    def _refuse(self, action: str) -> None:
        raise ServiceError(f"service {self._name!r} is external: drillbook does not {action} it")

    def start(self, timeout: float | None = None) -> None:
        self._refuse("start")

    def stop(self, timeout: float = 10.0) -> None:
        self._refuse("stop")

    def kill(self, sig: int = _signal.SIGKILL) -> None:
        self._refuse("signal")

    def restart(self, timeout: float | None = None) -> None:
        self._refuse("restart")

    def state(self) -> ServiceState:
        return ServiceState.RUNNING if self.healthy() else ServiceState.UNKNOWN

    def healthy(self) -> bool:
        try:
            if self._dsn:
                with psycopg.connect(self._dsn, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return True
            if self._ext.url:
                with urllib.request.urlopen(self._ext.url, timeout=2) as response:  # noqa: S310
                    return int(response.status) < 500
        except urllib.error.HTTPError as exc:
            return exc.code < 500
        except Exception:
            return False
        return False

    def log_tail(self, lines: int = 20) -> list[str]:
        return []

    def facts(self) -> Mapping[str, str]:
        where = self._ext.url or f"{self._params.get('host')}:{self._params.get('port')}"
        return {"external": "true", "endpoint": str(where)}

    def teardown(self) -> None:
        return None
