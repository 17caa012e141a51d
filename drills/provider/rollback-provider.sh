#!/usr/bin/env bash
# Seed 003, "Rollback Procedure": assess the active provider against the rollback criteria
# (offline or degraded, error rate > 5 %, P95 > 2x baseline, critical alerts), find the
# previous provider in the audit log, put it back with the emergency rollback, verify.
#
#   rollback-provider.sh [--force]     (--force: roll back even if no criterion is met)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL
force=0
[[ "${1:-}" == "--force" ]] && force=1

log "step 1: assess"
providers="$(api GET /api/v1/providers)"
active="$(json_get active_provider <<<"$providers")"
status="$(api GET "/api/v1/providers/$active/status")"
critical="$(api GET '/api/v1/alerts?severity=critical' | json_get summary.critical)"
reasons="$(python3 - "$status" "$critical" <<'PY'
import json, sys
s, critical = json.loads(sys.argv[1]), int(sys.argv[2])
out = []
if s["connection_status"] in ("offline", "degraded"):
    out.append(f"status {s['connection_status']}")
if s["error_rate"] > 0.05:
    out.append(f"error rate {s['error_rate']:.1%} > 5%")
if critical:
    out.append(f"{critical} critical alert(s)")
print("; ".join(out))
PY
)"
if [[ -z "$reasons" && $force -eq 0 ]]; then
    log "$active is healthy, no rollback criterion met: nothing to do"
    exit 0
fi
log "rolling back $active: ${reasons:-forced}"

log "step 2: previous provider from the audit log"
previous="$(api GET '/api/v1/admin/audit?limit=200' | python3 -c '
import json, sys
active = sys.argv[1]
for e in json.load(sys.stdin)["entries"]:  # newest first
    if e["action"] == "provider.activate" and e["target"] == active and e["before"]:
        if e["before"]["name"] != active:
            print(e["before"]["name"])
            break
' "$active")"
[[ -n "$previous" ]] || die "no earlier provider for $active in the audit log"
log "previous provider: $previous (activated before $active)"

"$(dirname "$0")/emergency-rollback.sh" "$previous"

log "step 4: verify"
after="$(api GET "/api/v1/providers/$previous/status")"
[[ "$(json_get connection_status <<<"$after")" == "online" ]] \
    || die "$previous is $(json_get connection_status <<<"$after") after the rollback"
log "rollback of $active to $previous verified"
