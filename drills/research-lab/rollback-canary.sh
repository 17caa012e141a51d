#!/usr/bin/env bash
# Seed 004, "Canary Rollback" (rollback-canary.sh): remove the canary from traffic at once
# (stable 100, canary 0), then scale the canary deployment down. Order matters: scaled down
# first, the canary's share of requests would hit a dead upstream until the weights move.
#
# Contract: EDGE_URL, $DRILLBOOK_CTL; STABLE (default stable), CANARY (default canary).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env EDGE_URL DRILLBOOK_CTL
STABLE="${STABLE:-stable}"
CANARY="${CANARY:-canary}"

# Remove the canary from traffic immediately
curl -fsS --max-time 10 -X POST -H 'Content-Type: application/json' \
    -d "{\"$STABLE\": 100, \"$CANARY\": 0}" "$EDGE_URL/_edge/weights" >/dev/null
WEIGHTS="$(curl -fsS --max-time 5 "$EDGE_URL/_edge/weights" | json_get weights)"
log "weights now: $WEIGHTS"
# Scale down the canary deployment
"$DRILLBOOK_CTL" stop "$CANARY"
echo "Canary traffic removed and deployment scaled down"
