"""`service.deploy`: ship a new revision of a service, the change a rollback drill undoes.

The service restarts on the current revision with a release and environment changed, and the
revision is recorded in its history (seed 004: `kubectl rollout history`), so the team's
procedure can `$DRILLBOOK_CTL undo SERVICE [REVISION]` as it would `kubectl rollout undo`.
A release that misbehaves is a release plus its misbehaviour in the environment: for the
gateway, DRILLBOOK_DRILL_FAULTS='{"error_rate": 0.12}' is in force from its first request.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from pydantic import Field, model_validator

from drillbook import registry
from drillbook.context import DrillContext
from drillbook.errors import DrillbookError, FaultError
from drillbook.scenario.kinds import FaultOutcome, FaultSpec
from drillbook.scenario.types import Duration


@runtime_checkable
class _Revision(Protocol):
    @property
    def number(self) -> int: ...
    @property
    def change(self) -> str: ...

    def release(self) -> str | None: ...


@runtime_checkable
class _Deployable(Protocol):
    def deploy(self, changes: dict[str, str], timeout: float | None = None) -> _Revision: ...


@registry.FAULTS.register
class ServiceDeploy(FaultSpec):
    """Deploy a new revision of a service: another release and/or changed environment."""

    kind: Literal["service.deploy"]
    service: str = Field(description="the service to deploy (a command or gateway)")
    release: str | None = Field(None, description="the release to run, e.g. v2")
    env: dict[str, str] = Field(
        default_factory=dict, description="environment of the new revision; may use ${...}"
    )
    timeout: Duration | None = Field(
        None, description="how long the restart waits for health; default: the service's"
    )
    must_start: bool = Field(
        True, description="false: a revision that never becomes healthy is the fault itself"
    )

    @model_validator(mode="after")
    def _changes_something(self) -> ServiceDeploy:
        if self.release is None and not self.env:
            raise ValueError("service.deploy needs a release, env, or both")
        return self

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        handle = ctx.service(self.service)
        if not isinstance(handle, _Deployable):
            raise FaultError(
                f"service.deploy: service {self.service!r} ({handle.kind}) keeps no revision "
                "history on this backend; deploy a command or gateway service"
            )
        changes = {k: ctx.interpolate(v) for k, v in self.env.items()}
        if self.release is not None:
            changes["release"] = self.release
        detail: dict[str, str] = {}
        revision: _Revision | None
        try:
            revision = handle.deploy(changes, self.timeout)
        except DrillbookError as exc:
            if self.must_start:
                raise FaultError(
                    f"service.deploy: revision of {self.service!r} did not start: "
                    f"{str(exc).splitlines()[0][:300]}"
                ) from exc
            detail["start"] = f"failed: {str(exc).splitlines()[0][:300]}"
            history = getattr(handle, "revision_history", None)
            revision = history()[-1] if callable(history) else None
        if revision is not None:
            detail.update(
                revision=str(revision.number),
                release=revision.release() or "-",
                change=revision.change,
            )
        ctx.mark("deploy", service=self.service, **detail)
        return FaultOutcome(target=self.service, detail=detail)
