"""The gateway fixtures: known-bad configs fail as documented; the sources regenerate the config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from drillbook.gateway.config import ConfigError, load_config

GATEWAY = Path(__file__).resolve().parents[2] / "fixtures" / "gateway"


@pytest.mark.parametrize(
    ("name", "where", "message"),
    [
        ("yaml_error.yaml", ":9:1:", "yaml error: found character '\\t'"),
        ("truncated.yaml", ":25:11:", "yaml error: could not find expected ':'"),
        ("missing_litellm_params.yaml", ":33:5:", "entry (model_name 'llama3') is missing"),
        ("unknown_provider.yaml", ":26:7:", "unknown provider prefix 'antropic'"),
        ("weak_master_key.yaml", ":49:3:", "master_key is weak"),
        ("missing_master_key.yaml", ":1:1:", "master_key is missing"),
    ],
)
def test_each_bad_config_fails_where_and_how_its_readme_says(
    name: str, where: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(GATEWAY / "bad" / name, env={})
    (problem,) = info.value.problems
    assert where in problem.render()
    assert message in problem.render()


def test_generator_rebuilds_the_config_from_its_source_files(tmp_path: Path) -> None:
    out = tmp_path / "config.yaml"
    subprocess.run(
        [sys.executable, str(GATEWAY / "generate-litellm-config.py"), "--output", str(out)],
        check=True,
    )
    generated = load_config(out, env={}).config
    fixture = load_config(GATEWAY / "config.yaml", env={}).config
    assert generated == fixture
