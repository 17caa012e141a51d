"""What the gateway keeps: records, the Store protocol, and the in-memory store.

Every write takes an `AuditDraft` and records it with the change (in one transaction on
Postgres), so no change through the API can miss the audit log. Without a database the
gateway keeps the same records in memory, lost at restart.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from drillbook.errors import DrillbookError

__all__ = [
    "AuditDraft",
    "AuditRecord",
    "ConfigValue",
    "FeatureFlag",
    "GovernanceLimit",
    "HubCounts",
    "MemoryStore",
    "ProviderSelection",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "VirtualKey",
]


class StoreError(DrillbookError):
    """The database answered with an error (a missing table after a bad revert, say)."""


class StoreUnavailableError(StoreError):
    """The database cannot be reached; the request may succeed once it is back."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuditDraft(_Record):
    actor: str
    action: str
    target: str = ""
    before: JsonValue = None
    after: JsonValue = None


class AuditRecord(_Record):
    id: int
    ts: datetime
    actor: str
    action: str
    target: str = ""
    before: JsonValue = None
    after: JsonValue = None


class ProviderSelection(_Record):
    name: str
    model: str | None = None


class GovernanceLimit(_Record):
    limit_type: str = Field(pattern=r"^[a-z_]{1,40}$")
    scope: str = Field(min_length=1, max_length=200)
    soft_limit_usd: float = Field(ge=0)
    hard_limit_usd: float = Field(ge=0)

    @model_validator(mode="after")
    def _soft_below_hard(self) -> GovernanceLimit:
        if self.soft_limit_usd > self.hard_limit_usd:
            raise ValueError(
                f"soft_limit_usd {self.soft_limit_usd} is above hard_limit_usd "
                f"{self.hard_limit_usd}"
            )
        return self


class FeatureFlag(_Record):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")
    enabled: bool
    rollout_percentage: int = Field(ge=0, le=100)


class ConfigValue(_Record):
    namespace: str
    key: str
    env: str
    value: JsonValue
    created_at: datetime


class VirtualKey(_Record):
    token_hash: str
    key_alias: str | None = None
    models: tuple[str, ...] = ()
    blocked: bool = False
    expires_at: datetime | None = None
    created_at: datetime

    def allows(self, model: str) -> bool:
        return not self.models or model in self.models

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


class HubCounts(_Record):
    """Row counts behind the hub pages; available False when the hub tables are absent."""

    available: bool
    providers: int = 0
    provider_keys: int = 0
    models: int = 0
    routing_rules: int = 0
    usage_rows: int = 0
    hub_layouts: int | None = None


class Store(Protocol):
    """Persistence of the gateway. Methods raise StoreUnavailableError or StoreError."""

    kind: str

    def ping(self) -> bool:
        """True when the database answers now (a fresh round trip, short timeout)."""
        ...

    def schema_version(self) -> int | None: ...

    def audit_entries(self, limit: int) -> list[AuditRecord]: ...

    def record(self, draft: AuditDraft) -> AuditRecord:
        """Audit an event that changed nothing stored (a config reload)."""
        ...

    def active_provider(self) -> ProviderSelection | None: ...

    def activate_provider(self, selection: ProviderSelection, audit: AuditDraft) -> None: ...

    def limits(self) -> list[GovernanceLimit]: ...

    def put_limit(self, limit: GovernanceLimit, audit: AuditDraft) -> None: ...

    def flag(self, name: str) -> FeatureFlag | None: ...

    def put_flag(self, flag: FeatureFlag, audit: AuditDraft) -> None: ...

    def config_value(self, namespace: str, key: str, env: str) -> ConfigValue | None: ...

    def put_config_value(
        self, namespace: str, key: str, env: str, value: JsonValue, audit: AuditDraft
    ) -> ConfigValue: ...

    def add_key(self, key: VirtualKey, audit: AuditDraft) -> None: ...

    def find_key(self, token_hash: str) -> VirtualKey | None: ...

    def delete_key(self, token_hash: str, audit: AuditDraft) -> bool: ...

    def hub_counts(self) -> HubCounts: ...

    def close(self) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


class MemoryStore:
    """The same records, kept in this process only (a gateway without a database)."""

    kind = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._audit: list[AuditRecord] = []
        self._active: ProviderSelection | None = None
        self._limits: dict[tuple[str, str], GovernanceLimit] = {}
        self._flags: dict[str, FeatureFlag] = {}
        self._configs: list[ConfigValue] = []
        self._keys: dict[str, VirtualKey] = {}

    def ping(self) -> bool:
        return True

    def schema_version(self) -> int | None:
        return None

    def _audit_locked(self, draft: AuditDraft) -> AuditRecord:
        rec = AuditRecord(id=len(self._audit) + 1, ts=_now(), **draft.model_dump())
        self._audit.append(rec)
        return rec

    def record(self, draft: AuditDraft) -> AuditRecord:
        with self._lock:
            return self._audit_locked(draft)

    def audit_entries(self, limit: int) -> list[AuditRecord]:
        with self._lock:
            return list(reversed(self._audit[-limit:])) if limit > 0 else []

    def active_provider(self) -> ProviderSelection | None:
        return self._active

    def activate_provider(self, selection: ProviderSelection, audit: AuditDraft) -> None:
        with self._lock:
            self._active = selection
            self._audit_locked(audit)

    def limits(self) -> list[GovernanceLimit]:
        with self._lock:
            return [self._limits[k] for k in sorted(self._limits)]

    def put_limit(self, limit: GovernanceLimit, audit: AuditDraft) -> None:
        with self._lock:
            self._limits[(limit.limit_type, limit.scope)] = limit
            self._audit_locked(audit)

    def flag(self, name: str) -> FeatureFlag | None:
        return self._flags.get(name)

    def put_flag(self, flag: FeatureFlag, audit: AuditDraft) -> None:
        with self._lock:
            self._flags[flag.name] = flag
            self._audit_locked(audit)

    def config_value(self, namespace: str, key: str, env: str) -> ConfigValue | None:
        with self._lock:
            for row in reversed(self._configs):
                if (row.namespace, row.key, row.env) == (namespace, key, env):
                    return row
        return None

    def put_config_value(
        self, namespace: str, key: str, env: str, value: JsonValue, audit: AuditDraft
    ) -> ConfigValue:
        row = ConfigValue(namespace=namespace, key=key, env=env, value=value, created_at=_now())
        with self._lock:
            self._configs.append(row)
            self._audit_locked(audit)
        return row

    def add_key(self, key: VirtualKey, audit: AuditDraft) -> None:
        with self._lock:
            self._keys[key.token_hash] = key
            self._audit_locked(audit)

    def find_key(self, token_hash: str) -> VirtualKey | None:
        return self._keys.get(token_hash)

    def delete_key(self, token_hash: str, audit: AuditDraft) -> bool:
        with self._lock:
            found = self._keys.pop(token_hash, None) is not None
            if found:
                self._audit_locked(audit)
        return found

    def hub_counts(self) -> HubCounts:
        return HubCounts(available=False)

    def close(self) -> None:
        return None
