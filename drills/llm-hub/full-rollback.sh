#!/usr/bin/env bash
# Seed 001, "Full Rollback with Database", steps 1-5: stop the console, dump the database
# (pre-rollback backup), run the rollback SQL, check the llm_ tables are gone, start the
# previous release, verify the old pages.
#
# "Restore old code version": the console is started with the hub flag forced off and
# schema updates disabled (general_settings.disable_prisma_schema_update), so the release
# runs as the pre-hub one and does not re-create what the rollback dropped.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL GATEWAY_CONFIG DATABASE_URL BACKUP_DIR DRILLBOOK_CTL
started=$SECONDS

log "step 1: stopping $SERVICE"
"$DRILLBOOK_CTL" stop "$SERVICE"

log "step 2: pre-rollback backup"
mkdir -p "$BACKUP_DIR"
dump="$BACKUP_DIR/pre_rollback_$(date -u +%Y%m%d_%H%M%S).dump"
pg_dump --format=custom --file="$dump.partial" "$DATABASE_URL"
contents="$(pg_restore --list "$dump.partial")"  # not piped into grep -q: SIGPIPE + pipefail
grep -q "TABLE DATA public users " <<<"$contents" \
    || die "pre-rollback dump $dump.partial has no users data: not rolling back"
mv "$dump.partial" "$dump"
log "dump: $dump ($(stat -c %s "$dump") bytes)"

log "step 3: rollback SQL"
PGOPTIONS="-c client_min_messages=warning" psql "$DATABASE_URL" -Xq -v ON_ERROR_STOP=1 --single-transaction \
    -f "$HUB_DIR/rollback_llm_management_tables.sql"
"$HUB_DIR/check-no-llm-tables.sh"

log "step 4: previous release (hub off, no schema updates)"
cp -p "$GATEWAY_CONFIG" "$GATEWAY_CONFIG.pre-full-rollback"
if grep -Eq "^[[:space:]]*$HUB_ENV:" "$GATEWAY_CONFIG"; then
    sed -i -E "s/^([[:space:]]*$HUB_ENV:).*/\1 \"false\"/" "$GATEWAY_CONFIG"
fi
if grep -Eq '^[[:space:]]+disable_prisma_schema_update:' "$GATEWAY_CONFIG"; then
    sed -i -E 's/^([[:space:]]+disable_prisma_schema_update:).*/\1 true/' "$GATEWAY_CONFIG"
else
    sed -i -E 's/^general_settings:[[:space:]]*$/&\n  disable_prisma_schema_update: true/' \
        "$GATEWAY_CONFIG"
fi
"$DRILLBOOK_CTL" start "$SERVICE"
wait_ready

log "step 5: verify"
"$HUB_DIR/verify-old-pages.sh"
log "full rollback done in $((SECONDS - started))s; pre-rollback dump kept at $dump"
