#!/usr/bin/env bash
# Seed 004, "Application Rollback" (rollback-application.sh): roll the API back to the previous
# revision, or to REVISION when given (kubectl rollout undo [--to-revision=N]), wait for the
# rollout, show the version now serving and check health.
#
# Usage: rollback-application.sh [REVISION]
# Contract: GATEWAY_URL, $DRILLBOOK_CTL; SERVICE_NAME (default gateway).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL DRILLBOOK_CTL
REVISION="${1:-}"

log "=== APPLICATION ROLLBACK ==="
log "service: $SERVICE"
# Step 1: current version (a crashed revision has none to tell)
CURRENT="$(deployed_release 2>/dev/null || echo unreachable)"
log "current release: $CURRENT"
# Step 2: revision history
log "available revisions:"
"$DRILLBOOK_CTL" history "$SERVICE"
# Step 3: execute the rollback
if [[ -z "$REVISION" ]]; then
    log "rolling back to the previous revision"
    "$DRILLBOOK_CTL" undo "$SERVICE"
else
    log "rolling back to revision $REVISION"
    "$DRILLBOOK_CTL" undo "$SERVICE" "$REVISION"
fi
# Step 4: wait for the rollout
rollout_status
# Step 5: the version now serving
NEW="$(deployed_release)"
log "rolled back to: $NEW (from $CURRENT)"
echo "DRILLBOOK_FACT rolled_back_from=$CURRENT"
echo "DRILLBOOK_FACT rolled_back_to=$NEW"
# Step 6: health
HEALTH="$(curl -fsS --max-time 5 "$GATEWAY_URL/health/readiness" | json_get status)"
log "health status: $HEALTH"
[[ "$HEALTH" == "healthy" ]] || die "health after rollback: $HEALTH"
log "=== ROLLBACK COMPLETE ==="
