"""The gateway's config file: what loads, and the precise message for what does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.gateway.__main__ import main
from drillbook.gateway.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "gateway" / "config.yaml"
KEY = "sk-drill-7f3c9a1e5b2d4860"

GOOD = f"""\
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      mock_response: hello
      mock_latency: 20ms
general_settings:
  master_key: {KEY}
"""


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, file="c.yaml", env=env or {})
    return [p.render() for p in info.value.problems]


def test_fixture_config_loads_with_its_providers_in_order() -> None:
    loaded = load_config(FIXTURE, env={})
    assert loaded.config.providers() == ("openai", "anthropic", "ollama")
    assert loaded.master_key == KEY
    assert len(loaded.sha256) == 64


def test_os_environ_reference_is_resolved_and_its_source_kept() -> None:
    loaded = parse_config(GOOD, file="c.yaml", env={"OPENAI_API_KEY": "sk-real"})
    params = loaded.config.model_list[0].litellm_params
    assert params.api_key is not None and params.api_key.get_secret_value() == "sk-real"
    assert params.api_key_ref == "os.environ/OPENAI_API_KEY"
    assert params.mock_latency == pytest.approx(0.02)


def test_yaml_error_names_line_and_column() -> None:
    bad = GOOD.replace("      mock_response: hello", "      mock_response: [hello")
    (message,) = problems(bad)
    assert message.startswith("c.yaml:7:")
    assert "yaml error" in message


def test_entry_missing_litellm_params_is_named_with_its_line() -> None:
    bad = GOOD + "  - model_name: orphan\n"
    bad = bad.replace("general_settings:\n  master_key: " + KEY + "\n", "")
    bad += f"general_settings:\n  master_key: {KEY}\n"
    (message,) = problems(bad)
    assert message == (
        "c.yaml:8:5: model_list[1]: entry (model_name 'orphan') is missing litellm_params"
    )


def test_unknown_provider_prefix_is_quoted_with_the_known_ones() -> None:
    (message,) = problems(GOOD.replace("openai/gpt-4o", "opnai/gpt-4o"))
    assert message.startswith("c.yaml:4:7: model_list[0].litellm_params.model: ")
    assert "unknown provider prefix 'opnai' in 'opnai/gpt-4o'" in message
    assert "openai" in message


def test_weak_master_key_is_refused_without_printing_it() -> None:
    (message,) = problems(GOOD.replace(KEY, "sk-1234"))
    assert "master_key is weak" in message
    assert "sk-1234" not in message


def test_short_master_key_says_how_long_it_must_be() -> None:
    (message,) = problems(GOOD.replace(KEY, "sk-a1b2c3d4"))
    assert "has 11 characters, needs at least 16" in message


def test_missing_master_key_is_an_error_unless_the_environment_has_one() -> None:
    without = GOOD.replace(f"general_settings:\n  master_key: {KEY}\n", "")
    (message,) = problems(without)
    assert "master_key is missing" in message
    loaded = parse_config(without, file="c.yaml", env={"LITELLM_MASTER_KEY": KEY})
    assert loaded.master_key == KEY


def test_master_key_from_an_unset_variable_names_the_variable() -> None:
    (message,) = problems(GOOD.replace(KEY, "os.environ/GATEWAY_MASTER_KEY"))
    assert "GATEWAY_MASTER_KEY, which is not set" in message


def test_unknown_top_level_key_lists_the_known_ones() -> None:
    (message,) = problems(GOOD + "modle_list: []\n")
    assert message.startswith("c.yaml:10:1: modle_list: unknown key 'modle_list'; known: ")


def test_every_problem_is_reported_at_once() -> None:
    bad = GOOD.replace("openai/gpt-4o", "opnai/x").replace(KEY, "sk-1234")
    assert len(problems(bad)) == 2


def test_empty_file_and_missing_file_are_clear(tmp_path: Path) -> None:
    assert problems("") == ["c.yaml:1:1: expected a mapping at top level, got an empty file"]
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.yaml", env={})


def test_check_command_exits_0_on_a_good_file_and_2_on_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--config", str(FIXTURE)]) == 0
    assert "config ok" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("openai/", "opnai/"))
    assert main(["check", "--config", str(bad)]) == 2
    assert "unknown provider prefix 'opnai'" in capsys.readouterr().err
