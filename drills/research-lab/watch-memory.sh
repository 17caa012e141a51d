#!/usr/bin/env bash
# Seed 004, "Decision Matrix: memory leak causing OOM -> rollback if no quick fix (15 minutes)"
# then "Application Rollback": sample the API's resident memory over the decision window; when
# it grows on every sample, project when it reaches the memory limit and roll back to the
# previous revision before it does (no quick fix is at hand in the middle of the night).
#
# DECISION_SCALE_S is how long one runbook minute lasts (60 in production; drills shrink it).
# Usage: watch-memory.sh [REVISION]
# Contract: GATEWAY_URL, $DRILLBOOK_CTL; MEMORY_LIMIT_BYTES, DECISION_SCALE_S (60), SERVICE_NAME.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL DRILLBOOK_CTL MEMORY_LIMIT_BYTES
SCALE="${DECISION_SCALE_S:-60}"
WINDOW="$(python3 -c "print(15 * float('$SCALE'))")"   # "15 minutes"
STEP="$(python3 -c "print(max(0.2, float('$WINDOW') / 10))")"

log "sampling $SERVICE's memory for ${WINDOW}s (15 runbook minutes), every ${STEP}s"
SAMPLES=()
deadline="$(python3 -c "import time; print(time.monotonic() + float('$WINDOW'))")"
while :; do
    SAMPLES+=("$(gwmetrics rss | json_get rss_bytes)")
    python3 -c "import sys, time; sys.exit(time.monotonic() >= float('$deadline'))" || break
    sleep "$STEP"
done
# A leak: up on every sample, and at this rate the limit comes within a day (runbook time).
VERDICT="$(python3 - "$STEP" "$MEMORY_LIMIT_BYTES" "$SCALE" "${SAMPLES[@]}" <<'PY'
import sys
step, limit, scale = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
rss = [float(x) for x in sys.argv[4:]]
rate = (rss[-1] - rss[0]) / (step * (len(rss) - 1))
growing = all(b > a for a, b in zip(rss, rss[1:]))
left = (limit - rss[-1]) / rate if rate > 0 else float("inf")
leak = growing and left < 24 * 60 * scale
print(f"{'leak' if leak else 'steady'} {rss[-1]:.0f} {rate:.0f} {left:.1f}")
PY
)"
read -r KIND NOW RATE LEFT <<<"$VERDICT"
log "rss ${NOW} bytes, growing ${RATE} bytes/s, limit reached in ${LEFT}s ($KIND)"
echo "DRILLBOOK_FACT memory_growth_bytes_per_s=$RATE"
echo "DRILLBOOK_FACT seconds_to_memory_limit=$LEFT"
if [[ "$KIND" != leak ]]; then
    log "no leak heading for the limit within a day: no rollback"
    exit 0
fi
log "decision matrix: memory leak heading for OOM, no quick fix -> rollback"
exec "$(dirname "$0")/rollback-application.sh" "$@"
