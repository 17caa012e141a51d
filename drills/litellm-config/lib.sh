# Shared helpers of the LiteLLM config procedures (seed 000). Sourced, never run.
# Contract: GATEWAY_CONFIG (deployed file), GATEWAY_URL, BACKUP_DIR, $DRILLBOOK_CTL.
# shellcheck shell=bash

LC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICE="${SERVICE_NAME:-gateway}"
HEALTH_PATH="${HEALTH_PATH:-/health/readiness}"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-30}"   # the runbook's 30 s health window
BACKUP_PREFIX="litellm.yaml.backup-"

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }
# A fact for the drill report (a plain line anywhere else).
fact() { printf 'DRILLBOOK_FACT %s=%s\n' "$1" "$2"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_env() {
    local name
    for name in "$@"; do
        [[ -n "${!name:-}" ]] || die "$name is not set (see the runbook's environment)"
    done
}

# Newest first by the timestamp in the name (mtimes lie after a copy or a restore).
list_backups() {
    local f
    for f in "$BACKUP_DIR"/"$BACKUP_PREFIX"*; do
        [[ -f "$f" ]] && printf '%s\n' "$f"
    done | sort -r
}

new_backup_name() {
    local out
    out="$BACKUP_DIR/$BACKUP_PREFIX$(date -u +%Y%m%d_%H%M%S)"
    while [[ -e "$out" ]]; do  # two backups in one second: wait for the next name
        sleep 0.2
        out="$BACKUP_DIR/$BACKUP_PREFIX$(date -u +%Y%m%d_%H%M%S)"
    done
    printf '%s\n' "$out"
}

# Copy the deployed config to a new timestamped backup; print its path.
make_backup() {
    mkdir -p "$BACKUP_DIR"
    local out
    out="$(new_backup_name)"
    cp -p "$GATEWAY_CONFIG" "$out"
    printf '%s\n' "$out"
}

# Put FILE in place atomically: the service never reads half a file.
install_config() {
    local tmp="$GATEWAY_CONFIG.deploying.$$"
    cp "$1" "$tmp"
    mv -f "$tmp" "$GATEWAY_CONFIG"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# 0 when GATEWAY_URL answers HEALTH_PATH with 200 and serves the config with sha256 $1 (if
# given). Prints what it saw.
health_once() {
    python3 - "$GATEWAY_URL" "$HEALTH_PATH" "${1:-}" <<'PY'
import json, sys, urllib.error, urllib.request
url, path, want = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
try:
    with urllib.request.urlopen(url + path, timeout=2) as r:
        status = r.status
    if want:
        with urllib.request.urlopen(url + "/version", timeout=2) as r:
            served = json.load(r).get("config_sha256", "")
        if served != want:
            print(f"healthy but serving config {served[:12]}, not {want[:12]}")
            sys.exit(1)
except urllib.error.HTTPError as exc:
    print(f"status {exc.code}")
    sys.exit(1)
except OSError as exc:
    print(f"no answer: {getattr(exc, 'reason', exc)}")
    sys.exit(1)
print(f"status {status}")
PY
}

# Wait up to HEALTH_TIMEOUT seconds for health (and the config sha256 $1, if given).
wait_healthy() {
    local want="${1:-}" deadline=$((SECONDS + HEALTH_TIMEOUT)) seen=""
    while true; do
        if seen="$(health_once "$want")"; then
            log "healthy: $GATEWAY_URL$HEALTH_PATH $seen"
            return 0
        fi
        if (( SECONDS >= deadline )); then
            log "not healthy within ${HEALTH_TIMEOUT}s: $GATEWAY_URL$HEALTH_PATH $seen"
            return 1
        fi
        sleep 0.25
    done
}

restart_service() { "$DRILLBOOK_CTL" restart "$SERVICE"; }

# POST /config/reload with the master key of config file $1 (the one the gateway runs now),
# or $LITELLM_MASTER_KEY. The gateway answers 400 at once for a file it rejects, and keeps
# serving the old one.
api_reload() {
    python3 - "$GATEWAY_URL" "$1" <<'PY'
import json, os, sys, urllib.error, urllib.request
import yaml
url, running = sys.argv[1].rstrip("/"), sys.argv[2]
if not url.startswith(("http://", "https://")):
    sys.exit(f"GATEWAY_URL {url!r} is not an http(s) URL")
key = os.environ.get("LITELLM_MASTER_KEY", "")
try:
    with open(running, encoding="utf-8") as f:
        key = ((yaml.safe_load(f) or {}).get("general_settings") or {}).get("master_key") or key
except (OSError, yaml.YAMLError, AttributeError):
    pass
req = urllib.request.Request(url + "/config/reload", data=b"", method="POST",
                             headers={"Authorization": f"Bearer {key}"})
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        print(f"reload: {json.load(r).get('status')}")
except urllib.error.HTTPError as exc:
    try:
        message = json.load(exc)["error"]["message"]
    except Exception:
        message = ""
    print(f"reload refused: status {exc.code}: {message}".strip(), file=sys.stderr)
    sys.exit(1)
except OSError as exc:
    print(f"reload: no answer: {getattr(exc, 'reason', exc)}", file=sys.stderr)
    sys.exit(1)
PY
}
