"""The LiteLLM proxy surface: chat completions, models, per-model health, virtual keys."""

from __future__ import annotations

import itertools
import os
import re
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import to_json
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from drillbook.gateway.auth import hash_key
from drillbook.gateway.deps import blocking, caller, gateway, json_body, master
from drillbook.gateway.errors import ApiError, json_response
from drillbook.gateway.mock_provider import Completion, ProviderError, parse_chat_body
from drillbook.gateway.store import AuditDraft, VirtualKey

router = APIRouter()
_ids = itertools.count(1)
_PID = os.getpid()


def completion_body(c: Completion) -> bytes:
    return to_json(
        {
            "id": f"chatcmpl-{_PID:x}-{next(_ids):x}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": c.model_name,
            "system_fingerprint": None,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": c.content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": c.prompt_tokens,
                "completion_tokens": c.completion_tokens,
                "total_tokens": c.prompt_tokens + c.completion_tokens,
            },
        }
    )


async def _stream(c: Completion) -> AsyncIterator[bytes]:
    ident = f"chatcmpl-{_PID:x}-{next(_ids):x}"
    words = c.content.split(" ")
    for i, word in enumerate(words):
        delta = {"content": word if i == 0 else " " + word}
        if i == 0:
            delta["role"] = "assistant"
        chunk = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": c.model_name,
            "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
        }
        yield b"data: " + to_json(chunk) + b"\n\n"
    end = {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": c.model_name,
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }
    yield b"data: " + to_json(end) + b"\n\ndata: [DONE]\n\n"


def respond(c: Completion, stream: bool) -> Response:
    if stream:
        return StreamingResponse(_stream(c), media_type="text/event-stream")
    return Response(completion_body(c), media_type="application/json")


@router.post("/v1/chat/completions")
@router.post("/chat/completions")
async def chat_completions(request: Request) -> Response:
    g = gateway(request)
    who = await caller(request)
    chat = parse_chat_body(await request.body())
    if not chat.model:
        raise ApiError(400, "invalid chat request: 'model' is required")
    if not g.router.has(chat.model):
        known = ", ".join(g.loaded.config.model_names())
        raise ApiError(404, f"model {chat.model!r} is not served here; known: {known}", "not_found")
    if not who.allows(chat.model):
        raise ApiError(403, f"key {who.name!r} may not use model {chat.model!r}", "auth_error")
    for entry in g.router.entries(chat.model):
        limit = g.over_hard_limit(entry.litellm_params.provider)
        if limit is not None:
            raise ApiError(
                429,
                f"budget exceeded: {limit.limit_type} {limit.scope!r} hard limit "
                f"{limit.hard_limit_usd} usd",
                "budget_exceeded",
            )
    completion, failures = await g.router.complete(chat.model, chat, g.faults)
    record_failures(request, failures)
    if completion is None:
        last = failures[-1]
        raise ApiError(last.status, last.message, "provider_error")
    g.providers.observe(completion.provider, completion.latency_s, True, completion.cost_usd)
    g.metrics.provider(completion.provider, "ok")
    return respond(completion, chat.stream)


def record_failures(request: Request, failures: list[ProviderError]) -> None:
    g = gateway(request)
    for failure in failures:
        g.providers.observe(failure.provider, 0.0, False)
        g.metrics.provider(failure.provider, f"error_{failure.status}")


def _models(request: Request, allowed: tuple[str, ...]) -> Response:
    g = gateway(request)
    owner = {e.model_name: e.litellm_params.provider for e in g.loaded.config.model_list}
    data = [
        {
            "id": name,
            "object": "model",
            "created": int(g.started_at.timestamp()),
            "owned_by": owner[name],
        }
        for name in g.loaded.config.model_names()
        if not allowed or name in allowed
    ]
    return json_response({"object": "list", "data": data})


@router.get("/v1/models")
@router.get("/models")
async def list_models(request: Request) -> Response:
    who = await caller(request)
    return _models(request, who.models)


