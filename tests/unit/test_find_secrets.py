"""Secrets a scenario carries itself are found, so the runner and reporters can mask them."""

from __future__ import annotations

from drillbook.redact import find_secrets
from drillbook.testing import make_scenario


def test_env_values_named_like_secrets_are_found_and_others_are_not() -> None:
    scenario = make_scenario(env={
        "API_KEY": "canary-sk-1234", "DB_PASSWORD": "hunter22", "GITHUB_TOKEN": "ghp_abcd",
        "SERVICE_NAME": "app", "TOKENS_DIR": "/var/tokens",
    })
    assert find_secrets(scenario) == {"canary-sk-1234", "hunter22", "ghp_abcd"}


def test_templates_and_short_values_are_not_secrets() -> None:
    found = find_secrets({"env": {"API_KEY": "${env.OTHER}", "SECRET": "abc", "TOKEN": "long-one"}})
    assert found == {"long-one"}


def test_nested_service_environments_are_searched() -> None:
    found = find_secrets({"services": {"app": {"env": {"SERVICE_TOKEN": "tok-123456"}}}})
    assert found == {"tok-123456"}
