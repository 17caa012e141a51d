#!/usr/bin/env bash
# Roll back to the backup from before a degradation (seed 000, "Scenario 2: Gradual
# Performance Degradation"): the newest backup taken at or before the change, chosen by the
# timestamp in its name, verified, restored, service restarted, health within 30 s.
#
#   rollback-to-before.sh [--before YYYYmmdd_HHMMSS]
#
# --before defaults to when the deployed config last changed (its mtime, UTC): the runbook's
# "check current configuration date". Backups taken after that are copies of the bad config.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env GATEWAY_CONFIG GATEWAY_URL BACKUP_DIR DRILLBOOK_CTL

before=""
while (( $# )); do
    case "$1" in
        --before) before="${2:?--before needs YYYYmmdd_HHMMSS}"; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) die "unknown argument $1" ;;
    esac
    shift
done
if [[ -z "$before" ]]; then
    before="$(date -u -r "$GATEWAY_CONFIG" +%Y%m%d_%H%M%S)"
    log "deployed config changed at $before (UTC): looking for a backup from before it"
fi
[[ "$before" =~ ^[0-9]{8}_[0-9]{6}$ ]] || die "--before '$before' is not YYYYmmdd_HHMMSS"

chosen=""
while IFS= read -r candidate; do
    stamp="${candidate##*/"$BACKUP_PREFIX"}"
    if [[ "$stamp" > "$before" ]]; then
        log "skipping $stamp: taken after the change"
        continue
    fi
    if "$LC_DIR/verify-backup.sh" "$candidate" >/dev/null; then
        chosen="$candidate"
        break
    fi
    log "skipping $stamp: does not verify"
done < <(list_backups)
[[ -n "$chosen" ]] || die "no valid backup from before $before in $BACKUP_DIR"

log "restoring $chosen"
install_config "$chosen"
restart_service
wait_healthy "$(sha256_of "$chosen")"
log "rolled back to ${chosen##*/}"
fact change_time "$before"
fact restored_backup "${chosen##*/}"
