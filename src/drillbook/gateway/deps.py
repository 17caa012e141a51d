"""Small helpers every route module uses to reach the gateway and the caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar, cast

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from drillbook.gateway.auth import Principal, bearer
from drillbook.gateway.errors import ApiError
from drillbook.gateway.store import StoreError, StoreUnavailableError

if TYPE_CHECKING:
    from drillbook.gateway.runtime import Gateway

P = ParamSpec("P")
T = TypeVar("T")


def gateway(request: Request) -> Gateway:
    return cast("Gateway", request.app.state.gateway)


async def caller(request: Request, *, required: bool = True) -> Principal:
    return await gateway(request).auth.identify(bearer(request.headers), required=required)


async def ops_caller(request: Request) -> Principal:
    """The ops console's APIs and pages: open unless general_settings.ops_api_requires_key."""
    g = gateway(request)
    required = g.loaded.config.general_settings.ops_api_requires_key
    return await g.auth.identify(bearer(request.headers), required=required)


async def master(request: Request) -> Principal:
    who = await caller(request)
    if not who.is_master:
        raise ApiError(403, "this endpoint needs the master key", "auth_error")
    return who


def store_error(exc: StoreError) -> ApiError:
    if isinstance(exc, StoreUnavailableError):
        return ApiError(503, str(exc), "service_unavailable")
    return ApiError(500, str(exc), "internal_error")


async def json_body(request: Request) -> object:
    body = await request.body()
    if not body:
        return {}
    try:
        return await request.json()
    except ValueError as exc:
        raise ApiError(400, f"request body is not valid json: {exc}") from exc


async def blocking(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a store call in a worker thread; database failures become 503/500 API errors."""
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except StoreError as exc:
        raise store_error(exc) from exc
