"""The ops console APIs the seed runbooks call (003 providers and governance, 001 flags, 002
configs). Every change lands in the audit log, in the same transaction as the change."""

from __future__ import annotations

import time

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from drillbook.gateway.deps import blocking, gateway, json_body, ops_caller
from drillbook.gateway.errors import ApiError, json_response
from drillbook.gateway.mock_provider import ProviderError, call_deployment, parse_chat_body
from drillbook.gateway.routes_proxy import record_failures, respond
from drillbook.gateway.runtime import Gateway
from drillbook.gateway.store import AuditDraft, FeatureFlag, GovernanceLimit, ProviderSelection

router = APIRouter(prefix="/api/v1")


def _provider(g: Gateway, name: str) -> str:
    if name not in g.loaded.config.providers():
        known = ", ".join(g.loaded.config.providers())
        raise ApiError(404, f"unknown provider {name!r}; configured: {known}", "not_found")
    return name


def _provider_view(g: Gateway, name: str, active: ProviderSelection) -> dict[str, JsonValue]:
    entries = [e for e in g.loaded.config.model_list if e.litellm_params.provider == name]
    return {
        "name": name,
        "connection_status": g.providers.status(name, g.faults),
        "is_active": name == active.name,
        "active_model": active.model if name == active.name else None,
        "models": [e.model_name for e in entries],
        "api_base": next(
            (e.litellm_params.api_base for e in entries if e.litellm_params.api_base), None
        ),
    }


@router.get("/providers")
async def providers(request: Request) -> Response:
    await ops_caller(request)
    g = gateway(request)
    active = await blocking(g.active, fresh=True)
    views = [_provider_view(g, p, active) for p in g.loaded.config.providers()]
    return json_response(
        {"providers": views, "active_provider": active.name, "active_model": active.model}
    )


@router.post("/providers/{name}/test-connection")
async def test_connection(request: Request, name: str) -> Response:
    await ops_caller(request)
    g = gateway(request)
    entry = g.router.first_for_provider(_provider(g, name), None)
    assert entry is not None
    probe = parse_chat_body(b'{"messages":[{"role":"user","content":"ping"}]}')
    start = time.perf_counter()
    try:
        await call_deployment(entry, probe, g.faults, g.router.timeout)
    except ProviderError as exc:
        record_failures(request, [exc])
        # No "success" anywhere in a failure: seed 003's script greps for that word.
        return json_response(
            {
                "provider": name,
                "status": "failed",
                "connected": False,
                "connection_status": g.providers.status(name, g.faults),
                "error": exc.message,
            },
            502,
        )
    ms = round((time.perf_counter() - start) * 1000, 3)
    return json_response(
        {
            "provider": name,
            "status": "success",
            "connected": True,
            "connection_status": g.providers.status(name, g.faults),
            "latency_ms": ms,
            "model": entry.model_name,
        }
    )


@router.post("/providers/{name}/preflight")
async def preflight(request: Request, name: str) -> Response:
    await ops_caller(request)
    g = gateway(request)
    _provider(g, name)
    entries = [e for e in g.loaded.config.model_list if e.litellm_params.provider == name]
    missing = sorted(
        {
            e.litellm_params.api_key_ref.removeprefix("os.environ/")
            for e in entries
            if e.litellm_params.api_key_ref and e.litellm_params.api_key is None
        }
    )
    status = g.providers.status(name, g.faults)
    over = g.over_hard_limit(name)
    checks = [
        {"name": "deployments", "passed": bool(entries), "detail": f"{len(entries)} configured"},
        {
            "name": "api_key",
            "passed": not missing,
            "detail": f"not set: {', '.join(missing)}" if missing else "set",
        },
        {"name": "connection", "passed": status != "offline", "detail": status},
        {
            "name": "governance",
            "passed": over is None,
            "detail": f"hard limit {over.scope!r} reached" if over else "within limits",
        },
    ]
    ready = all(c["passed"] for c in checks)
    return json_response(
        {"provider": name, "ready": ready, "checks": checks}, 200 if ready else 412
    )


class Activation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    model: str | None = None


