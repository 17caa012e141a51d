"""Health, version, metrics, config reload and the runtime config export/restore."""

from __future__ import annotations

import os

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from drillbook.gateway.config import ConfigError
from drillbook.gateway.deps import blocking, gateway, json_body, master, ops_caller
from drillbook.gateway.errors import ApiError, json_response
from drillbook.gateway.metrics import CONTENT_TYPE
from drillbook.gateway.runtime import Gateway
from drillbook.gateway.store import (
    AuditDraft,
    FeatureFlag,
    GovernanceLimit,
    ProviderSelection,
    StoreError,
)

router = APIRouter()
KNOWN_FLAGS = ("unified_llm_hub",)


@router.get("/health/liveliness")
@router.get("/health/liveness")
async def liveness() -> Response:
    return PlainTextResponse("I'm alive!")


@router.get("/health/readiness")
@router.get("/health/ready")
async def readiness(request: Request) -> Response:
    g = gateway(request)
    db, ok = "not configured", True
    if g.store.kind == "postgres":
        ok = await run_in_threadpool(g.store.ping)
        db = "connected" if ok else "disconnected"
    if g.migration_error:
        ok = False
    body = {
        "status": "healthy" if ok else "unhealthy",
        "db": db,
        "release": g.release.name,
        "config_hash": g.loaded.short_hash,
        "migration_error": g.migration_error,
        "litellm_version": g.version,
        "last_updated": g.config_loaded_at.isoformat(),
    }
    return json_response(body, 200 if ok else 503)


def _schema_version(g: Gateway) -> tuple[int | None, str | None]:
    if g.store.kind != "postgres":
        return None, None
    try:
        return g.store.schema_version(), None
    except StoreError as exc:
        return None, str(exc)


@router.get("/version")
async def version(request: Request) -> Response:
    g = gateway(request)
    schema, error = await run_in_threadpool(_schema_version, g)
    return json_response(
        {
            "release": g.release.name,
            "release_summary": g.release.summary,
            "version": g.version,
            "config_hash": g.loaded.short_hash,
            "config_sha256": g.loaded.sha256,
            "config_path": str(g.options.config_path),
            "migration_version": schema,
            "migration_target": g.release.migration_target if g.store.kind == "postgres" else None,
            "database_error": error,
            "started_at": g.started_at.isoformat(),
            "pid": os.getpid(),
        }
    )


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    return Response(gateway(request).metrics.render(), media_type=CONTENT_TYPE)


@router.post("/config/reload")
async def reload_config(request: Request) -> Response:
    who = await master(request)
    g = gateway(request)
    before = g.loaded.short_hash
    try:
        new = await run_in_threadpool(g.reload, who.name)
    except ConfigError as exc:
        return json_response(
            {
                "status": "rejected",
                "config_hash": before,
                "error": {
                    "message": str(exc),
                    "type": "config_error",
                    "param": None,
                    "code": "400",
                },
                "problems": [p.render() for p in exc.problems],
            },
            400,
        )
    return json_response(
        {"status": "reloaded", "config_hash": new.short_hash, "previous_config_hash": before}
    )


# -- runtime config (seed 003's backup before a change) ----------------------------------------


class RuntimeSnapshot(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    exported_at: str | None = None
    release: str | None = None
    config_hash: str | None = None
    active_provider: ProviderSelection | None = None
    governance_limits: list[GovernanceLimit] = Field(default_factory=list)
    feature_flags: list[FeatureFlag] = Field(default_factory=list)


def _export(g: Gateway) -> RuntimeSnapshot:
    from datetime import UTC, datetime

    flags = [f for f in (g.store.flag(name) for name in KNOWN_FLAGS) if f is not None]
    return RuntimeSnapshot(
        exported_at=datetime.now(UTC).isoformat(),
        release=g.release.name,
        config_hash=g.loaded.short_hash,
        active_provider=g.active(fresh=True),
        governance_limits=g.store.limits(),
        feature_flags=flags,
    )


@router.get("/api/v1/config/runtime")
async def export_runtime(request: Request) -> Response:
    await ops_caller(request)
    return json_response(await blocking(_export, gateway(request)))


@router.post("/api/v1/config/runtime")
async def restore_runtime(request: Request) -> Response:
    who = await ops_caller(request)
    g = gateway(request)
    try:
        snap = RuntimeSnapshot.model_validate(await json_body(request))
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        raise ApiError(
            400, f"invalid runtime config: {'.'.join(map(str, err['loc']))}: {err['msg']}"
        ) from exc
    if snap.active_provider and snap.active_provider.name not in g.loaded.config.providers():
        raise ApiError(409, f"provider {snap.active_provider.name!r} is not in the running config")

    def apply() -> list[str]:
        changes = []
        g.store.record(
            AuditDraft(
                actor=who.name,
                action="config.runtime_restore",
                target=snap.exported_at or "",
                after=snap.model_dump(mode="json"),
            )
        )
        if snap.active_provider and snap.active_provider != g.active(fresh=True):
            g.activate(snap.active_provider, who)
            changes.append(f"active provider -> {snap.active_provider.name}")
        for limit in snap.governance_limits:
            g.put_limit(limit, who)
            changes.append(f"limit {limit.limit_type}:{limit.scope}")
        for flag in snap.feature_flags:
            g.put_flag(flag, who)
            changes.append(f"flag {flag.name}")
        return changes

    changes = await blocking(apply)
    return json_response({"status": "restored", "changes": changes})
