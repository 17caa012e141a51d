"""Faults on a whole service: kill it, stop it, restart it, or send it a signal."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from drillbook import registry
from drillbook.backends.base import ServiceHandle
from drillbook.context import DrillContext
from drillbook.errors import DrillbookError, FaultError
from drillbook.procs import parse_signal, signal_name
from drillbook.scenario.kinds import FaultOutcome, FaultSpec
from drillbook.scenario.types import Duration


def _failure(exc: DrillbookError) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


class _ServiceFault(FaultSpec):
    service: str = Field(description="the drill service to act on")


class _SignalFault(_ServiceFault):
    signal: str

    @field_validator("signal", mode="before")
    @classmethod
    def _known_signal(cls, value: str | int) -> str:
        return signal_name(value)

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        handle = ctx.service(self.service)
        sig = parse_signal(self.signal)
        before = handle.state()
        try:
            handle.kill(sig)
        except DrillbookError as exc:
            raise FaultError(
                f"could not send {sig.name} to service {self.service!r} "
                f"(state {before}): {_failure(exc)}"
            ) from exc
        return FaultOutcome(
            target=self.service, detail={"signal": sig.name, "state_before": str(before)}
        )


@registry.FAULTS.register
class ServiceKill(_SignalFault):
    """Send a signal (SIGKILL by default) to the service's whole process group, no waiting."""

    kind: Literal["service.kill"]
    signal: str = Field("SIGKILL", description="signal name or number")


@registry.FAULTS.register
class ServiceSignal(_SignalFault):
    """Send any signal, e.g. SIGHUP to make a service reload its config, SIGSTOP to freeze it."""

    kind: Literal["service.signal"]
    signal: str = Field(description="signal name or number, e.g. SIGHUP")


@registry.FAULTS.register
class ServiceStop(_ServiceFault):
    """Stop the service gracefully (SIGTERM, then SIGKILL after `timeout`)."""

    kind: Literal["service.stop"]
    timeout: Duration = Field(10.0, description="grace before SIGKILL")

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        handle = ctx.service(self.service)
        before = handle.state()
        try:
            handle.stop(timeout=self.timeout)
        except DrillbookError as exc:
            raise FaultError(f"could not stop service {self.service!r}: {_failure(exc)}") from exc
        return FaultOutcome(
            target=self.service,
            detail={"state_before": str(before), "state_after": str(handle.state())},
        )


@registry.FAULTS.register
class ServiceRestart(_ServiceFault):
    """Restart the service (after a config change, say). A restart that fails to come up is
    the point of many drills, so it is recorded, not raised."""

    kind: Literal["service.restart"]
    timeout: Duration | None = Field(
        None, description="how long the restart may take to be healthy; default: the service's"
    )

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        handle = ctx.service(self.service)
        return FaultOutcome(target=self.service, detail=restart_detail(handle, self.timeout))


def restart_detail(handle: ServiceHandle, timeout: float | None) -> dict[str, str]:
    """Restart `handle`; a failure is expected and reported in the detail, never raised."""
    try:
        handle.restart(timeout=timeout)
    except DrillbookError as exc:
        return {"restart": "failed", "restart_error": _failure(exc), "state": str(handle.state())}
    return {"restart": "ok", "state": str(handle.state())}
