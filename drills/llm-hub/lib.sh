# Shared helpers of the LLM Hub rollback procedures (seed 001). Sourced, never run.
# Contract: GATEWAY_URL, GATEWAY_CONFIG (the service's config; its environment_variables are
# the .env), DATABASE_URL / PG*, BACKUP_DIR, $DRILLBOOK_CTL.
# shellcheck shell=bash

HUB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICE="${SERVICE_NAME:-gateway}"
HUB_FLAG="unified_llm_hub"
HUB_ENV="FEATURE_UNIFIED_LLM_HUB"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-30}"   # seed 001: "feature flag disabled within 30 seconds"
OLD_PAGES=(llm-provider-keys llm-model-catalog llm-routing llm-analytics)

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_env() {
    local name
    for name in "$@"; do
        [[ -n "${!name:-}" ]] || die "$name is not set (see the runbook's environment)"
    done
}

api() { python3 "$HUB_DIR/ops_api.py" "$@"; }

# A field of a json document on stdin: json_get enabled / json_get config.rollout_percentage
json_get() {
    python3 -c '
import json, sys
value = json.load(sys.stdin)
for part in sys.argv[1].split("."):
    value = value[part]
print(json.dumps(value) if not isinstance(value, str) else value)
' "$1"
}

wait_ready() {
    local deadline=$((SECONDS + HEALTH_TIMEOUT))
    until api status /health/readiness >/dev/null 2>&1; do
        ((SECONDS < deadline)) || die "$SERVICE not ready within ${HEALTH_TIMEOUT}s after restart"
        sleep 0.2
    done
}

# DATABASE_URL pointing at another database on the same server.
database_url_for() {
    python3 -c '
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit(u._replace(path="/" + sys.argv[2])))' "$DATABASE_URL" "$1"
}
