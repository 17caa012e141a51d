#!/usr/bin/env bash
# Seed 004, "Smoke Tests" (smoke-tests.sh), on the gateway's endpoints: models, providers,
# a chat completion, the runtime config, metrics. The seed prints FAILED and still exits 0;
# here any failure fails the script, or a rollback "verified" by it would prove nothing.
#
# Contract: GATEWAY_URL, GATEWAY_CONFIG (the master key, as the test token).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL GATEWAY_CONFIG
TOKEN="$(python3 -B -c 'import sys; sys.path.insert(0, sys.argv[1]); import gwmetrics; print(gwmetrics.master_key())' "$LAB_DIR")"
FAILED=0
check() {
    local name="$1"; shift
    printf '%s... ' "$name"
    if curl -fsS -o /dev/null --max-time 10 "$@"; then echo OK; else echo FAILED; FAILED=1; fi
}
echo "Running smoke tests..."
check "GET /v1/models" "$GATEWAY_URL/v1/models" -H "Authorization: Bearer $TOKEN"
check "GET /api/v1/providers" "$GATEWAY_URL/api/v1/providers" -H "Authorization: Bearer $TOKEN"
check "POST /v1/chat/completions" "$GATEWAY_URL/v1/chat/completions" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"model": "gpt-4o", "messages": [{"role": "user", "content": "smoke"}]}'
check "GET /api/v1/config/runtime" "$GATEWAY_URL/api/v1/config/runtime" -H "Authorization: Bearer $TOKEN"
check "GET /metrics" "$GATEWAY_URL/metrics"
((FAILED == 0)) || die "smoke tests failed"
echo "Smoke tests complete"
