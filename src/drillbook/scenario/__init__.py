"""Scenarios: the model of one drill, and the loader that validates files before anything starts.

Exports are resolved lazily: drillbook.registry imports drillbook.scenario.kinds, so this
package must not import the registry-dependent modules (model, loader, schema) eagerly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drillbook.scenario.loader import (
        expand_paths,
        find_base_dir,
        load_scenario,
        load_scenarios,
    )
    from drillbook.scenario.model import Scenario
    from drillbook.scenario.problems import render_problems
    from drillbook.scenario.schema import scenario_json_schema
    from drillbook.scenario.summary import ScenarioSummary, summarize
    from drillbook.scenario.types import (
        Duration,
        ScenarioCommand,
        ScenarioPath,
        iter_scenario_paths,
    )

_EXPORTS = {
    "Duration": "drillbook.scenario.types",
    "Scenario": "drillbook.scenario.model",
    "ScenarioCommand": "drillbook.scenario.types",
    "ScenarioPath": "drillbook.scenario.types",
    "ScenarioSummary": "drillbook.scenario.summary",
    "expand_paths": "drillbook.scenario.loader",
    "find_base_dir": "drillbook.scenario.loader",
    "iter_scenario_paths": "drillbook.scenario.types",
    "load_scenario": "drillbook.scenario.loader",
    "load_scenarios": "drillbook.scenario.loader",
    "render_problems": "drillbook.scenario.problems",
    "scenario_json_schema": "drillbook.scenario.schema",
    "summarize": "drillbook.scenario.summary",
}

__all__ = [
    "Duration",
    "Scenario",
    "ScenarioCommand",
    "ScenarioPath",
    "ScenarioSummary",
    "expand_paths",
    "find_base_dir",
    "iter_scenario_paths",
    "load_scenario",
    "load_scenarios",
    "render_problems",
    "scenario_json_schema",
    "summarize",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'drillbook.scenario' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
