#!/usr/bin/env bash
# Seed 004, "ConfigMap Rollback" (rollback-configmap.sh): list the backups, apply the one
# given, restart the API to pick it up, wait for the rollout. Beyond the seed: the backup is
# validated before it is applied (`python -m drillbook.gateway check`, the API's own loader),
# and applied by write-then-rename, so the API never reads half a file.
#
# Usage: rollback-configmap.sh <backup-file>
# Contract: GATEWAY_CONFIG, GATEWAY_URL, BACKUP_DIR, $DRILLBOOK_CTL; CONFIGMAP, SERVICE_NAME.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_CONFIG GATEWAY_URL BACKUP_DIR DRILLBOOK_CTL
CONFIGMAP="${CONFIGMAP:-llm-research-config}"
# List available backups
ls -la "$BACKUP_DIR/configmap-backups/$CONFIGMAP"*.yaml
# Restore from backup
BACKUP_FILE="${1:-}"
if [[ -z "$BACKUP_FILE" ]]; then
    echo "Usage: rollback-configmap.sh <backup-file>"
    exit 1
fi
python3 -m drillbook.gateway check --config "$BACKUP_FILE"
# Apply the backup
cp "$BACKUP_FILE" "$GATEWAY_CONFIG.rollback"
mv "$GATEWAY_CONFIG.rollback" "$GATEWAY_CONFIG"
log "applied $BACKUP_FILE"
# Restart pods to pick up the config
"$DRILLBOOK_CTL" restart "$SERVICE"
rollout_status
log "config rolled back to $(basename "$BACKUP_FILE")"
