"""The running gateway: its config (swapped whole on reload), store, faults, and ops state."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from drillbook import __version__ as _pkg_version
from drillbook.errors import Problem
from drillbook.gateway.auth import Authenticator, Principal
from drillbook.gateway.config import ConfigError, LoadedConfig, load_config
from drillbook.gateway.faults import FaultEngine, FaultSettings
from drillbook.gateway.metrics import GatewayMetrics
from drillbook.gateway.migrations import MigrationError, Migrator, default_source, discover
from drillbook.gateway.mock_provider import Router
from drillbook.gateway.pgstore import PostgresStore
from drillbook.gateway.providers import ProviderBook
from drillbook.gateway.releases import get_release
from drillbook.gateway.store import (
    AuditDraft,
    FeatureFlag,
    GovernanceLimit,
    MemoryStore,
    ProviderSelection,
    Store,
    StoreError,
)

log = logging.getLogger("drillbook.gateway")

TRUE = {"1", "true", "yes", "on", "enabled"}
FALSE = {"0", "false", "no", "off", "disabled", ""}


@dataclass(frozen=True)
class GatewayOptions:
    """Everything the gateway takes from its command line and environment."""

    config_path: Path
    release: str = "v1"
    database_url: str | None = None
    drill_token: str | None = None
    migrate: bool = True
    migration_sources: tuple[Path, ...] = field(default=())
    env_file: Path | None = None
    startup_faults: FaultSettings | None = None


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (docker's env_file): how seed 001 flips FEATURE_UNIFIED_LLM_HUB."""
    out: dict[str, str] = {}
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ConfigError(
            [Problem(str(path), None, None, "", f"cannot read env file: {exc}")]
        ) from exc
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                [Problem(str(path), number, 1, "", f"expected KEY=VALUE, got {raw!r}")]
            )
        out[key.strip()] = value.strip().strip("'\"")
    return out


class FlagView(BaseModel):
    model_config = ConfigDict(frozen=True)
    flag: str
    enabled: bool
    config: dict[str, bool | int]
    source: str


