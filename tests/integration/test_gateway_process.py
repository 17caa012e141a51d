"""The gateway as a real process: startup failures, SIGHUP reload, drill faults over HTTP."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.gateway_proc import DRILL, FIXTURE, MASTER, free_port, gateway, run_gateway

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


def test_corrupt_config_makes_startup_fail_with_line_and_column(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    lines = FIXTURE.read_text().splitlines()
    lines[8] = "\t" + lines[8].strip()  # a tab where indentation was: not yaml any more
    config.write_text("\n".join(lines) + "\n")
    code, err = run_gateway(["--config", str(config), "--port", str(free_port())])
    assert code == 2
    assert "invalid gateway config" in err
    assert f"{config}:9:1: yaml error: found character '\\t'" in err


def test_weak_master_key_makes_startup_fail(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(FIXTURE.read_text().replace("sk-drill-7f3c9a1e5b2d4860", "sk-1234"))
    code, err = run_gateway(["--config", str(config), "--port", str(free_port())])
    assert code == 2
    assert "master_key is weak" in err
    assert "sk-1234" not in err


def test_port_in_use_makes_startup_fail(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = run_gateway(["--config", str(FIXTURE), "--port", str(port)])
    assert code == 3
    assert f"port {port} on 127.0.0.1 is already in use" in err


@pytest.mark.slow
def test_sighup_with_a_bad_file_keeps_the_old_config_serving(tmp_path: Path) -> None:
    with gateway(tmp_path) as gw:
        before = httpx.get(gw.url + "/version").json()["config_hash"]
        config = tmp_path / "gateway.yaml"
        good = config.read_text()
        config.write_text(good.replace("model_list:", "model_list: [", 1))
        gw.signal(signal.SIGHUP)
        time.sleep(0.5)
        assert httpx.get(gw.url + "/version").json()["config_hash"] == before
        chat = httpx.post(gw.url + "/v1/chat/completions", json=CHAT, headers=MASTER)
        assert chat.status_code == 200
        assert "config reload rejected" in gw.output()
        config.write_text(good.replace("model_name: llama3", "model_name: llama4"))
        gw.signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while httpx.get(gw.url + "/version").json()["config_hash"] == before:
            assert time.monotonic() < deadline, "good reload never applied"
            time.sleep(0.05)
        chat = httpx.post(
            gw.url + "/v1/chat/completions", json={**CHAT, "model": "llama4"}, headers=MASTER
        )
        assert chat.status_code == 200


@pytest.mark.slow
def test_injected_six_percent_error_rate_over_2000_real_requests(tmp_path: Path) -> None:
    with gateway(tmp_path) as gw, httpx.Client(base_url=gw.url) as client:
        assert (
            client.post("/_drill/faults", json={"error_rate": 0.06}, headers=MASTER).status_code
            == 403
        )
        assert (
            client.post("/_drill/faults", json={"error_rate": 0.06}, headers=DRILL).status_code
            == 200
        )
        statuses = [
            client.post("/v1/chat/completions", json=CHAT, headers=MASTER).status_code
            for _ in range(2000)
        ]
        rate = sum(1 for s in statuses if s >= 500) / len(statuses)
        assert abs(rate - 0.06) <= 0.01
        metrics = client.get("/metrics").text
    assert 'route="/v1/chat/completions",status="500"}' in metrics


@pytest.mark.slow
def test_added_latency_and_hang_are_visible_from_outside(tmp_path: Path) -> None:
    with gateway(tmp_path) as gw, httpx.Client(base_url=gw.url) as client:
        client.post("/_drill/faults", json={"latency": 300}, headers=DRILL)
        start = time.perf_counter()
        client.post("/v1/chat/completions", json=CHAT, headers=MASTER)
        assert time.perf_counter() - start >= 0.3
        client.post("/_drill/faults", json={"hang": True, "latency": None}, headers=DRILL)
        with pytest.raises(httpx.ReadTimeout):
            client.get("/health/liveliness", timeout=0.5)
        assert client.get("/_drill/faults", headers=DRILL).json()["hung_requests"] >= 1
        client.delete("/_drill/faults", headers=DRILL)
        assert client.get("/health/liveliness").status_code == 200
