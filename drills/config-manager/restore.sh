#!/usr/bin/env bash
# Complete restore of the LLM Config Manager (seed 002, "Complete System Restore").
#
#   restore.sh --yes [--db-only] [--newest-valid | --from-s3 [NAME] | BACKUP_FILE]
#
# Which backup: the file given; --from-s3 downloads NAME (default: the newest in the bucket);
# --newest-valid takes the newest local backup that passes verification; default: the newest
# local backup. A backup that fails verify-backup.sh is refused before anything is touched.
# Then: stop the app (APP_SERVICE, if any), safety backup of the current state, restore the
# database, file storage, configuration and audit logs, start the app, health, post-restore
# verification against the manifest. --yes replaces the runbook's two interactive prompts.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

yes=no; db_only=no; source_kind=local; s3_name=""; backup=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --yes) yes=yes; shift ;;
        --db-only) db_only=yes; shift ;;
        --newest-valid) source_kind=newest-valid; shift ;;
        --from-s3)
            source_kind=s3; shift
            if [[ $# -gt 0 && "$1" != --* ]]; then s3_name="$1"; shift; fi ;;
        -*) die "unknown option $1" ;;
        *) backup="$1"; shift ;;
    esac
done

if [[ "$yes" != yes ]]; then
    [[ -t 0 ]] || die "this overwrites the database and files; pass --yes to run unattended"
    read -r -p "This will OVERWRITE existing data. Continue? (yes/no): " answer
    [[ "$answer" == yes ]] || { echo "restore cancelled"; exit 0; }
fi

# 1. Identify the backup, and verify it before anything is touched.
mkdir -p "$BACKUP_DIR"
case "$source_kind" in
    s3)
        s3_enabled || die "--from-s3 needs BACKUP_BUCKET and AWS credentials"
        [[ -n "$s3_name" ]] || s3_name=$(s3 latest)
        log "downloading $s3_name from s3://$BACKUP_BUCKET"
        backup=$(s3 get "$s3_name" "$BACKUP_DIR")
        ;;
    newest-valid)
        backup=""
        while read -r candidate; do
            if "$CM_HERE/verify-backup.sh" "$candidate" >&2; then backup="$candidate"; break; fi
            log "skipping $candidate: it fails verification"
        done < <(list_backups)
        [[ -n "$backup" ]] || die "no local backup in $BACKUP_DIR passes verification"
        ;;
    local)
        [[ -n "$backup" ]] || backup=$(list_backups | head -n 1)
        [[ -n "$backup" ]] || die "no backup found in $BACKUP_DIR"
        ;;
esac
log "restoring from $backup"
if ! "$CM_HERE/verify-backup.sh" "$backup" >&2; then
    log "REFUSED: $backup fails verification; nothing was changed"
    exit 3
fi

# 2. Stop the application so nothing writes during the restore.
if [[ -n "${APP_SERVICE:-}" ]]; then
    log "stopping $APP_SERVICE"
    "$DRILLBOOK_CTL" stop "$APP_SERVICE" >&2
fi

# 3. Safety backup of the current state, even if it is broken.
stamp=$(date -u +%Y%m%d-%H%M%S)
safety="$BACKUP_DIR/safety/safety-$stamp"
mkdir -p "$safety"
pg_dump --format=custom --no-owner --file="$safety/database.dump" "$DATABASE_URL" \
    || log "warning: could not dump the current database for the safety backup"
tar -C "$CM_HOME" -czf "$safety/files.tar.gz" data audit etc 2>/dev/null \
    || log "warning: the current files are incomplete in the safety backup"
log "safety backup: $safety"

# 4. Extract and show the manifest.
tmp=$(mktemp -d "$BACKUP_DIR/.restore-$stamp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$backup" -C "$tmp"
manifest=$(ls "$tmp"/manifest-*.txt)
grep -v -E '^(member|file): ' "$manifest" >&2

# 5. Database: drop, recreate, restore. FORCE ends sessions the stopped app left behind.
db=$(db_name)
log "restoring database $db"
psql "$(admin_url)" -v ON_ERROR_STOP=1 -q -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE);"
psql "$(admin_url)" -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE \"$db\";"
# Parallel restore: the custom-format dump allows it; RESTORE_JOBS=1 for a tiny host.
pg_restore --no-owner --exit-on-error --jobs="${RESTORE_JOBS:-2}" --dbname="$DATABASE_URL" "$tmp"/database-*.dump

if [[ "$db_only" != yes ]]; then
    # 6. File storage: replaced whole, so nothing written since the backup lingers.
    log "restoring file storage"
    rm -rf "$CM_HOME/data"
    mkdir -p "$CM_HOME"
    tar -xzf "$tmp"/storage-*.tar.gz -C "$CM_HOME"
    # 7. Configuration files.
    log "restoring configuration"
    rm -rf "$CM_HOME/etc"
    tar -xzf "$tmp"/config-*.tar.gz -C "$CM_HOME"
    # 8. Audit logs are append-only: bring back the missing ones, never overwrite a live log
    #    (it holds everything the backup has, plus what was written since).
    log "restoring audit logs"
    mkdir -p "$CM_HOME/audit"
    tar -xzf "$tmp"/audit-*.tar.gz -C "$CM_HOME" --skip-old-files
fi

# 9-11. Start the application and wait for health (the runbook waits 15 s, then checks once).
if [[ -n "${APP_SERVICE:-}" ]]; then
    log "starting $APP_SERVICE"
    "$DRILLBOOK_CTL" start "$APP_SERVICE" >&2
    for _ in $(seq 1 60); do
        "$DRILLBOOK_CTL" health "$APP_SERVICE" >/dev/null 2>&1 && break
        sleep 0.5
    done
    "$DRILLBOOK_CTL" health "$APP_SERVICE" >&2 || die "$APP_SERVICE is not healthy after the restore"
fi

# 12. Verify the restore against what the backup recorded.
verify_args=(--manifest "$manifest")
[[ "$db_only" == yes ]] && verify_args+=(--db-only)
"$CM_HERE/post-restore-verify.sh" "${verify_args[@]}" >&2
taken=$(sed -n 's/^Backup Date: //p' "$manifest")
taken_epoch=$(date -u -d "${taken:0:8} ${taken:9:2}:${taken:11:2}:${taken:13:2}" +%s)
log "recovery point: backup of $taken UTC, $(( $(date -u +%s) - taken_epoch )) s before this restore ended"
log "restore completed from $backup; safety backup kept at $safety until the restore is verified"
echo "$backup"
