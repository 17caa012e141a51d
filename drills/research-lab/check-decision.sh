#!/usr/bin/env bash
# The decision the on-call recorded (rollback-decision.json): it must be EXPECT_DECISION, made
# from an error rate above EXPECT_MIN_ERROR_RATE measured on the revision that was serving.
# Contract: DRILL_WORKDIR; EXPECT_DECISION (immediate_rollback), EXPECT_MIN_ERROR_RATE (0.10).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
FILE="${DRILL_WORKDIR:-.}/rollback-decision.json"
[[ -s "$FILE" ]] || die "no decision recorded in $FILE"
python3 - "$FILE" "${EXPECT_DECISION:-immediate_rollback}" "${EXPECT_MIN_ERROR_RATE:-0.10}" <<'PY'
import json, sys
got = json.load(open(sys.argv[1]))
rate = got["figures"]["error_rate"]
if got["decision"] != sys.argv[2]:
    sys.exit(f"decision {got['decision']!r}, expected {sys.argv[2]!r} (error rate {rate})")
if rate is None or rate <= float(sys.argv[3]):
    sys.exit(f"decided on an error rate of {rate}, not above {sys.argv[3]}")
print(f"decision {got['decision']} on an error rate of {rate:.2%}")
PY
