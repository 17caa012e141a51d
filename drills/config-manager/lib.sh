# Shared by the Config Manager procedures (seed 002). Sourced, not run.
# Paths follow the drill environment contract; CM_HOME stands for the host's
# /var/lib/llm-config/data, /var/log/llm-config/audit and /etc/llm-config (data/, audit/, etc/).

: "${DATABASE_URL:?DATABASE_URL must point at the config database}"
: "${BACKUP_DIR:?BACKUP_DIR must name the backup folder}"

CM_HOME="${CM_HOME:-${DRILL_WORKDIR:?DRILL_WORKDIR or CM_HOME must be set}/llm-config}"
MIN_BACKUP_BYTES="${MIN_BACKUP_BYTES:-1048576}"   # the runbook's 1 MB minimum
CM_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

db_name() {
    local name="${DATABASE_URL##*/}"
    echo "${name%%\?*}"
}

admin_url() {
    echo "${DATABASE_URL%/*}/postgres"
}

# Backups newest first, ordered by the timestamp in their name (mtimes change on copy).
list_backups() {
    local f
    for f in "$BACKUP_DIR"/backup-*-[0-9]*-[0-9]*.tar.gz; do
        [[ -f "$f" ]] || continue
        printf '%s %s\n' "$(basename "$f" .tar.gz | grep -oE '[0-9]{8}-[0-9]{6}$')" "$f"
    done | sort -r | cut -d' ' -f2-
}

s3_enabled() {
    [[ -n "${BACKUP_BUCKET:-}" && -n "${AWS_ENDPOINT_URL:-}${AWS_ACCESS_KEY_ID:-}" ]]
}

s3() {
    python3 "$CM_HERE/s3.py" "$@"
}
