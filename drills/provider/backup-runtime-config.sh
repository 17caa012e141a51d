#!/usr/bin/env bash
# Seed 003, "Pre-Rollout Checklist" 1: export the runtime config and the provider status to
# $BACKUP_DIR/config-backup-<ts>.json and providers-backup-<ts>.json.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_env GATEWAY_URL BACKUP_DIR
backup_runtime
