"""What grading produces: statuses, finding codes, findings, the verdict, and exit codes."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from drillbook.scenario.types import Model

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_COULD_NOT_VERIFY = 2
EXIT_INVALID_INPUT = 3


class Status(StrEnum):
    PASS = "PASS"  # noqa: S105 - a status, not a password
    FAIL = "FAIL"
    COULD_NOT_VERIFY = "COULD NOT VERIFY"


class Code(StrEnum):
    OK = "OK"
    TTD_EXCEEDED = "TTD_EXCEEDED"
    TTR_EXCEEDED = "TTR_EXCEEDED"
    TTR_REGRESSED = "TTR_REGRESSED"  # slower than the last passing run by more than the budget
    OUTAGE_EXCEEDED = "OUTAGE_EXCEEDED"
    STEADY_STATE_NOT_RESTORED = "STEADY_STATE_NOT_RESTORED"
    ROWS_LOST = "ROWS_LOST"
    ROWS_CHANGED = "ROWS_CHANGED"
    RPO_EXCEEDED = "RPO_EXCEEDED"
    STEP_FAILED = "STEP_FAILED"
    STEP_TIMED_OUT = "STEP_TIMED_OUT"
    BASELINE_UNHEALTHY = "BASELINE_UNHEALTHY"
    PREFLIGHT_FAILED = "PREFLIGHT_FAILED"
    PROVISION_FAILED = "PROVISION_FAILED"
    SEED_FAILED = "SEED_FAILED"
    FAULT_FAILED = "FAULT_FAILED"
    FAULT_NOT_DETECTED = "FAULT_NOT_DETECTED"
    VERIFY_FAILED = "VERIFY_FAILED"
    DATA_CHECK_FAILED = "DATA_CHECK_FAILED"
    RUN_ERROR = "RUN_ERROR"
    INTERRUPTED = "INTERRUPTED"
    NOT_RUN = "NOT_RUN"  # dry run: skipped, so nothing was proven
    NOT_MEASURED = "NOT_MEASURED"  # the figure a criterion needs was not measurable
    NOTHING_CHECKED = "NOTHING_CHECKED"
    # what the load's users felt (drillbook.load)
    ERROR_RATE_EXCEEDED = "ERROR_RATE_EXCEEDED"
    LATENCY_EXCEEDED = "LATENCY_EXCEEDED"
    REQUESTS_FAILED = "REQUESTS_FAILED"
    DOWNTIME = "DOWNTIME"
    DECISION_MISMATCH = "DECISION_MISMATCH"
    LOAD_FAILED = "LOAD_FAILED"


class Finding(Model):
    criterion: str  # the scenario key ("max_time_to_recover") or an implicit check ("baseline")
    status: Status
    code: Code
    message: str
    measured: float | int | None = None
    limit: float | int | None = None
    unit: str | None = None


class Verdict(Model):
    scenario: str
    status: Status
    findings: tuple[Finding, ...]

    @property
    def codes(self) -> tuple[Code, ...]:
        """Codes of the findings that did not pass, in order."""
        return tuple(f.code for f in self.findings if f.status is not Status.PASS)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS

    def summary(self) -> str:
        codes = ", ".join(dict.fromkeys(self.codes))
        return f"{self.status.value}: {codes}" if codes else self.status.value


def overall(findings: Iterable[Finding]) -> Status:
    statuses = {f.status for f in findings}
    if Status.FAIL in statuses:
        return Status.FAIL
    if Status.COULD_NOT_VERIFY in statuses or not statuses:
        return Status.COULD_NOT_VERIFY
    return Status.PASS


def exit_code(verdicts: Iterable[Verdict | Status]) -> int:
    """0 all passed, 1 any FAIL, 2 any COULD NOT VERIFY (none failed) or nothing ran.

    3 (invalid input) is the CLI's to return: nothing was graded then.
    """
    statuses = [v.status if isinstance(v, Verdict) else v for v in verdicts]
    if Status.FAIL in statuses:
        return EXIT_FAILED
    if not statuses or Status.COULD_NOT_VERIFY in statuses:
        return EXIT_COULD_NOT_VERIFY
    return EXIT_PASSED
