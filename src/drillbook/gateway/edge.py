"""The traffic switch of blue-green and canary drills: route by weight between upstreams.

    python -m drillbook.gateway.edge --port 8080 --upstream blue=http://127.0.0.1:4001 \\
        --upstream green=http://127.0.0.1:4002 [--weight blue=100]

Control API: GET /_edge/weights; POST /_edge/weights {"green": 10} (with two upstreams the
other gets the rest). A switch that raises an upstream's weight is refused with 409 unless that
upstream's /health/readiness answers 2xx, the check seed 004's blue-green script makes before
patching the service selector. Routing is smooth weighted round robin: exactly 10 % of
requests go to a 10 % upstream, spread evenly, not by chance.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import hmac
import logging
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field

import httpx
from pydantic_core import to_json
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from drillbook.gateway.edge_client import UpstreamError, UpstreamPool

log = logging.getLogger("drillbook.edge")
READY_PATH = "/health/readiness"
TOKEN_ENV = "DRILLBOOK_EDGE_TOKEN"  # noqa: S105 - a variable name
_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
_HOP_BYTES = frozenset(h.encode() for h in _HOP)
FORWARD_TIMEOUT_S = 60.0
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class EdgeError(Exception):
    def __init__(self, status: int, message: str, detail: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = dict(detail or {})


@dataclass
class Upstream:
    name: str
    url: str
    weight: int
    served: int = 0
    errors: int = 0
    current: int = 0  # smooth weighted round robin state


@dataclass
class Edge:
    upstreams: list[Upstream]
    check_timeout: float = 2.0
    transport: httpx.AsyncBaseTransport | None = None
    history: list[dict[str, object]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_name = {u.name: u for u in self.upstreams}
        self._client = httpx.AsyncClient(
            transport=self.transport,
            timeout=httpx.Timeout(60.0, connect=2.0),
            limits=httpx.Limits(max_connections=512, max_keepalive_connections=128),
        )
        self._switch_lock = asyncio.Lock()
        # The raw pools forward; httpx stays for readiness checks and in-process tests.
        self._pools = (
            {u.name: UpstreamPool(u.url) for u in self.upstreams} if self.transport is None else {}
        )
        self._record("initial")

    def weights(self) -> dict[str, int]:
        return {u.name: u.weight for u in self.upstreams}

    def _record(self, reason: str) -> None:
        self.history.append({"at": time.time(), "weights": self.weights(), "reason": reason})
        del self.history[:-20]

    def pick(self) -> Upstream | None:
        """Smooth weighted round robin (nginx's): deterministic, evenly interleaved."""
        total, best = 0, None
        for u in self.upstreams:
            if u.weight <= 0:
                continue
            u.current += u.weight
            total += u.weight
            if best is None or u.current > best.current:
                best = u
        if best is not None:
            best.current -= total
        return best

    async def ready(self, upstream: Upstream) -> tuple[bool, str]:
        try:
            resp = await self._client.get(upstream.url + READY_PATH, timeout=self.check_timeout)
        except httpx.HTTPError as exc:
            return False, f"{READY_PATH} unreachable: {type(exc).__name__}: {exc}".strip()
        if 200 <= resp.status_code < 300:
            return True, f"{READY_PATH} {resp.status_code}"
        return False, f"{READY_PATH} answered {resp.status_code}: {resp.text[:200]}"

    def plan(self, patch: Mapping[str, object]) -> dict[str, int]:
        """The weights after `patch`, or EdgeError(400) if they do not add up to 100."""
        unknown = sorted(set(patch) - set(self._by_name))
        if unknown:
            raise EdgeError(400, f"unknown upstreams {unknown}; known: {sorted(self._by_name)}")
        given: dict[str, int] = {}
        for name, value in patch.items():
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
                raise EdgeError(400, f"weight of {name!r} must be an integer 0-100, got {value!r}")
            given[name] = value
        if not given:
            raise EdgeError(400, 'expected weights such as {"green": 10}')
        rest = [u.name for u in self.upstreams if u.name not in given]
        if len(rest) == 1:
            given[rest[0]] = 100 - sum(given.values())
        elif rest:
            raise EdgeError(400, f"give weights for all upstreams but at most one; missing {rest}")
        if any(v < 0 for v in given.values()) or sum(given.values()) != 100:
            raise EdgeError(400, f"weights must add up to 100, got {given}")
        return {u.name: given[u.name] for u in self.upstreams}

    async def switch(self, patch: Mapping[str, object]) -> dict[str, int]:
        async with self._switch_lock:
            new = self.plan(patch)
            raised = [u for u in self.upstreams if new[u.name] > max(u.weight, 0)]
            checks = await asyncio.gather(*(self.ready(u) for u in raised))
            refused = {u.name: why for u, (ok, why) in zip(raised, checks, strict=True) if not ok}
            if refused:
                names = ", ".join(sorted(refused))
                raise EdgeError(409, f"refused: {names} not ready; weights unchanged", refused)
            before = self.weights()
            for u in self.upstreams:
                u.weight, u.current = new[u.name], 0
            self._record("switch")
            log.warning("weights %s -> %s", before, new)
            return new

    def view(self) -> dict[str, object]:
        return {
            "weights": self.weights(),
            "upstreams": {
                u.name: {"url": u.url, "weight": u.weight, "served": u.served, "errors": u.errors}
                for u in self.upstreams
            },
            "history": self.history,
        }

    async def forward(self, request: Request) -> Response:
        upstream = self.pick()
        if upstream is None:
            return _json({"error": {"message": "no upstream has weight > 0"}}, 503)
        target = request.url.path + ("?" + request.url.query if request.url.query else "")
        try:
            status, headers, content = await self._send(upstream, request, target)
        except (httpx.HTTPError, UpstreamError) as exc:
            upstream.errors += 1
            message = f"upstream {upstream.name} unreachable: {exc}"
            return _json({"error": {"message": message}}, 502, upstream.name)
        upstream.served += 1
        out = Response(content, status)
        raw = [(k, v) for k, v in headers if k.lower() not in _HOP_BYTES]
        out.raw_headers = [
            *raw,
            (b"content-length", str(len(content)).encode()),
            (b"x-drillbook-upstream", upstream.name.encode()),
        ]
        return out

    async def _send(
        self, upstream: Upstream, request: Request, target: str
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        body = await request.body()
        headers = [(k, v) for k, v in request.headers.raw if k.lower() not in _HOP_BYTES]
        pool = self._pools.get(upstream.name)
        if pool is not None:
            resp = await pool.request(request.method, target, headers, body, FORWARD_TIMEOUT_S)
            return resp.status, resp.headers, resp.body
        got = await self._client.request(
            request.method, upstream.url + target, headers=headers, content=body
        )
        # httpx decoded the body: its content-encoding no longer applies.
        raw = [(k, v) for k, v in got.headers.raw if k.lower() != b"content-encoding"]
        return got.status_code, raw, got.content

    async def aclose(self) -> None:
        for pool in self._pools.values():
            pool.close()
        await self._client.aclose()


def _json(data: object, status: int = 200, upstream: str | None = None) -> Response:
    resp = Response(to_json(data), status, media_type="application/json")
    if upstream:
        resp.headers["x-drillbook-upstream"] = upstream
    return resp


def create_edge_app(edge: Edge, token: str | None = None) -> Starlette:
    def guard(request: Request) -> None:
        given = request.headers.get("x-edge-token", "")
        if token and not hmac.compare_digest(given.encode(), token.encode()):
            raise EdgeError(403, "the edge control API needs the X-Edge-Token header")

    async def get_weights(request: Request) -> Response:
        try:
            guard(request)
        except EdgeError as exc:
            return _json({"error": {"message": exc.message}}, exc.status)
        return _json(edge.view())

    async def read_patch(request: Request) -> dict[str, object]:
        try:
            patch = await request.json()
        except ValueError as exc:
            raise EdgeError(400, f"body is not json: {exc}") from exc
        if not isinstance(patch, dict):
            raise EdgeError(400, 'expected a json object such as {"green": 10}')
        return patch

    async def post_weights(request: Request) -> Response:
        try:
            guard(request)
            await edge.switch(await read_patch(request))
        except EdgeError as exc:
            body = {"error": {"message": exc.message}, "not_ready": exc.detail, **edge.view()}
            return _json(body, exc.status)
        return _json(edge.view())

    async def status(request: Request) -> Response:
        checks = await asyncio.gather(*(edge.ready(u) for u in edge.upstreams))
        ready = {
            u.name: {"ready": ok, "detail": why}
            for u, (ok, why) in zip(edge.upstreams, checks, strict=True)
        }
        return _json({"upstreams": ready, "weights": edge.weights()})

    async def forward(request: Request) -> Response:
        return await edge.forward(request)

    routes = [
        Route("/_edge/weights", get_weights, methods=["GET"]),
        Route("/_edge/weights", post_weights, methods=["POST"]),
        Route("/_edge/status", status, methods=["GET"]),
        Route("/{path:path}", forward, methods=_METHODS),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await edge.aclose()

    return Starlette(routes=routes, lifespan=lifespan)


def _pairs(values: Sequence[str], what: str) -> list[tuple[str, str]]:
    out = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise SystemExit(f"error: --{what} expects NAME=VALUE, got {value!r}")
        out.append((name, rest))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m drillbook.gateway.edge",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--upstream", action="append", required=True, help="NAME=URL (repeatable)")
    p.add_argument("--weight", action="append", default=[], help="NAME=0-100 (default: first 100)")
    p.add_argument("--log-level", default="info")
    args = p.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ups = _pairs(args.upstream, "upstream")
    default = {n: 100 if i == 0 else 0 for i, (n, _) in enumerate(ups)}
    weights = {n: int(w) for n, w in _pairs(args.weight, "weight")} or default
    edge = Edge([Upstream(n, u.rstrip("/"), 0) for n, u in ups])
    try:
        for u, w in zip(edge.upstreams, edge.plan(weights).values(), strict=True):
            u.weight = w
    except EdgeError as exc:
        print(f"error: --weight: {exc.message}", file=sys.stderr)
        return 2
    edge.history.clear()
    edge._record("initial")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        taken = exc.errno == errno.EADDRINUSE
        print(
            f"error: port {args.port} on {args.host} is "
            f"{'already in use' if taken else 'unavailable: ' + str(exc.strerror)}",
            file=sys.stderr,
        )
        return 3
    import uvicorn

    config = uvicorn.Config(
        create_edge_app(edge, os.environ.get(TOKEN_ENV) or None),
        loop="uvloop",
        http="httptools",
        log_level=args.log_level,
        access_log=False,
    )
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
