"""Built-in fault kinds. Importing this package registers every one of them."""

from __future__ import annotations

from drillbook.faults.config import CorruptYaml
from drillbook.faults.container import (
    ContainerKill,
    ContainerPause,
    ContainerStop,
    NetworkDisconnect,
)
from drillbook.faults.database import DeleteRows, DropTable
from drillbook.faults.deploy import ConfigReplace, DeployCommand
from drillbook.faults.gateway import ActivateProvider, DegradeGateway, DegradeProvider, SetFlag
from drillbook.faults.gateway_load import ErrorSpike, Latency, MemoryLeak, ProviderOutage
from drillbook.faults.release import ServiceDeploy
from drillbook.faults.service import ServiceKill, ServiceRestart, ServiceSignal, ServiceStop
from drillbook.faults.storage import FileCorrupt, FileDelete, FileTruncate, S3DeleteObjects

__all__ = [
    "ActivateProvider",
    "ConfigReplace",
    "ContainerKill",
    "ContainerPause",
    "ContainerStop",
    "CorruptYaml",
    "DegradeGateway",
    "DegradeProvider",
    "DeleteRows",
    "DeployCommand",
    "DropTable",
    "ErrorSpike",
    "FileCorrupt",
    "FileDelete",
    "FileTruncate",
    "Latency",
    "MemoryLeak",
    "NetworkDisconnect",
    "ProviderOutage",
    "S3DeleteObjects",
    "ServiceDeploy",
    "ServiceKill",
    "ServiceRestart",
    "ServiceSignal",
    "ServiceStop",
    "SetFlag",
]
