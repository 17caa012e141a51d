"""Small value types shared by every scenario section: the frozen base model, durations and
file paths the loader checks."""

from __future__ import annotations

import re
import shlex
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, NamedTuple

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

# A leading '-' is accepted by the pattern only so that '-5s' is reported as negative.
_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


class Model(BaseModel):
    """Every scenario model: unknown keys are errors, instances never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_duration(value: Any) -> float:
    """'250ms', '30s', '5m', '1.5h' or a bare number of seconds -> seconds as float."""
    # ValueError, not TypeError: pydantic turns only ValueError into a validation error.
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as '30s' or '5m', got {value!r}")  # noqa: TRY004
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
        raise ValueError(f"expected a duration such as '30s' or '5m', got {value!r}")  # noqa: TRY004
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


@dataclass(frozen=True)
class PathRef:
    """Annotated metadata: this str field names a file that must exist when the scenario loads.

    Use it through `ScenarioPath` or `ScenarioCommand`, not directly.
    """

    command: bool = False

    def target(self, value: str) -> str | None:
        """The path inside `value` the loader checks, or None when there is nothing to check.

        Values holding `${...}` are only known at run time, so they are not checked. A command
        is checked only when its first word contains '/' (`drills/restore.sh --fast`), because a
        bare word (`pg_restore ...`) is looked up on PATH when the step runs.
        """
        if "${" in value:
            return None
        if not self.command:
            return value or None
        try:
            words = shlex.split(value)
        except ValueError:
            words = value.split()
        if words and "/" in words[0] and not SHELL_SYNTAX.search(words[0]):
            return words[0]
        return None


# A first word with shell syntax (`out="$(drills/x.sh)"`, `a=1;drills/x.sh`) is not a file name.
SHELL_SYNTAX = re.compile(r"[=$`();|&<>*?]")

ScenarioPath = Annotated[
    str,
    PathRef(),
    Field(
        description="a file path; relative paths resolve against the project root (base_dir); "
        "the file must exist when the scenario is validated"
    ),
]
"""A file the scenario refers to (a seed SQL file, a config, a script).

Annotate every field that names an input file with it, in any kind::

    class SqlStep(StepSpec):
        kind: Literal["sql"]
        file: ScenarioPath | None = None

The loader finds these fields (`iter_scenario_paths`), resolves relative values against the
scenario's base_dir and reports a missing file at that key's line, before anything starts.
At run time resolve the value with `ctx.resolve(value)`. Values holding `${...}` are not checked.
Works inside `X | None`, `list[...]` and `dict[str, ...]` too.
"""

ScenarioCommand = Annotated[
    str,
    PathRef(command=True),
    Field(
        description="a command line; when its first word contains '/' it is a script path "
        "relative to the project root (base_dir) that must exist"
    ),
]
"""A command line whose first word may be a script (`drills/pg/restore.sh --latest`).

Like `ScenarioPath`, but only a first word containing '/' is checked; `pg_restore -d ...`
is left to PATH at run time. Use it for the `run` field of a step.
"""


class PathField(NamedTuple):
    """One ScenarioPath-typed value found in a model instance."""

    loc: tuple[str | int, ...]
    value: str
    ref: PathRef


def _ref_in(annotation: Any) -> PathRef | None:
    """The PathRef inside an annotation (`ScenarioPath | None`, `list[ScenarioPath]`, ...)."""
    if typing.get_origin(annotation) is Annotated:
        for meta in annotation.__metadata__:
            if isinstance(meta, PathRef):
                return meta
    for arg in typing.get_args(annotation):
        found = _ref_in(arg)
        if found is not None:
            return found
    return None


def _walk(value: Any, ref: PathRef | None, loc: tuple[str | int, ...]) -> Iterator[PathField]:
    if isinstance(value, BaseModel):
        yield from iter_scenario_paths(value, loc)
    elif isinstance(value, str):
        if ref is not None:
            yield PathField(loc, value, ref)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, ref, (*loc, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, ref, (*loc, key))


def iter_scenario_paths(model: BaseModel, loc: tuple[str | int, ...] = ()) -> Iterator[PathField]:
    """Every ScenarioPath/ScenarioCommand value in `model` and the models nested in it.

    `loc` of each result is the field path from `model` (prefixed by `loc`), in pydantic's
    error-location form, e.g. ('recovery', 0, 'run').
    """
    for name, info in type(model).model_fields.items():
        ref = next((m for m in info.metadata if isinstance(m, PathRef)), None)
        if ref is None:
            ref = _ref_in(info.annotation)
        yield from _walk(getattr(model, name), ref, (*loc, name))
