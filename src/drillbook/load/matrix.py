"""The seeds' rollback triggers as a reusable rule set that names the action figures call for.

Built in (the runbooks' own words in each rule's `says`):
- seed-004 "Decision Matrix": error rate > 10 % for > 2 min -> immediate rollback; > 5 % for
  > 5 min -> consider rollback; P95 > 5 s for > 5 min -> investigate, prepare rollback (taken
  as consider rollback).
- seed-001 "Rollback Criteria": complete outage (every request failing) -> immediate rollback;
  error rate > 5 % or performance degradation > 50 % (p95 over the baseline's) -> rollback
  within 1 hour; error rate > 2 % or degradation > 20 % -> consider rollback; else fix forward.

"X for D" holds when some D * duration_scale of consecutive whole buckets of the window has an
aggregate figure above X (a rolling window, as an alerting rule computes it); a rule without a
duration compares the whole window's aggregate. The most severe action whose rule holds wins;
none holding means fix forward.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from drillbook.journal import LoadBucket
from drillbook.load.windows import LoadFigures, in_window, summarise
from drillbook.scenario.load import ACTIONS, Action, DecisionMatrix, MatrixRule
from drillbook.scenario.types import Model


def _rule(metric: str, above: float, for_: float, action: Action, says: str) -> MatrixRule:
    return MatrixRule.model_validate(
        {"metric": metric, "above": above, "for": for_, "action": action, "says": says}
    )


RULE_SETS: dict[str, tuple[MatrixRule, ...]] = {
    "seed-004": (
        _rule("error_rate", 0.10, 120, "immediate_rollback", "Error rate > 10% for > 2 minutes"),
        _rule("error_rate", 0.05, 300, "consider_rollback", "Error rate > 5% for > 5 minutes"),
        _rule("p95", 5.0, 300, "consider_rollback",
              "P95 latency > 5s for > 5 minutes: investigate, prepare rollback"),
    ),
    "seed-001": (
        _rule("error_rate", 0.999, 0, "immediate_rollback",
              "Complete Outage: LLM Hub crashes and won't recover"),
        _rule("error_rate", 0.05, 0, "rollback_within_1h",
              "Error Rate > 5%: More than 5% of requests failing"),
        _rule("p95_ratio", 1.5, 0, "rollback_within_1h", "Performance Degradation > 50%"),
        _rule("error_rate", 0.02, 0, "consider_rollback",
              "Error Rate > 2%: Sustained error rate above 2%"),
        _rule("p95_ratio", 1.2, 0, "consider_rollback", "Performance Degradation > 20%"),
    ),
}


class RuleResult(Model):
    rule: MatrixRule
    needed: float  # seconds in the drill: the rule's duration times the scale
    worst: float | None  # the highest aggregate over any span of that length
    held: bool
    note: str | None = None


class Decision(Model):
    action: Action
    rule_set: str
    scale: float
    window: str
    start: float | None
    end: float | None
    buckets: int
    results: tuple[RuleResult, ...]

    @property
    def fired(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if r.held)

    def scale_text(self) -> str:
        if self.scale == 1:
            return "durations as written (scale 1)"
        return f"durations scaled x{self.scale:.4g} (1 min of the runbook = {60 * self.scale:g} s)"


def _metric(rule: MatrixRule, span: Sequence[LoadBucket], base_p95: float | None) -> float | None:
    window = summarise("fault", span, None, None)
    if rule.metric == "error_rate":
        return window.error_rate
    if rule.metric == "p95":
        return window.p95
    if window.p95 is None or not base_p95:
        return None
    return window.p95 / base_p95


def evaluate(rule: MatrixRule, buckets: Sequence[LoadBucket], width: float, scale: float,
             base_p95: float | None) -> RuleResult:
    needed = rule.for_ * scale
    if not buckets:
        return RuleResult(rule=rule, needed=needed, worst=None, held=False,
                          note="no bucket in the window")
    if needed <= 0:
        spans: list[Sequence[LoadBucket]] = [buckets]
    else:
        k = max(1, math.ceil(needed / width - 1e-6))
        if k > len(buckets):
            have = sum(b.end - b.start for b in buckets)
            return RuleResult(
                rule=rule, needed=needed, worst=None, held=False,
                note=f"the window ({have:.2f} s) is shorter than the {needed:.2f} s the rule needs",
            )
        spans = [buckets[i:i + k] for i in range(len(buckets) - k + 1)]
    values = [v for v in (_metric(rule, s, base_p95) for s in spans) if v is not None]
    if not values:
        why = "no baseline p95 to compare with" if rule.metric == "p95_ratio" else "no request"
        return RuleResult(rule=rule, needed=needed, worst=None, held=False, note=why)
    worst = max(values)
    return RuleResult(rule=rule, needed=needed, worst=worst, held=worst > rule.above)


def decide(matrix: DecisionMatrix, journal_buckets: Sequence[LoadBucket],
           figures: LoadFigures) -> Decision:
    """The action the matrix calls for, from the buckets of its window."""
    rules = RULE_SETS[matrix.rules] if isinstance(matrix.rules, str) else tuple(matrix.rules)
    name = matrix.rules if isinstance(matrix.rules, str) else "custom"
    f = figures
    start, end = {
        "fault": (f.fault_at, f.recovery_start if f.recovery_start is not None else f.load_end),
        "fault_and_recovery": (f.fault_at, f.recovered_at or f.load_end),
        "run": (f.load_start, f.load_end),
    }[matrix.window]
    buckets = sorted(journal_buckets, key=lambda b: b.start)
    chosen, _ = in_window(buckets, start, end)
    base_p95 = f.window("baseline").p95
    results = tuple(
        evaluate(r, chosen, f.bucket, matrix.duration_scale, base_p95) for r in rules
    )
    held = [r.rule.action for r in results if r.held]
    action: Action = min(held, key=ACTIONS.index) if held else "fix_forward"
    return Decision(
        action=action, rule_set=name, scale=matrix.duration_scale, window=matrix.window,
        start=start, end=end, buckets=len(chosen), results=results,
    )
