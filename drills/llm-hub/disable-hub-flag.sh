#!/usr/bin/env bash
# Seed 001, "Emergency Rollback (< 5 minutes)", steps 1-3: disable FEATURE_UNIFIED_LLM_HUB,
# restart the console if its environment forces the flag, then verify old pages and the flag.
#
#   disable-hub-flag.sh [--method api|env|both]    (default both: the API, then the .env)
#
# The API switch is instant but the environment wins over it, so a flag forced on in the
# .env needs the .env edited and the service restarted (the runbook's fastest method).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL GATEWAY_CONFIG

method="both"
if [[ "${1:-}" == "--method" ]]; then method="${2:?--method needs api, env or both}"; fi
case "$method" in api|env|both) ;; *) die "unknown method '$method' (api, env or both)" ;; esac

started=$SECONDS
if [[ "$method" != "env" ]]; then
    log "step 1 (api): disabling $HUB_FLAG"
    answer="$(api PUT "/api/v1/features/$HUB_FLAG" '{"enabled": false, "rollout_percentage": 0}')"
    log "flag now: $answer"
fi

if [[ "$method" != "api" ]]; then
    if grep -Eq "^[[:space:]]*$HUB_ENV:" "$GATEWAY_CONFIG"; then
        current="$(grep -E "^[[:space:]]*$HUB_ENV:" "$GATEWAY_CONFIG" | head -n1)"
        log "step 1 (env): $current -> $HUB_ENV: \"false\""
        cp -p "$GATEWAY_CONFIG" "$GATEWAY_CONFIG.pre-flag-rollback"
        sed -i -E "s/^([[:space:]]*$HUB_ENV:).*/\1 \"false\"/" "$GATEWAY_CONFIG"
        log "restarting $SERVICE"
        "$DRILLBOOK_CTL" restart "$SERVICE"
        wait_ready
        log "$SERVICE ready again"
    else
        log "step 1 (env): $HUB_ENV not set in the environment; nothing to restart"
    fi
fi

"$(dirname "$0")/verify-old-pages.sh"
log "feature flag rollback done in $((SECONDS - started))s"
