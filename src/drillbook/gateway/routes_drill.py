"""/_drill/faults: the hooks a drill uses to break the gateway on purpose.

They exist only when the gateway was started with DRILLBOOK_DRILL_TOKEN (404 otherwise, as if
absent) and answer only to the header `X-Drill-Token: <token>`; the master key alone is refused.
"""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from drillbook.gateway.deps import gateway, json_body
from drillbook.gateway.errors import ApiError, json_response
from drillbook.gateway.faults import FaultEngine, FaultSettings

router = APIRouter(prefix="/_drill")
log = logging.getLogger("drillbook.gateway")
TOKEN_HEADER = "x-drill-token"  # noqa: S105 - a header name
TOKEN_ENV = "DRILLBOOK_DRILL_TOKEN"  # noqa: S105 - a variable name


def _engine(request: Request) -> FaultEngine:
    g = gateway(request)
    token = g.options.drill_token
    if g.faults is None or not token:
        raise ApiError(404, "not found", "not_found")
    given = request.headers.get(TOKEN_HEADER, "")
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise ApiError(403, "drill hooks need the X-Drill-Token header of this run", "auth_error")
    return g.faults


@router.get("/faults")
async def read_faults(request: Request) -> Response:
    return json_response(_engine(request).report())


@router.post("/faults")
async def set_faults(request: Request) -> Response:
    engine = _engine(request)
    patch = await json_body(request)
    if not isinstance(patch, dict):
        raise ApiError(400, 'expected a json object of faults, e.g. {"error_rate": 0.06}')
    unknown = sorted(set(patch) - set(FaultSettings.model_fields))
    if unknown:
        raise ApiError(
            400, f"unknown faults {unknown}; known: {sorted(FaultSettings.model_fields)}"
        )
    try:
        settings = engine.update({str(k): v for k, v in patch.items()})
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        raise ApiError(
            400, f"invalid fault {'.'.join(map(str, err['loc']))}: {err['msg']}"
        ) from exc
    log.warning("drill faults set: %s", ", ".join(settings.active()) or "none")
    return json_response(engine.report())


@router.delete("/faults")
async def clear_faults(request: Request) -> Response:
    engine = _engine(request)
    engine.clear()
    log.warning("drill faults cleared")
    return json_response(engine.report())


@router.delete("/faults/{name}")
async def clear_fault(request: Request, name: str) -> Response:
    engine = _engine(request)
    if name not in FaultSettings.model_fields or name == "seed":
        raise ApiError(404, f"unknown fault {name!r}; known: {sorted(FaultSettings.model_fields)}")
    engine.clear(name)
    log.warning("drill fault cleared: %s", name)
    return json_response(engine.report())
