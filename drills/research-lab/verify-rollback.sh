#!/usr/bin/env bash
# Seed 004, "Post-Rollback Verification Checklist" (verify-rollback.sh): service running and
# healthy, health, readiness "healthy", error rate < 1 %, P95 < 2 s, database reachable,
# version. The seed only warns on error rate and latency; here every check fails the
# verification, since a rollback that leaves either elevated has not worked.
#
# Contract: GATEWAY_URL, GATEWAY_CONFIG, $DRILLBOOK_CTL; SERVICE_NAME, EXPECT_RELEASE (the
# release that must be serving), EXPECT_DB (1: the database must be connected),
# VERIFY_REQUESTS (100).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL GATEWAY_CONFIG DRILLBOOK_CTL
FAILED=0
fail() { log "FAILED: $*"; FAILED=1; }

log "=== POST-ROLLBACK VERIFICATION ==="
log "1. service health"
STATE="$("$DRILLBOOK_CTL" status "$SERVICE" 2>&1 || true)"
[[ "$STATE" == "running" ]] || fail "$SERVICE is $STATE"
"$DRILLBOOK_CTL" health "$SERVICE" >/dev/null 2>&1 || fail "$SERVICE health check fails"

log "2. API health"
curl -fsS -o /dev/null --max-time 5 "$GATEWAY_URL/health/liveness" || fail "liveness"

log "3. readiness"
READY="$(curl -sS --max-time 5 "$GATEWAY_URL/health/readiness" || echo '{}')"
STATUS="$(json_get status <<<"$READY" 2>/dev/null || echo unknown)"
[[ "$STATUS" == "healthy" ]] || fail "readiness status $STATUS"

log "4-5. error rate and P95 over ${VERIFY_REQUESTS:-100} requests"
FIG="$(gwmetrics probe "${VERIFY_REQUESTS:-100}")"
log "   $FIG"
python3 -c '
import json, sys
f = json.loads(sys.argv[1])
rate, p95, bad = f["error_rate"], f["p95_s"], []
if rate >= 0.01:
    bad.append(f"error rate {rate:.2%} is not below 1%")
if p95 >= 2.0:
    bad.append(f"p95 {p95:.2f}s is not below 2s")
sys.exit("; ".join(bad) or None)
' "$FIG" || fail "error rate / latency elevated"

log "6. database connectivity"
DB="$(json_get db <<<"$READY" 2>/dev/null || echo unknown)"
if [[ "${EXPECT_DB:-0}" == 1 && "$DB" != "connected" ]]; then
    fail "database $DB"
fi
log "   database: $DB"

log "7. deployed version"
VERSION="$(deployed_release 2>/dev/null || echo unknown)"
log "   deployed: $VERSION"
if [[ -n "${EXPECT_RELEASE:-}" && "$VERSION" != "$EXPECT_RELEASE" ]]; then
    fail "release $VERSION serving, expected $EXPECT_RELEASE"
fi

((FAILED == 0)) || die "verification failed"
log "=== VERIFICATION COMPLETE: all checks passed ==="
