"""The local backend (the embedded default): real PostgreSQL, moto's S3 server and any command,
each a process group on this machine."""

from __future__ import annotations

from drillbook.backends.local.backend import LocalBackend
from drillbook.backends.local.command import CommandHandle
from drillbook.backends.local.postgres import PostgresHandle
from drillbook.backends.local.s3 import S3Handle

__all__ = ["CommandHandle", "LocalBackend", "PostgresHandle", "S3Handle"]
