#!/usr/bin/env bash
# Seed 004, "Feature Flag Rollback": disable the flag through the flags API at once; when the
# deployment's environment pins the flag (the seed's "Or via ConfigMap": FEATURE_<NAME> in the
# ConfigMap), the API change does not take, so set FEATURE_<NAME>=false in the deployment (a
# new revision) and restart. Either way, check the flag as the API now serves it.
#
# Usage: disable-feature-flag.sh FLAG
# Contract: GATEWAY_URL, $DRILLBOOK_CTL; SERVICE_NAME.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL DRILLBOOK_CTL
FLAG="${1:-}"
[[ "$FLAG" =~ ^[a-z0-9_]+$ ]] || die "usage: disable-feature-flag.sh FLAG (e.g. unified_llm_hub)"
ENV_NAME="FEATURE_${FLAG^^}"

log "disabling $FLAG through the flags API"
ANSWER="$(curl -fsS --max-time 10 -X PUT -H 'Content-Type: application/json' \
    -d '{"enabled": false, "rollout_percentage": 0}' "$GATEWAY_URL/api/v1/features/$FLAG")"
if [[ "$(json_get overridden_by_environment <<<"$ANSWER")" == "true" ]]; then
    log "$ENV_NAME pins the flag in the deployment: setting it to false there"
    "$DRILLBOOK_CTL" deploy "$SERVICE" "$ENV_NAME=false"
    rollout_status
fi
STATE="$(curl -fsS --max-time 5 "$GATEWAY_URL/api/v1/features/$FLAG")"
log "flag now: $STATE"
[[ "$(json_get enabled <<<"$STATE")" == "false" ]] || die "$FLAG is still enabled"
echo "DRILLBOOK_FACT flag_disabled=$FLAG"
