#!/usr/bin/env bash
# Seed 001, "Emergency Rollback" steps 2 and 3: every old LLM page answers 200 (not a redirect
# to the hub) and the flag reports enabled false with rollout_percentage 0.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL

bad=0
for page in "${OLD_PAGES[@]}"; do
    status="$(api status "/admin/$page" 2>/dev/null || true)"
    log "/admin/$page -> ${status:-no answer}"
    [[ "$status" == "200" ]] || bad=$((bad + 1))
done

flag="$(api GET "/api/v1/features/$HUB_FLAG")"
enabled="$(json_get enabled <<<"$flag")"
rollout="$(json_get config.rollout_percentage <<<"$flag")"
log "flag $HUB_FLAG: enabled=$enabled rollout_percentage=$rollout"
[[ "$enabled" == "false" && "$rollout" == "0" ]] || { log "flag still on"; bad=$((bad + 1)); }

((bad == 0)) || die "$bad check(s) failed: the rollback is not complete"
log "old pages 200, flag off"
