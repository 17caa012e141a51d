"""The verdict: one finding per criterion, each PASS, FAIL or COULD NOT VERIFY.

Rules users rely on:
- what could not be measured is COULD NOT VERIFY, never PASS; a run that stopped early
  (journal.abort_code) grades the criteria it never reached as COULD NOT VERIFY with that code;
- a dry run (skipped faults or steps) can never PASS;
- a recovery step that failed or timed out FAILs the drill;
- the steady state never holding again after recovery is a FAIL, not a missing figure;
- a fault the probes never saw FAILs max_time_to_detect once sampling covered the limit, and
  leaves max_time_to_recover COULD NOT VERIFY (it would measure nothing);
- declared data checks with no explicit limit allow 0 rows lost and 0 rows changed;
- a scenario that checks nothing (no probes, no data checks, no limits) cannot PASS.
Overall: FAIL if any finding FAILs, else COULD NOT VERIFY if any, else PASS.
"""

from __future__ import annotations

from typing import Any

from drillbook.journal import PHASES, DataDiff, Journal, Phase, StepRecord
from drillbook.load.grading import grade_load
from drillbook.measure import Measurements
from drillbook.scenario.model import Scenario
from drillbook.verdict import Code, Finding, Status, Verdict, exit_code, overall

__all__ = ["Code", "Finding", "Status", "Verdict", "exit_code", "grade", "overall"]


def grade(
    scenario: Scenario,
    journal: Journal,
    m: Measurements,
    *,
    history_baseline: float | None = None,
) -> Verdict:
    """Grade one run's measurements against its scenario's criteria.

    `history_baseline`: the time to recover of the last passing run of the same scenario and
    backend (looked up by the caller; grading does no I/O), for `max_ttr_regression`.
    """
    findings = tuple(_Grader(scenario, journal, m, history_baseline).findings())
    return Verdict(scenario=scenario.name, status=overall(findings), findings=findings)


# Abort codes that stand for an implicit check of their own, graded under that name.
_ABORT_CRITERION = {
    Code.PREFLIGHT_FAILED: "preflight",
    Code.PROVISION_FAILED: "provision",
    Code.SEED_FAILED: "seed",
    Code.BASELINE_UNHEALTHY: "baseline",
    Code.FAULT_FAILED: "fault",
    Code.LOAD_FAILED: "load",
}


def _unverified(criterion: str, code: Code, message: str, **figures: Any) -> Finding:
    return Finding(
        criterion=criterion, status=Status.COULD_NOT_VERIFY, code=code, message=message, **figures
    )


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s"


