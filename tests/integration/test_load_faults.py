"""The load faults against a real gateway process: each sets its drill hook, revert clears it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from drillbook.backends.base import ServiceInfo
from drillbook.errors import FaultError
from drillbook.faults.gateway_load import ErrorSpike, Latency, MemoryLeak, ProviderOutage
from drillbook.testing import FakeContext, FakeService
from tests.integration.gateway_proc import DRILL, MASTER, TOKEN, Proc, gateway

pytestmark = pytest.mark.slow


class _Spec:
    env: ClassVar[dict[str, str]] = {"DRILLBOOK_DRILL_TOKEN": TOKEN}


class GatewayHandle(FakeService):
    """A FakeService in front of a real gateway, carrying its command spec's token."""

    spec = _Spec()


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    with gateway(tmp_path_factory.mktemp("gw")) as proc:
        yield proc


@pytest.fixture
def ctx(gw: Proc, tmp_path: Path) -> Iterator[FakeContext]:
    info = ServiceInfo(name="gateway", kind="gateway", url=gw.url)
    yield FakeContext(tmp_path, services=[GatewayHandle("gateway", "gateway", info=info)])
    httpx.delete(gw.url + "/_drill/faults", headers=DRILL)


def faults(gw: Proc) -> dict[str, Any]:
    report: dict[str, Any] = httpx.get(gw.url + "/_drill/faults", headers=DRILL).json()
    return report


def test_error_spike_fails_its_share_of_requests_until_reverted(
    gw: Proc, ctx: FakeContext
) -> None:
    spike = ErrorSpike(kind="gateway.error_spike", service="gateway", fraction="6%")
    outcome = spike.inject(ctx)
    assert outcome.detail["active"] == "error_rate"
    statuses = [httpx.get(gw.url + "/v1/models", headers=MASTER).status_code for _ in range(200)]
    assert statuses.count(500) == 12
    spike.revert(ctx)
    assert faults(gw)["active"] == []
    assert TOKEN in ctx.secrets


def test_error_spike_with_a_duration_clears_itself_and_marks_the_moment(
    gw: Proc, ctx: FakeContext
) -> None:
    spike = ErrorSpike(kind="gateway.error_spike", service="gateway", fraction=0.5,
                       duration="300ms")
    spike.inject(ctx)
    assert faults(gw)["active"] == ["error_rate"]
    time.sleep(0.8)
    assert faults(gw)["active"] == []
    assert ("fault.cleared", {"kind": "gateway.error_spike", "service": "gateway"}) in ctx.marks


def test_latency_slows_every_api_request(gw: Proc, ctx: FakeContext) -> None:
    slow = Latency(kind="gateway.latency", service="gateway", ms=150)
    slow.inject(ctx)
    start = time.perf_counter()
    httpx.get(gw.url + "/v1/models", headers=MASTER)
    assert time.perf_counter() - start >= 0.15
    slow.revert(ctx)
    dist = Latency.model_validate({"kind": "gateway.latency", "service": "gateway",
                                   "distribution": {"kind": "uniform", "min_ms": 5,
                                                    "max_ms": 20}})
    dist.inject(ctx)
    assert faults(gw)["faults"]["latency"]["kind"] == "uniform"
    dist.revert(ctx)
    assert faults(gw)["faults"]["latency"] is None


def test_provider_outage_and_memory_leak_set_their_hooks_and_revert(
    gw: Proc, ctx: FakeContext
) -> None:
    outage = ProviderOutage(kind="provider.outage", service="gateway", providers=["openai"])
    outage.inject(ctx)
    assert faults(gw)["faults"]["provider_outage"]["openai"]["mode"] == "offline"
    leak = MemoryLeak.model_validate({"kind": "gateway.memory_leak", "service": "gateway",
                                      "bytes_per_request": "256KiB"})
    leak.inject(ctx)
    for _ in range(20):
        httpx.get(gw.url + "/v1/models", headers=MASTER)
    report = faults(gw)
    assert report["leaked_bytes"] >= 20 * 256 * 1024
    outage.revert(ctx)
    leak.revert(ctx)
    report = faults(gw)
    assert report["active"] == [] and report["leaked_bytes"] == 0


def test_a_service_without_drill_token_is_a_fault_error(tmp_path: Path) -> None:
    info = ServiceInfo(name="gateway", kind="gateway", url="http://127.0.0.1:9")
    ctx = FakeContext(tmp_path, services=[FakeService("gateway", "gateway", info=info)])
    spike = ErrorSpike(kind="gateway.error_spike", service="gateway", fraction="6%")
    with pytest.raises(FaultError, match="DRILLBOOK_DRILL_TOKEN"):
        spike.inject(ctx)
    spike.revert(ctx)  # never raises