@router.get("/health")
async def model_health(request: Request) -> Response:
    """LiteLLM's /health: every deployment, healthy or not. Needs a key."""
    await caller(request)
    g = gateway(request)
    healthy, unhealthy = [], []
    for entry in g.loaded.config.model_list:
        params = entry.litellm_params
        item = {"model": params.model, "model_name": entry.model_name, "api_base": params.api_base}
        fault = g.faults.provider_fault(params.provider) if g.faults else None
        if fault is not None and fault.mode == "offline":
            unhealthy.append({**item, "error": f"provider {params.provider!r} is offline"})
        else:
            healthy.append(item)
    db = "not configured"
    if g.store.kind == "postgres":
        db = "connected" if await blocking(g.store.ping) else "disconnected"
    body = {
        "healthy_endpoints": healthy,
        "unhealthy_endpoints": unhealthy,
        "healthy_count": len(healthy),
        "unhealthy_count": len(unhealthy),
        "checks": {
            "database": {"status": "healthy" if db != "disconnected" else "unhealthy", "db": db},
            "cache": {"status": "healthy"},
        },
    }
    return json_response(body, 200 if healthy else 503)


# -- virtual keys ------------------------------------------------------------------------------


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key_alias: str | None = Field(None, max_length=200)
    models: list[str] = Field(default_factory=list)
    duration: str | None = Field(None, description="'30s', '15m', '12h' or '7d'")
    blocked: bool = False


_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _expiry(duration: str | None) -> datetime | None:
    if duration is None:
        return None
    match = _DURATION.match(duration.strip())
    if not match:
        raise ApiError(400, f"duration {duration!r} is not like '30s', '15m', '12h' or '7d'")
    return datetime.now(UTC) + timedelta(seconds=int(match[1]) * _UNIT_S[match[2]])


@router.post("/key/generate")
async def generate_key(request: Request) -> Response:
    who = await master(request)
    g = gateway(request)
    try:
        spec = KeyRequest.model_validate(await json_body(request))
    except ValidationError as exc:
        raise ApiError(400, f"invalid key request: {exc.errors()[0]['msg']}") from exc
    unknown = [m for m in spec.models if not g.router.has(m)]
    if unknown:
        raise ApiError(
            400, f"unknown models {unknown}; known: {list(g.loaded.config.model_names())}"
        )
    key = "sk-" + secrets.token_urlsafe(24)
    record = VirtualKey(
        token_hash=hash_key(key),
        key_alias=spec.key_alias,
        models=tuple(spec.models),
        blocked=spec.blocked,
        expires_at=_expiry(spec.duration),
        created_at=datetime.now(UTC),
    )
    audit = AuditDraft(
        actor=who.name,
        action="key.generate",
        target=spec.key_alias or "",
        after=record.model_dump(mode="json", exclude={"token_hash"}),
    )
    await blocking(g.store.add_key, record, audit)
    g.auth.forget(record.token_hash)
    expires = record.expires_at.isoformat() if record.expires_at else None
    return json_response(
        {
            "key": key,
            "key_alias": spec.key_alias,
            "models": spec.models,
            "expires": expires,
            "blocked": spec.blocked,
        }
    )


class DeleteKeys(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    keys: list[str] = Field(min_length=1)


@router.post("/key/delete")
async def delete_keys(request: Request) -> Response:
    who = await master(request)
    g = gateway(request)
    try:
        spec = DeleteKeys.model_validate(await json_body(request))
    except ValidationError as exc:
        raise ApiError(400, 'expected {"keys": ["sk-..."]}') from exc
    deleted = 0
    for key in spec.keys:
        token_hash = hash_key(key)
        audit = AuditDraft(actor=who.name, action="key.delete", target=f"key:{token_hash[:8]}")
        if await blocking(g.store.delete_key, token_hash, audit):
            deleted += 1
        g.auth.forget(token_hash)
    return json_response({"deleted": deleted})
