"""`wait_until` (a probe holds, continuously, for a while) and `wait` (a plain pause)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, WrapValidator

from drillbook.context import DrillContext
from drillbook.registry import PROBES, STEPS
from drillbook.scenario.kinds import ProbeResult, ProbeSpec, StepOutcome, StepSpec
from drillbook.scenario.types import Duration
from drillbook.scenario.types import format_duration as _fmt

NestedProbe = Annotated[ProbeSpec, WrapValidator(PROBES.parse)]


@STEPS.register
class WaitUntilStep(StepSpec):
    """Poll a probe until it has held for `holds_for` without a single failure."""

    destructive = False
    kind: Literal["wait_until"]
    probe: NestedProbe = Field(description="any probe, e.g. {kind: http, url: ...}")
    holds_for: Duration = Field(0.0, description="must pass continuously this long")
    poll: Duration = Field(0.1, gt=0, description="time between checks")

    def execute(self, ctx: DrillContext, timeout: float) -> StepOutcome:
        clock = ctx.clock
        start = clock.now_ns()
        deadline = start + int(timeout * 1e9)
        held_since: int | None = None
        checks = failures = 0
        last = ProbeResult(ok=False, detail="not checked yet")
        while True:
            began = clock.now_ns()
            remaining = (deadline - began) / 1e9
            last = self.probe.check(ctx, max(0.001, min(self.probe.timeout, remaining)))
            checks += 1
            now = clock.now_ns()
            if last.ok:
                held_since = began if held_since is None else held_since
                if (now - held_since) / 1e9 >= self.holds_for:
                    return StepOutcome(
                        ok=True,
                        detail={
                            "checks": str(checks),
                            "failures": str(failures),
                            "waited": f"{(now - start) / 1e9:.3f}",
                        },
                    )
            else:
                held_since = None
                failures += 1
            if now >= deadline:
                break
            clock.sleep(min(self.poll, (deadline - now) / 1e9))
        held = "" if self.holds_for == 0 else f" for {_fmt(self.holds_for)}"
        return StepOutcome(
            ok=False,
            timed_out=True,
            error=f"{self.probe.label()} did not hold{held} within {_fmt(timeout)} "
            f"({checks} checks); last: {last.detail or ('ok' if last.ok else 'failed')}",
            detail={"checks": str(checks), "failures": str(failures)},
        )


@STEPS.register
class WaitStep(StepSpec):
    """Pause (a runbook's 'give it 30 s'); also handy to calibrate timing figures."""

    destructive = False
    kind: Literal["wait"]
    duration: Duration = Field(description="how long to pause, e.g. 30s")

    def execute(self, ctx: DrillContext, timeout: float) -> StepOutcome:
        if self.duration > timeout:
            ctx.clock.sleep(timeout)
            return StepOutcome(
                ok=False,
                timed_out=True,
                error=f"a {_fmt(self.duration)} wait does not fit in the {_fmt(timeout)} timeout",
            )
        ctx.clock.sleep(self.duration)
        return StepOutcome(ok=True, detail={"waited": f"{self.duration:.3f}"})
