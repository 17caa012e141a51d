"""Service kinds a backend can start. Importing this package registers every built-in kind."""

from __future__ import annotations

from drillbook.services.command import CommandHealth, CommandService
from drillbook.services.gateway import GatewayService
from drillbook.services.postgres import PostgresService
from drillbook.services.s3 import S3Service

__all__ = ["CommandHealth", "CommandService", "GatewayService", "PostgresService", "S3Service"]
