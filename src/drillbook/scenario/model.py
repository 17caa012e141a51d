"""The scenario: one drill, validated whole before anything starts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    ValidationError,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from drillbook import registry
from drillbook.scenario.kinds import FaultSpec, ProbeSpec, ServiceSpec, StepSpec
from drillbook.scenario.load import Fraction, Load, LoadCriteria
from drillbook.scenario.types import IDENTIFIER, Duration, Model

AnyService = Annotated[ServiceSpec, WrapValidator(registry.SERVICES.parse)]
AnyFault = Annotated[FaultSpec, WrapValidator(registry.FAULTS.parse)]
AnyStep = Annotated[StepSpec, WrapValidator(registry.STEPS.parse)]
AnyProbe = Annotated[ProbeSpec, WrapValidator(registry.PROBES.parse)]


def _service_refs(
    value: Any, loc: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(location, name) of every `service: <name>` field in `value` and the models nested in it."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            item = getattr(value, name)
            if name == "service" and isinstance(item, str):
                yield (*loc, name), item
            else:
                yield from _service_refs(item, (*loc, name))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _service_refs(item, (*loc, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _service_refs(item, (*loc, key))


def _error(
    code: str, template: str, loc: tuple[str | int, ...], value: Any, **ctx: Any
) -> InitErrorDetails:
    return {"type": PydanticCustomError(code, template, ctx), "loc": loc, "input": value}


class DataCheck(Model):
    """Row counts and content checksums of tables, before the fault vs after verify."""

    service: str
    tables: list[
        Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")]
    ] = Field(min_length=1)
    database: str | None = Field(None, description="default: the service's drill database")


class Verify(Model):
    probes: list[AnyProbe] | None = Field(
        None, description="checked once after recovery; default: the steady_state probes"
    )
    data: list[DataCheck] = Field(default_factory=list)

    @field_validator("data", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value


class Criteria(LoadCriteria):
    max_time_to_detect: Duration | None = None
    max_time_to_recover: Duration | None = None
    max_outage: Duration | None = None
    max_rows_lost: int | None = Field(None, ge=0)
    max_rows_changed: int | None = Field(None, ge=0)
    steady_state_after: bool = Field(True, description="the steady state must hold after recovery")
    max_rpo: Duration | None = Field(None, description="data-loss window measured by the canary")
    max_ttr_regression: Fraction | None = Field(
        None,
        description="time to recover may exceed the last passing run's (same scenario and "
        "backend, from the history store) by at most this share, e.g. '20%'",
    )


class Rpo(Model):
    """Measure the data-loss window with a canary writer (see drillbook.rpo)."""

    service: str = Field(description="the postgres service whose writes must survive")
    interval: Duration = Field(0.1, gt=0, description="one canary write this often")
    database: str | None = None


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)
_SIZE_UNIT = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def parse_size(value: Any) -> int:
    """'512MB', '1GiB', '2 GB' or a number of bytes -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _SIZE.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"expected a size such as '512MB' or '1GiB', got {value!r}")
    unit = (match.group(2) or "b").lower()
    return int(float(match.group(1)) * _SIZE_UNIT[unit])


ByteSize = Annotated[int, BeforeValidator(parse_size)]


class BackupCheck(Model):
    """A backup the recovery will need: it must exist (and verify) before any fault."""

    path: str = Field(description="file, relative to the project; checked before provisioning")
    verify: str | None = Field(
        None, description="shell command run with the drill environment; {path} is the file"
    )
    max_age: Duration | None = Field(None, description="older than this is stale")


class Preflight(Model):
    tools: list[str] = Field(default_factory=list, description="commands that must be on PATH")
    env: list[str] = Field(
        default_factory=list, description="variables (credentials) that must be set; never printed"
    )
    backups: list[BackupCheck] = Field(default_factory=list)
    min_free_disk: ByteSize = Field(256 * 10**6, description="free space needed in the run dir")


class Timeouts(Model):
    provision: Duration = 120.0
    baseline: Duration = Field(
        30.0, description="time for the steady state to hold before the fault"
    )
    detect: Duration = Field(15.0, description="wait at most this for the first failing sample")
    recover: Duration = Field(
        300.0, description="recovery steps plus the wait for the steady state"
    )
    teardown: Duration = 60.0


class Sampling(Model):
    interval: Duration = Field(0.1, gt=0, description="steady-state probes run this often")
    stable_samples: int = Field(
        3, ge=1, description="consecutive passing samples that mean 'steady'"
    )


class Scenario(Model):
    name: str = Field(pattern=IDENTIFIER)
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    backend: Literal["local", "docker"] | None = None
    random_seed: int = 0
    runbook: str | None = Field(None, description="link or path to the runbook this drill proves")
    services: dict[Annotated[str, Field(pattern=IDENTIFIER)], AnyService] = Field(
        default_factory=dict
    )
    env: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], str] = Field(
        default_factory=dict, description="extra or remapped variables for scripts; may use ${...}"
    )
    seed: list[AnyStep] = Field(default_factory=list)
    steady_state: list[AnyProbe] = Field(default_factory=list)
    fault: list[AnyFault] = Field(default_factory=list)
    recovery: list[AnyStep] = Field(default_factory=list)
    verify: Verify = Field(default_factory=Verify)
    criteria: Criteria = Field(default_factory=Criteria)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    sampling: Sampling = Field(default_factory=Sampling)
    load: Load | None = Field(None, description="simulated users from the baseline to verify")
    preflight: Preflight = Field(default_factory=Preflight)
    rpo: Rpo | None = Field(None, description="measure the data-loss window with a canary writer")

    # Where relative paths resolve and which file this came from; set by the loader.
    source: Path | None = Field(None, exclude=True)
    base_dir: Path | None = Field(None, exclude=True)

    @field_validator("fault", "recovery", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _references_resolve(self) -> Scenario:
        # One error per offending key (not one joined sentence) so the loader can point at
        # each key's own line.
        names = set(self.services)
        declared = ", ".join(sorted(names)) or "none"
        errors: list[InitErrorDetails] = []
        sections: list[tuple[tuple[str | int, ...], Any]] = [
            (("services",), self.services),
            (("seed",), self.seed),
            (("steady_state",), self.steady_state),
            (("fault",), self.fault),
            (("recovery",), self.recovery),
            (("verify",), self.verify),
            (("load",), self.load),
        ]
        for loc, value in sections:
            for ref_loc, target in _service_refs(value, loc):
                if target in names:
                    continue
                errors.append(
                    _error(
                        "unknown_service",
                        "unknown service {service}; declared services: {declared}",
                        ref_loc,
                        target,
                        service=repr(target),
                        declared=declared,
                    )
                )
        first_use: dict[str, str] = {}
        for section, steps in (("seed", self.seed), ("recovery", self.recovery)):
            for index, step in enumerate(steps):
                if not step.id:
                    continue
                where = f"{section}[{index}]"
                if step.id in first_use:
                    errors.append(
                        _error(
                            "duplicate_step_id",
                            "step id {id} is already used by {first}; step ids must be unique",
                            (section, index, "id"),
                            step.id,
                            id=repr(step.id),
                            first=first_use[step.id],
                        )
                    )
                else:
                    first_use[step.id] = where
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    @property
    def verify_probes(self) -> list[ProbeSpec]:
        return (
            list(self.verify.probes) if self.verify.probes is not None else list(self.steady_state)
        )
