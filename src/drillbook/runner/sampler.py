"""Samples the steady-state probes continuously on a background thread.

One tick runs every probe once; the tick's time is when it started. Waiters block on a
condition instead of polling, so a transition is seen within one tick.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence

from drillbook.context import DrillContext
from drillbook.journal import ProbeSample, Recorder, Sample
from drillbook.scenario.kinds import ProbeSpec


def run_probe(probe: ProbeSpec, ctx: DrillContext, recorder: Recorder) -> ProbeSample:
    start = recorder.t()
    try:
        result = probe.check(ctx, probe.timeout)
        ok, detail = result.ok, result.detail
    except Exception as exc:  # a probe bug must show as a failed sample, not kill the sampler
        ok, detail = False, f"probe error: {type(exc).__name__}: {exc}"
    return ProbeSample(
        probe=probe.label(), ok=ok, detail=detail[:300], latency=recorder.t() - start
    )


class Sampler:
    def __init__(
        self,
        probes: Sequence[ProbeSpec],
        ctx: DrillContext,
        recorder: Recorder,
        interval: float,
        on_sample: Callable[[Sample], None] = lambda _s: None,
    ) -> None:
        self._probes = list(probes)
        self._ctx = ctx
        self._recorder = recorder
        self._interval = interval
        self._on_sample = on_sample
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._samples: list[Sample] = []
        self._thread = threading.Thread(target=self._loop, name="drillbook-sampler", daemon=True)

    def start(self) -> None:
        if self._probes:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(
                timeout=max(5.0, max((p.timeout for p in self._probes), default=0) + 1)
            )
        with self._cond:
            self._cond.notify_all()

    def _loop(self) -> None:
        clock = self._ctx.clock
        next_tick = clock.now_ns()
        step = int(self._interval * 1e9)
        while not self._stop.is_set():
            t = self._recorder.t()
            results = tuple(run_probe(p, self._ctx, self._recorder) for p in self._probes)
            sample = Sample(t=t, ok=all(r.ok for r in results), results=results)
            self._recorder.sample(sample)
            with self._cond:
                self._samples.append(sample)
                self._cond.notify_all()
            with contextlib.suppress(Exception):  # a listener must never stop sampling
                self._on_sample(sample)
            next_tick += step
            now = clock.now_ns()
            # Probes took longer than the interval: do not try to catch up.
            next_tick = max(next_tick, now)
            self._stop.wait((next_tick - now) / 1e9)

    def wait_for(self, predicate: Callable[[list[Sample]], bool], timeout: float) -> bool:
        """Block until `predicate(samples so far)` holds or `timeout` passes."""
        deadline = self._ctx.clock.now_ns() + int(timeout * 1e9)
        with self._cond:
            while True:
                if predicate(self._samples):
                    return True
                remaining = (deadline - self._ctx.clock.now_ns()) / 1e9
                if remaining <= 0 or self._stop.is_set() or not self._thread.is_alive():
                    return predicate(self._samples)
                self._cond.wait(min(remaining, 0.5))


def stable_since(samples: Sequence[Sample], since: float, count: int) -> Sample | None:
    """The first sample of the first run of `count` consecutive ok samples at or after `since`."""
    run_start: Sample | None = None
    run_len = 0
    for sample in samples:
        if sample.t < since:
            continue
        if sample.ok:
            if run_len == 0:
                run_start = sample
            run_len += 1
            if run_len >= count:
                return run_start
        else:
            run_len = 0
            run_start = None
    return None


def first_failure_since(samples: Sequence[Sample], since: float) -> Sample | None:
    return next((s for s in samples if s.t >= since and not s.ok), None)
