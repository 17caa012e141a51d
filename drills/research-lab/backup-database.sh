#!/usr/bin/env bash
# The nightly backup the restore drills start from: pg_dump -Fc of DATABASE_URL, with the row
# counts of the tables the restore verifies (experiments, models, datasets, configs) next to
# it, both uploaded to s3://BACKUP_BUCKET/backups/. Prints the dump's s3:// url.
# Contract: DATABASE_URL, BACKUP_DIR, BACKUP_BUCKET, AWS_*; COUNT_TABLES (space separated).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env DATABASE_URL BACKUP_DIR BACKUP_BUCKET
TABLES="${COUNT_TABLES:-experiments models datasets configs}"
NAME="nightly-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$BACKUP_DIR"
pg_dump --format=custom --dbname="$DATABASE_URL" --file="$BACKUP_DIR/$NAME.dump" >&2
: >"$BACKUP_DIR/$NAME.counts"
for table in $TABLES; do
    printf '%s %s\n' "$table" "$(psql "$DATABASE_URL" -XAtq -c "SELECT count(*) FROM $table")" \
        >>"$BACKUP_DIR/$NAME.counts"
done
python3 "$LAB_DIR/s3cp.py" "$BACKUP_DIR/$NAME.dump" "s3://$BACKUP_BUCKET/backups/$NAME.dump" >&2
python3 "$LAB_DIR/s3cp.py" "$BACKUP_DIR/$NAME.counts" "s3://$BACKUP_BUCKET/backups/$NAME.counts" >&2
rm -f "$BACKUP_DIR/$NAME.dump" "$BACKUP_DIR/$NAME.counts"   # the copy that counts is off-site
echo "s3://$BACKUP_BUCKET/backups/$NAME.dump"
