"""What a fault, step or probe sees of the running drill. A leaf: a Protocol only."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from drillbook.backends.base import ServiceHandle
from drillbook.clock import Clock


class DrillContext(Protocol):
    @property
    def run_id(self) -> str: ...

    @property
    def workdir(self) -> Path:
        """DRILL_WORKDIR: scratch space of this run, removed by teardown."""
        ...

    @property
    def base_dir(self) -> Path:
        """Where the scenario's relative paths (drills/, fixtures/) resolve from."""
        ...

    @property
    def clock(self) -> Clock: ...

    @property
    def random_seed(self) -> int:
        """Faults that choose (which line to corrupt) choose deterministically from this."""
        ...

    def service(self, name: str) -> ServiceHandle:
        """The provisioned service `name`; the loader already checked that it is declared."""
        ...

    def services(self) -> Mapping[str, ServiceHandle]: ...

    def env(self) -> Mapping[str, str]:
        """The full environment contract for a script of this drill (PATH included)."""
        ...

    def interpolate(self, text: str) -> str:
        """Expand ${steps.ID.stdout}, ${steps.ID.exit_code}, ${services.NAME.FIELD}, ${env.VAR},
        ${workdir} and ${run_id} in `text`; an unknown reference raises StepError."""
        ...

    def resolve(self, path: str) -> Path:
        """A scenario path made absolute against base_dir."""
        ...

    def mark(self, name: str, **detail: str) -> None:
        """Add a timestamped mark to the journal."""
        ...

    def add_secret(self, value: str) -> None:
        """Redact `value` from every report and log from now on."""
        ...

    def log(self, message: str) -> None:
        """A progress line for the console (and the run log)."""
        ...
