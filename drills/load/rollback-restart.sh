#!/usr/bin/env bash
# Roll the gateway back by redeploying it: restart the service (the release in force comes
# back without the bad state), wait until it is ready, then check the API answers with the key.
#
# Contract: GATEWAY_URL, GATEWAY_CONFIG, $DRILLBOOK_CTL; SERVICE_NAME (default gateway).
set -euo pipefail
SERVICE="${SERVICE_NAME:-gateway}"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-30}"
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
[[ -n "${GATEWAY_URL:-}" ]] || die "GATEWAY_URL is not set"
[[ -n "${DRILLBOOK_CTL:-}" ]] || die "DRILLBOOK_CTL is not set"

log "rolling back $SERVICE: restart"
"$DRILLBOOK_CTL" restart "$SERVICE"
deadline=$((SECONDS + HEALTH_TIMEOUT))
until curl -fsS -o /dev/null "$GATEWAY_URL/health/readiness"; do
    ((SECONDS < deadline)) || die "$SERVICE not ready within ${HEALTH_TIMEOUT}s"
    sleep 0.2
done
log "$SERVICE ready; rollback done"
