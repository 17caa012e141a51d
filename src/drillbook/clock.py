"""Monotonic timing for every figure, wall-clock only for labels.

Inject a `Clock`; tests use `FakeClock` so timing logic is checked without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now_ns(self) -> int:
        """Monotonic nanoseconds; only differences mean anything."""
        ...

    def wall(self) -> datetime:
        """Current UTC time, for labels only."""
        ...

    def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    def now_ns(self) -> int:
        return time.perf_counter_ns()

    def wall(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock that moves only when told to (or when something sleeps on it)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._ns = 0
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()

    def now_ns(self) -> int:
        with self._lock:
            return self._ns

    def wall(self) -> datetime:
        with self._lock:
            return self._start + timedelta(microseconds=self._ns / 1000)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._ns += int(seconds * 1e9)

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)


@dataclass
class Span:
    start_ns: int
    end_ns: int | None = None

    @property
    def seconds(self) -> float:
        if self.end_ns is None:
            raise ValueError("span still open")
        return (self.end_ns - self.start_ns) / 1e9


@contextmanager
def measure(clock: Clock) -> Iterator[Span]:
    """Time the body of a `with` block on `clock`."""
    span = Span(clock.now_ns())
    try:
        yield span
    finally:
        span.end_ns = clock.now_ns()
