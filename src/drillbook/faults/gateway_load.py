"""Faults users feel under load, through the gateway's drill hooks (/_drill/faults).

gateway.error_spike, gateway.latency, provider.outage and gateway.memory_leak each set one key
of the hooks (answering only to the run's drill token, which is in the gateway's own command
environment) and clear it in `revert()`. With `duration` the fault clears itself after that
long (a transient spike) and marks the journal "fault.cleared" at that moment.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

import httpx
from pydantic import BeforeValidator, Field, PrivateAttr

from drillbook.context import DrillContext
from drillbook.errors import FaultError
from drillbook.registry import FAULTS
from drillbook.scenario.kinds import FaultOutcome, FaultSpec
from drillbook.scenario.load import Fraction
from drillbook.scenario.types import Duration, Model

DRILL_TOKEN_ENV = "DRILLBOOK_DRILL_TOKEN"  # noqa: S105 - a variable name
TOKEN_HEADER = "X-Drill-Token"  # noqa: S105 - a header name
_SIZE = re.compile(r"^\s*(\d+)\s*(B|KiB|MiB|KB|MB)?\s*$")
_UNITS = {None: 1, "B": 1, "KiB": 1024, "KB": 1000, "MiB": 1024**2, "MB": 1000**2}


def _size(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"expected a size such as '64KiB' or bytes, got {value!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


Size = Annotated[int, BeforeValidator(_size)]


class DrillHooks:
    """The /_drill/faults API of one gateway of the run."""

    def __init__(self, ctx: DrillContext, service: str, timeout: float) -> None:
        handle = ctx.service(service)
        if handle.info.url is None:
            raise FaultError(f"service {service!r} ({handle.kind}) has no url to call")
        spec = getattr(handle, "spec", None)
        env = getattr(spec, "env", None)
        token = env.get(DRILL_TOKEN_ENV) if isinstance(env, Mapping) else None
        if not isinstance(token, str) or not token:
            raise FaultError(
                f"service {service!r} ({handle.kind}) has no {DRILL_TOKEN_ENV}: "
                "it must be a gateway with drill_faults: true"
            )
        ctx.add_secret(token)
        self.url = handle.info.url.rstrip("/") + "/_drill/faults"
        self.headers = {TOKEN_HEADER: token}
        self.timeout = timeout

    def call(self, method: str, path: str = "", body: Mapping[str, object] | None = None
             ) -> dict[str, Any]:
        url = self.url + path
        try:
            r = httpx.request(method, url, json=body, headers=self.headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise FaultError(f"{method} {url}: {type(exc).__name__}: {exc}"[:300]) from exc
        if r.status_code >= 400:
            raise FaultError(f"{method} {url}: status {r.status_code}: {r.text[:200]}")
        data = r.json()
        if not isinstance(data, dict):
            raise FaultError(f"{method} {url}: expected a json object, got {r.text[:120]!r}")
        return data

    def set(self, patch: Mapping[str, object]) -> str:
        active = self.call("POST", body=patch).get("active")
        return ",".join(map(str, active)) if isinstance(active, list) else str(active)

    def clear(self, key: str) -> None:
        self.call("DELETE", f"/{key}")


class _HookFault(FaultSpec):
    """One key of the drill hooks, set by inject and cleared by revert (or after duration)."""

    key: ClassVar[str] = ""
    service: str = Field(description="the gateway service of the drill")
    duration: Duration | None = Field(
        None, description="clear the fault by itself after this long; default: until reverted"
    )
    timeout: Duration = Field(10.0, description="each call to the gateway fails after this")
    _timer: threading.Timer | None = PrivateAttr(None)

    def patch(self) -> dict[str, object]:
        raise NotImplementedError

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        hooks = DrillHooks(ctx, self.service, self.timeout)
        patch = self.patch()
        active = hooks.set(patch)
        if self.duration is not None:
            self._timer = threading.Timer(self.duration, self._expire, (ctx,))
            self._timer.daemon = True
            self._timer.start()
        detail = {k: str(v) for k, v in patch.items()}
        detail["active"] = active
        if self.duration is not None:
            detail["duration"] = f"{self.duration:g}s"
        return FaultOutcome(target=self.service, detail=detail)

    def _expire(self, ctx: DrillContext) -> None:
        try:
            DrillHooks(ctx, self.service, self.timeout).clear(self.key)
            ctx.mark("fault.cleared", kind=self.kind, service=self.service)
        except Exception as exc:  # a timer thread has nobody to raise to
            ctx.log(f"{self.kind}: could not clear after {self.duration:g}s: {exc}")

    def revert(self, ctx: DrillContext) -> None:
        if self._timer is not None:
            self._timer.cancel()
        try:
            DrillHooks(ctx, self.service, self.timeout).clear(self.key)
        except Exception as exc:  # revert never raises; a gone gateway has nothing to clear
            ctx.log(f"{self.kind}: revert skipped: {exc}")


@FAULTS.register
class ErrorSpike(_HookFault):
    """A share of the gateway's API requests fail with `status` (health endpoints exempt)."""

    kind: Literal["gateway.error_spike"]
    key: ClassVar[str] = "error_rate"
    fraction: Fraction = Field(description="share of requests failing: '6%' or 0.06")
    status: int = Field(500, ge=500, le=599)

    def patch(self) -> dict[str, object]:
        return {"error_rate": self.fraction, "error_status": self.status}


