#!/usr/bin/env bash
# The team's secret rotation: a new version of the secret in Secrets Manager, synced into the
# Kubernetes secret (the API's env file), then a rolling restart to pick it up.
#
# Usage: rotate-secret.sh FILE   (the new value, json)
# Contract: AWS_*, SECRET_ID, SECRET_FILE (the API's env file), $DRILLBOOK_CTL; SERVICE_NAME.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env SECRET_FILE DRILLBOOK_CTL
[[ -n "${1:-}" ]] || die "usage: rotate-secret.sh FILE"
VERSION="$(python3 "$LAB_DIR/secrets.py" put "$1")"
log "new secret version: $VERSION"
python3 "$LAB_DIR/secrets.py" env "$VERSION" >"$SECRET_FILE.new"
mv "$SECRET_FILE.new" "$SECRET_FILE"
"$DRILLBOOK_CTL" restart "$SERVICE"
log "rotated to $VERSION"
