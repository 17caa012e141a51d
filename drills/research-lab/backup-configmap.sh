#!/usr/bin/env bash
# The ConfigMap backup taken before every change (the seed's /tmp/configmap-backups): the
# API's config file copied to $BACKUP_DIR/configmap-backups/<CONFIGMAP>-<stamp>.yaml.
# Prints the backup's path. Contract: GATEWAY_CONFIG, BACKUP_DIR; CONFIGMAP.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_CONFIG BACKUP_DIR
CONFIGMAP="${CONFIGMAP:-llm-research-config}"
DIR="$BACKUP_DIR/configmap-backups"
mkdir -p "$DIR"
FILE="$DIR/$CONFIGMAP-$(date -u +%Y%m%d-%H%M%S).yaml"
cp -p "$GATEWAY_CONFIG" "$FILE"
echo "$FILE"
