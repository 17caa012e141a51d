"""Faults on the reference gateway, through its own APIs and its drill hooks.

`gateway.set_flag` is a rollout a human ships through the ops console; `provider.activate` is an
operator activating a provider; `provider.degrade` and `gateway.degrade` break the gateway through
/_drill/faults, which answers only to the run's drill token (the gateway's own
DRILLBOOK_DRILL_TOKEN, which the fault reads from the service's command environment).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import httpx
from pydantic import Field

from drillbook.backends.base import ServiceHandle
from drillbook.context import DrillContext
from drillbook.errors import FaultError
from drillbook.registry import FAULTS
from drillbook.scenario.kinds import FaultOutcome, FaultSpec
from drillbook.scenario.types import Duration

DRILL_TOKEN_ENV = "DRILLBOOK_DRILL_TOKEN"  # noqa: S105 - a variable name
_TOKEN_HEADER = "X-Drill-Token"  # noqa: S105 - a header name
_JsonObject = Mapping[str, object]


def _base_url(ctx: DrillContext, service: str) -> str:
    handle = ctx.service(service)
    if handle.info.url is None:
        raise FaultError(f"service {service!r} ({handle.kind}) has no url to call")
    return handle.info.url.rstrip("/")


def _drill_token(handle: ServiceHandle) -> str:
    """The token the gateway was started with (its command spec's environment)."""
    spec = getattr(handle, "spec", None)
    env = getattr(spec, "env", None)
    token = env.get(DRILL_TOKEN_ENV) if isinstance(env, Mapping) else None
    if not isinstance(token, str) or not token:
        raise FaultError(
            f"service {handle.name!r} ({handle.kind}) has no {DRILL_TOKEN_ENV}: "
            "it must be a gateway with drill_faults: true"
        )
    return token


def _call(
    method: str,
    url: str,
    *,
    body: _JsonObject | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float,
) -> _JsonObject:
    try:
        response = httpx.request(
            method, url, json=body, headers=dict(headers or {}), timeout=timeout
        )
    except httpx.HTTPError as exc:
        raise FaultError(f"{method} {url}: {type(exc).__name__}: {exc}"[:300]) from exc
    if response.status_code >= 400:
        raise FaultError(f"{method} {url}: status {response.status_code}: {response.text[:200]}")
    try:
        data = response.json()
    except ValueError as exc:
        raise FaultError(f"{method} {url}: answer is not json: {response.text[:120]!r}") from exc
    if not isinstance(data, dict):
        raise FaultError(f"{method} {url}: expected a json object, got {response.text[:120]!r}")
    return data


class _GatewayFault(FaultSpec):
    service: str = Field(description="the gateway service of the drill")
    timeout: Duration = Field(10.0, description="each call to the gateway fails after this")


@FAULTS.register
class SetFlag(_GatewayFault):
    """PUT /api/v1/features/FLAG: switch a feature flag on or off for a share of users."""

    kind: Literal["gateway.set_flag"]
    flag: str = Field(pattern=r"^[a-z0-9_]+$", description="e.g. unified_llm_hub")
    enabled: bool = True
    rollout_percentage: int | None = Field(None, ge=0, le=100, description="default: 100 or 0")

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        body: dict[str, object] = {"enabled": self.enabled}
        if self.rollout_percentage is not None:
            body["rollout_percentage"] = self.rollout_percentage
        url = f"{_base_url(ctx, self.service)}/api/v1/features/{self.flag}"
        view = _call("PUT", url, body=body, timeout=self.timeout)
        return FaultOutcome(
            target=f"{self.service}:{self.flag}",
            detail={
                "enabled": str(view.get("enabled")),
                "config": str(view.get("config")),
                "source": str(view.get("source")),
            },
        )


@FAULTS.register
class ActivateProvider(_GatewayFault):
    """POST /api/v1/providers/P/activate: an operator activates a provider (the risky change)."""

    kind: Literal["provider.activate"]
    provider: str
    model: str | None = None

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        url = f"{_base_url(ctx, self.service)}/api/v1/providers/{self.provider}/activate"
        body = {"model": self.model} if self.model else None
        done = _call("POST", url, body=body, timeout=self.timeout)
        return FaultOutcome(
            target=f"{self.service}:{self.provider}",
            detail={
                "previous_provider": str(done.get("previous_provider")),
                "connection_status": str(done.get("connection_status")),
            },
        )


class _DrillHooks:
    """/_drill/faults of one gateway, called with the run's drill token."""

    def __init__(self, ctx: DrillContext, service: str, timeout: float) -> None:
        self.url = f"{_base_url(ctx, service)}/_drill/faults"
        self.timeout = timeout
        token = _drill_token(ctx.service(service))
        ctx.add_secret(token)
        self._headers = {_TOKEN_HEADER: token}

    def read(self) -> _JsonObject:
        return _call("GET", self.url, headers=self._headers, timeout=self.timeout)

    def merge(self, patch: _JsonObject) -> str:
        """POST the patch (merged into the faults in force); return the faults now active."""
        report = _call("POST", self.url, body=patch, headers=self._headers, timeout=self.timeout)
        active = report.get("active")
        return ",".join(map(str, active)) if isinstance(active, list) else str(active)


@FAULTS.register
class DegradeProvider(_GatewayFault):
    """A provider goes offline, or degraded: a share of its calls fail and each is slower."""

    kind: Literal["provider.degrade"]
    provider: str
    mode: Literal["degraded", "offline"] = "degraded"
    error_rate: float = Field(0.06, ge=0, le=1, description="degraded: share of calls failing")
    latency_ms: float = Field(0.0, ge=0, description="degraded: added to each call")

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        hooks = _DrillHooks(ctx, self.service, self.timeout)
        # POST merges top-level keys: keep the other providers' outages in force.
        faults = hooks.read().get("faults")
        outages = faults.get("provider_outage") if isinstance(faults, dict) else None
        merged = dict(outages) if isinstance(outages, dict) else {}
        merged[self.provider] = {
            "mode": self.mode,
            "error_rate": self.error_rate,
            "latency_ms": self.latency_ms,
        }
        active = hooks.merge({"provider_outage": merged})
        return FaultOutcome(
            target=f"{self.service}:{self.provider}",
            detail={
                "mode": self.mode,
                "error_rate": f"{self.error_rate:g}",
                "latency_ms": f"{self.latency_ms:g}",
                "active": active,
            },
        )


@FAULTS.register
class DegradeGateway(_GatewayFault):
    """A share of all API requests fail (error_rate) and/or each is slower (latency_ms)."""

    kind: Literal["gateway.degrade"]
    error_rate: float = Field(0.0, ge=0, le=1)
    error_status: int = Field(500, ge=500, le=599)
    latency_ms: float | None = Field(None, ge=0)

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        patch: dict[str, object] = {
            "error_rate": self.error_rate,
            "error_status": self.error_status,
        }
        if self.latency_ms is not None:
            patch["latency"] = {"kind": "fixed", "ms": self.latency_ms}
        active = _DrillHooks(ctx, self.service, self.timeout).merge(patch)
        return FaultOutcome(
            target=self.service,
            detail={
                "error_rate": f"{self.error_rate:g}",
                "latency_ms": f"{self.latency_ms or 0:g}",
                "active": active,
            },
        )
