"""Deterministic mock providers and the router in front of them. No network, ever.

A deployment answers with its `mock_response` (or one derived from the prompt, the same for
the same prompt), after its `mock_latency`. Provider faults from the drill hooks make a
provider refuse (offline) or slow and flaky (degraded); the router then fails over to the next
deployment of the same model_name, up to router_settings.num_retries extra attempts.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from drillbook.gateway.config import GatewayConfig, ModelEntry
from drillbook.gateway.errors import ApiError
from drillbook.gateway.faults import FaultEngine


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    role: str
    content: str | list[JsonValue] | None = None

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        if isinstance(self.content, list):
            parts = [p.get("text") for p in self.content if isinstance(p, dict)]
            return " ".join(p for p in parts if isinstance(p, str))
        return ""


class ChatRequest(BaseModel):
    """The OpenAI chat body; unknown parameters (temperature, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow", frozen=True)
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    mock_response: str | None = None
    user: str | None = None


def parse_chat_body(body: bytes) -> ChatRequest:
    """The request body as a ChatRequest, or a 400 naming the first bad field."""
    try:
        return ChatRequest.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ApiError(400, f"invalid chat request: {where}: {first['msg']}") from exc


@dataclass(frozen=True)
class Completion:
    content: str
    model_name: str
    deployment: str
    provider: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_s: float


class ProviderError(Exception):
    """A provider could not answer; `status` is what the gateway returns for it."""

    def __init__(self, provider: str, status: int, message: str) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status
        self.message = message


def _tokens(text: str) -> int:
    return max(1, len(text.split()))


def default_reply(model: str, prompt: str) -> str:
    digest = hashlib.sha256(f"{model}\x00{prompt}".encode()).hexdigest()[:8]
    return f"mock reply {digest} from {model}: {prompt[:48]}"


async def call_deployment(
    entry: ModelEntry,
    request: ChatRequest,
    faults: FaultEngine | None,
    timeout: float | None,
) -> Completion:
    """One attempt at one deployment."""
    params = entry.litellm_params
    provider = params.provider
    fault = faults.provider_fault(provider) if faults is not None else None
    if fault is not None and fault.mode == "offline":
        target = params.api_base or f"{provider} api"
        raise ProviderError(provider, 503, f"provider {provider!r} is offline: {target} refused")
    delay = params.mock_latency + (fault.latency_ms / 1000.0 if fault is not None else 0.0)
    if delay > 0:
        if timeout is not None and delay > timeout:
            await asyncio.sleep(timeout)
            raise ProviderError(provider, 504, f"provider {provider!r} timed out after {timeout}s")
        await asyncio.sleep(delay)
    if fault is not None and faults is not None and faults.provider_fails(provider):
        raise ProviderError(provider, 502, f"provider {provider!r} is degraded: upstream error")
    prompt = request.messages[-1].text()
    content = request.mock_response or params.mock_response or default_reply(params.model, prompt)
    prompt_tokens = sum(_tokens(m.text()) for m in request.messages)
    completion_tokens = _tokens(content)
    info = entry.model_info
    cost = (
        prompt_tokens * info.input_cost_per_token + completion_tokens * info.output_cost_per_token
    )
    return Completion(
        content=content,
        model_name=entry.model_name,
        deployment=params.model,
        provider=provider,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=cost,
        latency_s=delay,
    )


class Router:
    """Deployments by model_name, tried in rotating order with failover."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self._by_name: dict[str, list[ModelEntry]] = {}
        for entry in config.model_list:
            self._by_name.setdefault(entry.model_name, []).append(entry)
        self._turns = {name: itertools.count() for name in self._by_name}
        self.retries = config.router_settings.num_retries
        self.timeout = config.litellm_settings.request_timeout

    def has(self, model_name: str) -> bool:
        return model_name in self._by_name

    def entries(self, model_name: str) -> list[ModelEntry]:
        return self._by_name.get(model_name, [])

    def first_for_provider(self, provider: str, model: str | None) -> ModelEntry | None:
        """The deployment the ops console uses for a provider (and optionally a model)."""
        for entry in self.config.model_list:
            if entry.litellm_params.provider != provider:
                continue
            if model is None or model in (entry.model_name, entry.litellm_params.model):
                return entry
        return None

    async def complete(
        self, model_name: str, request: ChatRequest, faults: FaultEngine | None
    ) -> tuple[Completion | None, list[ProviderError]]:
        """The first answer of a working deployment (None if none worked) and the failures."""
        entries = self._by_name[model_name]
        start = next(self._turns[model_name]) % len(entries)
        order = entries[start:] + entries[:start]
        failures: list[ProviderError] = []
        for entry in order[: self.retries + 1]:
            timeout = entry.litellm_params.timeout or self.timeout
            try:
                return await call_deployment(entry, request, faults, timeout), failures
            except ProviderError as exc:
                failures.append(exc)
        return None, failures
