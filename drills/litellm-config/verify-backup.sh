#!/usr/bin/env bash
# Backup verification (seed 000, "Backup Verification"): YAML syntax valid and the required
# fields present, per backup.
#
#   verify-backup.sh                 the latest backup
#   verify-backup.sh FILE...         the given backups (or any config file)
#   verify-backup.sh --all           every backup in BACKUP_DIR, with a summary naming bad ones
#   verify-backup.sh --all --quarantine   ... and move the bad ones to BACKUP_DIR/quarantine/
#
# Exit 0 when every file checked is valid, 1 when one is not, 2 when there is nothing to check.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

all=0 quarantine=0 files=()
while (( $# )); do
    case "$1" in
        --all) all=1 ;;
        --quarantine) quarantine=1 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        -*) die "unknown option $1" ;;
        *) files+=("$1") ;;
    esac
    shift
done
(( quarantine == 0 || all == 1 )) || die "--quarantine goes with --all"

if (( ${#files[@]} == 0 )); then
    need_env BACKUP_DIR
    mapfile -t files < <(list_backups)
    if (( ${#files[@]} == 0 )); then
        echo "[✗] no backups in $BACKUP_DIR" >&2
        exit 2
    fi
    (( all )) || files=("${files[0]}")
fi

echo "=== Backup Verification ==="
echo
(( all )) && echo "[INFO] Found ${#files[@]} backups"

bad_list="$(mktemp)"
trap 'rm -f "$bad_list"' EXIT
set +e
VERIFY_BAD_LIST="$bad_list" python3 - "$all" "${files[@]}" <<'PY'
import os, sys, time
import yaml

summary, files = sys.argv[1] == "1", sys.argv[2:]


def problems(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, UnicodeDecodeError) as exc:
        return "unreadable", [str(exc)]
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0]
        return "syntax", [f"YAML syntax invalid: {first}"]
    if not isinstance(data, dict):
        return "fields", ["top level is not a mapping"]
    found = []
    models = data.get("model_list")
    if not isinstance(models, list) or not models:
        found.append("model_list missing or empty")
    else:
        for i, entry in enumerate(models):
            if not isinstance(entry, dict) or not entry.get("model_name"):
                found.append(f"model_list[{i}]: model_name missing")
                continue
            params = entry.get("litellm_params")
            if not isinstance(params, dict) or not params.get("model"):
                found.append(f"model_list[{i}] ({entry['model_name']}): litellm_params.model missing")
    general = data.get("general_settings")
    if not isinstance(general, dict) or not general.get("master_key"):
        found.append("general_settings.master_key missing")
    return "fields", found


bad = []
for path in files:
    print(f"\nVerifying: {os.path.basename(path)}")
    stage, found = problems(path)
    if stage == "syntax" or stage == "unreadable":
        print(f"[✗] {found[0]}")
    else:
        print("[✓] YAML syntax valid")
        if found:
            for item in found:
                print(f"[✗] Required field: {item}")
        else:
            print("[✓] Required fields present")
    try:
        st = os.stat(path)
        print(f"[INFO] Size: {max(1, round(st.st_size / 1024))}K")
        print(f"[INFO] Created: {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(st.st_mtime))}")
    except OSError:
        pass
    if found:
        print("[✗] Backup INVALID")
        bad.append(path)
    else:
        print("[✓] Backup valid")

if summary:
    print("\n=== Summary ===")
    print(f"[✓] Verified: {len(files) - len(bad)}")
    if bad:
        print(f"[✗] Invalid: {len(bad)}")
        for path in bad:
            print(f"[✗] INVALID: {os.path.basename(path)}")
    else:
        print("[✓] All backups valid")
with open(os.environ["VERIFY_BAD_LIST"], "w") as out:
    out.writelines(p + "\n" for p in bad)
sys.exit(1 if bad else 0)
PY
rc=$?
set -e
if (( rc == 1 && quarantine )); then
    mkdir -p "$BACKUP_DIR/quarantine"
    while IFS= read -r bad; do
        mv -f "$bad" "$BACKUP_DIR/quarantine/"
        echo "[INFO] Quarantined: $(basename "$bad") -> $BACKUP_DIR/quarantine/"
    done < "$bad_list"
fi
exit "$rc"
