#!/usr/bin/env bash
# Seed 004, "Secret Rollback" (rollback-secret.sh): read a previous version of the secret from
# Secrets Manager, write it into the Kubernetes secret (the API's env file), and restart the
# API. Beyond the seed: the version is made AWSCURRENT again in Secrets Manager too, so the
# next sync does not bring the bad version back. Without an argument, AWSPREVIOUS is used.
#
# Usage: rollback-secret.sh [SECRET_VERSION]
# Contract: AWS_*, SECRET_ID, SECRET_FILE, $DRILLBOOK_CTL; SERVICE_NAME, API_URL or GATEWAY_URL.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env SECRET_FILE DRILLBOOK_CTL
GATEWAY_URL="${GATEWAY_URL:-${API_URL:-}}"
need_env GATEWAY_URL
SECRETS=(python3 "$LAB_DIR/secrets.py")
SECRET_VERSION="${1:-$("${SECRETS[@]}" previous)}"
log "restoring secret ${SECRET_ID:-llm-research/production} version $SECRET_VERSION"

# Restore from the Secrets Manager version (an env file, 0600, written then renamed)
TMP="$(mktemp "$SECRET_FILE.XXXXXX")"
trap 'rm -f "$TMP"' EXIT
"${SECRETS[@]}" env "$SECRET_VERSION" >"$TMP"
chmod 600 "$TMP"
# Update the Kubernetes secret
mv "$TMP" "$SECRET_FILE"
log "secret file updated"
# Make it current again in the store
"${SECRETS[@]}" promote "$SECRET_VERSION" >/dev/null
log "AWSCURRENT is $SECRET_VERSION again"
# Restart pods
"$DRILLBOOK_CTL" restart "$SERVICE"
rollout_status
echo "DRILLBOOK_FACT secret_version=$SECRET_VERSION"
log "secret rolled back"
