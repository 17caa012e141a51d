"""Built-in fault kinds. Importing this package registers every one of them."""

from __future__ import annotations

from drillbook.faults.config import CorruptYaml
from drillbook.faults.database import DeleteRows, DropTable
from drillbook.faults.service import ServiceKill, ServiceRestart, ServiceSignal, ServiceStop

__all__ = [
    "CorruptYaml",
    "DeleteRows",
    "DropTable",
    "ServiceKill",
    "ServiceRestart",
    "ServiceSignal",
    "ServiceStop",
]
