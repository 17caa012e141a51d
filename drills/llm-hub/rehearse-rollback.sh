#!/usr/bin/env bash
# Seed 001, "Testing Rollback": rehearse the whole rollback on staging without touching the
# real database. A scratch database gets the migrations and a test user, the staging console
# gets its flag disabled, the rollback SQL runs on the scratch database, the checklist is
# checked, the scratch database is dropped.
#
#   rehearse-rollback.sh        (TEST_DB: scratch database name, default unicorn_rollback_test)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL GATEWAY_CONFIG DATABASE_URL DRILLBOOK_CTL
test_db="${TEST_DB:-unicorn_rollback_test}"
[[ "$test_db" =~ ^[a-z_][a-z0-9_]*$ ]] || die "TEST_DB '$test_db' is not a plain database name"
test_url="$(database_url_for "$test_db")"
export PGOPTIONS="-c client_min_messages=warning"
declare -a checklist=()
check() { checklist+=("[x] $1"); log "ok: $1"; }

cleanup() { psql "$DATABASE_URL" -XAtq -c "DROP DATABASE IF EXISTS $test_db" >/dev/null || true; }
trap cleanup EXIT

log "test environment: database $test_db"
psql "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $test_db" \
    -c "CREATE DATABASE $test_db"
# The application's own migrate command, as the deploy runs it.
python3 -m drillbook.gateway migrate up --database-url "$test_url"
psql "$test_url" -XAtq -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO users (id, email, tier)
VALUES ('00000000-0000-4000-8000-000000000001', 'test@example.com', 'professional');
INSERT INTO llm_providers (name, provider_type) VALUES ('openai', 'openai');
INSERT INTO llm_provider_keys (provider_id, user_id, key_name, api_key_encrypted)
SELECT id, '00000000-0000-4000-8000-000000000001', 'rehearsal', 'enc:test' FROM llm_providers;
SQL

log "1. feature flag disable on staging"
"$HUB_DIR/disable-hub-flag.sh"
check "feature flag disable works; old pages load after it"

log "2. database rollback on $test_db"
psql "$test_url" -Xq -v ON_ERROR_STOP=1 --single-transaction \
    -f "$HUB_DIR/rollback_llm_management_tables.sql"
check "database rollback script executes without errors"
DATABASE_URL="$test_url" "$HUB_DIR/check-no-llm-tables.sh"
check "all LLM Hub tables dropped; no orphaned foreign key constraints"
users="$(psql "$test_url" -XAtq -c "SELECT count(*) FROM users WHERE email = 'test@example.com'")"
[[ "$users" == "1" ]] || die "the test user is gone after the rollback"
check "old data intact after rollback (test user still there)"

"$DRILLBOOK_CTL" health "$SERVICE" >/dev/null
check "service restarts cleanly"

log "3. cleanup"
cleanup
trap - EXIT
check "test database dropped"
printf '%s\n' "rollback test checklist:" "${checklist[@]}"
