#!/usr/bin/env bash
# Seed 003, "Rollback Procedure" step 3 "Restore Configuration": put back the runtime config
# (active provider, governance limits, feature flags) from a backup taken before the change,
# then verify the governance status and a real request.
#
#   restore-runtime-config.sh [BACKUP_FILE]     (default: the newest config-backup-*.json)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL BACKUP_DIR

backup="${1:-}"
if [[ -z "$backup" ]]; then
    # Newest by the timestamp in the name, not by mtime (a copy changes mtimes).
    backup="$(find "$BACKUP_DIR" -maxdepth 1 -name 'config-backup-*.json' | sort | tail -n1)"
fi
[[ -n "$backup" && -s "$backup" ]] || die "no runtime config backup in $BACKUP_DIR"
python3 -m json.tool "$backup" >/dev/null || die "$backup is not valid json"
log "restoring runtime config from $backup"

answer="$(api POST /api/v1/config/runtime "$(cat "$backup")")"
log "restored: $(json_get changes <<<"$answer")"

status="$(api GET /api/v1/governance/status | json_get status)"
[[ "$status" == "ok" ]] || die "governance status is $status after the restore"
want="$(json_get active_provider.name <"$backup")"
active="$(api GET /api/v1/providers | json_get active_provider)"
[[ "$active" == "$want" ]] || die "active provider is $active, the backup says $want"
test_request "rollback test"
log "runtime config restored from $(basename "$backup")"
