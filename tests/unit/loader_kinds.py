"""Test-only kinds of every family, registered on import, so the loader's tests do not depend
on the built-in kinds. Their kinds all start with 'test.'."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from drillbook import registry
from drillbook.scenario.kinds import (
    FaultOutcome,
    FaultSpec,
    ProbeResult,
    ProbeSpec,
    ServiceSpec,
    StepOutcome,
    StepSpec,
)
from drillbook.scenario.types import Duration, ScenarioCommand, ScenarioPath

if TYPE_CHECKING:
    from drillbook.context import DrillContext


class FakeService(ServiceSpec):
    kind: Literal["test.service"]
    config: ScenarioPath | None = None
    port: int | Literal["auto"] = "auto"


class FakeFault(FaultSpec):
    kind: Literal["test.fault"]
    table: str
    service: str | None = None
    delay: Duration = 0.0

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        return FaultOutcome(target=self.table)


class FakeStep(StepSpec):
    kind: Literal["test.step"]
    file: ScenarioPath | None = None
    run: ScenarioCommand | None = None
    service: str | None = None
    files: list[ScenarioPath] = Field(default_factory=list)

    def execute(self, ctx: DrillContext, timeout: float) -> StepOutcome:
        return StepOutcome(ok=True)


class FakeProbe(ProbeSpec):
    kind: Literal["test.probe"]
    service: str | None = None
    expect: int = 1

    def check(self, ctx: DrillContext, timeout: float) -> ProbeResult:
        return ProbeResult(ok=True)


# Registration is idempotent for the same class, so re-imports are harmless.
registry.SERVICES.register(FakeService)
registry.FAULTS.register(FakeFault)
registry.STEPS.register(FakeStep)
registry.PROBES.register(FakeProbe)
