#!/usr/bin/env bash
# Corrupted configuration file (seed 000, "Scenario 3"): confirm the deployed file is corrupt,
# take the newest backup that verifies (the newest may be corrupt too: a backup copied from a
# half-written file), restore it, restart, health within 30 s.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env GATEWAY_CONFIG GATEWAY_URL BACKUP_DIR DRILLBOOK_CTL

# 1. Verify the corruption: a valid file means this is another scenario (1 or 2).
if "$LC_DIR/verify-backup.sh" "$GATEWAY_CONFIG" >/dev/null; then
    die "$GATEWAY_CONFIG verifies: not a corrupted file (see Scenario 1 or 2)"
fi
log "confirmed: $GATEWAY_CONFIG is corrupt"

# 2-3. Newest backup first, each verified before it is trusted.
chosen=""
while IFS= read -r candidate; do
    if "$LC_DIR/verify-backup.sh" "$candidate" >/dev/null; then
        chosen="$candidate"
        break
    fi
    log "skipping ${candidate##*/}: does not verify"
done < <(list_backups)
[[ -n "$chosen" ]] || die "no valid backup in $BACKUP_DIR: regenerate from source (Scenario 4)"

# 4-5. Restore, restart, health.
log "restoring ${chosen##*/}"
install_config "$chosen"
restart_service
wait_healthy "$(sha256_of "$chosen")"
log "recovered from ${chosen##*/}"
fact restored_backup "${chosen##*/}"
