#!/usr/bin/env bash
# Manual rollback (seed 000, "Manual Rollback" steps 1-3): take the newest backup that
# verifies, put it in place, restart the service, and wait for health within 30 s.
set -euo pipefail

: "${GATEWAY_CONFIG:?GATEWAY_CONFIG must name the deployed config file}"
: "${GATEWAY_URL:?GATEWAY_URL must name the service}"
: "${BACKUP_DIR:?BACKUP_DIR must name the backup folder}"
SERVICE="${SERVICE_NAME:-gateway}"
HEALTH_PATH="${HEALTH_PATH:-/health}"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-30}"

verify() {
    # YAML syntax valid and the required fields present, as verify-backup.sh checks.
    python3 - "$1" <<'PY'
import sys, yaml
with open(sys.argv[1], encoding="utf-8") as f:
    data = yaml.safe_load(f)
assert isinstance(data, dict), "not a mapping"
assert data.get("models") or data.get("model_list"), "no models"
PY
}

chosen=""
for candidate in $(ls -1t "$BACKUP_DIR"/litellm.yaml.backup-* 2>/dev/null); do
    if verify "$candidate" 2>/dev/null; then
        chosen="$candidate"
        break
    fi
    echo "skipping invalid backup $candidate" >&2
done
if [[ -z "$chosen" ]]; then
    echo "rollback: no valid backup in $BACKUP_DIR" >&2
    exit 1
fi
echo "restoring $chosen"
cp "$chosen" "$GATEWAY_CONFIG"
"$DRILLBOOK_CTL" restart "$SERVICE"

deadline=$((SECONDS + HEALTH_TIMEOUT))
healthy() {
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null
}
until healthy "$GATEWAY_URL$HEALTH_PATH"; do
    if (( SECONDS >= deadline )); then
        echo "rollback: $GATEWAY_URL$HEALTH_PATH not healthy within ${HEALTH_TIMEOUT}s" >&2
        exit 1
    fi
    sleep 0.5
done
echo "healthy again"
