#!/usr/bin/env bash
# Seed 001, "Post-Rollback Actions" 3 (data reconciliation): no llm_ table is left and no
# constraint still references one. Exit 1, naming what is left, otherwise.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env DATABASE_URL

left="$(psql "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c "
    SELECT string_agg(table_name, ', ' ORDER BY table_name) FROM information_schema.tables
    WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
      AND table_name LIKE 'llm\_%'")"
orphans="$(psql "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c "
    SELECT string_agg(conname, ', ' ORDER BY conname) FROM pg_constraint
    WHERE confrelid IN (SELECT oid FROM pg_class WHERE relname LIKE 'llm\_%')
       OR conrelid IN (SELECT oid FROM pg_class WHERE relname LIKE 'llm\_%')")"
[[ -z "$left" ]] || die "llm_ tables still present: $left"
[[ -z "$orphans" ]] || die "constraints still on llm_ tables: $orphans"
log "no llm_ tables, no constraints referencing them"
