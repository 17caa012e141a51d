#!/usr/bin/env python3
"""Seed 001, "Rollback Criteria" and "Rollback Decision Tree": measure the console and say
which kind of rollback (if any) the numbers call for.

    assess-rollback.py baseline     measure before a release; saves the baseline
    assess-rollback.py assess       measure now, compare, print and save the decision

Error rate: over ERROR_SAMPLES (400) loads of the classic provider keys page. Latency: the
median of LATENCY_SAMPLES (20) console test requests, against the baseline's (the seed's
"page load times"; a median, so one slow request does not decide a rollback).
The baseline and the decision are json files in DRILL_WORKDIR (or the current directory).

Decisions, per the seed's tables (critical first):
    immediate            complete outage: every request fails
    rollback_within_1h   error rate > 5 %, or latency degraded > 50 %
    consider_rollback    error rate > 2 %, or latency degraded > 20 %
    fix_forward          anything less (the seed's low priority: < 1 % errors, < 10 % slower)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

PAGE = "/admin/llm-provider-keys"
TEST_REQUEST = "/api/v1/chat/completions"


def _get(url: str, body: bytes | None = None) -> bool:
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")  # noqa: S310 - GATEWAY_URL is http
    if body:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - as above
            answer.read()
            return 200 <= answer.status < 300
    except (urllib.error.URLError, OSError):
        return False


def measure(base: str) -> dict[str, float]:
    n_err = int(os.environ.get("ERROR_SAMPLES", "400"))
    n_lat = int(os.environ.get("LATENCY_SAMPLES", "20"))
    failed = sum(0 if _get(base + PAGE) else 1 for _ in range(n_err))
    chat = json.dumps({"messages": [{"role": "user", "content": "latency probe"}]}).encode()
    took = []
    for _ in range(n_lat):
        started = time.perf_counter()
        if _get(base + TEST_REQUEST, chat):
            took.append((time.perf_counter() - started) * 1000)
    return {
        "error_rate": failed / n_err,
        "latency_median_ms": statistics.median(took) if took else float("inf"),
        "requests": n_err + n_lat,
    }


def decide(now: dict[str, float], baseline: dict[str, float]) -> tuple[str, list[str]]:
    errors = now["error_rate"]
    slower = now["latency_median_ms"] / baseline["latency_median_ms"] - 1
    facts = [f"error rate {errors:.2%}", f"latency {slower:+.0%} vs baseline"]
    if errors >= 1.0:
        return "immediate", [*facts, "complete outage"]
    if errors > 0.05 or slower > 0.50:
        return "rollback_within_1h", facts
    if errors > 0.02 or slower > 0.20:
        return "consider_rollback", facts
    return "fix_forward", facts


def main(argv: list[str]) -> int:
    if argv not in (["baseline"], ["assess"]):
        print(__doc__, file=sys.stderr)
        return 2
    base = os.environ.get("GATEWAY_URL", "").rstrip("/")
    if not base:
        print("error: GATEWAY_URL is not set", file=sys.stderr)
        return 2
    workdir = Path(os.environ.get("DRILL_WORKDIR", "."))
    baseline_file = workdir / "llm-hub-baseline.json"
    now = measure(base)
    if argv == ["baseline"]:
        baseline_file.write_text(json.dumps(now))
        print(f"baseline: {now}")
        return 0
    try:
        baseline = json.loads(baseline_file.read_text())
    except (OSError, ValueError) as exc:
        print(f"error: no usable baseline at {baseline_file}: {exc}", file=sys.stderr)
        return 1
    decision, facts = decide(now, baseline)
    record = {"decision": decision, "facts": facts, "now": now, "baseline": baseline}
    (workdir / "rollback-decision.json").write_text(json.dumps(record, indent=2))
    print(f"decision: {decision} ({'; '.join(facts)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