class LatencyDistribution(Model):
    kind: Literal["fixed", "uniform", "normal", "exponential"]
    ms: float | None = Field(None, ge=0, description="fixed")
    min_ms: float | None = Field(None, ge=0, description="uniform")
    max_ms: float | None = Field(None, ge=0, description="uniform")
    mean_ms: float | None = Field(None, ge=0, description="normal, exponential")
    stddev_ms: float | None = Field(None, ge=0, description="normal")


@FAULTS.register
class Latency(_HookFault):
    """Every API request of the gateway waits longer: fixed `ms` or a `distribution`."""

    kind: Literal["gateway.latency"]
    key: ClassVar[str] = "latency"
    ms: float | None = Field(None, ge=0, description="fixed added latency")
    distribution: LatencyDistribution | None = None

    def patch(self) -> dict[str, object]:
        if self.distribution is not None:
            spec = self.distribution.model_dump(exclude_none=True)
            return {"latency": spec}
        if self.ms is None:
            raise FaultError("gateway.latency needs ms or a distribution")
        return {"latency": {"kind": "fixed", "ms": self.ms}}


@FAULTS.register
class ProviderOutage(_HookFault):
    """Upstream providers go offline (every call fails) or degraded (a share fail, slower)."""

    kind: Literal["provider.outage"]
    key: ClassVar[str] = "provider_outage"
    providers: list[str] = Field(min_length=1, description="e.g. [openai]")
    mode: Literal["offline", "degraded"] = "offline"
    error_rate: Fraction = Field(0.25, description="degraded: share of calls failing")
    latency_ms: float = Field(750.0, ge=0, description="degraded: added to each call")

    def patch(self) -> dict[str, object]:
        one = {"mode": self.mode, "error_rate": self.error_rate, "latency_ms": self.latency_ms}
        return {"provider_outage": {p: one for p in self.providers}}


@FAULTS.register
class MemoryLeak(_HookFault):
    """Every request leaks `bytes_per_request` that stay resident until cleared."""

    kind: Literal["gateway.memory_leak"]
    key: ClassVar[str] = "leak_bytes_per_request"
    bytes_per_request: Size = Field(ge=1, le=64 * 1024 * 1024, description="'64KiB' or bytes")

    def patch(self) -> dict[str, object]:
        return {"leak_bytes_per_request": self.bytes_per_request}
