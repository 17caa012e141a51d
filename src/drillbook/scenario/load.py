"""The scenario's `load:` section and the load criteria: what users do during the drill.

`load:` runs from the end of the baseline to the end of verify (locust in its own process);
the criteria below grade what those users felt, per window (baseline, fault, recovery, after).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, JsonValue, WithJsonSchema, model_validator

from drillbook.scenario.types import IDENTIFIER, Duration, Model, parse_duration

_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def parse_fraction(value: Any) -> float:
    """'6%' -> 0.06, 0.06 -> 0.06; a fraction of requests between 0 and 1."""
    if isinstance(value, bool):
        raise ValueError(f"expected a share such as '6%' or 0.06, got {value!r}")  # noqa: TRY004
    if isinstance(value, str):
        match = _PERCENT.match(value)
        if not match:
            raise ValueError(f"expected a percentage such as '6%' or a fraction, got {value!r}")
        value = float(match.group(1)) / 100
    if not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"expected a share between 0 and 1 (or '0%'..'100%'), got {value!r}")
    return float(value)


Fraction = Annotated[
    float,
    BeforeValidator(parse_fraction),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*%\s*$"},
                {"type": "number", "minimum": 0, "maximum": 1},
            ],
            "description": "a share of requests: '6%' or 0.06",
        }
    ),
]
"""A share of requests, written '6%' or 0.06."""

RequestKind = Literal["chat_completion", "model_list", "hub_page", "path"]
HUB_PAGES = ("/admin/llm-provider-keys", "/admin/llm-model-catalog", "/admin/llm-routing")


class LoadRequest(Model):
    """One kind of request in the mix, picked with probability weight / sum(weights)."""

    kind: RequestKind = "path"
    weight: float = Field(1.0, gt=0)
    name: str | None = Field(None, description="label in reports; default: method and path")
    method: Literal["GET", "POST", "PUT", "DELETE", "HEAD"] | None = None
    path: str | None = Field(None, pattern=r"^/", description="default per kind")
    model: str = Field("gpt-4o", description="chat_completion: the model asked for")
    json_body: dict[str, JsonValue] | None = Field(None, alias="json")
    auth: bool = Field(True, description="send the load key with this request")

    @model_validator(mode="after")
    def _path_for_kind(self) -> LoadRequest:
        if self.kind == "path" and self.path is None:
            raise ValueError("a request of kind 'path' needs a path such as /v1/models")
        return self

    def resolved_path(self) -> str:
        if self.path is not None:
            return self.path
        return {
            "chat_completion": "/v1/chat/completions",
            "model_list": "/v1/models",
            "hub_page": HUB_PAGES[0],
        }.get(self.kind, "/")

    def resolved_method(self) -> str:
        if self.method is not None:
            return self.method
        return "POST" if self.kind == "chat_completion" or self.json_body else "GET"

    def body(self) -> dict[str, JsonValue] | None:
        if self.json_body is not None or self.kind != "chat_completion":
            return self.json_body
        return {"model": self.model, "messages": [{"role": "user", "content": "drill load"}]}

    def label(self) -> str:
        return self.name or f"{self.resolved_method()} {self.resolved_path()}"


def _default_mix() -> list[LoadRequest]:
    return [
        LoadRequest(kind="chat_completion", weight=6),
        LoadRequest(kind="model_list", weight=3),
        LoadRequest(kind="hub_page", weight=1),
    ]


class Load(Model):
    """Simulated users against one HTTP service, from the baseline to the end of verify."""

    service: str = Field(pattern=IDENTIFIER, description="the service under load (a gateway)")
    users: int = Field(10, ge=1, le=2000)
    spawn_rate: float = Field(100.0, gt=0, description="users started per second")
    rps: float | None = Field(
        None, gt=0, description="cap on requests per second over all users; default: no cap"
    )
    mix: list[LoadRequest] = Field(default_factory=_default_mix, min_length=1)
    key: str | None = Field(
        "master",
        description="'master': the gateway config's master key; another value is sent as is "
        "(may use ${...}); null: no key",
    )
    header: str = Field(
        "Authorization", description="header carrying the key (as Bearer for Authorization)"
    )
    baseline: Duration = Field(
        3.0, description="load runs this long before the fault, for the baseline window"
    )
    after: Duration = Field(
        2.0, description="load keeps running this long after recovery, for the after window"
    )
    bucket: Duration = Field(1.0, gt=0, description="width of one measurement bucket")
    timeout: Duration = Field(10.0, gt=0, description="one request fails after this")
    workers: int = Field(
        0, ge=0, le=32, description="0: one local locust process; N: a master and N workers"
    )

    @model_validator(mode="after")
    def _sane_bucket(self) -> Load:
        if self.bucket < 0.1:
            raise ValueError(f"bucket {self.bucket:g}s is too fine; use 0.1s or more")
        return self


Action = Literal["immediate_rollback", "rollback_within_1h", "consider_rollback", "fix_forward"]
ACTIONS: tuple[Action, ...] = (
    "immediate_rollback",
    "rollback_within_1h",
    "consider_rollback",
    "fix_forward",
)


def parse_scale(value: Any) -> float:
    """1 / 60, 0.0167 or '1m=1s' (a minute of the runbook lasts a second in the drill)."""
    if isinstance(value, str) and "=" in value:
        real, drill = value.split("=", 1)
        real_s, drill_s = parse_duration(real.strip()), parse_duration(drill.strip())
        if real_s <= 0:
            raise ValueError(f"duration_scale {value!r}: the runbook side must be above 0")
        return drill_s / real_s
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"expected a scale such as '1m=1s' or 0.0167, got {value!r}")
    return float(value)


Scale = Annotated[
    float,
    BeforeValidator(parse_scale),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": r"=.+"}, {"type": "number", "minimum": 0}],
            "description": "'1m=1s' or a factor applied to the rules' durations",
        }
    ),
]


class MatrixRule(Model):
    """When `metric` exceeds `above` for `for_` (runbook time), the runbook calls for `action`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    metric: Literal["error_rate", "p95", "p95_ratio"]
    above: float = Field(ge=0, description="error_rate: a share; p95: seconds; p95_ratio: x")
    for_: Duration = Field(0.0, alias="for", description="sustained this long (runbook time)")
    action: Action
    says: str = Field("", description="the runbook's own words for the rule")


class DecisionMatrix(Model):
    """The runbook's rollback triggers; PASS when they call for `expect_action`."""

    rules: Literal["seed-001", "seed-004"] | list[MatrixRule] = "seed-004"
    duration_scale: Scale = Field(1.0, description="'2 min' lasts 2 min * scale in the drill")
    expect_action: Action
    window: Literal["fault", "fault_and_recovery", "run"] = Field(
        "fault", description="the buckets the decision is made from; fault: fault to recovery"
    )


class LoadCriteria(Model):
    """Mixed into Criteria: limits on what the load's users felt."""

    max_error_rate_after: Fraction | None = Field(
        None, description="error rate in the after-recovery window, e.g. '1%'"
    )
    max_p95_after_ratio: float | None = Field(
        None, gt=0, description="p95 after recovery over p95 in the baseline, e.g. 2"
    )
    max_failed_requests: int | None = Field(None, ge=0, description="failed requests in all")
    zero_downtime: bool = Field(
        False, description="no request may fail from the start of recovery to the end"
    )
    decision_matrix: DecisionMatrix | None = None
