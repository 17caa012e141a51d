"""What the load's users felt, per window of the drill, from the journal's buckets alone.

Windows (run seconds; every boundary is a journal moment):
- baseline: the first bucket -> "inject.start";
- fault: "inject.start" -> "recover.start";
- recovery: "recover.start" -> the end of the last recovery step (the procedure done);
- after: the end of the procedure -> the last bucket.
A bucket counts in a window when it lies wholly inside it, so one window's figures never mix
in requests of another; a window too short for a whole bucket uses the buckets whose middle
falls inside (and says so). Error rate = failed / all requests; p50/p95/p99 are merged from the
buckets' histograms (milliseconds rounded as locust rounds them), in seconds.

- detected_at: with a clean baseline, the first failed request at or after the fault; with
  background errors, the end of the first whole fault bucket whose rate is above twice the
  baseline rate and 1 point above it. Resolution: one request (clean) or one bucket.
- errors_stopped_at: the last failed request, when none failed in the after window.
- time_to_recover: recover.start -> errors_stopped_at (negative: they stopped before recovery).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from drillbook.journal import Journal, LoadBucket
from drillbook.load.plan import percentile
from drillbook.scenario.types import Model

WindowName = Literal["baseline", "fault", "recovery", "after"]
WINDOWS: tuple[WindowName, ...] = ("baseline", "fault", "recovery", "after")
_EPS = 1e-6


class LoadWindow(Model):
    name: WindowName
    start: float | None
    end: float | None
    buckets: int = 0
    requests: int = 0
    failures: int = 0
    by_status: dict[str, int] = Field(default_factory=dict)
    error_rate: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    note: str | None = None

    @property
    def measured(self) -> bool:
        return self.requests > 0


class LoadFigures(Model):
    bucket: float  # median bucket width, seconds: the resolution of window figures
    requests: int
    failures: int  # failed requests over the whole load
    windows: tuple[LoadWindow, ...]
    load_start: float
    load_end: float
    fault_at: float | None
    recovery_start: float | None
    recovered_at: float | None  # end of the recovery procedure
    detected_at: float | None
    detect_resolution: float | None
    time_to_detect: float | None
    errors_stopped_at: float | None
    time_to_recover: float | None
    failures_since_recovery: int | None  # failures in buckets from recover.start on (whole)
    first_failure_since_recovery: float | None

    def window(self, name: WindowName) -> LoadWindow:
        return next(w for w in self.windows if w.name == name)


def summarise(name: WindowName, buckets: Sequence[LoadBucket], start: float | None,
              end: float | None, note: str | None = None) -> LoadWindow:
    """Figures of `buckets` taken as one window."""
    hist: dict[int, int] = {}
    by_status: dict[str, int] = {}
    for b in buckets:
        for ms, count in b.hist.items():
            hist[ms] = hist.get(ms, 0) + count
        for status, count in b.by_status.items():
            by_status[status] = by_status.get(status, 0) + count
    requests = sum(b.requests for b in buckets)
    failures = sum(b.failures for b in buckets)

    def q(value: float) -> float | None:
        ms = percentile(hist, value)
        return None if ms is None else ms / 1000.0

    return LoadWindow(
        name=name, start=start, end=end, buckets=len(buckets), requests=requests,
        failures=failures, by_status=by_status,
        error_rate=failures / requests if requests else None,
        p50=q(0.5), p95=q(0.95), p99=q(0.99),
        note=note if requests else (note or "no request completed in this window"),
    )


def in_window(
    buckets: Sequence[LoadBucket], start: float | None, end: float | None
) -> tuple[list[LoadBucket], str | None]:
    """Whole buckets inside [start, end]; else those whose middle is inside, with a note."""
    if start is None or end is None or end <= start:
        return [], "the window never opened"
    whole = [b for b in buckets if b.start >= start - _EPS and b.end <= end + _EPS]
    if whole:
        return whole, None
    middle = [b for b in buckets if start <= (b.start + b.end) / 2 < end]
    if middle:
        return middle, "shorter than a bucket: buckets whose middle falls inside"
    return [], "no bucket in this window"


def _t(journal: Journal, name: str) -> float | None:
    mark = journal.mark(name)
    return mark.t if mark else None


def recovery_end(journal: Journal) -> float | None:
    ran = [s for s in journal.steps if s.phase == "recover" and not s.skipped]
    if ran:
        return max(s.ended for s in ran)
    return _t(journal, "recover.end")


def measure_load(journal: Journal) -> LoadFigures | None:
    """The load figures of a run, or None when no load ran."""
    buckets = sorted(journal.load, key=lambda b: b.start)
    if not buckets:
        return None
    widths = sorted(b.end - b.start for b in buckets)
    width = widths[len(widths) // 2]
    load_start, load_end = buckets[0].start, buckets[-1].end
    fault_at, rec_start = _t(journal, "inject.start"), _t(journal, "recover.start")
    recovered_at = recovery_end(journal) if rec_start is not None else None
    bounds: dict[WindowName, tuple[float | None, float | None]] = {
        "baseline": (load_start, fault_at if fault_at is not None else load_end),
        "fault": (fault_at, rec_start if rec_start is not None else load_end),
        "recovery": (rec_start, recovered_at),
        "after": (recovered_at, load_end),
    }
    windows = []
    for name in WINDOWS:
        start, end = bounds[name]
        chosen, note = in_window(buckets, start, end)
        windows.append(summarise(name, chosen, start, end, note))
    base = windows[0]

    detected_at, resolution = _detect(buckets, fault_at, base, width)
    after = windows[3]
    stopped = None
    failed = [b.last_failure for b in buckets if b.last_failure is not None]
    if after.requests and after.failures == 0:
        stopped = max(failed) if failed else None
    since: list[LoadBucket] = []
    first_since = None
    if rec_start is not None:
        since = [b for b in buckets if b.start >= rec_start - _EPS]
        late = [b.last_failure for b in buckets
                if b.last_failure is not None and b.last_failure >= rec_start]
        early = [b.first_failure for b in buckets
                 if b.first_failure is not None and b.first_failure >= rec_start]
        first_since = min(early, default=None)
        if first_since is None and late:  # the bucket straddles: its last failure is after
            first_since = min(late)
    return LoadFigures(
        bucket=width,
        requests=sum(b.requests for b in buckets),
        failures=sum(b.failures for b in buckets),
        windows=tuple(windows),
        load_start=load_start,
        load_end=load_end,
        fault_at=fault_at,
        recovery_start=rec_start,
        recovered_at=recovered_at,
        detected_at=detected_at,
        detect_resolution=resolution,
        time_to_detect=detected_at - fault_at if detected_at is not None and fault_at is not None
        else None,
        errors_stopped_at=stopped,
        time_to_recover=stopped - rec_start if stopped is not None and rec_start is not None
        else None,
        failures_since_recovery=sum(b.failures for b in since) if rec_start is not None else None,
        first_failure_since_recovery=first_since,
    )


def _detect(
    buckets: Sequence[LoadBucket], fault_at: float | None, base: LoadWindow, width: float
) -> tuple[float | None, float | None]:
    if fault_at is None:
        return None, None
    if not base.failures:
        first = [b.first_failure for b in buckets
                 if b.first_failure is not None and b.first_failure >= fault_at]
        if not first:  # a bucket straddling the fault whose first failure came before it
            first = [b.last_failure for b in buckets
                     if b.last_failure is not None and b.last_failure >= fault_at]
        return (min(first), 0.0) if first else (None, None)
    rate = base.error_rate or 0.0
    for b in buckets:
        if b.start < fault_at - _EPS or not b.requests:
            continue
        if b.failures / b.requests > max(2 * rate, rate + 0.01):
            return b.end, width
    return None, None
