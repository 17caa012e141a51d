#!/usr/bin/env bash
# Seed 003, "Rollback Procedure": assess the active provider against the rollback criteria
# (offline or degraded, error rate > 5 %, P95 > 2x baseline, critical alerts), find the
# previous provider in the audit log, put it back with the emergency rollback, verify.
# The baseline P95 is the previous provider's, from its recent requests.
#
#   rollback-provider.sh [--force]     (--force: roll back even if no criterion is met)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL
force=0
[[ "${1:-}" == "--force" ]] && force=1
samples="${ASSESS_REQUESTS:-20}"

log "step 1: assess"
active="$(api GET /api/v1/providers | json_get active_provider)"
previous="$(api GET '/api/v1/admin/audit?limit=200' | python3 -c '
import json, sys
active = sys.argv[1]
for e in json.load(sys.stdin)["entries"]:  # newest first
    if e["action"] == "provider.activate" and e["target"] == active and e["before"]:
        if e["before"]["name"] != active:
            print(e["before"]["name"])
            break
' "$active")"
# A few real requests, so the error rate and P95 describe the provider as it is now.
for ((i = 0; i < samples; i++)); do
    api POST /api/v1/chat/completions '{"messages": [{"role": "user", "content": "assess"}]}' \
        >/dev/null 2>&1 || true
done
status="$(api GET "/api/v1/providers/$active/status")"
baseline='null'
[[ -z "$previous" ]] || baseline="$(api GET "/api/v1/providers/$previous/status" | json_get latency_p95_ms)"
critical="$(api GET '/api/v1/alerts?severity=critical' | json_get summary.critical)"
reasons="$(python3 - "$status" "$baseline" "$critical" <<'PY'
import json, sys
s, baseline, critical = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
out = []
if s["connection_status"] in ("offline", "degraded"):
    out.append(f"status {s['connection_status']}")
if s["error_rate"] > 0.05:
    out.append(f"error rate {s['error_rate']:.1%} > 5%")
p95 = s["latency_p95_ms"]
if p95 is not None and baseline is not None and p95 > 2 * baseline:
    out.append(f"p95 {p95:.1f} ms > 2x baseline {baseline:.1f} ms")
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
[[ -n "$previous" ]] || die "no earlier provider for $active in the audit log"
log "previous provider: $previous (activated before $active)"

"$(dirname "$0")/emergency-rollback.sh" "$previous"

log "step 4: verify"
after="$(api GET "/api/v1/providers/$previous/status")"
[[ "$(json_get connection_status <<<"$after")" == "online" ]] \
    || die "$previous is $(json_get connection_status <<<"$after") after the rollback"
log "rollback of $active to $previous verified"
