"""Faults on a service's container (docker backend): kill, stop, pause, cut off the network.

They act through what a container service offers beyond the ServiceHandle protocol (pause,
unpause, disconnect_network, connect_network); on a backend without containers they raise
FaultError naming the service.kill / service.stop / service.signal equivalents. A pause or a
disconnect with `duration` is undone after it (a transient freeze or partition); every one
is undone at teardown whatever happened.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Literal, Protocol, runtime_checkable

from pydantic import Field, PrivateAttr, field_validator

from drillbook import registry
from drillbook.backends.base import ServiceHandle
from drillbook.context import DrillContext
from drillbook.errors import DrillbookError, FaultError
from drillbook.procs import parse_signal, signal_name
from drillbook.scenario.kinds import FaultOutcome, FaultSpec
from drillbook.scenario.types import Duration


@runtime_checkable
class ContainerControl(Protocol):
    """What a container service adds to ServiceHandle."""

    def pause(self) -> None: ...
    def unpause(self) -> None: ...
    def disconnect_network(self) -> None: ...
    def connect_network(self) -> None: ...


def _container(ctx: DrillContext, service: str, kind: str, instead: str) -> ServiceHandle:
    handle = ctx.service(service)
    if not isinstance(handle, ContainerControl):
        raise FaultError(
            f"{kind}: service {service!r} is not a container (run with --backend docker); "
            f"on this backend use {instead}"
        )
    return handle


def _short(exc: DrillbookError) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


class _ContainerFault(FaultSpec):
    service: str = Field(description="the drill service whose container to act on")


@registry.FAULTS.register
class ContainerKill(_ContainerFault):
    """`docker kill`: the signal (SIGKILL by default) to the container's main process."""

    kind: Literal["container.kill"]
    signal: str = Field("SIGKILL", description="signal name or number")

    @field_validator("signal", mode="before")
    @classmethod
    def _known_signal(cls, value: str | int) -> str:
        return signal_name(value)

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        handle = _container(ctx, self.service, self.kind, "service.kill")
        sig = parse_signal(self.signal)
        before = handle.state()
        try:
            handle.kill(sig)
        except DrillbookError as exc:
            raise FaultError(f"{self.kind} {self.service!r}: {_short(exc)}") from exc
        return FaultOutcome(
            target=self.service, detail={"signal": sig.name, "state_before": str(before)}
        )


@registry.FAULTS.register
class ContainerStop(_ContainerFault):
    """`docker stop`: the image's stop signal, then SIGKILL after `timeout`."""

    kind: Literal["container.stop"]
    timeout: Duration = Field(10.0, description="grace before SIGKILL")

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        handle = _container(ctx, self.service, self.kind, "service.stop")
        try:
            handle.stop(timeout=self.timeout)
        except DrillbookError as exc:
            raise FaultError(f"{self.kind} {self.service!r}: {_short(exc)}") from exc
        return FaultOutcome(target=self.service, detail={"state_after": str(handle.state())})


class _Undoable(_ContainerFault):
    duration: Duration | None = Field(
        None, description="undo after this long; default: until recovery or teardown"
    )
    _timer: threading.Timer | None = PrivateAttr(None)

    def _undo(self, handle: ContainerControl) -> None:
        raise NotImplementedError

    def _schedule(self, handle: ContainerControl) -> None:
        if self.duration is not None:
            timer = threading.Timer(self.duration, lambda: self._quiet_undo(handle))
            timer.daemon = True
            timer.start()
            self._timer = timer

    def _quiet_undo(self, handle: ContainerControl) -> None:
        with contextlib.suppress(Exception):
            self._undo(handle)

    def revert(self, ctx: DrillContext) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with contextlib.suppress(Exception):
            handle = ctx.service(self.service)
            if isinstance(handle, ContainerControl):
                self._undo(handle)


@registry.FAULTS.register
class ContainerPause(_Undoable):
    """`docker pause`: every process frozen, connections hang (a stalled host, a GC pause).
    A restart ($DRILLBOOK_CTL restart) also ends it."""

    kind: Literal["container.pause"]

    def _undo(self, handle: ContainerControl) -> None:
        handle.unpause()

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        handle = _container(ctx, self.service, self.kind, "service.signal with SIGSTOP")
        assert isinstance(handle, ContainerControl)
        try:
            handle.pause()
        except DrillbookError as exc:
            raise FaultError(f"{self.kind} {self.service!r}: {_short(exc)}") from exc
        self._schedule(handle)
        detail = {"paused": "true"}
        if self.duration is not None:
            detail["unpause_after_s"] = f"{self.duration:g}"
        return FaultOutcome(target=self.service, detail=detail)


@registry.FAULTS.register
class NetworkDisconnect(_Undoable):
    """Cut the service off the run's network: other containers cannot reach it by name and
    its published port stops answering on the host."""

    kind: Literal["network.disconnect"]

    def _undo(self, handle: ContainerControl) -> None:
        handle.connect_network()

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        handle = _container(ctx, self.service, self.kind, "service.stop")
        assert isinstance(handle, ContainerControl)
        try:
            handle.disconnect_network()
        except DrillbookError as exc:
            raise FaultError(f"{self.kind} {self.service!r}: {_short(exc)}") from exc
        self._schedule(handle)
        detail = {"disconnected": "true"}
        if self.duration is not None:
            detail["reconnect_after_s"] = f"{self.duration:g}"
        return FaultOutcome(target=self.service, detail=detail)
