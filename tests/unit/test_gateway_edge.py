"""The traffic switch: exact weighted routing, and refusing to send traffic to a target that
is not ready. Upstreams are in-process ASGI apps behind an httpx transport (no ports)."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from drillbook.gateway.edge import Edge, EdgeError, Upstream, create_edge_app


def upstream_app(name: str, ready: dict[str, bool]) -> Starlette:
    async def readiness(request: Request) -> Response:
        ok = ready[name]
        return JSONResponse({"status": "healthy" if ok else "unhealthy"}, 200 if ok else 503)

    async def hello(request: Request) -> Response:
        return PlainTextResponse(f"{name} {request.method} {request.url.query}")

    return Starlette(
        routes=[
            Route("/health/readiness", readiness),
            Route("/hello", hello, methods=["GET", "POST"]),
        ]
    )


class Router(httpx.AsyncBaseTransport):
    """Sends blue.test to one app and green.test to the other."""

    def __init__(self, ready: dict[str, bool]) -> None:
        self.apps = {n: httpx.ASGITransport(app=upstream_app(n, ready)) for n in ready}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.apps[request.url.host.split(".")[0]].handle_async_request(request)


def make_edge(ready: dict[str, bool], blue: int = 100) -> Edge:
    return Edge(
        [
            Upstream("blue", "http://blue.test", blue),
            Upstream("green", "http://green.test", 100 - blue),
        ],
        transport=Router(ready),
    )


def test_smooth_weighted_round_robin_is_exact_and_interleaved() -> None:
    edge = make_edge({"blue": True, "green": True}, blue=90)
    picks = [edge.pick() for _ in range(100)]
    names = [p.name for p in picks if p is not None]
    assert Counter(names) == {"blue": 90, "green": 10}
    greens = [i for i, n in enumerate(names) if n == "green"]
    assert max(b - a for a, b in itertools.pairwise(greens)) <= 11


def test_plan_gives_the_other_upstream_the_rest() -> None:
    edge = make_edge({"blue": True, "green": True})
    assert edge.plan({"green": 25}) == {"blue": 75, "green": 25}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"purple": 10}, "unknown upstreams"),
        ({"green": 110}, "integer 0-100"),
        ({"green": "ten"}, "integer 0-100"),
        ({"blue": 50, "green": 40}, "add up to 100"),
        ({}, "expected weights"),
    ],
)
def test_plan_rejects_impossible_weights(patch: dict[str, object], message: str) -> None:
    with pytest.raises(EdgeError, match=message) as info:
        make_edge({"blue": True, "green": True}).plan(patch)
    assert info.value.status == 400


def test_switch_to_a_target_that_is_not_ready_is_refused_and_changes_nothing() -> None:
    edge = make_edge({"blue": True, "green": False})
    with pytest.raises(EdgeError) as info:
        asyncio.run(edge.switch({"green": 10}))
    assert info.value.status == 409
    assert "503" in info.value.detail["green"]
    assert edge.weights() == {"blue": 100, "green": 0}


def test_rolling_back_to_blue_needs_only_blue_ready() -> None:
    edge = make_edge({"blue": True, "green": False}, blue=0)
    assert asyncio.run(edge.switch({"blue": 100})) == {"blue": 100, "green": 0}


def test_control_api_and_forwarding_through_the_edge() -> None:
    ready = {"blue": True, "green": True}
    edge = make_edge(ready)

    async def run() -> tuple[list[str], httpx.Response, httpx.Response]:
        app = create_edge_app(edge)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://e"
        ) as c:
            switched = await c.post("/_edge/weights", json={"green": 50})
            served = [
                (await c.get("/hello?x=1")).headers["x-drillbook-upstream"] for _ in range(10)
            ]
            ready["blue"] = False
            refused = await c.post("/_edge/weights", json={"blue": 100})
            return served, switched, refused

    served, switched, refused = asyncio.run(run())
    assert switched.json()["weights"] == {"blue": 50, "green": 50}
    assert Counter(served) == {"blue": 5, "green": 5}
    assert refused.status_code == 409
    assert refused.json()["weights"] == {"blue": 50, "green": 50}
    assert edge.view()["upstreams"]["green"]["served"] == 5  # type: ignore[index]
