#!/usr/bin/env bash
# Data corruption detected -> "Immediate rollback + restore" (seed 004's decision matrix): the
# latest nightly backup in S3 restored into a NEW database, counts verified, then the
# application switched to it. The damaged database is left as it is, for the investigation.
#
# Usage: restore-to-new-db.sh [restore-database]
# Contract: DATABASE_URL, BACKUP_BUCKET, AWS_*, GATEWAY_URL, $DRILLBOOK_CTL.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env BACKUP_BUCKET
LATEST="$(python3 "$LAB_DIR/s3cp.py" ls "s3://$BACKUP_BUCKET/backups/nightly-" | grep '\.dump$' | sort | tail -1)"
[[ -n "$LATEST" ]] || die "no nightly backup in s3://$BACKUP_BUCKET/backups/"
log "latest backup: $LATEST"
RESTORE_URL="$("$LAB_DIR/restore-from-backup.sh" "s3://$BACKUP_BUCKET/$LATEST" "${1:-llm_research_restore}" | tee /dev/stderr | tail -1)"
"$LAB_DIR/switch-database.sh" "$RESTORE_URL"
