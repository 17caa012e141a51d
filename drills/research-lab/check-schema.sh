#!/usr/bin/env bash
# After a migration revert: the schema is the target version's, not just its record.
# Compares a fingerprint of the schema (tables, columns, types, constraints, indexes) with
# the one saved before the release (save-schema), and the highest recorded version.
#
#   check-schema.sh save FILE      fingerprint now, into FILE
#   check-schema.sh check FILE V   the fingerprint equals FILE's and _migrations says V
# Contract: DATABASE_URL.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env DATABASE_URL
fingerprint() {
    psql "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 <<'SQL'
SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_migrations'
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
ORDER BY 1;
SQL
}
case "${1:-}" in
    save) fingerprint >"$2"; log "schema fingerprint saved: $(wc -l <"$2") lines" ;;
    check)
        [[ -s "$2" ]] || die "no saved schema fingerprint at $2"
        if ! diff -u "$2" <(fingerprint) >&2; then die "schema differs from the saved one"; fi
        got="$(psql "$DATABASE_URL" -XAtq -c 'SELECT max(version) FROM _migrations WHERE success')"
        [[ "$got" == "$3" ]] || die "_migrations says version $got, expected $3"
        log "schema is version $3's" ;;
    *) die "usage: check-schema.sh save FILE | check FILE VERSION" ;;
esac
