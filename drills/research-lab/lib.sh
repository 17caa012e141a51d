# Shared helpers of the Research Lab rollback procedures (seed 004). Sourced, never run.
# Contract: GATEWAY_URL (the API), $DRILLBOOK_CTL (rollout history/undo, restart), and for the
# database procedures DATABASE_URL / PG*, BACKUP_DIR, AWS_ENDPOINT_URL, BACKUP_BUCKET.
# shellcheck shell=bash

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICE="${SERVICE_NAME:-gateway}"
ROLLOUT_TIMEOUT="${ROLLOUT_TIMEOUT:-300}"   # seed: kubectl rollout status --timeout=300s

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_env() {
    local name
    for name in "$@"; do
        [[ -n "${!name:-}" ]] || die "$name is not set (see the runbook's environment)"
    done
}

# A field of a json document on stdin: json_get release / json_get db
json_get() {
    python3 -c '
import json, sys
value = json.load(sys.stdin)
for part in sys.argv[1].split("."):
    value = value[part]
print(json.dumps(value) if not isinstance(value, str) else value)
' "$1"
}

deployed_release() { curl -fsS --max-time 5 "$GATEWAY_URL/version" | json_get release; }

# The analog of `kubectl rollout status`: ready (readiness 2xx) within ROLLOUT_TIMEOUT.
rollout_status() {
    local deadline=$((SECONDS + ROLLOUT_TIMEOUT))
    until curl -fsS -o /dev/null --max-time 2 "$GATEWAY_URL/health/readiness"; do
        ((SECONDS < deadline)) || die "$SERVICE not ready within ${ROLLOUT_TIMEOUT}s"
        sleep 0.2
    done
}

gwmetrics() { python3 "$LAB_DIR/gwmetrics.py" "$@"; }
