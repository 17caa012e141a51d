"""config.corrupt_yaml: deterministic, always breaking, and never leaving a free backup."""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from drillbook.backends.base import ServiceInfo, ServiceState
from drillbook.errors import FaultError, ProvisionError
from drillbook.faults.config import MODES, CorruptYaml, corrupt, parses
from drillbook.testing import FakeContext, FakeService

REPO = Path(__file__).resolve().parents[2]
CONFIG = (REPO / "fixtures" / "service" / "config.yaml").read_text()
LITELLM = """\
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: "https://api.openai.com/v1"
      rpm: 100
  - model_name: llama
    litellm_params:
      model: ollama/llama3
      api_base: http://127.0.0.1:11434
general_settings:
  master_key: sk-drill   # comment kept
  database_url: postgresql://x
litellm_settings:
  drop_params: true
"""


def _fixture_validator() -> Callable[[str], Any]:
    spec = importlib.util.spec_from_file_location(
        "config_service", REPO / "fixtures" / "service" / "config_service.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load  # type: ignore[no-any-return]


def _litellm_valid(data: Any) -> bool:
    """What a LiteLLM-like proxy checks before it starts."""
    if not isinstance(data, dict) or not isinstance(data.get("model_list"), list):
        return False
    for entry in data["model_list"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("model_name"), str):
            return False
        params = entry.get("litellm_params")
        if not isinstance(params, dict) or not isinstance(params.get("model"), str):
            return False
    settings = data.get("general_settings")
    return isinstance(settings, dict) and all(isinstance(v, str) for v in settings.values())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", range(8))
def test_every_mode_breaks_the_fixture_services_config(
    mode: Any, seed: int, tmp_path: Path
) -> None:
    load = _fixture_validator()
    text, detail = corrupt(CONFIG, mode, None, random.Random(seed))
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(Exception):  # noqa: B017 - a parse error or a validation error
        load(str(path))
    assert detail["line"].isdigit()
    if mode == "syntax_error":
        assert not parses(text)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", range(8))
def test_every_mode_breaks_a_litellm_config(mode: Any, seed: int) -> None:
    text, _ = corrupt(LITELLM, mode, None, random.Random(seed))
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return
    assert not _litellm_valid(data)


def test_the_same_seed_gives_the_same_corruption() -> None:
    for mode in MODES:
        first = corrupt(LITELLM, mode, None, random.Random(42))
        assert corrupt(LITELLM, mode, None, random.Random(42)) == first
    outcomes = {corrupt(LITELLM, "syntax_error", None, random.Random(s))[0] for s in range(10)}
    assert len(outcomes) > 3  # the seed does choose


def test_a_named_key_is_removed_and_the_rest_kept() -> None:
    text, detail = corrupt(LITELLM, "remove_key", "model_list.1.litellm_params", random.Random(0))
    data = yaml.safe_load(text)
    assert "litellm_params" not in data["model_list"][1]
    assert data["model_list"][0]["litellm_params"]["rpm"] == 100
    assert detail == {"key": "model_list.1.litellm_params", "line": "8", "how": "removed"}
    assert "# comment kept" in text
    assert '"https://api.openai.com/v1"' in text


def test_a_named_value_gets_the_wrong_type() -> None:
    text, detail = corrupt(
        LITELLM, "invalid_value", "model_list.1.litellm_params.model", random.Random(0)
    )
    assert yaml.safe_load(text)["model_list"][1]["litellm_params"]["model"] == [
        "drillbook-invalid-value"
    ]
    assert detail["how"] == "string value replaced by a list"
    assert detail["line"] == "9"


def test_without_a_key_the_largest_section_is_the_target() -> None:
    for seed in range(5):
        assert corrupt(LITELLM, "remove_key", None, random.Random(seed))[1]["key"] == "model_list"
        assert corrupt(CONFIG, "invalid_value", None, random.Random(seed))[1]["key"] == "models"


def test_an_unknown_key_lists_what_is_there() -> None:
    with pytest.raises(FaultError, match=r"no 'nope' at model_list\.0; keys there: model_name"):
        corrupt(LITELLM, "remove_key", "model_list.0.nope", random.Random(0))
    with pytest.raises(FaultError, match="not an index of the 2-item list"):
        corrupt(LITELLM, "remove_key", "model_list.7", random.Random(0))


def test_a_truncation_cuts_inside_a_key() -> None:
    text, detail = corrupt(LITELLM, "truncate", None, random.Random(3))
    assert LITELLM.startswith(text) and len(text) < len(LITELLM)
    assert not text.endswith("\n")
    assert detail["how"].startswith("truncated after")


def test_an_empty_file_still_gets_a_syntax_error() -> None:
    text, detail = corrupt("", "syntax_error", None, random.Random(0))
    assert not parses(text)
    assert detail["how"] == "inserted a stray ']' line"


# --- the fault against a (fake) service ------------------------------------------------------


@pytest.fixture
def app(tmp_path: Path) -> tuple[FakeContext, FakeService, Path]:
    work = tmp_path / "run"
    (work / "services" / "app").mkdir(parents=True)
    config = work / "services" / "app" / "config.yaml"
    config.write_text(CONFIG)
    svc = FakeService(
        "app",
        info=ServiceInfo(name="app", kind="command", config_path=config, workdir=config.parent),
        restart_error=ProvisionError("app not healthy within 5s", log_tail=["config error"]),
    )
    return FakeContext(work, services=[svc], random_seed=7), svc, config


def fault(**fields: Any) -> CorruptYaml:
    return CorruptYaml.model_validate({"kind": "config.corrupt_yaml", **fields})


def test_the_original_is_kept_in_the_workdir_not_next_to_the_file(
    app: tuple[FakeContext, FakeService, Path],
) -> None:
    ctx, _, config = app
    outcome = fault(service="app").inject(ctx)
    copy = Path(outcome.detail["original_copy"])
    assert copy.read_text() == CONFIG
    assert copy.parent == ctx.workdir / "faults"
    assert sorted(p.name for p in config.parent.iterdir()) == ["config.yaml"]
    assert config.read_text() != CONFIG
    assert outcome.target == str(config)
    assert outcome.detail["mode"] == "syntax_error"


def test_a_failed_restart_after_corrupting_is_recorded_not_raised(
    app: tuple[FakeContext, FakeService, Path],
) -> None:
    ctx, svc, _ = app
    outcome = fault(service="app", then="restart").inject(ctx)
    assert outcome.detail["restart"] == "failed"
    assert outcome.detail["restart_error"] == "app not healthy within 5s"
    assert svc.state() == ServiceState.STOPPED


def test_reload_sends_sighup(app: tuple[FakeContext, FakeService, Path]) -> None:
    ctx, svc, _ = app
    outcome = fault(service="app", then="reload", mode="remove_key").inject(ctx)
    assert svc.calls == [("kill", "SIGHUP")]
    assert outcome.detail["reload"] == "SIGHUP sent"


def test_the_fault_is_deterministic_for_the_scenario_seed(
    app: tuple[FakeContext, FakeService, Path],
) -> None:
    ctx, _, config = app
    outcome = fault(service="app", mode="random").inject(ctx)
    first = config.read_text()
    config.write_text(CONFIG)
    assert fault(service="app", mode="random").inject(ctx) == outcome
    assert config.read_text() == first


def test_a_path_is_relative_to_the_run_workdir(app: tuple[FakeContext, FakeService, Path]) -> None:
    ctx, _, config = app
    outcome = fault(path="services/app/config.yaml", mode="truncate").inject(ctx)
    assert outcome.target == str(config)
    assert len(config.read_text()) < len(CONFIG)


def test_files_outside_the_drill_are_never_touched(
    app: tuple[FakeContext, FakeService, Path], tmp_path: Path
) -> None:
    ctx, _, _ = app
    outside = tmp_path / "prod.yaml"
    outside.write_text(CONFIG)
    with pytest.raises(FaultError, match="refusing to corrupt"):
        fault(path=str(outside)).inject(ctx)
    with pytest.raises(FaultError, match="refusing to corrupt"):
        fault(path="../prod.yaml").inject(ctx)
    assert outside.read_text() == CONFIG


def test_a_missing_config_is_a_fault_error(app: tuple[FakeContext, FakeService, Path]) -> None:
    ctx, _, _ = app
    with pytest.raises(FaultError, match="does not exist"):
        fault(path="nope.yaml").inject(ctx)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"path": "x.yaml", "then": "restart"},
        {"service": "app", "mode": "truncate", "key": "a.b"},
        {"service": "app", "mode": "scramble"},
    ],
)
def test_inconsistent_corruptions_are_refused_when_loading(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        fault(**fields)


def test_revert_leaves_files_of_the_run_alone(app: tuple[FakeContext, FakeService, Path]) -> None:
    ctx, _, config = app
    fault(service="app").inject(ctx)
    config.write_text("fixed by the team\n")
    fault(service="app").revert(ctx)
    assert config.read_text() == "fixed by the team\n"


def test_revert_restores_a_config_that_lives_outside_the_run(tmp_path: Path) -> None:
    outside = tmp_path / "etc" / "app.yaml"
    outside.parent.mkdir()
    outside.write_text(CONFIG)
    svc = FakeService("app", info=ServiceInfo(name="app", kind="command", config_path=outside))
    work = tmp_path / "run"
    work.mkdir()
    ctx = FakeContext(work, services=[svc])
    fault(service="app", mode="truncate").inject(ctx)
    assert outside.read_text() != CONFIG
    fault(service="app", mode="truncate").revert(ctx)
    assert outside.read_text() == CONFIG
