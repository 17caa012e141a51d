"""The `http` probe: a request answered with the expected status (and body, and latency)."""

from __future__ import annotations

import threading
import time
from typing import Literal

import httpx
from pydantic import Field, field_validator, model_validator

from drillbook.context import DrillContext
from drillbook.errors import ProbeError
from drillbook.registry import PROBES
from drillbook.scenario.kinds import ProbeResult, ProbeSpec
from drillbook.scenario.types import Duration

_local = threading.local()


def _statuses(value: int | list[int]) -> tuple[int, ...]:
    return (value,) if isinstance(value, int) else tuple(value)


def _client() -> httpx.Client:
    # One client per thread (building one loads the CA bundle: milliseconds), but no kept-alive
    # connections: each check connects afresh, as a new user would.
    client: httpx.Client | None = getattr(_local, "client", None)
    if client is None:
        client = httpx.Client(
            follow_redirects=False, limits=httpx.Limits(max_keepalive_connections=0)
        )
        _local.client = client
    return client


@PROBES.register
class HttpProbe(ProbeSpec):
    """A request to `url` (or the service's URL + `path`) gets an expected answer in time."""

    kind: Literal["http"]
    url: str | None = Field(None, description="may use ${services.NAME.url}")
    service: str | None = Field(None, description="use this service's URL with `path`")
    path: str = Field("/", description="with `service`: the path to request")
    method: str = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    expect_status: int | list[int] = 200
    expect_body_contains: str | None = None
    max_latency: Duration | None = Field(None, description="slower answers count as failures")

    @field_validator("expect_status")
    @classmethod
    def _status_range(cls, value: int | list[int]) -> int | list[int]:
        for status in _statuses(value):
            if not 100 <= status <= 599:
                raise ValueError(f"HTTP status {status} is outside 100-599")
        return value

    @model_validator(mode="after")
    def _one_target(self) -> HttpProbe:
        if (self.url is None) == (self.service is None):
            raise ValueError("give either `url` or `service` (with `path`)")
        return self

    def label(self) -> str:
        return self.name or f"http {self.url or f'{self.service}{self.path}'}"

    def target(self, ctx: DrillContext) -> str:
        if self.url is not None:
            return ctx.interpolate(self.url)
        assert self.service is not None
        base = ctx.service(self.service).info.url
        if base is None:
            raise ProbeError(f"http probe: service {self.service!r} has no url")
        return base.rstrip("/") + "/" + self.path.lstrip("/")

    def check(self, ctx: DrillContext, timeout: float) -> ProbeResult:
        url = self.target(ctx)
        headers = {k: ctx.interpolate(v) for k, v in self.headers.items()}
        started = time.perf_counter()
        try:
            response = _client().request(self.method.upper(), url, headers=headers, timeout=timeout)
        except httpx.TimeoutException:
            return ProbeResult(ok=False, detail=f"no answer within {timeout:g}s")
        except httpx.HTTPError as exc:
            return ProbeResult(ok=False, detail=f"{type(exc).__name__}: {exc}"[:200])
        latency = time.perf_counter() - started
        took = f"{latency * 1000:.0f}ms"
        if response.status_code not in _statuses(self.expect_status):
            return ProbeResult(ok=False, detail=f"status {response.status_code} in {took}")
        if self.expect_body_contains is not None and self.expect_body_contains not in (
            response.text
        ):
            return ProbeResult(
                ok=False,
                detail=f"body lacks {self.expect_body_contains!r} (status {response.status_code})",
            )
        if self.max_latency is not None and latency > self.max_latency:
            return ProbeResult(
                ok=False, detail=f"took {took} > max {self.max_latency * 1000:.0f}ms"
            )
        return ProbeResult(ok=True, detail=f"status {response.status_code} in {took}")
