"""JSON Schema of a scenario file, for editor completion (`drillbook schema`).

Built by pydantic from a twin of Scenario whose kind slots are unions of every registered kind
discriminated by `kind`, so an editor offers the keys of `db.drop_table` once `kind:` is typed.
"""

from __future__ import annotations

import copy
import typing
from pathlib import Path
from typing import Annotated, Any, Union, cast

from pydantic import BaseModel, Field, create_model
from pydantic.fields import FieldInfo
from pydantic.json_schema import SkipJsonSchema

from drillbook import registry
from drillbook.scenario.kinds import KindModel
from drillbook.scenario.model import DataCheck, Scenario, Verify

DIALECT = "https://json-schema.org/draft/2020-12/schema"

# mypy sees SkipJsonSchema as an alias, not a class; at run time it is subscripted as documented.
_HIDDEN_PATH: Any = cast(Any, SkipJsonSchema)[Path | None]


def _one_of(family: registry.Registry[Any]) -> Any:
    """Every registered kind of `family`, told apart by their `kind` const."""
    kinds: list[type[KindModel]] = list(family)
    if not kinds:
        return family.base
    if len(kinds) == 1:
        return kinds[0]
    return Annotated[Union[tuple(kinds)], Field(discriminator="kind")]  # noqa: UP007


def _same_field(model: type[BaseModel], name: str, annotation: Any) -> tuple[Any, FieldInfo]:
    """The field `name` of `model` (default, description) with another type."""
    info = copy.copy(model.model_fields[name])
    info.annotation = annotation
    return annotation, info


def _twin_models() -> type[BaseModel]:
    registry.load_plugins()
    service = _one_of(registry.SERVICES)
    fault = _one_of(registry.FAULTS)
    step = _one_of(registry.STEPS)
    probe = _one_of(registry.PROBES)
    service_name = typing.get_args(Scenario.model_fields["services"].annotation)[0]
    verify = create_model(
        "Verify",
        __base__=Verify,
        __doc__=Verify.__doc__,
        probes=_same_field(Verify, "probes", list[probe] | None),  # type: ignore[valid-type]
        # one mapping is accepted where a list is (see the model's validators)
        data=_same_field(Verify, "data", list[DataCheck] | DataCheck),
    )
    return create_model(
        "Scenario",
        __base__=Scenario,
        __doc__="A drillbook scenario: one drill, from provisioning to grading.",
        services=_same_field(Scenario, "services", dict[service_name, service]),  # type: ignore[valid-type]
        seed=_same_field(Scenario, "seed", list[step]),  # type: ignore[valid-type]
        steady_state=_same_field(Scenario, "steady_state", list[probe]),  # type: ignore[valid-type]
        fault=_same_field(Scenario, "fault", list[fault] | fault),  # type: ignore[valid-type]
        recovery=_same_field(Scenario, "recovery", list[step] | step),  # type: ignore[valid-type]
        verify=_same_field(Scenario, "verify", verify),
        # set by the loader, never written in a file
        source=(_HIDDEN_PATH, None),
        base_dir=(_HIDDEN_PATH, None),
    )


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a scenario file over every registered kind."""
    schema = _twin_models().model_json_schema(mode="validation")
    return {"$schema": DIALECT, **schema}
