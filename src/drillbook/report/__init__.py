"""Reporters: listeners to a running drill, and writers of what it found.

The runner sends lifecycle events to one `RunListener` (usually a `Broadcast` of several).
Every method is a no-op in `BaseListener`; a reporter overrides what it needs. Events arrive
from more than one thread (`on_sample` from the sampler), so a listener guards its own state.
A listener that raises is logged and never stops the drill.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from drillbook.journal import FaultRecord, Phase, Sample, StepRecord
    from drillbook.result import RunResult, SuiteResult
    from drillbook.scenario.model import Scenario

__all__ = ["BaseListener", "Broadcast", "RunListener"]

log = logging.getLogger("drillbook.report")


@runtime_checkable
class RunListener(Protocol):
    def on_run_start(self, scenario: Scenario, run_id: str) -> None:
        """A drill begins; nothing is provisioned yet."""

    def on_phase(self, phase: Phase) -> None:
        """The runner entered `phase` (the journal has the matching "<phase>.start" mark)."""

    def on_step_start(self, phase: Phase, index: int, description: str) -> None:
        """Step `index` of `phase` (seed or recover) is about to run; `description` names it."""

    def on_step_end(self, record: StepRecord) -> None:
        """A step finished, failed, timed out or was skipped (dry run)."""

    def on_fault(self, record: FaultRecord) -> None:
        """A fault was injected (or failed, or was skipped)."""

    def on_sample(self, sample: Sample) -> None:
        """One steady-state sample; called from the sampler thread, often: keep it cheap."""

    def on_log(self, line: str) -> None:
        """A progress line from the runner or a step; a reporter masks it with its Redactor."""

    def on_run_end(self, result: RunResult) -> None:
        """The drill is over, teardown included; `result` holds figures and verdict."""

    def on_suite_end(self, result: SuiteResult) -> None:
        """Every drill of an invocation is over."""


class BaseListener:
    """A listener that ignores every event; subclass and override what you need."""

    def on_run_start(self, scenario: Scenario, run_id: str) -> None:
        return None

    def on_phase(self, phase: Phase) -> None:
        return None

    def on_step_start(self, phase: Phase, index: int, description: str) -> None:
        return None

    def on_step_end(self, record: StepRecord) -> None:
        return None

    def on_fault(self, record: FaultRecord) -> None:
        return None

    def on_sample(self, sample: Sample) -> None:
        return None

    def on_log(self, line: str) -> None:
        return None

    def on_run_end(self, result: RunResult) -> None:
        return None

    def on_suite_end(self, result: SuiteResult) -> None:
        return None


class Broadcast(BaseListener):
    """Sends every event to each listener in turn; a listener that raises is logged, not fatal.

    The traceback is logged the first time a listener fails on an event, then only counted,
    so a broken `on_sample` does not flood the log ten times a second.
    """

    def __init__(self, listeners: Iterable[RunListener]) -> None:
        self.listeners: tuple[RunListener, ...] = tuple(listeners)
        self._lock = threading.Lock()
        self.failures: dict[tuple[str, str], int] = {}

    def _each(self, event: str, call: Callable[[RunListener], None]) -> None:
        for listener in self.listeners:
            try:
                call(listener)
            except Exception:
                name = type(listener).__name__
                with self._lock:
                    seen = self.failures.get((name, event), 0)
                    self.failures[(name, event)] = seen + 1
                if not seen:
                    log.exception("report listener %s failed in %s; the drill goes on", name, event)

    def on_run_start(self, scenario: Scenario, run_id: str) -> None:
        self._each("on_run_start", lambda x: x.on_run_start(scenario, run_id))

    def on_phase(self, phase: Phase) -> None:
        self._each("on_phase", lambda x: x.on_phase(phase))

    def on_step_start(self, phase: Phase, index: int, description: str) -> None:
        self._each("on_step_start", lambda x: x.on_step_start(phase, index, description))

    def on_step_end(self, record: StepRecord) -> None:
        self._each("on_step_end", lambda x: x.on_step_end(record))

    def on_fault(self, record: FaultRecord) -> None:
        self._each("on_fault", lambda x: x.on_fault(record))

    def on_sample(self, sample: Sample) -> None:
        self._each("on_sample", lambda x: x.on_sample(sample))

    def on_log(self, line: str) -> None:
        self._each("on_log", lambda x: x.on_log(line))

    def on_run_end(self, result: RunResult) -> None:
        self._each("on_run_end", lambda x: x.on_run_end(result))

    def on_suite_end(self, result: SuiteResult) -> None:
        self._each("on_suite_end", lambda x: x.on_suite_end(result))
