"""The per-request path every route shares: drill faults, metrics, the release header.

A plain ASGI middleware (no BaseHTTPMiddleware task per request) to keep the hot path lean.
Health, metrics, /version and the drill hooks are exempt from injected errors and latency, as
a readiness probe is exempt from a bad code path; a hang stops everything but /_drill.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from drillbook.gateway.errors import error_body

if TYPE_CHECKING:
    from drillbook.gateway.runtime import Gateway

log = logging.getLogger("drillbook.gateway")

EXEMPT = ("/health", "/metrics", "/version", "/_drill", "/config/reload")


def _exempt(path: str) -> bool:
    return path.startswith(EXEMPT)


class GatewayMiddleware:
    def __init__(self, app: ASGIApp, gateway: Gateway, routes: Sequence[BaseRoute] = ()) -> None:
        self.app = app
        self.gateway = gateway
        self._release_header = (b"x-drillbook-release", gateway.release.name.encode())
        # (regex, template) of every route, to label a request failed before routing.
        self._templates = [
            (r.path_regex, r.path) for r in routes if isinstance(r, APIRoute | Route)
        ]

    def _route_label(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is not None:
            return str(getattr(route, "path", "unmatched"))
        path = scope["path"]
        for regex, template in self._templates:
            if regex.match(path):
                return template
        return "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        path: str = scope["path"]
        metrics = self.gateway.metrics
        faults = self.gateway.faults
        if faults is not None and not path.startswith("/_drill"):
            if faults.hanging:
                await faults.wait_hang()
            faults.leak()
            if not _exempt(path):
                delay = faults.delay()
                if delay > 0:
                    await asyncio.sleep(delay)
                status = faults.inject_error()
                if status is not None:
                    await self._injected(scope, send, status)
                    metrics.observe(
                        scope["method"],
                        self._route_label(scope),
                        status,
                        time.perf_counter() - start,
                    )
                    return
        seen = [500]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen[0] = message["status"]
                message["headers"] = [*message.get("headers", ()), self._release_header]
            await send(message)

        metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            metrics.in_flight.dec()
            status = seen[0]
            metrics.observe(
                scope["method"], self._route_label(scope), status, time.perf_counter() - start
            )
            if status >= 500:
                log.error("status=%d method=%s path=%s", status, scope["method"], path)

    async def _injected(self, scope: Scope, send: Send, status: int) -> None:
        log.error(
            "status=%d method=%s path=%s injected=drill", status, scope["method"], scope["path"]
        )
        body = error_body(status, "internal server error (drill fault: error_rate)", "api_error")
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    self._release_header,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
