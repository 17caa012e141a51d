"""The `process` probe: the service is running (its process, or container, is alive)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from drillbook.backends.base import ServiceState
from drillbook.context import DrillContext
from drillbook.registry import PROBES
from drillbook.scenario.kinds import ProbeResult, ProbeSpec


@PROBES.register
class ProcessProbe(ProbeSpec):
    """Pass while the service's state is running (and, with `healthy`, its health check passes)."""

    kind: Literal["process"]
    service: str
    healthy: bool = Field(False, description="also run the service's own health check")

    def label(self) -> str:
        return self.name or f"process {self.service}"

    def check(self, ctx: DrillContext, timeout: float) -> ProbeResult:
        handle = ctx.service(self.service)
        state = handle.state()
        if state != ServiceState.RUNNING:
            return ProbeResult(ok=False, detail=f"state {state}")
        if self.healthy and not handle.healthy():
            return ProbeResult(ok=False, detail="running but its health check fails")
        return ProbeResult(ok=True, detail="running")
