#!/usr/bin/env bash
# Point-in-time recovery of the Config Manager database (seed 002, "Point-in-Time Recovery",
# and "Differential Backup" for the base backup), the PostgreSQL 12+ way: recovery.signal and
# recovery_target_* settings instead of the runbook's recovery.conf, which PG 12 refuses.
#
#   pitr.sh base-backup                  pg_basebackup into $BACKUP_DIR/base/base-<stamp>/
#   pitr.sh recover --target-time TIME [--base DIR]
#                                        restore the newest base backup (or DIR) and replay the
#                                        WAL archive up to TIME, then promote
#
# Needs WAL archiving (WAL_ARCHIVE_DIR). The server is swapped through $DRILLBOOK_CTL
# (replace-data-dir stops it, puts the prepared data dir in place and starts it);
# PITR_SERVICE names the postgres service (default db).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

service="${PITR_SERVICE:-db}"
base_root="$BACKUP_DIR/base"

base_backup() {
    local stamp dir
    stamp=$(date -u +%Y%m%d-%H%M%S)
    dir="$base_root/base-$stamp"
    mkdir -p "$base_root"
    # -X fetch puts the WAL the backup needs inside it: it is consistent on its own.
    pg_basebackup --dbname="$DATABASE_URL" --pgdata="$dir.partial" --format=tar --gzip \
        --wal-method=fetch --checkpoint=fast --label="pitr-$stamp" >&2
    mv "$dir.partial" "$dir"
    log "base backup: $dir"
    echo "$dir"
}

# Make sure every WAL record written so far is in the archive: the segment being written
# when the incident happened is not archived until it is switched.
archive_current_wal() {
    local segment archived
    segment=$(psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -At -c \
        "SELECT pg_walfile_name(pg_switch_wal())") || {
        log "warning: server unreachable; recovering with what the archive already has"
        return 0
    }
    for _ in $(seq 1 100); do
        archived=$(psql "$DATABASE_URL" -At -c "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
        # Same timeline, so names order like positions in the WAL.
        if [[ -n "$archived" && ! "$archived" < "$segment" ]]; then
            log "WAL archived up to $archived"
            return 0
        fi
        sleep 0.1
    done
    die "segment $segment did not reach the WAL archive in 10 s (last archived: ${archived:-none})"
}

recover() {
    local target="" base="" dir
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --target-time) target="${2:?}"; shift 2 ;;
            --base) base="${2:?}"; shift 2 ;;
            *) die "unknown argument $1" ;;
        esac
    done
    [[ -n "$target" ]] || die "give --target-time 'YYYY-MM-DD HH:MM:SS+00' (just before the incident)"
    : "${WAL_ARCHIVE_DIR:?WAL_ARCHIVE_DIR must name the WAL archive (wal_archive: true)}"
    : "${DRILLBOOK_CTL:?DRILLBOOK_CTL is needed to swap the data directory}"
    [[ -n "$base" ]] || base=$(ls -1d "$base_root"/base-* 2>/dev/null | grep -v "\.partial$" | sort | tail -n 1 || true)
    [[ -n "$base" && -f "$base/base.tar.gz" ]] || die "no base backup in $base_root"
    log "recovering to $target from $base"

    archive_current_wal

    dir="$BACKUP_DIR/pitr-$(date -u +%Y%m%d-%H%M%S)"
    mkdir -p "$dir"
    tar -xzf "$base/base.tar.gz" -C "$dir"
    chmod 700 "$dir"
    cat >> "$dir/postgresql.auto.conf" <<CONF
# pitr.sh: replay the archive up to just before the incident, then open for writes
restore_command = 'cp "$WAL_ARCHIVE_DIR/%f" "%p"'
recovery_target_time = '$target'
recovery_target_action = 'promote'
CONF
    touch "$dir/recovery.signal"

    "$DRILLBOOK_CTL" replace-data-dir "$service" "$dir" >&2
    for _ in $(seq 1 300); do
        if [[ $(psql "$DATABASE_URL" -At -c "SELECT pg_is_in_recovery()" 2>/dev/null) == f ]]; then
            break
        fi
        sleep 0.1
    done
    [[ $(psql "$DATABASE_URL" -At -c "SELECT pg_is_in_recovery()") == f ]] \
        || die "the server is still in recovery after 30 s"
    # What was asked for and what was reached: the commit time of the last replayed transaction.
    echo "DRILLBOOK_FACT pitr.target_time=$target"
    echo "DRILLBOOK_FACT pitr.recovered_to=$(psql "$DATABASE_URL" -At -c \
        "SELECT coalesce(pg_last_xact_replay_timestamp()::text, 'unknown')")"
    # The targets must not apply to a later recovery (a crash restart, the next PITR).
    psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q \
        -c "ALTER SYSTEM RESET recovery_target_time" \
        -c "ALTER SYSTEM RESET recovery_target_action" \
        -c "ALTER SYSTEM RESET restore_command" \
        -c "SELECT pg_reload_conf()" >/dev/null
    rm -rf "$dir"
    psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -At -c \
        "SELECT 'recovered: ' || count(*) || ' configs, latest ' || coalesce(max(created_at)::text, '-') FROM configs"
}

case "${1:-}" in
    base-backup) shift; base_backup "$@" ;;
    recover) shift; recover "$@" ;;
    *) die "usage: pitr.sh base-backup | recover --target-time TIME [--base DIR]" ;;
esac
