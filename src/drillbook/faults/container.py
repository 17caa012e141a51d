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


@runtime_checkable
class RestartLoopControl(Protocol):
    """A container service that can be put in a crash loop (docker backend)."""

    def start_restart_loop(self, exit_code: int = 1) -> None: ...
    def end_restart_loop(self) -> None: ...
    def restart_count(self) -> int: ...


@registry.FAULTS.register
class ContainerRestartLoop(_ContainerFault):
    """A bad deploy: the container is replaced by one whose entrypoint exits at once, under
    restart policy `always`, so it crashes on every start and never serves. Data volumes
    stay. The recovery is a redeploy: `$DRILLBOOK_CTL restart SERVICE` brings the normal
    container back (so does teardown)."""

    kind: Literal["container.restart_loop"]
    exit_code: int = Field(1, ge=1, le=255, description="what the broken entrypoint exits with")

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        handle = ctx.service(self.service)
        if not isinstance(handle, RestartLoopControl):
            raise FaultError(
                f"{self.kind}: service {self.service!r} is not a container (run with "
                "--backend docker); on this backend use service.kill or config.corrupt_yaml"
            )
        try:
            handle.start_restart_loop(self.exit_code)
        except DrillbookError as exc:
            raise FaultError(f"{self.kind} {self.service!r}: {_short(exc)}") from exc
        return FaultOutcome(
            target=self.service,
            detail={"exit_code": str(self.exit_code), "restart_policy": "always"},
        )

    def revert(self, ctx: DrillContext) -> None:
        with contextlib.suppress(Exception):
            handle = ctx.service(self.service)
            if isinstance(handle, RestartLoopControl):
                handle.end_restart_loop()


@runtime_checkable
class DiskControl(Protocol):
    """A container service whose filesystem can be size-limited and filled (docker backend)."""

    def limit_disk(self, path: str, size: str, owner: str | None = None) -> None: ...
    def fill_disk(self, path: str, name: str) -> int: ...
    def free_disk(self, path: str, name: str) -> None: ...


FILL_FILE = "drillbook-disk-fill"


@registry.FAULTS.register
class DiskFill(_ContainerFault):
    """A disk full: `path` in the container becomes a size-limited volume (a tmpfs of `size`),
    then a file (`drillbook-disk-fill`) fills it to the last byte; writes there fail with
    ENOSPC. Adding the mount recreates the container once (its data volume stays), before
    the fill. Recovery frees space (e.g. `rm` it, a `run` step with `exec_in`); teardown
    removes the file and the mount."""

    kind: Literal["disk.fill"]
    path: str = Field(pattern=r"^/", description="absolute directory in the container")
    size: str = Field(
        "16m", pattern=r"^[0-9]+[kmg]$", description="size of the volume: 512k, 16m, 1g"
    )
    owner: str | None = Field(
        None, description="user of the image that owns the volume (e.g. postgres for its data dir)"
    )

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        handle = ctx.service(self.service)
        if not isinstance(handle, DiskControl):
            raise FaultError(
                f"{self.kind}: service {self.service!r} is not a container (run with "
                "--backend docker)"
            )
        try:
            handle.limit_disk(self.path, self.size, self.owner)
            free = handle.fill_disk(self.path, FILL_FILE)
        except DrillbookError as exc:
            raise FaultError(f"{self.kind} {self.service!r}: {_short(exc)}") from exc
        return FaultOutcome(
            target=self.service,
            detail={
                "path": self.path,
                "size": self.size,
                "fill_file": f"{self.path.rstrip('/')}/{FILL_FILE}",
                "bytes_free_after": str(free),
            },
        )

    def revert(self, ctx: DrillContext) -> None:
        with contextlib.suppress(Exception):
            handle = ctx.service(self.service)
            if isinstance(handle, DiskControl):
                handle.free_disk(self.path, FILL_FILE)
