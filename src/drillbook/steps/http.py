"""The `http` step: one request (with optional retries) and its expected answer."""

from __future__ import annotations

import json
import re
import time
from typing import Any, Literal

import httpx
from pydantic import ConfigDict, Field, JsonValue, field_validator, model_validator

from drillbook.context import DrillContext
from drillbook.procs import STDOUT_LIMIT, TAIL_LINES
from drillbook.registry import STEPS
from drillbook.scenario.kinds import StepOutcome, StepSpec
from drillbook.scenario.types import Duration

_METHOD = re.compile(r"^[A-Z]+$")


def status_list(value: int | list[int]) -> tuple[int, ...]:
    return (value,) if isinstance(value, int) else tuple(value)


def check_statuses(value: int | list[int]) -> int | list[int]:
    for status in status_list(value):
        if not 100 <= status <= 599:
            raise ValueError(f"HTTP status {status} is outside 100-599")
    return value


def json_mismatch(expected: Any, actual: Any, where: str = "$") -> str | None:
    """Where `actual` fails to contain `expected` (objects: a subset of keys; lists and
    scalars: equal), or None when it matches."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{where}: expected an object, got {json.dumps(actual)[:80]}"
        for key, value in expected.items():
            if key not in actual:
                return f"{where}.{key}: missing"
            found = json_mismatch(value, actual[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{where}: expected {json.dumps(expected)[:80]}, got {json.dumps(actual)[:80]}"
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            found = json_mismatch(want, got, f"{where}[{index}]")
            if found:
                return found
        return None
    if expected != actual or isinstance(expected, bool) != isinstance(actual, bool):
        return f"{where}: expected {json.dumps(expected)}, got {json.dumps(actual)[:80]}"
    return None


@STEPS.register
class HttpStep(StepSpec):
    """Send a request and check the status (and optionally part of the JSON body)."""

    model_config = ConfigDict(populate_by_name=True)

    kind: Literal["http"]
    method: str = "GET"
    url: str = Field(description="may use ${services.NAME.url}")
    headers: dict[str, str] = Field(default_factory=dict, description="values may use ${...}")
    json_body: JsonValue = Field(None, alias="json", description="request body sent as JSON")
    body: str | None = Field(None, description="raw request body; may use ${...}")
    expect_status: int | list[int] = 200
    expect_json: dict[str, JsonValue] | None = Field(
        None, description="keys the JSON response must contain with these values"
    )
    retries: int = Field(0, ge=0, description="extra attempts after a failed one")
    retry_until_timeout: bool = Field(False, description="keep retrying until the step's timeout")
    retry_interval: Duration = Field(0.5, description="pause between attempts")

    _statuses = field_validator("expect_status")(check_statuses)

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        if not _METHOD.match(value.upper()):
            raise ValueError(f"not an HTTP method: {value!r}")
        return value.upper()

    @model_validator(mode="after")
    def _one_body(self) -> HttpStep:
        if self.json_body is not None and self.body is not None:
            raise ValueError("give `json` or `body`, not both")
        return self

    def execute(self, ctx: DrillContext, timeout: float) -> StepOutcome:
        url = ctx.interpolate(self.url)
        headers = {k: ctx.interpolate(v) for k, v in self.headers.items()}
        content = ctx.interpolate(self.body).encode() if self.body is not None else None
        deadline = time.monotonic() + timeout
        attempts = 0
        with httpx.Client(follow_redirects=False) as client:
            while True:
                attempts += 1
                remaining = deadline - time.monotonic()
                outcome = self._attempt(client, url, headers, content, max(0.001, remaining))
                outcome.detail["attempts"] = str(attempts)
                if outcome.ok:
                    return outcome
                more = self.retry_until_timeout or attempts <= self.retries
                if not more or deadline - time.monotonic() <= self.retry_interval:
                    return outcome
                time.sleep(self.retry_interval)

    def _attempt(
        self,
        client: httpx.Client,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        timeout: float,
    ) -> StepOutcome:
        where = f"{self.method} {url}"
        started = time.monotonic()
        try:
            response = client.request(
                self.method,
                url,
                headers=headers,
                content=content,
                json=self.json_body if self.json_body is not None else None,
                timeout=timeout,
            )
        except httpx.TimeoutException:
            return StepOutcome(
                ok=False, timed_out=True, error=f"{where}: no answer within {timeout:.1f}s"
            )
        except httpx.HTTPError as exc:
            return StepOutcome(ok=False, error=f"{where}: {type(exc).__name__}: {exc}")
        text = response.content[:STDOUT_LIMIT].decode("utf-8", errors="replace")
        detail = {
            "status": str(response.status_code),
            "latency": f"{time.monotonic() - started:.3f}",
        }
        tail = tuple(text.splitlines()[-TAIL_LINES:])
        expected = status_list(self.expect_status)
        error = None
        if response.status_code not in expected:
            want = " or ".join(str(s) for s in expected)
            error = f"{where}: expected status {want}, got {response.status_code}"
        elif self.expect_json is not None:
            try:
                mismatch = json_mismatch(self.expect_json, response.json())
            except ValueError:
                mismatch = "$: the response is not JSON"
            if mismatch:
                error = f"{where}: {mismatch}"
        return StepOutcome(
            ok=error is None, stdout=text, output_tail=tail, error=error, detail=detail
        )
