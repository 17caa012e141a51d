#!/usr/bin/env bash
# Back up the deployed config before a change (seed 000: reload-litellm-config.sh, step 1).
set -euo pipefail

: "${GATEWAY_CONFIG:?GATEWAY_CONFIG must name the deployed config file}"
: "${BACKUP_DIR:?BACKUP_DIR must name the backup folder}"

mkdir -p "$BACKUP_DIR"
out="$BACKUP_DIR/litellm.yaml.backup-$(date -u +%Y%m%d_%H%M%S)"
cp -p "$GATEWAY_CONFIG" "$out"
echo "$out"
