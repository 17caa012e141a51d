#!/usr/bin/env bash
# All backups old or stale (seed 000, "Scenario 4"): reconstruct the config from the source
# files instead of trusting a backup. Regenerate, validate, --validate-only, deploy.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env CONFIG_SOURCE_DIR GATEWAY_CONFIG GATEWAY_URL BACKUP_DIR DRILLBOOK_CTL

generated="$CONFIG_SOURCE_DIR/litellm-unified.yaml"
# 1. Regenerate from source configurations.
python3 "$LC_DIR/generate-litellm-config.py" --source "$CONFIG_SOURCE_DIR" --output "$generated"
# 2. Validate the generated config.
python3 "$LC_DIR/validate-config-consistency.py" --source "$CONFIG_SOURCE_DIR" "$generated"
# 3. Deploy cautiously: validate only, then deploy (backup, reload, health, auto-rollback).
"$LC_DIR/reload-litellm-config.sh" --validate-only "$generated"
"$LC_DIR/reload-litellm-config.sh" "$generated"
