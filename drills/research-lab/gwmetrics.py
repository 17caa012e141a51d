#!/usr/bin/env python3
"""What seed 004's Prometheus queries read, from the gateway's own /metrics.

    gwmetrics.py window SECONDS   error rate and p95 of API requests over the next SECONDS
    gwmetrics.py rss              resident memory of the gateway process, in bytes
    gwmetrics.py probe N [MAX]    send N API requests (GET /v1/models) now: error rate and p95;
                                  exit 1 when the error rate is MAX (a share) or more
    gwmetrics.py growth S MAX     resident memory growth over S seconds, in bytes/s; exit 1
                                  when it is MAX bytes/s or more

The seed asks Prometheus for rate(http_requests_total{status=~"5.."}[1m]) /
rate(http_requests_total[1m]) and histogram_quantile(0.95, ...); here the same counters are
scraped twice, SECONDS apart, and the difference is the window. Health, metrics, /version and
drill-hook requests are not API traffic and are left out, as the gateway's own alerts do.
Prints one json object. Contract: GATEWAY_URL, GATEWAY_CONFIG (its master key, for probe).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

NOT_API = ("/health", "/metrics", "/version", "/_drill")


def scrape(url: str) -> tuple[float, float, dict[float, float], float]:
    """(requests, errors, cumulative latency buckets {le: count}, rss bytes) now."""
    with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=5) as resp:  # noqa: S310
        text = resp.read().decode()
    requests = errors = rss = 0.0
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            route = sample.labels.get("route", "")
            if sample.name == "process_resident_memory_bytes":
                rss = sample.value
            if route.startswith(NOT_API) or route == "unmatched":
                continue
            if sample.name == "http_requests_total":
                requests += sample.value
                if sample.labels.get("status", "").startswith("5"):
                    errors += sample.value
            elif sample.name == "http_request_duration_seconds_bucket":
                le = float(sample.labels["le"])
                buckets[le] = buckets.get(le, 0.0) + sample.value
    return requests, errors, buckets, rss


def quantile(q: float, buckets: dict[float, float]) -> float | None:
    """histogram_quantile: the upper bound of the bucket holding the q-th request."""
    total = buckets.get(math.inf, 0.0)
    if total <= 0:
        return None
    for le in sorted(buckets):
        if buckets[le] >= q * total:
            return le if le != math.inf else max(b for b in buckets if b != math.inf)
    return None


def master_key() -> str:
    import yaml

    config = yaml.safe_load(Path(os.environ["GATEWAY_CONFIG"]).read_text(encoding="utf-8"))
    key = (config.get("general_settings") or {}).get("master_key", "")
    if isinstance(key, str) and key.startswith("os.environ/"):
        key = os.environ.get(key.split("/", 1)[1], "")
    return str(key)


def probe(url: str, count: int) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {master_key()}"}
    failed, took = 0, []
    for _ in range(count):
        req = urllib.request.Request(url.rstrip("/") + "/v1/models", headers=headers)  # noqa: S310
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
                resp.read()
        except Exception:  # any failure is a failed request, as a user sees it
            failed += 1
        took.append(time.perf_counter() - start)
    took.sort()
    p95 = took[min(len(took) - 1, round(0.95 * (len(took) - 1)))]
    return {"requests": count, "errors": failed, "error_rate": failed / count, "p95_s": p95}


def main(argv: list[str]) -> int:
    url = os.environ.get("GATEWAY_URL")
    if not url:
        print("error: GATEWAY_URL is not set", file=sys.stderr)
        return 2
    if argv[:1] == ["rss"]:
        print(json.dumps({"rss_bytes": scrape(url)[3]}))
        return 0
    if len(argv) in (2, 3) and argv[0] == "probe":
        figures = probe(url, int(argv[1]))
        print(json.dumps(figures))
        rate = figures["error_rate"]
        assert isinstance(rate, float)
        return 1 if len(argv) == 3 and rate >= float(argv[2]) else 0
    if len(argv) == 3 and argv[0] == "growth":
        seconds = float(argv[1])
        before = scrape(url)[3]
        time.sleep(seconds)
        after = scrape(url)[3]
        rate = (after - before) / seconds
        print(json.dumps({"rss_bytes": after, "growth_bytes_per_s": rate}))
        return 1 if rate >= float(argv[2]) else 0
    if len(argv) != 2 or argv[0] != "window":
        print(__doc__, file=sys.stderr)
        return 2
    seconds = float(argv[1])
    r0, e0, b0, _ = scrape(url)
    time.sleep(seconds)
    r1, e1, b1, rss = scrape(url)
    requests, errors = r1 - r0, e1 - e0
    delta = {le: b1.get(le, 0.0) - b0.get(le, 0.0) for le in b1}
    out = {
        "window_s": seconds,
        "requests": int(requests),
        "errors": int(errors),
        "error_rate": errors / requests if requests > 0 else None,
        "p95_s": quantile(0.95, delta),
        "rss_bytes": rss,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
