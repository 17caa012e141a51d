#!/usr/bin/env bash
# Seed 004, "Blue-Green Rollback" (rollback-blue-green.sh): find the active colour, check the
# other one is ready, and switch all traffic to it. The traffic switch is the edge (the
# seed's service selector): GET/POST $EDGE_URL/_edge/weights; readiness from /_edge/status.
# Refuses (exit 1, traffic unchanged) when the target is not ready, as the seed does.
#
# Contract: EDGE_URL; BLUE_GREEN ("blue green": the two colours).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env EDGE_URL
read -r A B <<<"${BLUE_GREEN:-blue green}"

# Current active version: the colour taking the traffic
CURRENT_VERSION="$(curl -fsS --max-time 5 "$EDGE_URL/_edge/weights" | python3 -c '
import json, sys
weights = json.load(sys.stdin)["weights"]
print(max(weights, key=weights.get))')"
log "current active version: $CURRENT_VERSION"

# Determine the rollback target
if [[ "$CURRENT_VERSION" == "$B" ]]; then ROLLBACK_VERSION="$A"; else ROLLBACK_VERSION="$B"; fi
log "rolling back to: $ROLLBACK_VERSION"

# Verify the target exists and is healthy
TARGET_READY="$(curl -fsS --max-time 10 "$EDGE_URL/_edge/status" | python3 -c '
import json, sys
ups = json.load(sys.stdin)["upstreams"]
target = ups.get(sys.argv[1])
print("missing" if target is None else "true" if target["ready"] else target["detail"])
' "$ROLLBACK_VERSION")"
if [[ "$TARGET_READY" != "true" ]]; then
    echo "ERROR: Target deployment ${ROLLBACK_VERSION} is not ready ($TARGET_READY)" >&2
    exit 1
fi

# Switch the traffic (the edge re-checks readiness and answers 409 if it changed meanwhile)
curl -fsS --max-time 10 -X POST -H 'Content-Type: application/json' \
    -d "{\"$ROLLBACK_VERSION\": 100}" "$EDGE_URL/_edge/weights" >/dev/null
log "traffic switched to $ROLLBACK_VERSION"

# Verify the switch
NEW_VERSION="$(curl -fsS --max-time 5 "$EDGE_URL/_edge/weights" | python3 -c '
import json, sys
weights = json.load(sys.stdin)["weights"]
print(max(weights, key=weights.get))')"
log "service now pointing to: $NEW_VERSION"
[[ "$NEW_VERSION" == "$ROLLBACK_VERSION" ]] || die "traffic is on $NEW_VERSION, not $ROLLBACK_VERSION"
echo "DRILLBOOK_FACT traffic_on=$NEW_VERSION"
