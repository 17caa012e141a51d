#!/usr/bin/env bash
# Database-only backup of the LLM Config Manager (seed 002, "Backup Procedures").
# Writes a custom-format dump to $BACKUP_DIR and prints its path.
set -euo pipefail

: "${DATABASE_URL:?DATABASE_URL must point at the config database}"
: "${BACKUP_DIR:?BACKUP_DIR must name the backup folder}"

stamp=$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$BACKUP_DIR"
out="$BACKUP_DIR/database-$stamp.dump"

# Write under a temporary name so a cut-off dump is never taken for a good one.
pg_dump --format=custom --no-owner --file="$out.partial" "$DATABASE_URL"
mv "$out.partial" "$out"

# A dump that pg_restore cannot list is no backup.
pg_restore --list "$out" >/dev/null
echo "$out"
