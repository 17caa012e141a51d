#!/usr/bin/env python3
"""Smoke test of the gateway (seed 000, "Health Monitoring"): chat requests to each model.

    smoke-test.py [--models a,b] [--requests N] [--max-error-rate R] [--max-p95-ms MS]

Sends N requests per model (default: $SMOKE_MODELS, else every model the gateway lists) to
$GATEWAY_URL with $LITELLM_MASTER_KEY. Exits 1 when the error rate or the P95 latency is over
its limit, printing both; 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Any


def call(url: str, key: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    req = urllib.request.Request(url + path, data=data, headers=headers)  # noqa: S310 - http(s) checked in main
    try:
        with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310 - http(s) checked in main
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--models", default=os.environ.get("SMOKE_MODELS", ""))
    p.add_argument("--requests", type=int, default=int(os.environ.get("SMOKE_REQUESTS", "10")))
    p.add_argument(
        "--max-error-rate",
        type=float,
        default=float(os.environ.get("SMOKE_MAX_ERROR_RATE", "0.05")),
    )
    p.add_argument(
        "--max-p95-ms", type=float, default=float(os.environ.get("SMOKE_MAX_P95_MS", "200"))
    )
    args = p.parse_args()
    url = os.environ["GATEWAY_URL"].rstrip("/")
    if not url.startswith(("http://", "https://")):
        p.error(f"GATEWAY_URL {url!r} is not an http(s) URL")
    key = os.environ.get("LITELLM_MASTER_KEY", "")
    models = [m for m in args.models.replace(",", " ").split() if m]
    if not models:
        status, raw = call(url, key, "/v1/models")
        if status != 200:
            print(f"FAIL: cannot list models: status {status}")
            return 1
        models = [m["id"] for m in json.loads(raw)["data"]]
    latencies, errors, total = [], 0, 0
    for _ in range(args.requests):
        for model in models:
            started = time.perf_counter()
            status, _ = call(
                url,
                key,
                "/v1/chat/completions",
                {"model": model, "messages": [{"role": "user", "content": "ping"}]},
            )
            latencies.append((time.perf_counter() - started) * 1000)
            total += 1
            errors += status != 200
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    rate = errors / total
    ok = rate <= args.max_error_rate and p95 <= args.max_p95_ms
    print(
        f"{'OK' if ok else 'FAIL'}: {total} requests to {', '.join(models)}: "
        f"errors {rate:.0%} (max {args.max_error_rate:.0%}), "
        f"p95 {p95:.0f}ms (max {args.max_p95_ms:.0f}ms)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
