"""The `ctl` step: start, stop, restart, kill or signal a drill service (what a runbook does
with systemctl, docker restart or kubectl rollout)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from drillbook.context import DrillContext
from drillbook.errors import DrillbookError, ProvisionError
from drillbook.procs import parse_signal, signal_name
from drillbook.registry import STEPS
from drillbook.scenario.kinds import StepOutcome, StepSpec


@STEPS.register
class CtlStep(StepSpec):
    """Control a service. start/restart wait until it is healthy or the step times out."""

    kind: Literal["ctl"]
    service: str
    action: Literal["start", "stop", "restart", "kill", "signal"]
    signal: str | None = Field(
        None, description="for kill (default SIGKILL) and signal (required), e.g. SIGHUP"
    )

    @field_validator("signal", mode="before")
    @classmethod
    def _known_signal(cls, value: str | int | None) -> str | None:
        return None if value is None else signal_name(value)

    @model_validator(mode="after")
    def _signal_needed(self) -> CtlStep:
        if self.action == "signal" and self.signal is None:
            raise ValueError("action: signal needs `signal`, e.g. SIGHUP")
        if self.signal is not None and self.action not in ("kill", "signal"):
            raise ValueError(f"`signal` applies to kill and signal, not to {self.action}")
        return self

    def execute(self, ctx: DrillContext, timeout: float) -> StepOutcome:
        handle = ctx.service(self.service)
        try:
            if self.action == "start":
                handle.start(timeout=timeout)
            elif self.action == "stop":
                handle.stop(timeout=timeout)
            elif self.action == "restart":
                handle.restart(timeout=timeout)
            else:
                handle.kill(parse_signal(self.signal or "SIGKILL"))
        except DrillbookError as exc:
            tail = exc.log_tail if isinstance(exc, ProvisionError) else ()
            if not tail:
                try:
                    tail = tuple(handle.log_tail(20))
                except DrillbookError:
                    tail = ()
            return StepOutcome(
                ok=False,
                error=f"{self.action} of service {self.service!r} failed: "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                output_tail=tuple(tail),
                detail={"state": str(handle.state())},
            )
        return StepOutcome(ok=True, detail={"state": str(handle.state())})
