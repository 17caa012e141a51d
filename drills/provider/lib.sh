# Shared helpers of the provider rollout/rollback procedures (seed 003). Sourced, never run.
# Contract: GATEWAY_URL (the console API), BACKUP_DIR, OPS_API_KEY (optional bearer).
# shellcheck shell=bash

PROVIDER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_env() {
    local name
    for name in "$@"; do
        [[ -n "${!name:-}" ]] || die "$name is not set (see the runbook's environment)"
    done
}

api() { python3 "$PROVIDER_DIR/api.py" "$@"; }

# A field of the json document on stdin: json_get active_provider / json_get summary.total
json_get() {
    python3 -c '
import json, sys
value = json.load(sys.stdin)
for part in sys.argv[1].split("."):
    value = value[int(part)] if isinstance(value, list) else value[part]
print(json.dumps(value) if not isinstance(value, str) else value)
' "$1"
}

# Milliseconds: two changes in one second must not share (and overwrite) a backup.
stamp() { date -u +%Y%m%d-%H%M%S.%3N; }

# Pre-rollout checklist 1: the runtime config and the provider status, as the API gives them.
backup_runtime() {
    mkdir -p "$BACKUP_DIR"
    local ts config providers
    ts="$(stamp)"
    config="$BACKUP_DIR/config-backup-$ts.json"
    providers="$BACKUP_DIR/providers-backup-$ts.json"
    api GET /api/v1/config/runtime >"$config.tmp" && mv "$config.tmp" "$config"
    api GET /api/v1/providers >"$providers.tmp" && mv "$providers.tmp" "$providers"
    log "backed up runtime config to $config and providers to $providers"
}

# A real request through the console, answered by the active provider.
test_request() {
    local content="${1:-test}"
    api POST /api/v1/chat/completions \
        "{\"messages\": [{\"role\": \"user\", \"content\": \"$content\"}]}" >/dev/null \
        || die "test request failed"
    log "test request ok"
}
