"""The `tcp` probe: a port accepts connections."""

from __future__ import annotations

import socket
import time
from typing import Literal

from pydantic import Field, model_validator

from drillbook.context import DrillContext
from drillbook.errors import ProbeError
from drillbook.registry import PROBES
from drillbook.scenario.kinds import ProbeResult, ProbeSpec


@PROBES.register
class TcpProbe(ProbeSpec):
    """A TCP connection to the service's port (or host:port) succeeds."""

    kind: Literal["tcp"]
    service: str | None = None
    host: str | None = Field(None, description="with `port`, instead of `service`")
    port: int | None = Field(None, ge=1, le=65535)

    @model_validator(mode="after")
    def _one_target(self) -> TcpProbe:
        if self.service is None and (self.host is None or self.port is None):
            raise ValueError("give `service`, or `host` and `port`")
        if self.service is not None and self.host is not None:
            raise ValueError("give `service` or `host`, not both")
        return self

    def label(self) -> str:
        return self.name or f"tcp {self.service or f'{self.host}:{self.port}'}"

    def check(self, ctx: DrillContext, timeout: float) -> ProbeResult:
        host, port = self.host, self.port
        if self.service is not None:
            info = ctx.service(self.service).info
            host, port = info.host, self.port or info.port
            if port is None:
                raise ProbeError(f"tcp probe: service {self.service!r} has no port; give `port`")
        assert host is not None and port is not None
        started = time.perf_counter()
        try:
            with socket.create_connection((host, port), timeout=timeout):
                pass
        except TimeoutError:
            return ProbeResult(ok=False, detail=f"{host}:{port}: no answer within {timeout:g}s")
        except OSError as exc:
            return ProbeResult(ok=False, detail=f"{host}:{port}: {exc.strerror or exc}")
        took = (time.perf_counter() - started) * 1000
        return ProbeResult(ok=True, detail=f"{host}:{port} connected in {took:.1f}ms")
