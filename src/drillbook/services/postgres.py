"""The `postgres` service: a real PostgreSQL server for the drill."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from drillbook import registry
from drillbook.scenario.kinds import ServiceSpec

_SETTING_NAME = re.compile(r"^[a-z_][a-z0-9_.]*$")
# Network and file locations are the backend's to choose; letting a scenario move them would
# break the service's info (dsn, port) that probes and scripts rely on.
_RESERVED = frozenset(
    {
        "port",
        "listen_addresses",
        "unix_socket_directories",
        "data_directory",
        "hba_file",
        "ident_file",
    }
)


@registry.SERVICES.register
class PostgresService(ServiceSpec):
    """A PostgreSQL server with a drill database and a random per-run password."""

    kind: Literal["postgres"]
    version: str | None = Field(
        None,
        pattern=r"^\d+$",
        description="major version wanted, e.g. '15'; default: whatever is found",
    )
    database: str = Field("drill", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    user: str = Field("postgres", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    wal_archive: bool = Field(
        False,
        description="archive WAL into WAL_ARCHIVE_DIR, for point-in-time recovery drills",
    )
    settings: dict[str, str] = Field(
        default_factory=dict, description="extra postgresql.conf settings, name: value"
    )

    @field_validator("settings")
    @classmethod
    def _simple_settings(cls, value: dict[str, str]) -> dict[str, str]:
        for name, setting in value.items():
            if not _SETTING_NAME.match(name):
                raise ValueError(f"setting name {name!r} is not a postgresql.conf parameter name")
            if name in _RESERVED:
                raise ValueError(
                    f"setting {name!r} is chosen by drillbook and cannot be overridden"
                )
            if "\n" in setting or "\r" in setting:
                raise ValueError(f"setting {name!r} has a line break in its value {setting!r}")
        return value