@router.post("/providers/{name}/activate")
async def activate(request: Request, name: str) -> Response:
    who = await ops_caller(request)
    g = gateway(request)
    _provider(g, name)
    try:
        body = Activation.model_validate(await json_body(request))
    except ValidationError as exc:
        raise ApiError(400, 'expected an empty body or {"model": "model-name"}') from exc
    if body.model is not None and g.router.first_for_provider(name, body.model) is None:
        raise ApiError(400, f"provider {name!r} does not serve model {body.model!r}")
    before = await blocking(g.activate, ProviderSelection(name=name, model=body.model), who)
    return json_response(
        {
            "status": "activated",
            "active_provider": name,
            "active_model": body.model,
            "previous_provider": before.name,
            "previous_model": before.model,
            "connection_status": g.providers.status(name, g.faults),
        }
    )


@router.get("/providers/{name}/status")
async def provider_status(request: Request, name: str) -> Response:
    await ops_caller(request)
    g = gateway(request)
    active = await blocking(g.active, fresh=True)
    view = _provider_view(g, _provider(g, name), active)
    m = g.providers.metrics(name)
    return json_response(
        {
            **view,
            "error_rate": m.error_rate,
            "requests": m.requests,
            "latency_p95_ms": m.latency_p95_ms,
        }
    )


@router.get("/providers/{name}/metrics")
async def provider_metrics(request: Request, name: str) -> Response:
    await ops_caller(request)
    g = gateway(request)
    return json_response({"provider": _provider(g, name), "metrics": g.providers.metrics(name)})


@router.post("/chat/completions")
async def console_chat(request: Request) -> Response:
    """The ops console's test request: the active provider answers, no model needed."""
    await ops_caller(request)
    g = gateway(request)
    chat = parse_chat_body(await request.body())
    active = g.active()
    entry = g.router.first_for_provider(active.name, chat.model or active.model)
    if entry is None:
        raise ApiError(400, f"active provider {active.name!r} has no model {chat.model!r}")
    try:
        completion = await call_deployment(entry, chat, g.faults, g.router.timeout)
    except ProviderError as exc:
        record_failures(request, [exc])
        raise ApiError(exc.status, exc.message, "provider_error") from exc
    g.providers.observe(completion.provider, completion.latency_s, True, completion.cost_usd)
    return respond(completion, chat.stream)


# -- governance --------------------------------------------------------------------------------


@router.get("/governance/limits")
async def get_limits(request: Request) -> Response:
    await ops_caller(request)
    g = gateway(request)
    return json_response({"limits": await blocking(g.store.limits)})


@router.post("/governance/limits")
async def post_limit(request: Request) -> Response:
    who = await ops_caller(request)
    g = gateway(request)
    try:
        limit = GovernanceLimit.model_validate(await json_body(request))
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(map(str, err["loc"])) or "body"
        raise ApiError(400, f"invalid limit: {where}: {err['msg']}") from exc
    await blocking(g.put_limit, limit, who)
    return json_response({"status": "updated", "limit": limit})


def _limit_status(spend: float, limit: GovernanceLimit) -> str:
    if spend >= limit.hard_limit_usd:
        return "hard_limit_exceeded"
    return "soft_limit_exceeded" if spend >= limit.soft_limit_usd else "ok"


@router.get("/governance/status")
async def governance_status(request: Request) -> Response:
    await ops_caller(request)
    g = gateway(request)
    limits = await blocking(g.store.limits)
    rows = []
    for limit in limits:
        spend = g.providers.spend(limit.scope if limit.limit_type == "per_provider" else None)
        rows.append(
            {
                **limit.model_dump(),
                "spend_usd": round(spend, 6),
                "status": _limit_status(spend, limit),
            }
        )
    order = ["ok", "soft_limit_exceeded", "hard_limit_exceeded"]
    worst = max((str(r["status"]) for r in rows), key=order.index, default="ok")
    return json_response(
        {"status": worst, "total_spend_usd": round(g.providers.spend(), 6), "limits": rows}
    )


# -- audit, alerts -----------------------------------------------------------------------------


@router.get("/admin/audit")
async def audit(request: Request, limit: int = 50) -> Response:
    await ops_caller(request)
    g = gateway(request)
    entries = await blocking(g.store.audit_entries, max(0, min(limit, 1000)))
    return json_response({"entries": entries, "count": len(entries)})


