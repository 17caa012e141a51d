"""Grading of the load criteria: error rate and p95 after recovery, failed requests in all,
zero downtime, and the decision matrix. Without load they are COULD NOT VERIFY, never PASS."""

from __future__ import annotations

from drillbook.journal import Journal
from drillbook.load.matrix import decide
from drillbook.load.windows import LoadFigures
from drillbook.measure import Measurements
from drillbook.scenario.model import Scenario
from drillbook.verdict import Code, Finding, Status


def _pct(value: float) -> str:
    return f"{value * 100:.2f} %"


class LoadGrader:
    def __init__(self, scenario: Scenario, journal: Journal, m: Measurements) -> None:
        self.s, self.j, self.c = scenario, journal, scenario.criteria
        self.f: LoadFigures | None = m.load
        code = journal.abort_code
        self.abort: Code | None = None
        if code:
            self.abort = Code(code) if code in Code.__members__ else Code.RUN_ERROR

    def findings(self) -> list[Finding]:
        return [*self._error_rate_after(), *self._p95_after(), *self._failed(),
                *self._zero_downtime(), *self._matrix()]

    def _missing(self, name: str, limit: float | int | None = None,
                 why: str | None = None) -> Finding:
        if self.abort is not None:
            where = f" in {self.j.aborted_in}" if self.j.aborted_in else ""
            text = f"not measured: the run stopped{where} ({self.abort})"
            return Finding(criterion=name, status=Status.COULD_NOT_VERIFY, code=self.abort,
                           message=text, limit=limit)
        if why is None and self.s.load is not None and self.j.dry_run:
            return Finding(criterion=name, status=Status.COULD_NOT_VERIFY, code=Code.NOT_RUN,
                           message="not run: a dry run starts no load", limit=limit)
        if why is None:
            why = ("no load ran: add a `load:` section" if self.s.load is None
                   else "the load recorded no bucket")
        return Finding(criterion=name, status=Status.COULD_NOT_VERIFY, code=Code.NOT_MEASURED,
                       message=f"not measured: {why}", limit=limit)

    def _error_rate_after(self) -> list[Finding]:
        limit, name = self.c.max_error_rate_after, "max_error_rate_after"
        if limit is None:
            return []
        if self.f is None:
            return [self._missing(name, limit)]
        w = self.f.window("after")
        if w.error_rate is None:
            return [self._missing(name, limit, f"after-recovery window: {w.note}")]
        said = (f"{_pct(w.error_rate)} of requests failed after recovery ({w.failures} of "
                f"{w.requests} in {w.buckets} buckets)")
        if w.error_rate > limit:
            return [Finding(criterion=name, status=Status.FAIL, code=Code.ERROR_RATE_EXCEEDED,
                            measured=w.error_rate, limit=limit, unit="ratio",
                            message=f"{said}; limit {_pct(limit)}")]
        return [Finding(criterion=name, status=Status.PASS, code=Code.OK, measured=w.error_rate,
                        limit=limit, unit="ratio", message=f"{said}; within {_pct(limit)}")]

    def _p95_after(self) -> list[Finding]:
        limit, name = self.c.max_p95_after_ratio, "max_p95_after_ratio"
        if limit is None:
            return []
        if self.f is None:
            return [self._missing(name, limit)]
        base, after = self.f.window("baseline"), self.f.window("after")
        if not base.p95 or after.p95 is None:
            which = "baseline" if not base.p95 else "after-recovery"
            return [self._missing(name, limit, f"no p95 in the {which} window")]
        ratio = after.p95 / base.p95
        said = (f"p95 after recovery {after.p95 * 1000:.0f} ms is {ratio:.2f}x the baseline's "
                f"{base.p95 * 1000:.0f} ms")
        if ratio > limit:
            return [Finding(criterion=name, status=Status.FAIL, code=Code.LATENCY_EXCEEDED,
                            measured=ratio, limit=limit, unit="x",
                            message=f"{said}; limit {limit:g}x")]
        return [Finding(criterion=name, status=Status.PASS, code=Code.OK, measured=ratio,
                        limit=limit, unit="x", message=f"{said}; within {limit:g}x")]

    def _failed(self) -> list[Finding]:
        limit, name = self.c.max_failed_requests, "max_failed_requests"
        if limit is None:
            return []
        if self.f is None:
            return [self._missing(name, limit)]
        f = self.f
        by = ", ".join(
            f"{w.name} {w.failures}" for w in f.windows if w.failures
        ) or "none in any window"
        said = f"{f.failures} of {f.requests} requests failed ({by})"
        if f.failures > limit:
            return [Finding(criterion=name, status=Status.FAIL, code=Code.REQUESTS_FAILED,
                            measured=f.failures, limit=limit, unit="requests",
                            message=f"{said}; limit {limit}")]
        return [Finding(criterion=name, status=Status.PASS, code=Code.OK, measured=f.failures,
                        limit=limit, unit="requests", message=f"{said}; limit {limit}")]

    def _zero_downtime(self) -> list[Finding]:
        name = "zero_downtime"
        if not self.c.zero_downtime:
            return []
        f = self.f
        if f is None or f.recovery_start is None:
            return [self._missing(name, why=None if f is None else "recovery never started")]
        if f.first_failure_since_recovery is not None:
            at = f.first_failure_since_recovery - f.recovery_start
            n = f.failures_since_recovery or 0
            return [Finding(
                criterion=name, status=Status.FAIL, code=Code.DOWNTIME, measured=n,
                unit="requests",
                message=f"a request failed {at:.2f} s after recovery started (at least {n} "
                "failed in the buckets since); the procedure claims zero downtime",
            )]
        served = sum(w.requests for w in f.windows if w.name in ("recovery", "after"))
        return [Finding(criterion=name, status=Status.PASS, code=Code.OK, measured=0,
                        unit="requests",
                        message=f"no request failed from the start of recovery on "
                        f"({served} served)")]

    def _matrix(self) -> list[Finding]:
        matrix, name = self.c.decision_matrix, "decision_matrix"
        if matrix is None:
            return []
        if self.f is None:
            return [self._missing(name)]
        d = decide(matrix, self.j.load, self.f)
        if not d.buckets:
            return [self._missing(name, why=f"no whole bucket in the {d.window} window")]
        fired = "; ".join(
            f"{r.rule.says or r.rule.metric} (worst {_figure(r.rule.metric, r.worst)} over "
            f"{r.needed:.2f} s)" for r in d.fired
        ) or "no rule held"
        said = (f"{d.rule_set} calls for {d.action} from {d.buckets} buckets of the {d.window} "
                f"window: {fired}; {d.scale_text()}")
        if d.action != matrix.expect_action:
            return [Finding(criterion=name, status=Status.FAIL, code=Code.DECISION_MISMATCH,
                            message=f"{said}; the drill expected {matrix.expect_action}")]
        return [Finding(criterion=name, status=Status.PASS, code=Code.OK,
                        message=f"{said}, as expected")]


def _figure(metric: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if metric == "error_rate":
        return _pct(value)
    if metric == "p95":
        return f"{value:.2f} s"
    return f"{value:.2f}x"


def grade_load(scenario: Scenario, journal: Journal, m: Measurements) -> list[Finding]:
    """The findings of the load criteria the scenario sets (none when it sets none)."""
    return LoadGrader(scenario, journal, m).findings()
