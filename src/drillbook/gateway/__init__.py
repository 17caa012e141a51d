"""The reference LLM gateway: a LiteLLM-style proxy that drills act on.

Run it with ``python -m drillbook.gateway --config config.yaml --port 4000`` (see __main__ for
the commands ``check`` and ``migrate``), and the traffic switch with
``python -m drillbook.gateway.edge``. Everything comes from arguments or the environment:

- DRILLBOOK_GATEWAY_CONFIG / CONFIG_FILE_PATH, DRILLBOOK_GATEWAY_PORT / PORT,
  DRILLBOOK_GATEWAY_HOST (default 127.0.0.1), DRILLBOOK_GATEWAY_RELEASE (v1 | v2),
  DRILLBOOK_GATEWAY_ENV_FILE (KEY=VALUE lines over the environment), DRILLBOOK_GATEWAY_WORKERS
- DATABASE_URL (or general_settings.database_url, or --database-url): Postgres store; without
  it the gateway keeps its state in memory
- DRILLBOOK_GATEWAY_MIGRATIONS (dirs joined by ':'; default fixtures/migrations)
- DRILLBOOK_DRILL_TOKEN: enables /_drill/faults, reachable only with `X-Drill-Token`;
  DRILLBOOK_DRILL_FAULTS: faults in force from startup (JSON, as POST /_drill/faults)
- LITELLM_MASTER_KEY when the config has no general_settings.master_key;
  FEATURE_<FLAG> (e.g. FEATURE_UNIFIED_LLM_HUB=false) overrides the stored feature flag

In process: ``create_app(Gateway(GatewayOptions(config_path=...)))``.
"""

from __future__ import annotations

__all__ = ["RELEASES", "ConfigError", "Gateway", "GatewayOptions", "create_app", "load_config"]


def __getattr__(name: str) -> object:
    # Lazy: importing the package (say for the service spec's release list) stays cheap.
    if name in ("Gateway", "GatewayOptions"):
        from drillbook.gateway import runtime

        return getattr(runtime, name)
    if name == "create_app":
        from drillbook.gateway.app import create_app

        return create_app
    if name in ("ConfigError", "load_config"):
        from drillbook.gateway import config

        return getattr(config, name)
    if name == "RELEASES":
        from drillbook.gateway.releases import RELEASES

        return RELEASES
    raise AttributeError(f"module 'drillbook.gateway' has no attribute {name!r}")
