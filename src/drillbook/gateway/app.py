"""The FastAPI application of one gateway, and its lifespan (startup, SIGHUP reload)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from drillbook.gateway import pages, routes_drill, routes_ops, routes_proxy, routes_system
from drillbook.gateway.config import ConfigError
from drillbook.gateway.errors import ApiError, error_response
from drillbook.gateway.middleware import GatewayMiddleware
from drillbook.gateway.runtime import Gateway

log = logging.getLogger("drillbook.gateway")


def _install_sighup(gateway: Gateway) -> bool:
    """SIGHUP re-reads the config, as POST /config/reload does. Main thread only."""
    loop = asyncio.get_running_loop()

    def reload() -> None:
        # A bad file is logged and audited by reload(); the old config keeps serving.
        with contextlib.suppress(ConfigError):
            gateway.reload("signal:SIGHUP")

    def on_hup() -> None:
        loop.run_in_executor(None, reload)

    try:
        loop.add_signal_handler(signal.SIGHUP, on_hup)
    except (RuntimeError, ValueError, NotImplementedError):
        return False  # not the main thread (a test client): POST /config/reload still works
    return True


def create_app(gateway: Gateway) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(gateway.start)
        hup = _install_sighup(gateway)
        log.info(
            "gateway ready: release %s, config %s, %d models, store %s%s",
            gateway.release.name,
            gateway.loaded.short_hash,
            len(gateway.loaded.config.model_list),
            gateway.store.kind,
            ", drill hooks on" if gateway.faults is not None else "",
        )
        try:
            yield
        finally:
            if hup:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            await run_in_threadpool(gateway.close)

    app = FastAPI(
        title="drillbook gateway",
        version=gateway.version,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.gateway = gateway

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, exc.type)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_response(400, f"invalid request: {where}: {first.get('msg')}")

    modules = (routes_proxy, routes_system, routes_ops, pages, routes_drill)
    for module in modules:
        app.include_router(module.router)
    routes = [route for module in modules for route in module.router.routes]
    app.add_middleware(GatewayMiddleware, gateway=gateway, routes=routes)
    return app
