#!/usr/bin/env bash
# Seed 004's closing steps of "Data Restore from Backup": point the application's DATABASE_URL
# at the restored database, restart it (a new revision, as a config change rolled out is),
# verify health; then show which database its connections use.
#
# Usage: switch-database.sh <database-url>
# Contract: GATEWAY_URL, $DRILLBOOK_CTL; SERVICE_NAME (default gateway).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
NEW_URL="${1:-}"
[[ -n "$NEW_URL" ]] || die "usage: switch-database.sh <database-url>"
need_env GATEWAY_URL DRILLBOOK_CTL
log "1. update DATABASE_URL of $SERVICE to the restored database"
log "2. restart $SERVICE"
"$DRILLBOOK_CTL" deploy "$SERVICE" "DATABASE_URL=$NEW_URL" >/dev/null
rollout_status
log "3. verify application health"
DB="$(curl -fsS --max-time 5 "$GATEWAY_URL/health/readiness" | json_get db)"
[[ "$DB" == "connected" ]] || die "$SERVICE reports its database $DB"
"$DRILLBOOK_CTL" history "$SERVICE" | sed 's/postgresql:[^ ]*/<url>/g'
log "switched: $SERVICE serves from ${NEW_URL##*/}"
