#!/usr/bin/env bash
# Seed 004, "Schema Migration Rollback" (rollback-migration.sh): a pre-rollback backup
# (pg_dump, uploaded to S3 under migrations/), then revert the migrations down to a target
# version (sqlx migrate revert --target-version; here the team's migration tool,
# `python -m drillbook.gateway migrate down --to`), then show the migration state.
#
# Usage: rollback-migration.sh <version>
# Contract: DATABASE_URL, BACKUP_DIR, BACKUP_BUCKET, AWS_*; MIGRATION_SOURCES (colon-separated
# migration directories, the release's last).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MIGRATION_VERSION="${1:-}"
if [[ -z "$MIGRATION_VERSION" ]]; then
    echo "Usage: rollback-migration.sh <version>"
    echo "Example: rollback-migration.sh 3"
    exit 1
fi
need_env DATABASE_URL BACKUP_DIR BACKUP_BUCKET MIGRATION_SOURCES
SOURCES=()
IFS=: read -ra DIRS <<<"$MIGRATION_SOURCES"
for dir in "${DIRS[@]}"; do SOURCES+=(--source "$dir"); done
migrate() { python3 -m drillbook.gateway migrate "$@" --database-url "$DATABASE_URL" "${SOURCES[@]}"; }

log "=== DATABASE MIGRATION ROLLBACK ==="
log "target version: $MIGRATION_VERSION"
# Step 1: pre-rollback backup, kept locally and in S3
BACKUP_NAME="pre-rollback-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$BACKUP_DIR"
log "creating backup: $BACKUP_NAME"
pg_dump --dbname="$DATABASE_URL" --file="$BACKUP_DIR/$BACKUP_NAME.sql"
python3 "$LAB_DIR/s3cp.py" "$BACKUP_DIR/$BACKUP_NAME.sql" "s3://$BACKUP_BUCKET/migrations/$BACKUP_NAME.sql"
log "backup uploaded to S3"
echo "DRILLBOOK_FACT pre_rollback_backup=s3://$BACKUP_BUCKET/migrations/$BACKUP_NAME.sql"
# Step 2: revert
log "rolling back to version $MIGRATION_VERSION"
migrate down --to "$MIGRATION_VERSION"
# Step 3: the migration state now
log "current migration state:"
migrate status
log "=== MIGRATION ROLLBACK COMPLETE ==="
