"""Built-in probe kinds. Importing this package registers every one of them."""

from __future__ import annotations

from drillbook.probes.command import CommandProbe
from drillbook.probes.http import HttpProbe
from drillbook.probes.process import ProcessProbe
from drillbook.probes.s3 import S3Probe
from drillbook.probes.sql import SqlProbe, close_connections
from drillbook.probes.tcp import TcpProbe

__all__ = [
    "CommandProbe",
    "HttpProbe",
    "ProcessProbe",
    "S3Probe",
    "SqlProbe",
    "TcpProbe",
    "close_connections",
]
