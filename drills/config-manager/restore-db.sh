#!/usr/bin/env bash
# Database-only restore of the LLM Config Manager (seed 002, "Database-Only Restore"):
# drop and recreate the database, restore the newest dump (or the one given), verify counts.
set -euo pipefail

: "${DATABASE_URL:?DATABASE_URL must point at the config database}"
: "${BACKUP_DIR:?BACKUP_DIR must name the backup folder}"

backup="${1:-}"
if [[ -z "$backup" ]]; then
    backup=$(ls -1t "$BACKUP_DIR"/database-*.dump 2>/dev/null | head -n 1 || true)
fi
if [[ -z "$backup" || ! -f "$backup" ]]; then
    echo "restore-db: no database dump found in $BACKUP_DIR" >&2
    exit 1
fi
echo "restoring from $backup"
pg_restore --list "$backup" >/dev/null

db_name="${DATABASE_URL##*/}"
db_name="${db_name%%\?*}"
admin_url="${DATABASE_URL%/*}/postgres"

# FORCE ends the application's sessions, as stopping the app does in the runbook.
psql "$admin_url" -v ON_ERROR_STOP=1 -q -c "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE);"
psql "$admin_url" -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE \"$db_name\";"
# Parallel restore, as the raw runbook command does (-j): the dump is custom format.
pg_restore --no-owner --exit-on-error --jobs="${RESTORE_JOBS:-2}" --dbname="$DATABASE_URL" "$backup"

psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -At -c \
    "SELECT count(*) AS configs, count(DISTINCT namespace) AS namespaces, max(created_at) FROM configs;"
