"""Drill fault hooks: what a drill can make the gateway do wrong, and how it is chosen.

Error injection is stratified: in every block of requests exactly round(rate * block) fail, at
positions drawn from a seeded RNG, so 6 % over 2,000 requests is 6 % within a request or two,
while the failures still look random inside each block.
"""

from __future__ import annotations

import asyncio
import random
from typing import Annotated, Literal

import psutil
from pydantic import BaseModel, ConfigDict, Field, field_validator

BLOCK = 200
DEGRADED_ERROR_RATE = 0.25
DEGRADED_LATENCY_MS = 750.0


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FixedLatency(_Frozen):
    kind: Literal["fixed"] = "fixed"
    ms: float = Field(ge=0)


class UniformLatency(_Frozen):
    kind: Literal["uniform"]
    min_ms: float = Field(ge=0)
    max_ms: float = Field(ge=0)


class NormalLatency(_Frozen):
    kind: Literal["normal"]
    mean_ms: float = Field(ge=0)
    stddev_ms: float = Field(ge=0)


class ExponentialLatency(_Frozen):
    kind: Literal["exponential"]
    mean_ms: float = Field(gt=0)


LatencySpec = Annotated[
    FixedLatency | UniformLatency | NormalLatency | ExponentialLatency, Field(discriminator="kind")
]


class ProviderFault(_Frozen):
    mode: Literal["offline", "degraded"]
    error_rate: float = Field(DEGRADED_ERROR_RATE, ge=0, le=1)
    latency_ms: float = Field(DEGRADED_LATENCY_MS, ge=0)


class FaultSettings(_Frozen):
    """The faults in force. POST merges the keys it names; DELETE clears everything."""

    error_rate: float = Field(0.0, ge=0, le=1, description="fraction of API requests failing")
    error_status: int = Field(500, ge=500, le=599)
    latency: LatencySpec | None = None
    provider_outage: dict[str, ProviderFault] = Field(default_factory=dict)
    leak_bytes_per_request: int = Field(0, ge=0, le=64 * 1024 * 1024)
    hang: bool = False
    seed: int = 0

    @field_validator("latency", mode="before")
    @classmethod
    def _number_is_fixed(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return {"kind": "fixed", "ms": value}
        return value

    @field_validator("provider_outage", mode="before")
    @classmethod
    def _mode_shorthand(cls, value: object) -> object:
        if isinstance(value, list):
            return {str(name): {"mode": "offline"} for name in value}
        if isinstance(value, dict):
            return {k: {"mode": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    def active(self) -> list[str]:
        names = []
        if self.error_rate > 0:
            names.append("error_rate")
        if self.latency is not None:
            names.append("latency")
        if self.provider_outage:
            names.append("provider_outage")
        if self.leak_bytes_per_request:
            names.append("leak_bytes_per_request")
        if self.hang:
            names.append("hang")
        return names


class FaultReport(_Frozen):
    """GET /_drill/faults: the faults in force and what they did so far."""

    faults: FaultSettings
    active: list[str]
    requests_seen: int
    errors_injected: int
    hung_requests: int
    leaked_bytes: int
    leaked_chunks: int
    rss_bytes: int


class BlockSampler:
    """Decides fail/pass per draw so each block of BLOCK draws has round(rate*BLOCK) fails."""

    def __init__(self, rate: float, rng: random.Random, block: int = BLOCK) -> None:
        self.rate = rate
        self._rng = rng
        self._block = block
        self._carry = 0.0
        self._fails: set[int] = set()
        self._pos = block

    def draw(self) -> bool:
        if self.rate <= 0:
            return False
        if self._pos >= self._block:
            exact = self.rate * self._block + self._carry
            count = min(self._block, int(exact))
            self._carry = exact - count
            self._fails = set(self._rng.sample(range(self._block), count))
            self._pos = 0
        hit = self._pos in self._fails
        self._pos += 1
        return hit


class FaultEngine:
    """Holds the faults in force and applies them. Used from the event loop only."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self._leaked: list[bytearray] = []
        self._hang_released = asyncio.Event()
        self.errors_injected = 0
        self.requests_seen = 0
        self.hung_requests = 0
        self.settings = FaultSettings()
        self._apply(settings or FaultSettings())

    def _apply(self, settings: FaultSettings) -> None:
        was_hanging = self.settings.hang
        self.settings = settings
        self._rng = random.Random(settings.seed)
        self._errors = BlockSampler(settings.error_rate, self._rng)
        self._provider_errors = {
            name: BlockSampler(pf.error_rate if pf.mode == "degraded" else 1.0, self._rng)
            for name, pf in settings.provider_outage.items()
        }
        if settings.hang and not was_hanging:
            self._hang_released = asyncio.Event()
        elif not settings.hang:
            self._hang_released.set()

    def update(self, patch: dict[str, object]) -> FaultSettings:
        """Merge the named keys into the faults in force (validated as a whole)."""
        merged = {**self.settings.model_dump(), **patch}
        self._apply(FaultSettings.model_validate(merged))
        return self.settings

    def clear(self, name: str | None = None) -> FaultSettings:
        if name is None:
            self._leaked.clear()
            self._apply(FaultSettings(seed=self.settings.seed))
            return self.settings
        default = FaultSettings.model_fields[name].get_default(call_default_factory=True)
        if name == "leak_bytes_per_request":
            self._leaked.clear()
        return self.update({name: default})

    # -- applied per request ---------------------------------------------------------------

    @property
    def hanging(self) -> bool:
        return self.settings.hang

    async def wait_hang(self) -> None:
        self.hung_requests += 1
        try:
            await self._hang_released.wait()
        finally:
            self.hung_requests -= 1

    def leak(self) -> None:
        size = self.settings.leak_bytes_per_request
        if size:
            # Touch the pages so RSS really grows (a bare allocation may stay virtual).
            chunk = bytearray(size)
            chunk[::4096] = b"\x01" * len(range(0, size, 4096))
            self._leaked.append(chunk)

    def delay(self) -> float:
        """Seconds of added latency for one request (0 when none)."""
        spec = self.settings.latency
        if spec is None:
            return 0.0
        if isinstance(spec, FixedLatency):
            ms = spec.ms
        elif isinstance(spec, UniformLatency):
            ms = self._rng.uniform(min(spec.min_ms, spec.max_ms), max(spec.min_ms, spec.max_ms))
        elif isinstance(spec, NormalLatency):
            ms = max(0.0, self._rng.gauss(spec.mean_ms, spec.stddev_ms))
        else:
            ms = self._rng.expovariate(1.0 / spec.mean_ms)
        return ms / 1000.0

    def inject_error(self) -> int | None:
        """The status to fail this request with, or None to serve it."""
        self.requests_seen += 1
        if self._errors.draw():
            self.errors_injected += 1
            return self.settings.error_status
        return None

    def provider_fault(self, provider: str) -> ProviderFault | None:
        return self.settings.provider_outage.get(provider)

    def provider_fails(self, provider: str) -> bool:
        sampler = self._provider_errors.get(provider)
        return sampler.draw() if sampler is not None else False

    def report(self) -> FaultReport:
        return FaultReport(
            faults=self.settings,
            active=self.settings.active(),
            requests_seen=self.requests_seen,
            errors_injected=self.errors_injected,
            hung_requests=self.hung_requests,
            leaked_bytes=sum(len(c) for c in self._leaked),
            leaked_chunks=len(self._leaked),
            rss_bytes=psutil.Process().memory_info().rss,
        )
