"""Webhook notifications: a JSON summary of each run posted to a URL held in an env variable.

The URL usually carries a token (Slack, Teams, a chat bot), so it is only ever read from the
environment and never printed: warnings name the variable, the error type and the HTTP status,
not the exception text (httpx puts the URL in its messages). A failed post warns, never fails
the drill.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import StrEnum

import httpx

from drillbook.redact import Redactor
from drillbook.result import RunResult
from drillbook.scenario.types import Model
from drillbook.verdict import Status

TIMEOUT_S = 5.0


class NotifyOn(StrEnum):
    FAILURE = "failure"  # anything but PASS
    ALWAYS = "always"


class FigureSummary(Model):
    name: str
    value: float | int | None
    unit: str


class RunSummary(Model):
    """What the webhook receives: figures and codes, never messages or logs."""

    source: str = "drillbook"
    run_id: str
    scenario: str
    backend: str
    status: Status
    exit_code: int
    codes: tuple[str, ...]
    figures: tuple[FigureSummary, ...]
    text: str  # one line for chat tools that show a "text" field


def summarize(result: RunResult) -> RunSummary:
    m = result.measurements
    figures = [m.time_to_detect, m.time_to_recover, m.outage, m.rows_lost, m.run_time]
    if m.rpo is not None:
        figures.insert(3, m.rpo)
    codes = tuple(dict.fromkeys(str(c) for c in result.verdict.codes))
    ttr = m.time_to_recover.display()
    return RunSummary(
        run_id=result.run_id,
        scenario=result.scenario,
        backend=result.backend,
        status=result.status,
        exit_code=1 if result.status is Status.FAIL else (0 if result.verdict.passed else 2),
        codes=codes,
        figures=tuple(FigureSummary(name=f.name, value=f.value, unit=f.unit) for f in figures),
        text=f"drill {result.scenario} ({result.backend}): {result.verdict.summary()}; "
        f"time to recover {ttr}",
    )


def wanted(status: Status, on: NotifyOn) -> bool:
    return on is NotifyOn.ALWAYS or status is not Status.PASS


def post(
    env_var: str,
    summary: RunSummary,
    *,
    warn: Callable[[str], None],
    redactor: Redactor | None = None,
    timeout: float = TIMEOUT_S,
) -> bool:
    """POST the summary to the URL in $env_var; True when the hook answered 2xx."""
    url = os.environ.get(env_var, "").strip()
    where = f"notify (${env_var})"
    if not url:
        warn(f"{where}: the variable is not set or empty; no notification sent")
        return False
    body = summary.model_dump_json()
    if redactor is not None:
        body = redactor.text(body)
    try:
        response = httpx.post(
            url,
            content=body,
            headers={"content-type": "application/json", "user-agent": "drillbook"},
            timeout=timeout,
        )
    except httpx.InvalidURL:
        warn(f"{where}: the variable does not hold a valid URL; no notification sent")
        return False
    except httpx.TimeoutException:
        warn(f"{where}: the webhook did not answer within {timeout:g} s")
        return False
    except (httpx.HTTPError, ValueError, OSError) as exc:
        # str(exc) can contain the URL; the type alone is safe to show.
        warn(f"{where}: posting failed ({type(exc).__name__}); check the URL and the network")
        return False
    if not response.is_success:
        warn(f"{where}: the webhook answered HTTP {response.status_code}")
        return False
    return True
