#!/usr/bin/env bash
# Seed 003, "Emergency Rollback": one command puts the safe provider back, then proves it
# with a real request and says when it was done.
#
#   emergency-rollback.sh SAFE_PROVIDER [MODEL]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL
safe="${1:?usage: emergency-rollback.sh SAFE_PROVIDER [MODEL]}"
model="${2:-}"
started=$SECONDS

body='{}'
[[ -z "$model" ]] || body="{\"model\": \"$model\"}"
api POST "/api/v1/providers/$safe/activate" "$body" >/dev/null
active="$(api GET /api/v1/providers | json_get active_provider)"
[[ "$active" == "$safe" ]] || die "active provider is $active, not $safe"
test_request "rollback test"
log "Emergency rollback to $safe completed at $(date -u +%FT%TZ) in $((SECONDS - started))s"
