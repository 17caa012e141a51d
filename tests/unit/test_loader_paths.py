"""ScenarioPath / ScenarioCommand: how kinds mark file fields, and how the loader finds them."""

from __future__ import annotations

import pytest
from pydantic import Field

import drillbook.scenario
from drillbook.scenario.types import (
    Model,
    PathRef,
    ScenarioCommand,
    ScenarioPath,
    iter_scenario_paths,
)


class Inner(Model):
    script: ScenarioCommand


class Holder(Model):
    file: ScenarioPath
    optional: ScenarioPath | None = None
    many: list[ScenarioPath] = Field(default_factory=list)
    by_name: dict[str, ScenarioPath] = Field(default_factory=dict)
    inner: Inner | None = None
    nested: list[Inner] = Field(default_factory=list)
    plain: str = "not/a/path/field"


def test_every_marked_field_is_found_with_its_location() -> None:
    holder = Holder(
        file="a.sql",
        optional="b.sql",
        many=["c.sql"],
        by_name={"gw": "d.yaml"},
        inner=Inner(script="./e.sh -v"),
        nested=[Inner(script="f.sh")],
    )
    found = {(f.loc, f.value) for f in iter_scenario_paths(holder, ("seed", 0))}
    assert found == {
        (("seed", 0, "file"), "a.sql"),
        (("seed", 0, "optional"), "b.sql"),
        (("seed", 0, "many", 0), "c.sql"),
        (("seed", 0, "by_name", "gw"), "d.yaml"),
        (("seed", 0, "inner", "script"), "./e.sh -v"),
        (("seed", 0, "nested", 0, "script"), "f.sh"),
    }


def test_unset_optional_paths_are_skipped() -> None:
    assert [f.loc for f in iter_scenario_paths(Holder(file="a"))] == [("file",)]


@pytest.mark.parametrize(
    ("ref", "value", "target"),
    [
        (PathRef(), "fixtures/a.sql", "fixtures/a.sql"),
        (PathRef(), "${workdir}/dump.sql", None),
        (PathRef(), "", None),
        (PathRef(command=True), "drills/restore.sh --latest", "drills/restore.sh"),
        (PathRef(command=True), "'drills/my restore.sh' -v", "drills/my restore.sh"),
        (PathRef(command=True), "pg_restore -d db dump", None),
        (PathRef(command=True), "${steps.backup.stdout}/run.sh", None),
        (PathRef(command=True), "./unbalanced 'quote", "./unbalanced"),
    ],
)
def test_the_checked_part_of_a_value(ref: PathRef, value: str, target: str | None) -> None:
    assert ref.target(value) == target


def test_path_fields_carry_a_json_schema_description() -> None:
    schema = Holder.model_json_schema()
    assert "base_dir" in schema["properties"]["file"]["description"]
    assert "first word" in schema["$defs"]["Inner"]["properties"]["script"]["description"]


def test_the_scenario_package_exports_what_it_lists() -> None:
    package = drillbook.scenario
    for name in package.__all__:
        assert getattr(package, name) is not None, name
    with pytest.raises(AttributeError):
        _ = package.no_such_name
