#!/usr/bin/env bash
# Deploy a new gateway config with automatic rollback (seed 000, "Quick Recovery").
#
#   reload-litellm-config.sh [--validate-only] [--reload restart|hup|api] [NEW_CONFIG]
#
# NEW_CONFIG defaults to $NEW_CONFIG, else $CONFIG_SOURCE_DIR/litellm-unified.yaml.
#  1. validate it (YAML syntax, required fields; model consistency with the source files
#     when CONFIG_SOURCE_DIR is set)       --validate-only stops here
#  2. back up the deployed config (BACKUP_DIR/litellm.yaml.backup-YYYYmmdd_HHMMSS)
#  3. deploy it
#  4. reload: restart the service (default), send it SIGHUP, or POST /config/reload (api: a
#     file the gateway rejects is refused at once, and it keeps serving the old one)
#  5. health within HEALTH_TIMEOUT (30 s), serving the new file's sha256
#  6. on failure: put the backup back, reload again, wait for health
#
# Exit: 0 deployed and healthy; 1 usage or environment error; 2 the new config is invalid
# (nothing deployed); 3 the deploy failed and was rolled back (healthy on the old config);
# 4 the rollback failed too: the service needs a human.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

validate_only=0 mode="restart" new=""
while (( $# )); do
    case "$1" in
        --validate-only) validate_only=1 ;;
        --reload) mode="${2:?--reload needs restart, hup or api}"; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        -*) die "unknown option $1" ;;
        *) new="$1" ;;
    esac
    shift
done
[[ "$mode" =~ ^(restart|hup|api)$ ]] || die "--reload must be restart, hup or api, not '$mode'"
if [[ -z "$new" ]]; then
    new="${NEW_CONFIG:-${CONFIG_SOURCE_DIR:+$CONFIG_SOURCE_DIR/litellm-unified.yaml}}"
fi
[[ -n "$new" ]] || die "no new config: pass NEW_CONFIG (or set NEW_CONFIG / CONFIG_SOURCE_DIR)"
[[ -f "$new" ]] || die "new config '$new' does not exist"

# 1. Validate before touching anything.
log "validating $new"
if ! "$LC_DIR/verify-backup.sh" "$new" >/dev/null; then
    "$LC_DIR/verify-backup.sh" "$new" | grep '\[✗\]' >&2 || true
    log "refused: $new is invalid; nothing deployed"
    exit 2
fi
if [[ -n "${CONFIG_SOURCE_DIR:-}" ]]; then
    if ! python3 "$LC_DIR/validate-config-consistency.py" --source "$CONFIG_SOURCE_DIR" "$new"; then
        log "refused: $new is not consistent with $CONFIG_SOURCE_DIR; nothing deployed"
        exit 2
    fi
fi
if (( validate_only )); then
    log "valid: $new (--validate-only: nothing deployed)"
    exit 0
fi

need_env GATEWAY_CONFIG GATEWAY_URL BACKUP_DIR DRILLBOOK_CTL

# $1: the config the gateway runs before this reload (its master key authorises the API call).
reload() {
    case "$mode" in
        hup) "$DRILLBOOK_CTL" signal "$SERVICE" HUP ;;
        api) api_reload "$1" ;;
        *) restart_service ;;
    esac
}

# 2-3. Back up, then deploy.
backup=""
if [[ -f "$GATEWAY_CONFIG" ]]; then
    backup="$(make_backup)"
    log "backup: $backup"
else
    log "no deployed config to back up: a failure cannot be rolled back"
fi
want="$(sha256_of "$new")"
install_config "$new"
log "deployed $new -> $GATEWAY_CONFIG (sha256 ${want:0:12})"

# 4-5. Reload and check health; any failure triggers the rollback.
failure=""
if ! reload "${backup:-$new}"; then
    case "$mode" in
        restart) failure="the service failed to start after the reload" ;;
        hup) failure="the service could not be signalled (not running?)" ;;
        api) failure="the reload was refused (configuration validation error)" ;;
    esac
elif ! wait_healthy "$want"; then
    failure="not healthy on the new config within ${HEALTH_TIMEOUT}s"
fi
if [[ -z "$failure" ]]; then
    log "deploy ok: healthy on sha256 ${want:0:12}"
    fact deploy deployed
    exit 0
fi

# 6. Automatic rollback.
[[ -n "$backup" ]] || { log "FAILED: $failure; no backup to roll back to"; exit 4; }
log "ROLLBACK: $failure; restoring $backup"
install_config "$backup"
if reload "$backup" && wait_healthy "$(sha256_of "$backup")"; then
    log "rolled back: healthy on the previous config; the new config was NOT deployed"
    fact deploy rolled_back
    fact rollback_trigger "$failure"
    exit 3
fi
log "ROLLBACK FAILED: the service is not healthy on $backup either; see the runbook's Manual Rollback"
fact deploy rollback_failed
exit 4