class Gateway:
    def __init__(self, options: GatewayOptions, store: Store | None = None) -> None:
        self.options = options
        self.release = get_release(options.release)
        self.loaded: LoadedConfig = load_config(options.config_path, self.base_env())
        self.router = Router(self.loaded.config)
        self.metrics = GatewayMetrics(self.release.name)
        self.metrics.config_loaded(self.loaded.short_hash)
        self.faults = FaultEngine(options.startup_faults) if options.drill_token else None
        self.providers = ProviderBook()
        self.migration_error: str | None = None
        self.database_url = self._database_url()
        self.store: Store = store or (
            PostgresStore(self.database_url, on_connect=self._on_db_connect)
            if self.database_url
            else MemoryStore()
        )
        self.auth = Authenticator(
            lambda: self.loaded.master_key,
            self.store.find_key,
            lambda: self.loaded.config.general_settings.virtual_key_cache_ttl,
        )
        self._active: ProviderSelection | None = None
        self.limits: list[GovernanceLimit] = []
        self.started_at = datetime.now(UTC)
        self.config_loaded_at = self.started_at
        self._reload_lock = threading.Lock()

    # -- startup -----------------------------------------------------------------------------

    def base_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.options.env_file is not None:
            env.update(read_env_file(self.options.env_file))
        return env

    def _database_url(self) -> str | None:
        from_config = self.loaded.config.general_settings.database_url
        return (
            self.options.database_url
            or (from_config.get_secret_value() if from_config else None)
            or self.loaded.env.get("DATABASE_URL")
            or None
        )

    @property
    def migrates(self) -> bool:
        settings = self.loaded.config.general_settings
        return self.options.migrate and not settings.disable_prisma_schema_update

    def migrate(self) -> list[int]:
        """Apply migrations up to this release's schema version (never down)."""
        if not self.database_url or not self.migrates:
            return []
        sources = self.options.migration_sources or (default_source(),)
        done = Migrator(self.database_url, discover(sources)).up(to=self.release.migration_target)
        if done:
            log.info("applied migrations %s", ", ".join(map(str, done)))
        return done

    def _on_db_connect(self) -> None:
        try:
            self.migrate()
            self.migration_error = None
        except MigrationError as exc:
            self.migration_error = str(exc)
            log.error("migrations failed: %s", exc)  # noqa: TRY400 - the message is the story
        self.refresh_from_store()

    def start(self) -> None:
        """Connect (migrating once connected) and load the ops state; never raises."""
        if self.store.kind == "postgres" and not self.store.ping():
            log.warning("database unreachable at startup; not ready until it answers")
        if self.store.kind != "postgres":
            self.refresh_from_store()

    def refresh_from_store(self) -> None:
        try:
            self._active = self.store.active_provider()
            self.limits = self.store.limits()
        except StoreError as exc:
            log.warning("cannot load ops state from the database: %s", exc)

    # -- config ------------------------------------------------------------------------------

    def reload(self, actor: str) -> LoadedConfig:
        """Re-read the config file; on any problem keep serving the current one and raise."""
        with self._reload_lock:
            before = self.loaded
            try:
                new = load_config(self.options.config_path, self.base_env())
            except ConfigError as exc:
                self.metrics.reload(ok=False)
                log.error(  # noqa: TRY400 - a rejected file is expected, not a crash
                    "config reload rejected, still serving %s: %s", before.short_hash, exc
                )
                self._audit(
                    actor,
                    "config.reload_rejected",
                    str(self.options.config_path),
                    before.short_hash,
                    str(exc),
                )
                raise
            self.loaded, self.router = new, Router(new.config)
            self.config_loaded_at = datetime.now(UTC)
            self.metrics.reload(ok=True)
            self.metrics.config_loaded(new.short_hash)
            self.auth.forget()
            if self._database_url() != self.database_url:
                log.warning("database_url changed in the config; a restart is needed to use it")
            log.info("config reloaded: %s -> %s", before.short_hash, new.short_hash)
            self._audit(
                actor,
                "config.reload",
                str(self.options.config_path),
                before.short_hash,
                new.short_hash,
            )
            return new

    def _audit(self, actor: str, action: str, target: str, before: str, after: str) -> None:
        try:
            self.store.record(
                AuditDraft(actor=actor, action=action, target=target, before=before, after=after)
            )
        except StoreError as exc:
            log.warning("could not audit %s: %s", action, exc)

    # -- ops state ---------------------------------------------------------------------------

    def default_selection(self) -> ProviderSelection:
        return ProviderSelection(name=self.loaded.config.providers()[0])

    def active(self, *, fresh: bool = False) -> ProviderSelection:
        """The active provider; `fresh` re-reads the store (falling back to memory)."""
        if fresh:
            try:
                stored = self.store.active_provider()
                if stored is not None:
                    self._active = stored
            except StoreError as exc:
                log.warning("active provider from memory, database failed: %s", exc)
        active = self._active
        if active is None or active.name not in self.loaded.config.providers():
            return self.default_selection()
        return active

    def activate(self, selection: ProviderSelection, who: Principal) -> ProviderSelection:
        before = self.active(fresh=True)
        audit = AuditDraft(
            actor=who.name,
            action="provider.activate",
            target=selection.name,
            before=before.model_dump(),
            after=selection.model_dump(),
        )
        self.store.activate_provider(selection, audit)
        self._active = selection
        log.info("provider activated: %s -> %s (by %s)", before.name, selection.name, who.name)
        return before

    def put_limit(self, limit: GovernanceLimit, who: Principal) -> None:
        before = next(
            (x for x in self.limits if (x.limit_type, x.scope) == (limit.limit_type, limit.scope)),
            None,
        )
        audit = AuditDraft(
            actor=who.name,
            action="governance.limit",
            target=f"{limit.limit_type}:{limit.scope}",
            before=before.model_dump() if before else None,
            after=limit.model_dump(),
        )
        self.store.put_limit(limit, audit)
        self.limits = self.store.limits()

    def over_hard_limit(self, provider: str) -> GovernanceLimit | None:
        for limit in self.limits:
            scoped = limit.limit_type == "per_provider" and limit.scope == provider
            spend = self.providers.spend(provider if scoped else None)
            if (scoped or limit.limit_type == "global") and spend >= limit.hard_limit_usd:
                return limit
        return None

    def flag(self, name: str) -> FlagView:
        """Environment (FEATURE_<NAME>) wins over the database; unknown flags are off."""
        raw = self.loaded.env.get(f"FEATURE_{name.upper()}")
        if raw is not None:
            value = raw.strip().lower().removesuffix("%")
            if value in TRUE or value in FALSE:
                on = value in TRUE
                return self._flag_view(name, on, 100 if on else 0, "environment")
            if value.isdigit() and 0 <= int(value) <= 100:
                return self._flag_view(name, int(value) > 0, int(value), "environment")
            log.warning("FEATURE_%s=%r is neither a boolean nor a percentage", name.upper(), raw)
        try:
            stored = self.store.flag(name)
        except StoreError as exc:
            log.warning("flag %s from default, database failed: %s", name, exc)
            return self._flag_view(name, False, 0, "default (database unavailable)")
        if stored is not None:
            pct = stored.rollout_percentage if stored.enabled else 0
            return self._flag_view(name, stored.enabled, pct, "database")
        return self._flag_view(name, False, 0, "default")

    @staticmethod
    def _flag_view(name: str, enabled: bool, pct: int, source: str) -> FlagView:
        return FlagView(
            flag=name,
            enabled=enabled,
            source=source,
            config={"enabled": enabled, "rollout_percentage": pct},
        )

    def put_flag(self, flag: FeatureFlag, who: Principal) -> FlagView:
        before = self.flag(flag.name)
        audit = AuditDraft(
            actor=who.name,
            action="feature_flag.set",
            target=flag.name,
            before=before.model_dump(),
            after=flag.model_dump(),
        )
        self.store.put_flag(flag, audit)
        return self.flag(flag.name)

    @property
    def version(self) -> str:
        return _pkg_version

    def close(self) -> None:
        self.store.close()