class _Grader:
    """One pass over a run; each method grades one criterion (or implicit check)."""

    def __init__(
        self, scenario: Scenario, journal: Journal, m: Measurements, baseline: float | None
    ) -> None:
        self.s, self.j, self.m, self.c = scenario, journal, m, scenario.criteria
        self.baseline = baseline
        self.abort: Code | None = None
        if journal.abort_code:
            self.abort = Code(journal.abort_code) if journal.abort_code in Code.__members__ else (
                Code.RUN_ERROR
            )
        self.skipped = [f"fault[{f.index}] {f.kind}" for f in journal.faults if f.skipped] + [
            f"{r.phase}[{r.index}] {r.id or r.kind}" for r in journal.steps if r.skipped
        ]

    def findings(self) -> list[Finding]:
        return [
            *self._aborted(), *self._dry_run(), *self._seed(), *self._baseline(), *self._fault(),
            *self._recovery_steps(), *self._detect(), *self._recover(), *self._regression(),
            *self._outage(),
            *self._steady_after(), *self._rows_lost(), *self._rows_changed(), *self._rpo(),
            *grade_load(self.s, self.j, self.m), *self._nothing_checked(),
        ]

    # -- helpers ----------------------------------------------------------------------------

    def _completed(self, phase: Phase) -> bool:
        at = self.j.aborted_in
        return self.abort is None or at is None or PHASES.index(at) > PHASES.index(phase)

    def _stopped(self, *, why: bool = False) -> str:
        where = f" in {self.j.aborted_in}" if self.j.aborted_in else ""
        reason = f": {self.j.abort_reason}" if why and self.j.abort_reason else ""
        return f"the run stopped{where} ({self.abort}){reason}"

    def _sampled_after_fault(self) -> bool:
        m = self.m
        return (
            m.fault_injected and m.fault_at is not None and m.last_sample_at is not None
            and m.last_sample_at >= m.fault_at
        )

    def _not_measured(
        self, criterion: str, why: str, limit: float | int | None = None
    ) -> Finding:
        """A criterion whose figure is missing: the abort explains why, when there was one."""
        if self.abort is not None:
            return _unverified(criterion, self.abort, f"not measured: {self._stopped()}",
                               limit=limit)
        return _unverified(criterion, Code.NOT_MEASURED, f"not measured: {why}", limit=limit)

    def _not_run(self, criterion: str, limit: float | int | None = None) -> list[Finding]:
        if not self.skipped:
            return []
        skipped = ", ".join(self.skipped)
        return [_unverified(criterion, Code.NOT_RUN, f"not run: skipped {skipped} (dry run)",
                            limit=limit)]

    def _limit(
        self, criterion: str, code: Code, value: float, limit: float, *, what: str,
        res: float | None,
    ) -> Finding:
        plus = f" (± {res:.2f} s)" if res else ""
        if value > limit:
            return Finding(
                criterion=criterion, status=Status.FAIL, code=code, measured=value, limit=limit,
                unit="s", message=f"{what} {_s(value)}{plus} exceeds the limit {limit:g} s",
            )
        return Finding(
            criterion=criterion, status=Status.PASS, code=Code.OK, measured=value, limit=limit,
            unit="s", message=f"{what} {_s(value)}{plus} within the limit {limit:g} s",
        )

    def _never_restored(
        self, criterion: str, code: Code, since: float | None, limit: float, what: str
    ) -> Finding:
        watched = (self.m.last_sample_at or 0.0) - (since or 0.0)
        if watched > limit:
            return Finding(
                criterion=criterion, status=Status.FAIL, code=code, limit=limit, unit="s",
                message=f"{what} over {_s(watched)}: not restored when sampling stopped "
                f"(limit {limit:g} s)",
            )
        if self.abort is not None:
            return self._not_measured(criterion, "", limit)
        return Finding(
            criterion=criterion, status=Status.FAIL, code=Code.STEADY_STATE_NOT_RESTORED,
            limit=limit, unit="s",
            message=f"the steady state never held again ({self.m.stable_samples} passing "
            f"samples in a row) in the {_s(watched)} watched",
        )

    # -- implicit checks ----------------------------------------------------------------------

    def _aborted(self) -> list[Finding]:
        if self.abort is None:
            return []
        return [Finding(
            criterion=_ABORT_CRITERION.get(self.abort, "run"), status=Status.COULD_NOT_VERIFY,
            code=self.abort, message=self._stopped(why=True),
        )]

    def _dry_run(self) -> list[Finding]:
        if not self.j.dry_run:
            return []
        return [_unverified("dry_run", Code.NOT_RUN, "dry run: destructive faults and steps "
                            "were skipped, so nothing was proven")]

    def _seed(self) -> list[Finding]:
        bad = [r for r in self.j.steps if r.phase == "seed" and not r.ok and not r.skipped]
        if not bad or self.abort is Code.SEED_FAILED:
            return []
        return [_unverified("seed", Code.SEED_FAILED, "; ".join(map(_step_failure, bad)))]

    def _baseline(self) -> list[Finding]:
        if not self.s.steady_state or not self._completed("baseline"):
            return []
        n = self.m.stable_samples
        if self.m.baseline_held:
            return [Finding(
                criterion="baseline", status=Status.PASS, code=Code.OK,
                message=f"the steady state held ({n} passing samples in a row) before the fault",
            )]
        return [_unverified(
            "baseline", Code.BASELINE_UNHEALTHY,
            f"the steady state did not hold ({n} passing samples in a row) before the fault, "
            "so the drill proves nothing",
        )]

    def _fault(self) -> list[Finding]:
        if self.abort is Code.FAULT_FAILED or not self._completed("inject"):
            return []
        bad = [f for f in self.j.faults if not f.ok and not f.skipped]
        if bad:
            text = "; ".join(f"fault[{f.index}] {f.kind} on {f.target}: {f.error}" for f in bad)
            return [_unverified("fault", Code.FAULT_FAILED, text)]
        if self.s.fault and not self.j.faults:
            return [_unverified("fault", Code.NOT_RUN, "no fault was recorded as injected")]
        return []

    def _recovery_steps(self) -> list[Finding]:
        if self.j.game_day:  # a person recovered instead; the criteria below judge the result
            return []
        if not self.s.recovery:
            return []
        records = [r for r in self.j.steps if r.phase == "recover"]
        bad = [r for r in records if not r.ok and not r.skipped]
        if bad:
            return [Finding(
                criterion=f"recovery step {r.index} ({r.id or r.kind})", status=Status.FAIL,
                code=Code.STEP_TIMED_OUT if r.timed_out else Code.STEP_FAILED,
                message=_step_failure(r), measured=r.duration, unit="s",
            ) for r in bad]
        if any(r.skipped for r in records):
            return self._not_run("recovery steps")
        ran, total = len(records), len(self.s.recovery)
        if ran < total:
            why = f"only {ran} of {total} recovery steps ran"
            code = self.abort or Code.NOT_RUN
            text = f"{why}: {self._stopped()}" if self.abort else why
            return [_unverified("recovery steps", code, text)]
        took = sum(r.duration for r in records)
        return [Finding(
            criterion="recovery steps", status=Status.PASS, code=Code.OK, measured=took, unit="s",
            message=f"{_n(total, 'recovery step')} succeeded ({_s(took)} in total)",
        )]

    # -- criteria -------------------------------------------------------------------------------

    def _detect(self) -> list[Finding]:
        limit, name = self.c.max_time_to_detect, "max_time_to_detect"
        if limit is None:
            return []
        fig, m = self.m.time_to_detect, self.m
        if skipped := self._not_run(name, limit):
            return skipped
        if fig.value is not None:
            return [self._limit(name, Code.TTD_EXCEEDED, fig.value, limit, what="detected in",
                                res=fig.resolution)]
        if self._sampled_after_fault() and m.fault_at is not None and m.last_sample_at is not None:
            covered = m.last_sample_at - m.fault_at
            status = Status.FAIL if covered >= limit else Status.COULD_NOT_VERIFY
            return [Finding(
                criterion=name, status=status, code=Code.FAULT_NOT_DETECTED, limit=limit,
                unit="s", message=f"no steady-state sample failed in the {_s(covered)} sampled "
                f"after the fault (limit {limit:g} s); check the probes see what the fault breaks",
            )]
        return [self._not_measured(name, fig.note or "", limit)]

    def _recover(self) -> list[Finding]:
        limit, name = self.c.max_time_to_recover, "max_time_to_recover"
        if limit is None:
            return []
        fig, m = self.m.time_to_recover, self.m
        if skipped := self._not_run(name, limit):
            return skipped
        if self._sampled_after_fault() and m.detected_at is None:
            return [Finding(
                criterion=name, status=Status.COULD_NOT_VERIFY, code=Code.FAULT_NOT_DETECTED,
                limit=limit, message="the steady state never broke after the fault, so the time "
                "to recover measures nothing; check the probes see what the fault breaks",
            )]
        if fig.value is not None:
            return [self._limit(name, Code.TTR_EXCEEDED, fig.value, limit, what="recovered in",
                                res=fig.resolution)]
        if m.recovered is False:
            return [self._never_restored(name, Code.TTR_EXCEEDED, m.recovery_start, limit,
                                         "recovery")]
        return [self._not_measured(name, fig.note or "", limit)]

    def _regression(self) -> list[Finding]:
        budget, name = self.c.max_ttr_regression, "max_ttr_regression"
        if budget is None:
            return []
        if skipped := self._not_run(name):
            return skipped
        fig = self.m.time_to_recover
        if fig.value is None:
            return [self._not_measured(name, fig.note or "no time to recover")]
        value = float(fig.value)
        if self.baseline is None:
            return [_unverified(
                name, Code.NOT_MEASURED, measured=value, unit="s",
                message=f"recovered in {_s(value)} but no earlier passing run of this scenario "
                "on this backend is in the history to compare with; if all else passed, this "
                "run is the baseline for the next",
            )]
        allowed = self.baseline * (1 + budget)
        change = (value / self.baseline - 1) * 100 if self.baseline > 0 else 0.0
        said = (f"recovered in {_s(value)}, {change:+.0f}% against the last passing run "
                f"({_s(self.baseline)}); budget {budget * 100:g}%")
        if value > allowed:
            return [Finding(
                criterion=name, status=Status.FAIL, code=Code.TTR_REGRESSED, measured=value,
                limit=allowed, unit="s", message=f"{said}: slower by more than the budget",
            )]
        return [Finding(
            criterion=name, status=Status.PASS, code=Code.OK, measured=value, limit=allowed,
            unit="s", message=said,
        )]

    def _outage(self) -> list[Finding]:
        limit, name = self.c.max_outage, "max_outage"
        if limit is None:
            return []
        fig = self.m.outage
        if skipped := self._not_run(name, limit):
            return skipped
        if fig.value is not None:
            found = self._limit(name, Code.OUTAGE_EXCEEDED, fig.value, limit,
                                what="outage lasted", res=fig.resolution)
            if fig.note:
                found = found.model_copy(update={"message": f"{found.message} ({fig.note})"})
            return [found]
        if fig.open_ended:
            return [self._never_restored(name, Code.OUTAGE_EXCEEDED, fig.start, limit, "outage")]
        return [self._not_measured(name, fig.note or "", limit)]

    def _steady_after(self) -> list[Finding]:
        name, m = "steady_state_after", self.m
        probes = self.s.verify_probes
        if not self.c.steady_state_after or not (probes or self.s.steady_state):
            return []
        if skipped := self._not_run(name):
            return skipped
        bad = [r for r in self.j.verify_results if not r.ok]
        if bad:
            text = "; ".join(f"{r.probe}: {r.detail or 'failed'}" for r in bad)
            return [Finding(
                criterion=name, status=Status.FAIL, code=Code.STEADY_STATE_NOT_RESTORED,
                message=f"verify probes failed after recovery: {text}",
            )]
        if self.s.steady_state and m.recovered is False and self.abort is None:
            return [Finding(
                criterion=name, status=Status.FAIL, code=Code.STEADY_STATE_NOT_RESTORED,
                message=f"the steady state never held again ({m.stable_samples} passing samples "
                "in a row) after recovery started",
            )]
        if probes and not self.j.verify_results:
            if self.abort is not None:
                return [self._not_measured(name, "")]
            return [_unverified(name, Code.VERIFY_FAILED, "the verify probes did not run")]
        if self.s.steady_state and m.recovered is not True:
            return [self._not_measured(name, m.time_to_recover.note or "")]
        at = f" at {_s(m.steady_again_at)}" if m.steady_again_at is not None else ""
        return [Finding(
            criterion=name, status=Status.PASS, code=Code.OK,
            message=f"{_n(len(self.j.verify_results), 'verify probe result')} passed and the "
            f"steady state held again{at}",
        )]

    def _data_limit(self, explicit: int | None) -> tuple[int | None, str]:
        if explicit is not None:
            return explicit, f"limit {explicit}"
        if self.s.verify.data:
            return 0, "limit 0, the default for a declared data check"
        return None, ""

    def _diffs(self, name: str, limit: int) -> tuple[list[DataDiff], list[str]]:
        """The comparisons that could be made, and what could not be compared (with why)."""
        wanted = [(c.service, _table(t)) for c in self.s.verify.data for t in c.tables]
        found = {(d.service, _table(d.table)): d for d in self.j.data}
        problems = [f"{s}.{t}: no comparison recorded" for s, t in wanted if (s, t) not in found]
        problems += [f"{d.service}.{d.table}: {d.error}" for d in self.j.data if d.error]
        if not wanted and not self.j.data:
            problems.append(f"{name} is set but verify.data names no table to compare")
        return [d for d in self.j.data if d.error is None], problems

    def _data_unverified(self, name: str, problems: list[str], limit: int) -> Finding:
        if self.abort is not None:
            return self._not_measured(name, "", limit)
        text = "could not compare: " + "; ".join(problems)
        return _unverified(name, Code.DATA_CHECK_FAILED, text, limit=limit, unit="rows")

    def _rows_lost(self) -> list[Finding]:
        name = "max_rows_lost"
        limit, said = self._data_limit(self.c.max_rows_lost)
        if limit is None:
            return []
        if skipped := self._not_run(name, limit):
            return skipped
        good, problems = self._diffs(name, limit)
        lost = sum(d.rows_lost for d in good)
        per = ", ".join(
            f"{d.service}.{d.table}: {d.rows_lost}" + ("" if d.exists_after else " (table gone)")
            for d in good if d.rows_lost or not d.exists_after
        )
        if lost > limit:
            return [Finding(
                criterion=name, status=Status.FAIL, code=Code.ROWS_LOST, measured=lost,
                limit=limit, unit="rows", message=f"{lost} rows lost ({per}); {said}",
            )]
        if problems:
            return [self._data_unverified(name, problems, limit)]
        return [Finding(
            criterion=name, status=Status.PASS, code=Code.OK, measured=lost, limit=limit,
            unit="rows", message=f"{lost} rows lost across {_n(len(good), 'table')}; {said}",
        )]

    def _rows_changed(self) -> list[Finding]:
        name = "max_rows_changed"
        limit, said = self._data_limit(self.c.max_rows_changed)
        if limit is None:
            return []
        if skipped := self._not_run(name, limit):
            return skipped
        good, problems = self._diffs(name, limit)
        changed = sum(d.rows_changed for d in good)
        # Equal counts and no changed row, yet different content: something changed unseen.
        hidden = [
            f"{d.service}.{d.table}" for d in good
            if not d.checksum_match and not (d.rows_lost or d.rows_added or d.rows_changed)
        ]
        if changed > limit or hidden:
            text = f"{changed} rows changed; {said}"
            if hidden:
                text += f"; content checksum differs with equal rows: {', '.join(hidden)}"
            return [Finding(
                criterion=name, status=Status.FAIL, code=Code.ROWS_CHANGED, measured=changed,
                limit=limit, unit="rows", message=text,
            )]
        if problems:
            return [self._data_unverified(name, problems, limit)]
        unkeyed = [f"{d.service}.{d.table}" for d in good if not d.keyed]
        note = f" (no key on {', '.join(unkeyed)}: a change is lost + added)" if unkeyed else ""
        return [Finding(
            criterion=name, status=Status.PASS, code=Code.OK, measured=changed, limit=limit,
            unit="rows", message=f"{changed} rows changed; {said}{note}",
        )]

    def _rpo(self) -> list[Finding]:
        limit, name = self.c.max_rpo, "max_rpo"
        if limit is None:
            return []
        figure = self.m.rpo
        if figure is None or figure.value is None:
            why = (figure.note if figure else None) or "no canary ran (add an `rpo:` section)"
            return [self._not_measured(name, why, limit)]
        value = float(figure.value)
        res = figure.resolution
        plus = f" (± {res:.2f} s)" if res else ""
        at_least = "at least " if self.j.rpo is not None and self.j.rpo.lower_bound else ""
        status, code = (Status.FAIL, Code.RPO_EXCEEDED) if value > limit else (Status.PASS, Code.OK)
        verb = "exceeds the limit" if status is Status.FAIL else "within the limit"
        return [Finding(
            criterion=name, status=status, code=code, measured=value, limit=limit, unit="s",
            message=f"data lost: {at_least}{_s(value)}{plus} of writes ({figure.note}); "
            f"{verb} {limit:g} s",
        )]

    def _nothing_checked(self) -> list[Finding]:
        c = self.c
        limits = (c.max_time_to_detect, c.max_time_to_recover, c.max_outage, c.max_rows_lost,
                  c.max_rows_changed, c.max_rpo, c.max_ttr_regression)
        load_checks = (c.max_error_rate_after, c.max_p95_after_ratio, c.max_failed_requests,
                       c.decision_matrix)
        checked = c.zero_downtime or any(x is not None for x in (*limits, *load_checks))
        if self.s.steady_state or self.s.verify_probes or self.s.verify.data or checked:
            return []
        return [_unverified(
            "criteria", Code.NOTHING_CHECKED,
            "the scenario has no steady-state probes, data checks or limits: nothing was checked",
        )]


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _table(name: str) -> str:
    return name.removeprefix("public.")


def _step_failure(r: StepRecord) -> str:
    label = f"{r.phase}[{r.index}] {r.id or r.kind}"
    if r.timed_out:
        text = f"{label} timed out after {_s(r.duration)} and was killed"
    else:
        code = f" with exit code {r.exit_code}" if r.exit_code is not None else ""
        text = f"{label} failed{code} after {_s(r.duration)}"
    if r.error:
        text += f": {r.error}"
    if r.output_tail:
        text += f"; last output: {r.output_tail[-1]}"
    return text
