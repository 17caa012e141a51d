#!/usr/bin/env bash
# Verify one Config Manager backup (seed 002, "Backup Verification"), more strictly than the
# runbook: a missing member fails instead of warning, and every member must match the SHA-256
# recorded in the manifest, the dump must be readable by pg_restore and the inner tars by tar.
#
#   verify-backup.sh BACKUP_FILE        exit 0 only when every check passes
set -euo pipefail

file="${1:?usage: verify-backup.sh BACKUP_FILE}"
min_size="${MIN_BACKUP_BYTES:-1048576}"   # the runbook's 1 MB minimum
failed=0
ok() { echo "✓ $*"; }
bad() { echo "✗ $*"; failed=1; }

[[ -f "$file" ]] || { echo "ERROR: backup file not found: $file"; exit 1; }
echo "verifying backup: $file"

if gzip -t "$file" 2>/dev/null && tar -tzf "$file" >/dev/null 2>&1; then
    ok "archive integrity"
else
    bad "archive integrity: gzip or tar cannot read $file to the end"
    echo "backup verification FAILED: $file"
    exit 1
fi

size=$(stat -c%s "$file")
if [[ "$size" -ge "$min_size" ]]; then ok "size $size bytes"; else bad "size $size bytes, below the minimum $min_size"; fi

listing=$(tar -tzf "$file")
for required in database- storage- audit- config- manifest-; do
    if grep -q "^$required" <<<"$listing"; then ok "member $required*"; else bad "missing member $required*"; fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$file" -C "$tmp"
manifest=$(ls "$tmp"/manifest-*.txt 2>/dev/null | head -n 1 || true)
if [[ -n "$manifest" ]]; then
    sums=$(sed -n 's/^member: //p' "$manifest")
    if [[ -z "$sums" ]]; then
        bad "the manifest lists no member checksums"
    elif (cd "$tmp" && sha256sum --check --quiet <<<"$sums" >/dev/null 2>&1); then
        ok "$(wc -l <<<"$sums") member checksums match the manifest"
    else
        bad "member checksums do not match the manifest"
    fi
fi
for inner in "$tmp"/storage-*.tar.gz "$tmp"/audit-*.tar.gz "$tmp"/config-*.tar.gz; do
    [[ -f "$inner" ]] || continue
    tar -tzf "$inner" >/dev/null 2>&1 || bad "$(basename "$inner") is not a readable tar"
done
for dump in "$tmp"/database-*.dump; do
    [[ -f "$dump" ]] || continue
    if pg_restore --list "$dump" >/dev/null 2>&1; then ok "database dump readable"; else bad "database dump unreadable"; fi
done

if [[ "$failed" -ne 0 ]]; then
    echo "backup verification FAILED: $file"
    exit 1
fi
echo "backup verification OK: $file"