def _alerts(g: Gateway) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for p in g.loaded.config.providers():
        status = g.providers.status(p, g.faults)
        if status != "online":
            sev = "critical" if status == "offline" else "warning"
            out.append(
                {
                    "severity": sev,
                    "source": f"provider:{p}",
                    "message": f"provider {p!r} is {status}",
                }
            )
    if g.store.kind == "postgres" and not g.store.ping():
        out.append(
            {"severity": "critical", "source": "database", "message": "database unreachable"}
        )
    if g.migration_error:
        out.append({"severity": "critical", "source": "migrations", "message": g.migration_error})
    count, rate, p95 = g.metrics.recent.summary(60.0, time.monotonic())
    if count >= 20 and rate > 0.02:
        out.append(
            {
                "severity": "critical" if rate > 0.05 else "warning",
                "source": "error_rate",
                "message": f"error rate {rate:.1%} over the last {count} requests (60 s)",
            }
        )
    if p95 is not None and count >= 20 and p95 > 2.0:
        out.append(
            {
                "severity": "warning",
                "source": "latency",
                "message": f"p95 latency {p95 * 1000:.0f} ms over the last 60 s",
            }
        )
    for limit in g.limits:
        spend = g.providers.spend(limit.scope if limit.limit_type == "per_provider" else None)
        state = _limit_status(spend, limit)
        if state != "ok":
            out.append(
                {
                    "severity": "critical" if state.startswith("hard") else "warning",
                    "source": f"governance:{limit.scope}",
                    "message": f"{state.replace('_', ' ')}: {spend:.4f} usd",
                }
            )
    return out


@router.get("/alerts")
async def alerts(request: Request, severity: str | None = None) -> Response:
    await ops_caller(request)
    g = gateway(request)
    found = await blocking(_alerts, g)
    if severity:
        found = [a for a in found if a["severity"] == severity]
    summary: dict[str, int] = {
        s: sum(1 for a in found if a["severity"] == s) for s in ("critical", "warning", "info")
    }
    summary["total"] = len(found)
    return json_response({"alerts": found, "summary": summary})


# -- feature flags, configs --------------------------------------------------------------------


@router.get("/features/{flag}")
async def get_flag(request: Request, flag: str) -> Response:
    await ops_caller(request)
    g = gateway(request)
    return json_response(await blocking(g.flag, flag))


@router.put("/features/{flag}")
@router.post("/features/{flag}")
async def put_flag(request: Request, flag: str) -> Response:
    who = await ops_caller(request)
    g = gateway(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, 'expected {"enabled": bool, "rollout_percentage": 0-100}')
    enabled = body.get("enabled")
    default_pct = 100 if enabled else 0
    try:
        record = FeatureFlag.model_validate(
            {
                "name": flag,
                "enabled": enabled,
                "rollout_percentage": body.get("rollout_percentage", default_pct),
            }
        )
    except ValidationError as exc:
        raise ApiError(400, f"invalid flag: {exc.errors()[0]['msg']}") from exc
    view = await blocking(g.put_flag, record, who)
    return json_response(
        {**view.model_dump(), "overridden_by_environment": view.source == "environment"}
    )


class ConfigPut(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: JsonValue
    env: str | None = Field(None, min_length=1, max_length=64)


@router.get("/configs/{namespace}/{key}")
async def get_config(
    request: Request, namespace: str, key: str, env: str = "production"
) -> Response:
    await ops_caller(request)
    g = gateway(request)
    row = await blocking(g.store.config_value, namespace, key, env)
    if row is None:
        raise ApiError(404, f"no config {namespace}/{key} for env {env!r}", "not_found")
    return json_response(row)


@router.put("/configs/{namespace}/{key}")
@router.post("/configs/{namespace}/{key}")
async def put_config(
    request: Request, namespace: str, key: str, env: str = "production"
) -> Response:
    who = await ops_caller(request)
    g = gateway(request)
    try:
        body = ConfigPut.model_validate(await json_body(request))
    except ValidationError as exc:
        raise ApiError(400, 'expected {"value": <json>}') from exc
    env = body.env or env
    before = await blocking(g.store.config_value, namespace, key, env)
    audit = AuditDraft(
        actor=who.name,
        action="config.set",
        target=f"{namespace}/{key}?env={env}",
        before=before.value if before else None,
        after=body.value,
    )
    row = await blocking(g.store.put_config_value, namespace, key, env, body.value, audit)
    return json_response(row, 201 if before is None else 200)
