"""The ops console's LLM pages: the four classic ones and release v2's unified hub.

With FEATURE_UNIFIED_LLM_HUB on (for this user's rollout bucket) a v2 gateway redirects the
classic pages to the hub; with it off, or on v1, they answer 200. Each view logs a PAGE_VIEW
line, which seed 001 greps for after a rollback.
"""

from __future__ import annotations

import hashlib
import html
import logging
from collections.abc import Sequence

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from drillbook.gateway.deps import blocking, gateway, ops_caller
from drillbook.gateway.errors import ApiError
from drillbook.gateway.runtime import FlagView, Gateway

router = APIRouter(prefix="/admin")
log = logging.getLogger("drillbook.gateway")
HUB_FLAG = "unified_llm_hub"
HUB_PATH = "/admin/llm-hub"
OLD_PAGES = {
    "llm-provider-keys": "Provider keys",
    "llm-model-catalog": "Model catalog",
    "llm-routing": "Routing",
    "llm-analytics": "Analytics",
}


def bucket(user: str) -> int:
    """Stable 0-99 rollout bucket of a user."""
    return int(hashlib.sha256(user.encode()).hexdigest()[:8], 16) % 100


def hub_enabled_for(flag: FlagView, user: str) -> bool:
    pct = int(flag.config["rollout_percentage"])
    return flag.enabled and (pct >= 100 or bucket(user) < pct)


def _user(request: Request) -> str:
    return request.headers.get("x-user-id") or request.query_params.get("user") or "anonymous"


def _page(title: str, release: str, rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"</head><body data-release='{html.escape(release)}'><h1>{html.escape(title)}</h1>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"
    )


def _rows(g: Gateway, page: str) -> tuple[Sequence[str], Sequence[Sequence[str]]]:
    config = g.loaded.config
    if page == "llm-provider-keys":
        rows = []
        for e in config.model_list:
            p = e.litellm_params
            state = "set" if p.api_key else ("missing" if p.api_key_ref else "not needed")
            rows.append((p.provider, e.model_name, p.api_key_ref or "", state))
        return ("provider", "model", "key source", "key"), rows
    if page == "llm-model-catalog":
        return ("model", "deployment", "provider", "input cost/token"), [
            (
                e.model_name,
                e.litellm_params.model,
                e.litellm_params.provider,
                f"{e.model_info.input_cost_per_token:g}",
            )
            for e in config.model_list
        ]
    if page == "llm-routing":
        rs = config.router_settings
        return ("setting", "value"), [
            ("routing_strategy", rs.routing_strategy),
            ("num_retries", str(rs.num_retries)),
        ]
    rows = []
    for name in config.providers():
        m = g.providers.metrics(name)
        rows.append((name, str(m.requests), f"{m.error_rate:.2%}", f"{m.spend_usd:.6f}"))
    return ("provider", "requests", "recent error rate", "spend usd"), rows


async def _classic(request: Request, page: str) -> Response:
    await ops_caller(request)
    g = gateway(request)
    user = _user(request)
    if g.release.unified_hub:
        flag = await blocking(g.flag, HUB_FLAG)
        if hub_enabled_for(flag, user):
            log.info(
                "PAGE_VIEW %s -> %s user=%s release=%s",
                request.url.path,
                HUB_PATH,
                user,
                g.release.name,
            )
            return RedirectResponse(f"{HUB_PATH}?section={page}", status_code=307)
    header, rows = _rows(g, page)
    log.info("PAGE_VIEW %s user=%s release=%s", request.url.path, user, g.release.name)
    return HTMLResponse(_page(OLD_PAGES[page], g.release.name, rows, header))


@router.get("/llm-provider-keys")
async def provider_keys(request: Request) -> Response:
    return await _classic(request, "llm-provider-keys")


@router.get("/llm-model-catalog")
async def model_catalog(request: Request) -> Response:
    return await _classic(request, "llm-model-catalog")


@router.get("/llm-routing")
async def routing(request: Request) -> Response:
    return await _classic(request, "llm-routing")


@router.get("/llm-analytics")
async def analytics(request: Request) -> Response:
    return await _classic(request, "llm-analytics")


@router.get("/llm-hub")
async def unified_hub(request: Request) -> Response:
    await ops_caller(request)
    g = gateway(request)
    if not g.release.unified_hub:
        raise ApiError(404, f"no unified hub in release {g.release.name}", "not_found")
    user = _user(request)
    flag = await blocking(g.flag, HUB_FLAG)
    if not hub_enabled_for(flag, user):
        return RedirectResponse("/admin/llm-provider-keys", status_code=307)
    counts = await blocking(g.store.hub_counts)
    if g.store.kind == "postgres" and counts.hub_layouts is None:
        # v2 reads llm_hub_layouts (migration 3): on an older schema the page breaks.
        raise ApiError(
            500,
            "unified hub needs schema version 3: table llm_hub_layouts is missing",
            "internal_error",
        )
    rows = [(title, "ok") for title in OLD_PAGES.values()]
    rows += [
        ("providers in hub tables", str(counts.providers)),
        ("models in hub tables", str(counts.models)),
        ("hub layouts", str(counts.hub_layouts or 0)),
    ]
    log.info("PAGE_VIEW %s user=%s release=%s", request.url.path, user, g.release.name)
    return HTMLResponse(_page("Unified LLM hub", g.release.name, rows, ("section", "state")))
