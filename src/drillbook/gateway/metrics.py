"""Prometheus metrics of one gateway, under the names seed 004's queries use.

`http_requests_total{status=~"5.."}` and `http_request_duration_seconds_bucket` read from
outside give the same error rate and p95 a drill computes from its own load.
"""

from __future__ import annotations

import time
from collections import deque

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

__all__ = ["CONTENT_TYPE", "GatewayMetrics", "RecentRequests"]

_NOT_API = ("/health", "/metrics", "/version", "/_drill")
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class GatewayMetrics:
    """One registry per gateway app, so several apps in one test process do not collide."""

    def __init__(self, release: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        self._requests = Counter(
            "http_requests",
            "HTTP requests served, by method, route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self._errors = Counter(
            "http_errors",
            "HTTP responses with status >= 500, by route and status",
            ["route", "status"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "http_request_duration_seconds",
            "time from request received to response sent",
            ["route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "gateway_requests_in_flight", "requests being served", registry=self.registry
        )
        self._reloads = Counter(
            "gateway_config_reloads", "config reloads by result", ["result"], registry=self.registry
        )
        self._provider = Counter(
            "gateway_provider_requests",
            "chat completions by provider and outcome",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self._info = Gauge(
            "gateway_info",
            "release and config of this process",
            ["release", "config_hash"],
            registry=self.registry,
        )
        self.release = release
        self.recent = RecentRequests()
        # Label lookups take a lock each time; the hot path reuses its children.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        child = self._children.get(key)
        if child is None:
            child = (
                self._requests.labels(method, route, str(status)),
                self._latency.labels(route),
            )
            self._children[key] = child
        child[0].inc()
        child[1].observe(seconds)
        if route != "unmatched" and not route.startswith(_NOT_API):
            self.recent.add(time.monotonic(), seconds, status >= 500)
        if status >= 500:
            self._errors.labels(route, str(status)).inc()

    def reload(self, ok: bool) -> None:
        self._reloads.labels("ok" if ok else "rejected").inc()

    def provider(self, provider: str, outcome: str) -> None:
        self._provider.labels(provider, outcome).inc()

    def config_loaded(self, config_hash: str) -> None:
        self._info.clear()
        self._info.labels(self.release, config_hash).set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RecentRequests:
    """The last few thousand API requests, for the ops console's error-rate and p95 alerts."""

    def __init__(self, size: int = 4000) -> None:
        self._items: deque[tuple[float, float, bool]] = deque(maxlen=size)

    def add(self, now: float, seconds: float, error: bool) -> None:
        self._items.append((now, seconds, error))

    def summary(self, window_s: float, now: float) -> tuple[int, float, float | None]:
        """(requests, error rate, p95 seconds) over the last `window_s` seconds."""
        items = [i for i in list(self._items) if i[0] >= now - window_s]
        if not items:
            return 0, 0.0, None
        lat = sorted(i[1] for i in items)
        p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
        return len(items), sum(1 for i in items if i[2]) / len(items), p95
