"""The JSON Schema editors use: every registered kind, told apart by `kind`."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from drillbook import registry
from drillbook.scenario.schema import DIALECT, scenario_json_schema
from tests.unit import loader_kinds  # noqa: F401 - registers the test.* kinds

EXAMPLE = """\
name: restore-configs
tags: [monthly]
services:
  db: {kind: test.service}
seed:
  - {kind: test.step, file: fixtures/configs.sql}
steady_state:
  - {kind: test.probe, service: db}
fault: {kind: test.fault, service: db, table: configs}
recovery:
  - {kind: test.step, run: drills/restore.sh, timeout: 2m}
verify:
  data: {service: db, tables: [configs]}
  probes: [{kind: test.probe}]
criteria: {max_time_to_recover: 60s}
"""


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return scenario_json_schema()


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    found: dict[str, Any] = schema["$defs"][ref.rsplit("/", 1)[-1]]
    return found


def kinds_offered(schema: dict[str, Any], node: dict[str, Any]) -> set[str]:
    """The `kind` consts of a discriminated slot (or of its one member)."""
    members = node.get("oneOf", [node])
    return {resolve(schema, m)["properties"]["kind"]["const"] for m in members}


def test_the_schema_declares_draft_2020_12_and_is_json(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == DIALECT
    jsonschema.Draft202012Validator.check_schema(schema)
    json.dumps(schema)


def test_every_kind_slot_offers_every_registered_kind(schema: dict[str, Any]) -> None:
    props = schema["properties"]
    verify = resolve(schema, props["verify"])["properties"]
    services = next(iter(props["services"]["patternProperties"].values()))
    slots = {
        "services": (registry.SERVICES, services),
        "seed": (registry.STEPS, props["seed"]["items"]),
        "steady_state": (registry.PROBES, props["steady_state"]["items"]),
        "fault": (registry.FAULTS, props["fault"]["anyOf"][0]["items"]),
        "recovery": (registry.STEPS, props["recovery"]["anyOf"][0]["items"]),
        "verify.probes": (registry.PROBES, verify["probes"]["anyOf"][0]["items"]),
    }
    for name, (family, node) in slots.items():
        assert kinds_offered(schema, node) == set(family.kinds()), name
        assert any(kind.startswith("test.") for kind in family.kinds())


def test_a_kind_offers_its_own_keys_and_forbids_others(schema: dict[str, Any]) -> None:
    node = schema["properties"]["fault"]["anyOf"][0]["items"]
    members = [resolve(schema, m) for m in node.get("oneOf", [node])]
    fault = next(m for m in members if m["properties"]["kind"]["const"] == "test.fault")
    assert {"kind", "table", "service", "delay"} <= set(fault["properties"])
    assert "table" in fault["required"]
    assert fault["additionalProperties"] is False


def test_scenario_paths_are_described_in_the_schema(schema: dict[str, Any]) -> None:
    node = schema["properties"]["seed"]["items"]
    members = [resolve(schema, m) for m in node.get("oneOf", [node])]
    step = next(m for m in members if m["properties"]["kind"]["const"] == "test.step")
    text = json.dumps(step["properties"]["file"])
    assert "base_dir" in text


def test_loader_only_fields_are_not_offered(schema: dict[str, Any]) -> None:
    assert "source" not in schema["properties"]
    assert "base_dir" not in schema["properties"]
    assert schema["required"] == ["name"]


def test_a_valid_scenario_passes_the_schema_and_a_bad_kind_does_not(
    schema: dict[str, Any],
) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    data = json.loads(json.dumps(YAML(typ="safe").load(EXAMPLE)))
    assert list(validator.iter_errors(data)) == []
    data["fault"]["tabel"] = "typo"
    assert list(validator.iter_errors(data))
