"""The one exception root of drillbook, and the families a user can tell apart.

Messages are lowercase, quote the bad value and say where it is. Operational errors carry the
numbers and, where a service is involved, its last log lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


class DrillbookError(Exception):
    """Root of every error drillbook raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file, located as precisely as the source allows."""

    file: str
    line: int | None
    column: int | None
    key_path: str
    message: str

    def render(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        key = f" {self.key_path}:" if self.key_path else ""
        return f"{where}:{key} {self.message}"


class ScenarioError(DrillbookError):
    """A scenario (or a suite of them) is invalid. Nothing was started. Exit code 3."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(p.render() for p in self.problems))


class UsageError(DrillbookError):
    """The command line asked for something impossible (bad path, bad option). Exit code 3."""


class PluginError(DrillbookError):
    """A fault, step, probe or service kind could not be registered; the culprit is named."""


class ProvisionError(DrillbookError):
    """A service could not be provisioned or started within its timeout."""

    def __init__(self, message: str, *, log_tail: Sequence[str] = ()) -> None:
        self.log_tail = tuple(log_tail)
        text = message
        if self.log_tail:
            text += "\nlast log lines:\n  " + "\n  ".join(self.log_tail)
        super().__init__(text)


class ServiceError(DrillbookError):
    """A control action on a running service (stop, restart, signal) failed."""


class FaultError(DrillbookError):
    """A fault could not be injected (the target is missing, or not the drill's own)."""


class StepError(DrillbookError):
    """A recovery or seed step could not be started at all (not: it ran and failed)."""


class ProbeError(DrillbookError):
    """A probe is misconfigured in a way only visible at run time."""


@dataclass(frozen=True)
class CleanupReport:
    """What `drillbook clean` found and removed."""

    processes_killed: int = 0
    directories_removed: int = 0
    containers_removed: int = 0
    problems: tuple[str, ...] = field(default=())
