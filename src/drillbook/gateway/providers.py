"""What the ops console knows about each provider: recent outcomes, latency, spend, status.

Status is what seed 003's rollback criteria read: `offline` or `degraded` from a drill's
provider fault, or from what recent requests saw (half failing: offline; over 5 %: degraded).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Literal

from pydantic import BaseModel, ConfigDict

from drillbook.gateway.faults import FaultEngine

WINDOW = 200
WINDOW_S = 60.0
DEGRADED_ERROR_RATE = 0.05
OFFLINE_ERROR_RATE = 0.5
MIN_SAMPLES = 10

Status = Literal["online", "degraded", "offline"]


class ProviderMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)
    requests: int
    errors: int
    window_requests: int
    error_rate: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    spend_usd: float


class _Stats:
    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.spend = 0.0
        self.recent: deque[tuple[float, float, bool]] = deque(maxlen=WINDOW)


def _quantile(sorted_values: list[float], q: float) -> float:
    idx = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[idx]


class ProviderBook:
    """Thread-safe: written from the event loop, read from admin endpoints in threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: dict[str, _Stats] = {}

    def observe(self, provider: str, latency_s: float, ok: bool, cost_usd: float = 0.0) -> None:
        with self._lock:
            stats = self._stats.get(provider)
            if stats is None:
                stats = self._stats[provider] = _Stats()
            stats.requests += 1
            stats.errors += 0 if ok else 1
            stats.spend += cost_usd
            stats.recent.append((time.monotonic(), latency_s, ok))

    def _window(self, provider: str) -> tuple[_Stats | None, list[tuple[float, float, bool]]]:
        with self._lock:
            stats = self._stats.get(provider)
            if stats is None:
                return None, []
            horizon = time.monotonic() - WINDOW_S
            return stats, [r for r in stats.recent if r[0] >= horizon]

    def metrics(self, provider: str) -> ProviderMetrics:
        stats, window = self._window(provider)
        if stats is None:
            return ProviderMetrics(
                requests=0,
                errors=0,
                window_requests=0,
                error_rate=0.0,
                latency_p50_ms=None,
                latency_p95_ms=None,
                spend_usd=0.0,
            )
        lat = sorted(r[1] * 1000.0 for r in window if r[2])
        fails = sum(1 for r in window if not r[2])
        return ProviderMetrics(
            requests=stats.requests,
            errors=stats.errors,
            window_requests=len(window),
            error_rate=round(fails / len(window), 4) if window else 0.0,
            latency_p50_ms=round(_quantile(lat, 0.5), 3) if lat else None,
            latency_p95_ms=round(_quantile(lat, 0.95), 3) if lat else None,
            spend_usd=round(stats.spend, 6),
        )

    def spend(self, provider: str | None = None) -> float:
        with self._lock:
            if provider is None:
                return sum(s.spend for s in self._stats.values())
            stats = self._stats.get(provider)
            return stats.spend if stats else 0.0

    def status(self, provider: str, faults: FaultEngine | None) -> Status:
        fault = faults.provider_fault(provider) if faults is not None else None
        if fault is not None:
            return fault.mode
        _, window = self._window(provider)
        if len(window) < MIN_SAMPLES:
            return "online"
        rate = sum(1 for r in window if not r[2]) / len(window)
        if rate >= OFFLINE_ERROR_RATE:
            return "offline"
        return "degraded" if rate > DEGRADED_ERROR_RATE else "online"
