#!/usr/bin/env bash
# Complete backup of the LLM Config Manager (seed 002, "Complete System Backup").
#
#   backup.sh [--tier manual|hourly|daily|weekly|monthly] [--no-upload]
#
# One archive $BACKUP_DIR/backup-<tier>-<stamp>.tar.gz holding the database dump (pg_dump -Fc),
# the file storage, the audit logs, the config files and a manifest with row counts and a
# SHA-256 per member and per file. The archive is verified before it counts as a backup, then
# copied to S3 when BACKUP_BUCKET is set. Prints the archive's path on stdout.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

tier=manual
upload=yes
while [[ $# -gt 0 ]]; do
    case "$1" in
        --tier) tier="${2:?--tier needs a value}"; shift 2 ;;
        --no-upload) upload=no; shift ;;
        *) die "unknown argument $1 (usage: backup.sh [--tier T] [--no-upload])" ;;
    esac
done
[[ "$tier" =~ ^(manual|hourly|daily|weekly|monthly)$ ]] || die "unknown tier $tier"
for part in data audit etc; do
    [[ -d "$CM_HOME/$part" ]] || die "$CM_HOME/$part does not exist: nothing to back up"
done

mkdir -p "$BACKUP_DIR"
stamp=$(date -u +%Y%m%d-%H%M%S)
# Never overwrite a backup: two runs in one second wait for the next stamp.
while [[ -e "$BACKUP_DIR/backup-$tier-$stamp.tar.gz" ]]; do
    sleep 0.2
    stamp=$(date -u +%Y%m%d-%H%M%S)
done
archive="$BACKUP_DIR/backup-$tier-$stamp.tar.gz"
work=$(mktemp -d "$BACKUP_DIR/.work-$stamp.XXXXXX")
trap 'rm -rf "$work"' EXIT

log "backing up the database"
# The dump and the manifest's row counts come from one snapshot: the application keeps
# writing during the backup, and counts taken a moment later would not match the dump.
# psql holds the snapshot open while pg_dump (run from psql via \!) reads through it.
export CM_DUMP_FILE="$work/database-$stamp.dump" CM_DUMP_FAILED="$work/dump.failed"
psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -At >"$work/rows.txt" <<'SQL'
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT pg_export_snapshot() AS snapshot \gset
\setenv CM_SNAPSHOT :snapshot
\! pg_dump --format=custom --no-owner --snapshot="$CM_SNAPSHOT" --file="$CM_DUMP_FILE" "$DATABASE_URL" || touch "$CM_DUMP_FAILED"
SELECT format('SELECT %L || '' '' || count(*) FROM %I.%I', format('%I.%I', schemaname, relname), schemaname, relname)
FROM pg_stat_user_tables ORDER BY schemaname, relname \gexec
COMMIT;
SQL
[[ ! -e "$CM_DUMP_FAILED" && -s "$CM_DUMP_FILE" ]] || die "pg_dump failed; no backup written"
log "backing up file storage, audit logs and configuration"
tar -C "$CM_HOME" -czf "$work/storage-$stamp.tar.gz" data
tar -C "$CM_HOME" -czf "$work/audit-$stamp.tar.gz" audit
tar -C "$CM_HOME" -czf "$work/config-$stamp.tar.gz" etc

members=("database-$stamp.dump" "storage-$stamp.tar.gz" "audit-$stamp.tar.gz" "config-$stamp.tar.gz")
{
    echo "Backup Date: $stamp"
    echo "Tier: $tier"
    echo "Database: database-$stamp.dump"
    echo "Storage: storage-$stamp.tar.gz"
    echo "Audit Logs: audit-$stamp.tar.gz"
    echo "Configuration: config-$stamp.tar.gz"
    # Exact row counts as of the dump, so a restore can be checked against the backup.
    sed 's/^/rows: /' "$work/rows.txt"
    (cd "$work" && sha256sum "${members[@]}") | sed 's/^/member: /'
    (cd "$CM_HOME" && find data audit etc -type f -print0 | sort -z | xargs -0 -r sha256sum) | sed 's/^/file: /'
} > "$work/manifest-$stamp.txt"
members+=("manifest-$stamp.txt")

log "creating $archive"
tar -C "$work" -czf "$archive.partial" "${members[@]}"
mv "$archive.partial" "$archive"

"$(dirname "$0")/verify-backup.sh" "$archive" >&2

if [[ "$upload" == yes ]] && s3_enabled; then
    log "uploading to S3 bucket $BACKUP_BUCKET"
    s3 put "$archive" >&2
fi
log "backup completed: $archive ($(stat -c%s "$archive") bytes)"
echo "$archive"
