#!/usr/bin/env bash
# Post-restore verification of the LLM Config Manager (seed 002, "Restore Verification").
#
#   post-restore-verify.sh [--manifest MANIFEST | --archive BACKUP_FILE] [--db-only]
#
# Database reachable, configs present, and, given the backup's manifest, every table's row
# count equal to the backup's and every backed-up file present with the same SHA-256.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

manifest=""; archive=""; db_only=no
while [[ $# -gt 0 ]]; do
    case "$1" in
        --manifest) manifest="${2:?}"; shift 2 ;;
        --archive) archive="${2:?}"; shift 2 ;;
        --db-only) db_only=yes; shift ;;
        *) die "unknown argument $1" ;;
    esac
done
if [[ -n "$archive" ]]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    tar -xzf "$archive" -C "$tmp" --wildcards 'manifest-*.txt'
    manifest=$(ls "$tmp"/manifest-*.txt)
fi

failed=0
echo "Post-Restore Verification"
if psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -At -c "SELECT 1" >/dev/null; then
    echo "✓ database connection OK"
else
    echo "✗ database connection failed"; exit 1
fi

summary=$(psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -At -F ' ' -c \
    "SELECT count(*), count(DISTINCT namespace), coalesce(max(created_at)::text, '-') FROM configs" 2>&1) \
    || { echo "✗ configs unreadable: $summary"; exit 1; }
read -r count namespaces latest <<<"$summary"
if [[ "$count" -gt 0 ]]; then
    echo "✓ $count configs in $namespaces namespaces, latest $latest"
else
    echo "✗ no configuration found"; failed=1
fi

if [[ -n "$manifest" ]]; then
    while read -r _ table expected; do
        actual=$(psql "$DATABASE_URL" -At -c "SELECT count(*) FROM $table" 2>/dev/null || echo missing)
        if [[ "$actual" == "$expected" ]]; then
            echo "✓ $table: $actual rows, as backed up"
        else
            echo "✗ $table: $actual rows, the backup had $expected"; failed=1
        fi
    done < <(grep '^rows: ' "$manifest")
    if [[ "$db_only" != yes ]]; then
        # Storage and config must equal the backup; audit logs only exist (they grow).
        sums=$(sed -n 's/^file: //p' "$manifest" | grep -v '  audit/' || true)
        if (cd "$CM_HOME" && sha256sum --check --quiet <<<"$sums"); then
            echo "✓ $(wc -l <<<"$sums") storage and config files match the backup"
        else
            echo "✗ restored files differ from the backup"; failed=1
        fi
        missing=0
        while read -r _ path; do
            [[ -f "$CM_HOME/$path" ]] || { echo "✗ audit log $path missing"; missing=1; failed=1; }
        done < <(sed -n 's/^file: //p' "$manifest" | grep '  audit/' || true)
        [[ "$missing" -eq 0 ]] && echo "✓ every backed-up audit log is present"
    fi
fi

[[ "$failed" -eq 0 ]] || { echo "post-restore verification FAILED"; exit 1; }
echo "post-restore verification OK"
