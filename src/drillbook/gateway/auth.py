"""Who is calling: the master key (no database round trip), or a virtual key (cached).

Virtual keys are stored as SHA-256 hashes. Lookups, found or not, are cached for
general_settings.virtual_key_cache_ttl seconds so a flood of requests costs one query per key
per TTL; a revoked key stops working within that TTL.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from starlette.concurrency import run_in_threadpool

from drillbook.gateway.errors import ApiError
from drillbook.gateway.store import StoreError, StoreUnavailableError, VirtualKey

MAX_CACHED = 10_000


@dataclass(frozen=True)
class Principal:
    kind: Literal["master", "virtual", "anonymous"]
    name: str
    models: tuple[str, ...] = field(default=())

    def allows(self, model: str) -> bool:
        return self.kind != "virtual" or not self.models or model in self.models

    @property
    def is_master(self) -> bool:
        return self.kind == "master"


ANONYMOUS = Principal("anonymous", "anonymous")
MASTER = Principal("master", "master_key")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def bearer(headers: Mapping[str, str]) -> str | None:
    """The key of a request: `Authorization: Bearer KEY`, or `x-api-key` / `api-key`."""
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else auth.strip()
    return headers.get("x-api-key") or headers.get("api-key")


class Authenticator:
    def __init__(
        self,
        master_key: Callable[[], str | None],
        find_key: Callable[[str], VirtualKey | None],
        ttl: Callable[[], float],
    ) -> None:
        self._master = master_key
        self._find = find_key
        self._ttl = ttl
        self._cache: dict[str, tuple[float, VirtualKey | None]] = {}

    def forget(self, token_hash: str | None = None) -> None:
        if token_hash is None:
            self._cache.clear()
        else:
            self._cache.pop(token_hash, None)

    async def identify(self, key: str | None, *, required: bool) -> Principal:
        """The caller's principal; raise 401 for a bad key, or a missing one when required."""
        if not key:
            if required:
                raise ApiError(401, "no api key: send 'Authorization: Bearer <key>'", "auth_error")
            return ANONYMOUS
        master = self._master()
        if master is not None and hmac.compare_digest(key.encode(), master.encode()):
            return MASTER
        token_hash = hash_key(key)
        now = time.monotonic()
        cached = self._cache.get(token_hash)
        if cached is not None and cached[0] > now:
            found = cached[1]
        else:
            try:
                found = await run_in_threadpool(self._find, token_hash)
            except StoreUnavailableError as exc:
                raise ApiError(
                    503, f"cannot check the virtual key: {exc}", "service_unavailable"
                ) from exc
            except StoreError as exc:
                raise ApiError(
                    500, f"cannot check the virtual key: {exc}", "internal_error"
                ) from exc
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[token_hash] = (now + self._ttl(), found)
        if found is None:
            raise ApiError(401, "invalid api key", "auth_error")
        if found.blocked:
            raise ApiError(
                401, f"virtual key {found.key_alias or '(no alias)'} is blocked", "auth_error"
            )
        if found.expired(datetime.now(UTC)):
            raise ApiError(
                401, f"virtual key {found.key_alias or '(no alias)'} has expired", "auth_error"
            )
        return Principal("virtual", found.key_alias or f"key:{token_hash[:8]}", found.models)
