#!/usr/bin/env bash
# Seed 003, "Rollout Procedure" (and its scripts/provider-rollout.sh): backup, pre-check,
# test-connection, preflight, activate, verify with a real request and the audit log.
#
#   provider-rollout.sh PROVIDER [MODEL]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL BACKUP_DIR
provider="${1:?usage: provider-rollout.sh PROVIDER [MODEL]}"
model="${2:-}"

backup_runtime

log "step 1: pre-check"
before="$(api GET /api/v1/providers)"
log "active provider before: $(json_get active_provider <<<"$before")"
critical="$(api GET '/api/v1/alerts?severity=critical' | json_get summary.critical)"
[[ "$critical" == "0" ]] || die "$critical critical alert(s) firing: not rolling out now"

log "step 2: test connection to $provider"
result="$(api POST "/api/v1/providers/$provider/test-connection" || true)"
grep -q '"status":"success"' <<<"$result" || die "test failed, aborting: $result"
api POST "/api/v1/providers/$provider/preflight" >/dev/null \
    || die "preflight of $provider failed, aborting"

body='{}'
[[ -z "$model" ]] || body="{\"model\": \"$model\"}"
log "activating $provider ${model:+(model $model)}"
api POST "/api/v1/providers/$provider/activate" "$body" >/dev/null

log "step 3: verify"
status="$(api GET "/api/v1/providers/$provider/status")"
[[ "$(json_get connection_status <<<"$status")" == "online" ]] \
    || die "$provider is $(json_get connection_status <<<"$status") after activation: roll back"
test_request "test"
api GET '/api/v1/admin/audit?limit=5' | python3 -c '
import json, sys
for e in json.load(sys.stdin)["entries"][:1]:
    print("audit:", e["ts"], e["actor"], e["action"], e["target"])'
log "rollout of $provider done"
