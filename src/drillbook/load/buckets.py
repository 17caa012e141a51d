"""Cutting request samples into fixed buckets by completion time (pure Python, no locust).

The load process feeds every finished request in as (completion ns on CLOCK_MONOTONIC,
response ms, status, failed) and prints each bucket once it is complete; a sample reported
late (a worker's report crossing a bucket edge) counts in the oldest bucket still open.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from drillbook.load.plan import BucketLine, round_ms

Sample = tuple[int, float, int, bool]  # completion ns, response ms, status, failed


class Bucketer:
    """Cuts samples into fixed buckets from `origin` and prints each one once it is complete."""

    def __init__(
        self,
        origin_ns: int,
        width: float,
        users: Callable[[], int],
        emit: Callable[[dict[str, Any]], None],
    ) -> None:
        self.origin = origin_ns
        self.emit = emit
        self.width = int(width * 1e9)
        self.users = users
        self.open: dict[int, list[Sample]] = {}
        self.next_index = 0

    def add(self, samples: list[Sample]) -> None:
        for sample in samples:
            index = max(0, (sample[0] - self.origin) // self.width)
            index = max(index, self.next_index)  # a late report counts in the oldest open one
            self.open.setdefault(index, []).append(sample)

    def flush(self, *, before_ns: int) -> None:
        """Print every bucket ending before `before_ns` (empty ones too: no request is news)."""
        while self.origin + (self.next_index + 1) * self.width <= before_ns:
            self._print(self.next_index, self.origin + (self.next_index + 1) * self.width)
            self.next_index += 1

    def flush_all(self, now_ns: int) -> None:
        """Print everything left; the last bucket ends at `now_ns` or its last sample."""
        latest = max((s[0] for bucket in self.open.values() for s in bucket), default=now_ns)
        now_ns = max(now_ns, latest + 1)
        self.flush(before_ns=now_ns)
        if self.open:
            last = max(self.open)
            while self.next_index <= last:
                start = self.origin + self.next_index * self.width
                end = min(now_ns, start + self.width)
                self._print(self.next_index, end)
                self.next_index += 1

    def _print(self, index: int, end_ns: int) -> None:
        samples = self.open.pop(index, [])
        times = sorted(s[1] for s in samples)
        failed = [s for s in samples if s[3]]
        by_status: dict[str, int] = {}
        for s in failed:
            by_status[str(s[2])] = by_status.get(str(s[2]), 0) + 1
        hist: dict[int, int] = {}
        for ms in times:
            key = round_ms(ms)
            hist[key] = hist.get(key, 0) + 1

        def pct(q: float) -> float | None:
            if not times:
                return None
            return times[min(len(times) - 1, max(0, math.ceil(q * len(times)) - 1))]

        line = BucketLine(
            start_ns=self.origin + index * self.width,
            end_ns=end_ns,
            requests=len(samples),
            failures=len(failed),
            by_status=by_status,
            p50=pct(0.5),
            p95=pct(0.95),
            p99=pct(0.99),
            max=times[-1] if times else None,
            first_failure_ns=min((s[0] for s in failed), default=None),
            last_failure_ns=max((s[0] for s in failed), default=None),
            users=self.users(),
            hist=hist,
        )
        self.emit(line.model_dump(mode="json"))
