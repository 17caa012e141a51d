#!/usr/bin/env bash
# Seed 004, "Decision Matrix" then "Application Rollback": watch the API's error rate for the
# matrix's decision window and roll back when the matrix says so.
#
#   error rate > 10 % for 2 min  -> immediate rollback (done here, at once)
#   error rate >  5 % for 5 min  -> consider rollback (reported; a person decides)
#   otherwise                    -> no rollback
#
# DECISION_SCALE_S is how long one runbook minute lasts (60 in production; drills shrink it,
# and the scenario says so). Usage: decide-and-rollback.sh [REVISION]
# Contract: GATEWAY_URL, $DRILLBOOK_CTL; SERVICE_NAME, DECISION_SCALE_S (default 60).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL DRILLBOOK_CTL
SCALE="${DECISION_SCALE_S:-60}"
WINDOW="$(python3 -c "print(2 * float('$SCALE'))")"   # "for > 2 minutes"

log "watching $SERVICE for ${WINDOW}s (2 runbook minutes)"
FIGURES="$(gwmetrics window "$WINDOW")"
log "figures: $FIGURES"
DECISION="$(python3 -c '
import json, sys
f = json.loads(sys.argv[1])
rate = f["error_rate"]
if rate is None:
    sys.exit("no API requests in the window: cannot decide")
print("immediate_rollback" if rate > 0.10 else "consider_rollback" if rate > 0.05 else "none")
' "$FIGURES")"
echo "DRILLBOOK_FACT decision=$DECISION"
# The decision and its figures, for the incident record (and the drill's verification).
printf '{"decision": "%s", "figures": %s}\n' "$DECISION" "$FIGURES" \
    >"${DRILL_WORKDIR:-.}/rollback-decision.json"
case "$DECISION" in
    immediate_rollback)
        log "decision matrix: error rate > 10 % for 2 min -> immediate rollback"
        exec "$(dirname "$0")/rollback-application.sh" "$@" ;;
    consider_rollback)
        log "decision matrix: error rate > 5 % -> consider rollback; keep watching 5 min" ;;
    *)
        log "decision matrix: no rollback called for" ;;
esac
