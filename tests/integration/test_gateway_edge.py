"""Blue-green and canary through the edge process, between two real gateways."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.integration.gateway_proc import MASTER, free_port, gateway, started

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


@pytest.mark.slow
def test_canary_weights_route_exactly_and_a_not_ready_target_is_refused(tmp_path: Path) -> None:
    dead_db = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    with (
        gateway(tmp_path, "--release", "v1", name="blue") as blue,
        gateway(tmp_path, "--release", "v2", name="green") as green,
        gateway(tmp_path, "--release", "v2", "--database-url", dead_db, name="broken") as broken,
    ):
        port = free_port()
        args = [
            "--port",
            str(port),
            "--upstream",
            f"blue={blue.url}",
            "--upstream",
            f"green={green.url}",
            "--upstream",
            f"broken={broken.url}",
        ]
        with (
            started("drillbook.gateway.edge", args, tmp_path / "edge.log", port) as edge,
            httpx.Client(base_url=edge.url) as client,
        ):
            assert client.get("/_edge/weights").json()["weights"] == {
                "blue": 100,
                "green": 0,
                "broken": 0,
            }
            canary = client.post("/_edge/weights", json={"blue": 90, "green": 10, "broken": 0})
            assert canary.status_code == 200
            served = Counter(
                client.post("/v1/chat/completions", json=CHAT, headers=MASTER).headers[
                    "x-drillbook-release"
                ]
                for _ in range(100)
            )
            assert served == {"v1": 90, "v2": 10}
            refused = client.post("/_edge/weights", json={"broken": 10, "blue": 80, "green": 10})
            assert refused.status_code == 409
            assert "broken" in refused.json()["not_ready"]
            assert refused.json()["weights"]["broken"] == 0
            rollback = client.post("/_edge/weights", json={"blue": 100, "green": 0, "broken": 0})
            assert rollback.json()["weights"]["blue"] == 100
            assert client.get("/version").json()["release"] == "v1"
