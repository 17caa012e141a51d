"""One row per scenario for `drillbook list`."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from drillbook.scenario.model import Scenario
from drillbook.scenario.types import Model


class ScenarioSummary(Model):
    name: str
    file: str = Field("", description="the scenario file, relative to `relative_to` if inside")
    tags: tuple[str, ...] = ()
    services: tuple[str, ...] = Field((), description="'name: kind' of each service")
    faults: tuple[str, ...] = Field((), description="the kind of each fault, in order")
    seed_steps: int = 0
    recovery_steps: int = 0
    description: str = Field("", description="first line of the description")

    @property
    def service_kinds(self) -> tuple[str, ...]:
        return tuple(sorted({entry.partition(": ")[2] for entry in self.services}))


def _display(path: Path | None, relative_to: Path | None) -> str:
    if path is None:
        return ""
    if relative_to is not None:
        try:
            return str(path.relative_to(relative_to.resolve()))
        except ValueError:
            pass
    return str(path)


def summarize(scenario: Scenario, *, relative_to: Path | None = None) -> ScenarioSummary:
    """The facts `drillbook list` shows about a loaded scenario."""
    lines = scenario.description.strip().splitlines()
    return ScenarioSummary(
        name=scenario.name,
        file=_display(scenario.source, relative_to),
        tags=tuple(scenario.tags),
        services=tuple(f"{name}: {spec.kind}" for name, spec in scenario.services.items()),
        faults=tuple(fault.kind for fault in scenario.fault),
        seed_steps=len(scenario.seed),
        recovery_steps=len(scenario.recovery),
        description=lines[0].strip() if lines else "",
    )
