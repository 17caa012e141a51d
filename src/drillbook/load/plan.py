"""What the load process is told to do, and the bucket lines it prints back (JSON both ways).

Shared by the harness (drillbook.load.session) and the locust process (drillbook.load.worker),
so it imports neither.
"""

from __future__ import annotations

import math

from pydantic import Field, JsonValue

from drillbook.scenario.types import Model

KEY_ENV = "DRILLBOOK_LOAD_KEY"  # the key travels in the environment, never on argv or disk


class PlannedRequest(Model):
    label: str
    method: str
    path: str
    weight: float
    body: dict[str, JsonValue] | None = None
    auth: bool = True


class LoadPlan(Model):
    base_url: str
    requests: tuple[PlannedRequest, ...]
    header: str = "Authorization"
    users: int
    spawn_rate: float
    rps: float | None = None
    bucket: float = 1.0
    timeout: float = 10.0
    workers: int = 0
    seed: int = 0


class BucketLine(Model):
    """One bucket as the load process prints it; times are CLOCK_MONOTONIC nanoseconds."""

    type: str = "bucket"
    start_ns: int
    end_ns: int
    requests: int
    failures: int
    by_status: dict[str, int] = Field(default_factory=dict)
    p50: float | None = None  # ms
    p95: float | None = None
    p99: float | None = None
    max: float | None = None
    first_failure_ns: int | None = None
    last_failure_ns: int | None = None
    users: int = 0
    hist: dict[int, int] = Field(default_factory=dict)


def round_ms(ms: float) -> int:
    """Round a latency the way locust's own statistics do: finer for fast answers."""
    if ms < 100:
        return round(ms)
    if ms < 1000:
        return int(round(ms, -1))
    return int(round(ms, -2))


def percentile(hist: dict[int, int], q: float) -> float | None:
    """The q-quantile (0..1) of a histogram of rounded milliseconds."""
    total = sum(hist.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))  # nearest rank: the smallest value covering q
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return float(value)
    return float(max(hist))
