"""Small value types shared by every scenario section: the frozen base model and durations."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


class Model(BaseModel):
    """Every scenario model: unknown keys are errors, instances never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_duration(value: Any) -> float:
    """'250ms', '30s', '5m', '1.5h' or a bare number of seconds -> seconds as float."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as '30s' or '5m', got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(
                f"expected a duration such as '250ms', '30s', '5m' or '1h', got {value!r}"
            )
        seconds = float(match.group(1)) * _UNIT[match.group(2)]
    else:
        raise ValueError(f"expected a duration such as '30s' or '5m', got {value!r}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 120:
        return f"{seconds:g}s"
    return f"{seconds / 60:g}m"


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$"},
                {"type": "number", "minimum": 0},
            ],
            "description": "a duration: '250ms', '30s', '5m', '1h' or seconds",
        }
    ),
]
"""Seconds, written in a scenario as '250ms', '30s', '5m' or '1h'."""

IDENTIFIER = r"^[A-Za-z][A-Za-z0-9_-]{0,62}$"
