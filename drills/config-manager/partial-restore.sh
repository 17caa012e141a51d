#!/usr/bin/env bash
# Restore one namespace of configs from a backup (seed 002, "Partial Restore"), leaving every
# other namespace as it is now.
#
#   partial-restore.sh --namespace NS [BACKUP_FILE]     default: the newest local backup
#
# The backup's dump goes into a temporary database; the namespace's rows replace the live ones
# in one transaction (the runbook's plain COPY would fail on the rows that survived, or
# duplicate them); the id sequence is moved past the restored ids; the temp database is dropped.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

namespace=""; backup=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --namespace) namespace="${2:?}"; shift 2 ;;
        -*) die "unknown option $1" ;;
        *) backup="$1"; shift ;;
    esac
done
[[ "$namespace" =~ ^[A-Za-z0-9_.-]+$ ]] || die "give --namespace NAME (letters, digits, _ . -)"
[[ -n "$backup" ]] || backup=$(list_backups | head -n 1)
[[ -n "$backup" ]] || die "no backup found in $BACKUP_DIR"
"$CM_HERE/verify-backup.sh" "$backup" >&2 || die "$backup fails verification; refusing it"

tmp=$(mktemp -d "$BACKUP_DIR/.partial.XXXXXX")
temp_db="partial_restore_$$"
temp_url="${DATABASE_URL%/*}/$temp_db"
cleanup() {
    psql "$(admin_url)" -q -c "DROP DATABASE IF EXISTS \"$temp_db\" WITH (FORCE);" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

log "1. restoring $backup into temporary database $temp_db"
tar -xzf "$backup" -C "$tmp" --wildcards 'database-*.dump'
psql "$(admin_url)" -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE \"$temp_db\";"
pg_restore --no-owner --exit-on-error --dbname="$temp_url" "$tmp"/database-*.dump

log "2. exporting namespace $namespace"
csv="$tmp/$namespace-configs.csv"
psql "$temp_url" -v ON_ERROR_STOP=1 -q \
    -c "\\copy (SELECT * FROM configs WHERE namespace = '$namespace' ORDER BY id) TO '$csv' CSV HEADER"
rows=$(($(wc -l <"$csv") - 1))
[[ "$rows" -gt 0 ]] || die "the backup has no configs in namespace $namespace"

log "3. replacing namespace $namespace in production ($rows rows)"
psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q --single-transaction \
    -c "DELETE FROM configs WHERE namespace = '$namespace'" \
    -c "\\copy configs FROM '$csv' CSV HEADER" \
    -c "SELECT setval(pg_get_serial_sequence('configs', 'id'), (SELECT max(id) FROM configs))"

now=$(psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -At -c "SELECT count(*) FROM configs WHERE namespace = '$namespace'")
[[ "$now" == "$rows" ]] || die "namespace $namespace has $now rows after the restore, the backup had $rows"
log "namespace $namespace restored: $rows rows from $backup"
