#!/usr/bin/env bash
# Seed 003, "Rollout Procedure" step 2 "For Governance Limits": back up the runtime config,
# post the limit, show the governance status.
#
#   set-governance-limit.sh LIMIT_TYPE SCOPE SOFT_USD HARD_USD
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL BACKUP_DIR
[[ $# -eq 4 ]] || die "usage: set-governance-limit.sh LIMIT_TYPE SCOPE SOFT_USD HARD_USD"
limit_type="$1" scope="$2" soft="$3" hard="$4"

backup_runtime
api POST /api/v1/governance/limits "{\"limit_type\": \"$limit_type\", \"scope\": \"$scope\",
    \"soft_limit_usd\": $soft, \"hard_limit_usd\": $hard}" >/dev/null
status="$(api GET /api/v1/governance/status)"
log "limit $limit_type:$scope set to soft $soft / hard $hard usd; governance status: $(json_get status <<<"$status")"
