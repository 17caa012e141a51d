"""The ops console APIs and pages the seed runbooks call, in process (memory store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drillbook.gateway.pages import bucket
from drillbook.testing import GATEWAY_FIXTURE_MASTER_KEY, gateway_client

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "gateway" / "config.yaml"
MASTER = {"Authorization": f"Bearer {GATEWAY_FIXTURE_MASTER_KEY}"}
DRILL = {"X-Drill-Token": "drill-token"}
OLD_PAGES = ["llm-provider-keys", "llm-model-catalog", "llm-routing", "llm-analytics"]
PING = {"messages": [{"role": "user", "content": "test"}]}


@pytest.fixture(name="client")
def client_fixture() -> Iterator[Any]:
    with gateway_client(FIXTURE) as (client, _):
        yield client


def test_provider_activation_and_its_rollback_show_in_the_audit_log(client: Any) -> None:
    assert client.get("/api/v1/providers").json()["active_provider"] == "openai"
    activated = client.post("/api/v1/providers/anthropic/activate", json={"model": "claude-sonnet"})
    assert activated.json()["previous_provider"] == "openai"
    answer = client.post("/api/v1/chat/completions", json=PING).json()
    assert answer["model"] == "claude-sonnet"
    client.post("/api/v1/providers/openai/activate")
    entries = client.get("/api/v1/admin/audit?limit=5").json()["entries"]
    assert [(e["action"], e["target"]) for e in entries] == [
        ("provider.activate", "openai"),
        ("provider.activate", "anthropic"),
    ]
    assert entries[0]["before"] == {"name": "anthropic", "model": "claude-sonnet"}
    assert entries[1]["after"] == {"name": "anthropic", "model": "claude-sonnet"}


def test_activate_refuses_unknown_provider_and_foreign_model(client: Any) -> None:
    assert client.post("/api/v1/providers/cohere/activate").status_code == 404
    response = client.post("/api/v1/providers/ollama/activate", json={"model": "gpt-4o"})
    assert response.status_code == 400


def test_test_connection_says_success_only_when_it_succeeds(client: Any) -> None:
    ok = client.post("/api/v1/providers/openai/test-connection")
    assert ok.status_code == 200 and "success" in ok.text
    client.post("/_drill/faults", json={"provider_outage": ["openai"]}, headers=DRILL)
    failed = client.post("/api/v1/providers/openai/test-connection")
    assert failed.status_code == 502
    assert "success" not in failed.text  # seed 003 greps the body for that word
    status = client.get("/api/v1/providers/openai/status").json()
    assert status["connection_status"] == "offline"


def test_preflight_names_the_missing_api_key_variable(tmp_path: Path) -> None:
    with gateway_client(FIXTURE) as (client, _):
        response = client.post("/api/v1/providers/anthropic/preflight")
        assert response.status_code == 412
        checks = {c["name"]: c for c in response.json()["checks"]}
        assert checks["api_key"]["detail"] == "not set: ANTHROPIC_API_KEY"
    env = tmp_path / ".env"
    env.write_text("ANTHROPIC_API_KEY=sk-ant-drill\n")
    with gateway_client(FIXTURE, env_file=env) as (client, _):
        assert client.post("/api/v1/providers/anthropic/preflight").json()["ready"] is True


def test_degraded_provider_is_reported_by_status_and_alerts(client: Any) -> None:
    client.post("/_drill/faults", json={"provider_outage": {"openai": "degraded"}}, headers=DRILL)
    assert client.get("/api/v1/providers/openai/status").json()["connection_status"] == "degraded"
    alerts = client.get("/api/v1/alerts").json()
    assert alerts["summary"]["warning"] == 1
    assert client.get("/api/v1/alerts?severity=critical").json()["alerts"] == []


def test_governance_limit_is_stored_audited_and_enforced(client: Any) -> None:
    limit = {
        "limit_type": "per_provider",
        "scope": "openai",
        "soft_limit_usd": 0.00005,
        "hard_limit_usd": 0.0001,
    }
    assert client.post("/api/v1/governance/limits", json=limit).status_code == 200
    chat = {"model": "gpt-4o", **PING}
    codes = [
        client.post("/v1/chat/completions", json=chat, headers=MASTER).status_code for _ in range(4)
    ]
    assert codes[0] == 200 and codes[-1] == 429
    status = client.get("/api/v1/governance/status").json()
    assert status["status"] == "hard_limit_exceeded"
    assert client.get("/api/v1/alerts?severity=critical").json()["summary"]["critical"] == 1
    assert client.get("/api/v1/admin/audit").json()["entries"][0]["action"] == "governance.limit"


def test_soft_limit_above_hard_limit_is_a_400(client: Any) -> None:
    bad = {"limit_type": "global", "scope": "all", "soft_limit_usd": 3, "hard_limit_usd": 2}
    response = client.post("/api/v1/governance/limits", json=bad)
    assert response.status_code == 400
    assert "soft_limit_usd 3.0 is above hard_limit_usd 2.0" in response.json()["error"]["message"]


def test_runtime_config_backup_restores_the_previous_provider(client: Any) -> None:
    backup = client.get("/api/v1/config/runtime").json()
    assert backup["active_provider"]["name"] == "openai"
    client.post("/api/v1/providers/ollama/activate")
    restored = client.post("/api/v1/config/runtime", json=backup)
    assert restored.json()["changes"] == ["active provider -> openai"]
    assert client.get("/api/v1/providers").json()["active_provider"] == "openai"
    actions = [e["action"] for e in client.get("/api/v1/admin/audit").json()["entries"]]
    assert actions[:2] == ["provider.activate", "config.runtime_restore"]


def test_configs_api_keeps_versions_and_audits_them(client: Any) -> None:
    url = "/api/v1/configs/app/timeout?env=production"
    assert client.get(url).status_code == 404
    assert client.put(url, json={"value": 30}).status_code == 201
    assert client.put(url, json={"value": 45}).status_code == 200
    assert client.get(url).json()["value"] == 45
    entry = client.get("/api/v1/admin/audit?limit=1").json()["entries"][0]
    assert (entry["action"], entry["before"], entry["after"]) == ("config.set", 30, 45)


# -- feature flag and pages (seed 001) ---------------------------------------------------------


def test_flag_off_gives_old_pages_200_and_reports_enabled_false(tmp_path: Path) -> None:
    env = tmp_path / ".env.auth"
    env.write_text("FEATURE_UNIFIED_LLM_HUB=false\n")
    with gateway_client(FIXTURE, release="v2", env_file=env) as (client, _):
        for page in OLD_PAGES:
            assert client.get(f"/admin/{page}", follow_redirects=False).status_code == 200
        flag = client.get("/api/v1/features/unified_llm_hub").json()
        assert flag == {
            "flag": "unified_llm_hub",
            "enabled": False,
            "config": {"enabled": False, "rollout_percentage": 0},
            "source": "environment",
        }


def test_flag_on_in_v2_redirects_old_pages_to_the_unified_hub() -> None:
    with gateway_client(FIXTURE, release="v2") as (client, _):
        client.put("/api/v1/features/unified_llm_hub", json={"enabled": True})
        page = client.get("/admin/llm-routing", follow_redirects=False)
        assert page.status_code == 307
        assert page.headers["location"] == "/admin/llm-hub?section=llm-routing"
        assert "Unified LLM hub" in client.get("/admin/llm-hub").text


def test_v1_has_no_hub_whatever_the_flag_says(client: Any) -> None:
    client.put("/api/v1/features/unified_llm_hub", json={"enabled": True})
    assert client.get("/admin/llm-hub").status_code == 404
    assert client.get("/admin/llm-routing", follow_redirects=False).status_code == 200


def test_environment_overrides_the_stored_flag(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("FEATURE_UNIFIED_LLM_HUB=false\n")
    with gateway_client(FIXTURE, release="v2", env_file=env) as (client, _):
        response = client.put("/api/v1/features/unified_llm_hub", json={"enabled": True})
        assert response.json()["overridden_by_environment"] is True
        assert client.get("/admin/llm-routing", follow_redirects=False).status_code == 200


def test_partial_rollout_sends_only_some_users_to_the_hub() -> None:
    users = [f"user-{i}" for i in range(40)]
    with gateway_client(FIXTURE, release="v2") as (client, _):
        client.put(
            "/api/v1/features/unified_llm_hub", json={"enabled": True, "rollout_percentage": 50}
        )
        moved = [
            u
            for u in users
            if client.get(
                "/admin/llm-analytics", headers={"X-User-Id": u}, follow_redirects=False
            ).status_code
            == 307
        ]
    assert moved == [u for u in users if bucket(u) < 50]
    assert 0 < len(moved) < len(users)
