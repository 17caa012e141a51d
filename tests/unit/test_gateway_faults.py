"""Drill fault hooks: deterministic error rates, latency shapes, leaks, outages."""

from __future__ import annotations

import asyncio
import random

import pytest
from pydantic import ValidationError

from drillbook.gateway.faults import BLOCK, BlockSampler, FaultEngine, FaultSettings


@pytest.mark.parametrize("rate", [0.06, 0.01, 0.333, 0.5, 1.0])
def test_error_rate_is_exact_over_whole_blocks(rate: float) -> None:
    sampler = BlockSampler(rate, random.Random(7))
    hits = sum(sampler.draw() for _ in range(BLOCK * 10))
    assert hits == round(rate * BLOCK * 10)


def test_six_percent_over_2000_requests_is_six_percent_within_one_point() -> None:
    engine = FaultEngine(FaultSettings(error_rate=0.06, seed=42))
    statuses = [engine.inject_error() for _ in range(2000)]
    errors = sum(1 for s in statuses if s is not None)
    assert abs(errors / 2000 - 0.06) <= 0.01
    assert {s for s in statuses if s is not None} == {500}


def test_failures_are_spread_not_bunched_at_the_start_of_a_block() -> None:
    sampler = BlockSampler(0.1, random.Random(3))
    positions = [i for i in range(BLOCK) if sampler.draw()]
    assert len(positions) == 20
    assert positions[-1] > BLOCK // 2


def test_same_seed_gives_the_same_failures() -> None:
    runs = []
    for _ in range(2):
        engine = FaultEngine(FaultSettings(error_rate=0.2, seed=5))
        runs.append([engine.inject_error() for _ in range(300)])
    assert runs[0] == runs[1]


def test_latency_number_means_fixed_milliseconds() -> None:
    engine = FaultEngine(FaultSettings.model_validate({"latency": 250}))
    assert engine.delay() == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("spec", "low", "high"),
    [
        ({"kind": "uniform", "min_ms": 100, "max_ms": 300}, 0.1, 0.3),
        ({"kind": "normal", "mean_ms": 200, "stddev_ms": 20}, 0.0, 0.4),
        ({"kind": "exponential", "mean_ms": 50}, 0.0, 5.0),
    ],
)
def test_latency_distributions_stay_in_their_range(
    spec: dict[str, object], low: float, high: float
) -> None:
    engine = FaultEngine(FaultSettings.model_validate({"latency": spec}))
    delays = [engine.delay() for _ in range(500)]
    assert all(low <= d <= high for d in delays)
    assert len(set(delays)) > 100


def test_unknown_latency_kind_is_rejected() -> None:
    with pytest.raises(ValidationError):
        FaultSettings.model_validate({"latency": {"kind": "pareto", "ms": 3}})


def test_provider_outage_shorthands() -> None:
    as_list = FaultSettings.model_validate({"provider_outage": ["openai"]})
    as_map = FaultSettings.model_validate({"provider_outage": {"openai": "degraded"}})
    assert as_list.provider_outage["openai"].mode == "offline"
    assert as_map.provider_outage["openai"].mode == "degraded"


def test_offline_provider_always_fails_and_degraded_sometimes() -> None:
    engine = FaultEngine()
    engine.update({"provider_outage": {"openai": "offline", "anthropic": "degraded"}})
    assert all(engine.provider_fails("openai") for _ in range(50))
    degraded = sum(engine.provider_fails("anthropic") for _ in range(BLOCK))
    assert degraded == BLOCK // 4
    assert not engine.provider_fails("ollama")


def test_leak_keeps_bytes_per_request_until_cleared() -> None:
    engine = FaultEngine(FaultSettings(leak_bytes_per_request=100_000))
    for _ in range(10):
        engine.leak()
    assert engine.report().leaked_bytes == 1_000_000
    assert engine.report().rss_bytes > 0
    engine.clear("leak_bytes_per_request")
    assert engine.report().leaked_bytes == 0


def test_update_merges_and_clear_resets_one_or_all() -> None:
    engine = FaultEngine()
    engine.update({"error_rate": 0.1})
    engine.update({"latency": 10})
    assert engine.settings.active() == ["error_rate", "latency"]
    engine.clear("latency")
    assert engine.settings.active() == ["error_rate"]
    engine.clear()
    assert engine.settings.active() == []


def test_hang_holds_requests_until_cleared() -> None:
    async def scenario() -> None:
        engine = FaultEngine()
        engine.update({"hang": True})
        waiter = asyncio.ensure_future(engine.wait_hang())
        await asyncio.sleep(0.01)
        assert not waiter.done()
        assert engine.report().hung_requests == 1
        engine.clear("hang")
        await asyncio.wait_for(waiter, 1.0)
        assert engine.report().hung_requests == 0

    asyncio.run(scenario())
