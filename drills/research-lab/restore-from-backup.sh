#!/usr/bin/env bash
# Seed 004, "Data Restore from Backup" (restore-from-backup.sh): download the backup when it is
# an s3:// url, create the restore database (dropping an old one), restore into it, verify.
# Verification goes beyond the seed's displayed counts: the counts must equal those recorded
# with the backup (<backup>.counts), when there is such a file.
#
# Usage: restore-from-backup.sh <backup-file|s3-url> [restore-database]
# Contract: DATABASE_URL, AWS_* (for s3://); DRILL_WORKDIR or /tmp for the download.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BACKUP_FILE="${1:-}"
RESTORE_DATABASE="${2:-llm_research_restore}"
if [[ -z "$BACKUP_FILE" ]]; then
    echo "Usage: restore-from-backup.sh <backup-file> [restore-database]"
    exit 1
fi
need_env DATABASE_URL
[[ "$RESTORE_DATABASE" =~ ^[a-z_][a-z0-9_]*$ ]] || die "bad database name $RESTORE_DATABASE"

log "=== DATABASE RESTORE ==="
log "backup file: $BACKUP_FILE"
log "restore to: $RESTORE_DATABASE"
# Step 1: download the backup if it is in S3
COUNTS=""
if [[ "$BACKUP_FILE" == s3://* ]]; then
    LOCAL_FILE="${DRILL_WORKDIR:-/tmp}/$(basename "$BACKUP_FILE")"
    python3 "$LAB_DIR/s3cp.py" "$BACKUP_FILE" "$LOCAL_FILE"
    if python3 "$LAB_DIR/s3cp.py" ls "${BACKUP_FILE%.dump}.counts" | grep -q .; then
        COUNTS="${LOCAL_FILE%.dump}.counts"
        python3 "$LAB_DIR/s3cp.py" "${BACKUP_FILE%.dump}.counts" "$COUNTS"
    fi
    BACKUP_FILE="$LOCAL_FILE"
fi
# Step 2: create the restore database
psql "$DATABASE_URL" -Xq -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $RESTORE_DATABASE;"
psql "$DATABASE_URL" -Xq -v ON_ERROR_STOP=1 -c "CREATE DATABASE $RESTORE_DATABASE;"
# Step 3: restore (a custom-format dump, else a plain SQL one)
RESTORE_URL="$(python3 -c '
import sys
from urllib.parse import urlsplit, urlunsplit
u = urlsplit(sys.argv[1])
print(urlunsplit(u._replace(path="/" + sys.argv[2])))
' "$DATABASE_URL" "$RESTORE_DATABASE")"
if pg_restore --list "$BACKUP_FILE" >/dev/null 2>&1; then
    pg_restore --exit-on-error --no-owner -d "$RESTORE_URL" "$BACKUP_FILE"
else
    psql "$RESTORE_URL" -Xq -v ON_ERROR_STOP=1 -f "$BACKUP_FILE"
fi
# Step 4: verify
log "verifying restore"
if [[ -n "$COUNTS" ]]; then
    while read -r table want; do
        got="$(psql "$RESTORE_URL" -XAtq -c "SELECT count(*) FROM $table")"
        log "  $table: $got (backup: $want)"
        [[ "$got" == "$want" ]] || die "$table has $got rows, the backup had $want"
    done <"$COUNTS"
else
    for table in experiments models datasets; do
        log "  $table: $(psql "$RESTORE_URL" -XAtq -c "SELECT count(*) FROM $table")"
    done
fi
echo "DRILLBOOK_FACT restore_database=$RESTORE_DATABASE"
log "=== RESTORE COMPLETE ==="
echo "$RESTORE_URL"
