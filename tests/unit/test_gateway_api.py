"""The gateway's HTTP API, in process (no port, no database): proxy, auth, reload, drill hooks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from drillbook.gateway.app import create_app
from drillbook.gateway.runtime import Gateway, GatewayOptions
from drillbook.testing import GATEWAY_FIXTURE_MASTER_KEY, gateway_client

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "gateway" / "config.yaml"
MASTER = {"Authorization": f"Bearer {GATEWAY_FIXTURE_MASTER_KEY}"}
DRILL = {"X-Drill-Token": "drill-token"}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}


@pytest.fixture(name="config")
def config_fixture(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(FIXTURE.read_text())
    return path


@pytest.fixture(name="client")
def client_fixture(config: Path) -> Iterator[Any]:
    with gateway_client(config) as (client, _):
        yield client


def test_liveness_and_readiness_without_a_database(client: Any) -> None:
    assert client.get("/health/liveliness").text == "I'm alive!"
    ready = client.get("/health/readiness")
    assert ready.status_code == 200
    assert ready.json()["db"] == "not configured"


def test_chat_needs_a_key(client: Any) -> None:
    response = client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "auth_error"


def test_chat_answers_in_openai_shape_and_deterministically(client: Any) -> None:
    first = client.post("/v1/chat/completions", json=CHAT, headers=MASTER).json()
    second = client.post("/chat/completions", json=CHAT, headers=MASTER).json()
    assert first["object"] == "chat.completion"
    assert first["choices"][0]["message"]["content"] == "mock gpt-4o: the drill gateway answers."
    assert first["choices"][0]["message"] == second["choices"][0]["message"]
    assert first["usage"]["total_tokens"] == 7
    assert first["id"] != second["id"]


def test_prompt_derived_reply_is_stable_without_mock_response(config: Path) -> None:
    config.write_text(FIXTURE.read_text().replace('mock_response: "mock gpt-4o', '# "'))
    with gateway_client(config) as (client, _):
        replies = {
            client.post("/v1/chat/completions", json=CHAT, headers=MASTER).json()["choices"][0][
                "message"
            ]["content"]
            for _ in range(3)
        }
    assert len(replies) == 1
    assert replies.pop().startswith("mock reply ")


def test_unknown_model_and_bad_body_are_client_errors(client: Any) -> None:
    unknown = client.post("/v1/chat/completions", json={**CHAT, "model": "gpt-9"}, headers=MASTER)
    assert unknown.status_code == 404
    assert "known: gpt-4o" in unknown.json()["error"]["message"]
    bad = client.post("/v1/chat/completions", json={"model": "gpt-4o"}, headers=MASTER)
    assert bad.status_code == 400
    assert "messages" in bad.json()["error"]["message"]


def test_streaming_sends_chunks_then_done(client: Any) -> None:
    response = client.post("/v1/chat/completions", json={**CHAT, "stream": True}, headers=MASTER)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.rstrip().endswith("data: [DONE]")
    assert response.text.count("chat.completion.chunk") >= 2


def test_virtual_key_is_limited_to_its_models_and_dies_when_deleted(client: Any) -> None:
    key = client.post(
        "/key/generate", json={"key_alias": "ci", "models": ["gpt-4o-mini"]}, headers=MASTER
    ).json()["key"]
    auth = {"Authorization": f"Bearer {key}"}
    ok = client.post("/v1/chat/completions", json={**CHAT, "model": "gpt-4o-mini"}, headers=auth)
    assert ok.status_code == 200
    assert client.post("/v1/chat/completions", json=CHAT, headers=auth).status_code == 403
    assert [m["id"] for m in client.get("/v1/models", headers=auth).json()["data"]] == [
        "gpt-4o-mini"
    ]
    assert client.post("/key/generate", json={}, headers=auth).status_code == 403
    assert client.post("/key/delete", json={"keys": [key]}, headers=MASTER).json() == {"deleted": 1}
    assert client.post("/v1/chat/completions", json=CHAT, headers=auth).status_code == 401


def test_version_and_release_header_tell_which_revision_serves(config: Path) -> None:
    with gateway_client(config, release="v2") as (client, gateway):
        response = client.get("/version")
        assert response.json()["release"] == "v2"
        assert response.json()["config_hash"] == gateway.loaded.short_hash
        assert response.headers["x-drillbook-release"] == "v2"


def test_bad_reload_is_rejected_and_the_old_config_keeps_serving(config: Path) -> None:
    with gateway_client(config) as (client, _):
        before = client.get("/version").json()["config_hash"]
        config.write_text("model_list: [\n  oops")
        response = client.post("/config/reload", headers=MASTER)
        assert response.status_code == 400
        assert response.json()["status"] == "rejected"
        assert "yaml error" in response.json()["problems"][0]
        assert client.get("/version").json()["config_hash"] == before
        assert client.post("/v1/chat/completions", json=CHAT, headers=MASTER).status_code == 200
        actions = [e["action"] for e in client.get("/api/v1/admin/audit").json()["entries"]]
        assert actions == ["config.reload_rejected"]


def test_good_reload_swaps_the_config_and_is_audited(config: Path) -> None:
    with gateway_client(config) as (client, _):
        before = client.get("/version").json()["config_hash"]
        config.write_text(FIXTURE.read_text().replace("model_name: llama3", "model_name: llama4"))
        response = client.post("/config/reload", headers=MASTER)
        assert response.status_code == 200
        assert response.json()["previous_config_hash"] == before
        chat = {**CHAT, "model": "llama4"}
        assert client.post("/v1/chat/completions", json=chat, headers=MASTER).status_code == 200
        entry = client.get("/api/v1/admin/audit?limit=1").json()["entries"][0]
        assert entry["action"] == "config.reload"
        assert entry["before"] == before


def test_reload_needs_the_master_key(client: Any) -> None:
    assert client.post("/config/reload").status_code == 401


def test_metrics_count_requests_by_status(client: Any) -> None:
    client.post("/v1/chat/completions", json=CHAT, headers=MASTER)
    text = client.get("/metrics").text
    assert (
        'http_requests_total{method="POST",route="/v1/chat/completions",status="200"} 1.0' in text
    )
    assert "http_request_duration_seconds_bucket" in text


# -- drill hooks -------------------------------------------------------------------------------


def test_drill_hooks_do_not_exist_without_a_drill_token(config: Path) -> None:
    with gateway_client(config, drill_token=None) as (client, _):
        assert client.get("/_drill/faults", headers=DRILL).status_code == 404


def test_drill_hooks_refuse_the_master_key_alone(client: Any) -> None:
    assert client.get("/_drill/faults", headers=MASTER).status_code == 403
    assert client.get("/_drill/faults", headers=DRILL).status_code == 200


def test_drill_hooks_reject_unknown_faults(client: Any) -> None:
    response = client.post("/_drill/faults", json={"eror_rate": 0.1}, headers=DRILL)
    assert response.status_code == 400
    assert "eror_rate" in response.json()["error"]["message"]


def test_injected_error_rate_spares_health_and_metrics(client: Any) -> None:
    client.post("/_drill/faults", json={"error_rate": 1.0, "error_status": 503}, headers=DRILL)
    assert client.post("/v1/chat/completions", json=CHAT, headers=MASTER).status_code == 503
    assert client.get("/health/readiness").status_code == 200
    assert client.get("/metrics").status_code == 200
    client.delete("/_drill/faults", headers=DRILL)
    assert client.post("/v1/chat/completions", json=CHAT, headers=MASTER).status_code == 200


def test_six_percent_error_rate_gives_six_percent_5xx_over_2000_requests(config: Path) -> None:
    gateway = Gateway(GatewayOptions(config_path=config, drill_token="drill-token"))

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=create_app(gateway))
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            set_rate = await client.post("/_drill/faults", json={"error_rate": 0.06}, headers=DRILL)
            assert set_rate.status_code == 200
            statuses = []
            chat = {**CHAT, "model": "gpt-4o-mini"}  # no mock latency: fast
            for _ in range(2000):
                response = await client.post("/v1/chat/completions", json=chat, headers=MASTER)
                statuses.append(response.status_code)
            return statuses

    statuses = asyncio.run(run())
    rate = sum(1 for s in statuses if s >= 500) / len(statuses)
    assert abs(rate - 0.06) <= 0.01
    assert set(statuses) == {200, 500}


def test_provider_outage_fails_over_to_nothing_and_shows_offline(client: Any) -> None:
    client.post("/_drill/faults", json={"provider_outage": ["anthropic"]}, headers=DRILL)
    chat = {**CHAT, "model": "claude-sonnet"}
    assert client.post("/v1/chat/completions", json=chat, headers=MASTER).status_code == 503
    providers = client.get("/api/v1/providers").json()["providers"]
    assert {p["name"]: p["connection_status"] for p in providers}["anthropic"] == "offline"
    health = client.get("/health", headers=MASTER).json()
    assert health["unhealthy_count"] == 1


def test_leak_shows_in_the_fault_report(client: Any) -> None:
    client.post("/_drill/faults", json={"leak_bytes_per_request": 1_000_000}, headers=DRILL)
    for _ in range(5):
        client.get("/health/liveliness")
    report = client.get("/_drill/faults", headers=DRILL).json()
    assert report["leaked_bytes"] == 5_000_000
    assert report["rss_bytes"] > 5_000_000


def test_package_exports_resolve() -> None:
    import drillbook.gateway as package

    for name in package.__all__:
        assert getattr(package, name) is not None


def test_faults_from_the_environment_are_in_force_from_startup(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drillbook.gateway.__main__ import _parser, options_from

    monkeypatch.setenv("DRILLBOOK_DRILL_TOKEN", "drill-token")
    monkeypatch.setenv("DRILLBOOK_DRILL_FAULTS", '{"error_rate": 1.0, "error_status": 502}')
    options = options_from(_parser().parse_args(["--config", str(config), "--release", "v2"]))
    with TestClient(create_app(Gateway(options))) as client:
        assert client.post("/v1/chat/completions", json=CHAT, headers=MASTER).status_code == 502
        assert client.get("/_drill/faults", headers=DRILL).json()["active"] == ["error_rate"]
