#!/usr/bin/env python3
"""Seed 003, "Gradual Rollout (Canary)": shift a model alias to a new deployment in steps
(10 -> 25 -> 50 -> 100 %), watch the canary's own error rate at each step, and abort at the
first step over the limit (5 %, the seed's rollback criterion): traffic back to 0 %.

    canary-rollout.py ALIAS CANARY_SNIPPET CANARY_PROVIDER

The alias's deployments live between `# BEGIN ALIAS deployments` and `# END ALIAS deployments`
in GATEWAY_CONFIG. At the start that block is the stable deployment; each step writes k copies
of it plus one of CANARY_SNIPPET (a file holding the new deployment's list entry), so the
router's round robin sends exactly 1/(k+1) of the alias's requests to the canary, then reloads
the config (POST /config/reload). Each step's watch window is STEP_REQUESTS requests (default
2000; the seed's 1 h / 1 h / 2 h windows, scaled). Exit 0 when rolled out or aborted cleanly
(the verdict printed), 1 when the rollout itself failed.
Contract: GATEWAY_URL, GATEWAY_CONFIG, OPS_API_KEY (the master key), BACKUP_DIR.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import sys
import time
import urllib.parse
from pathlib import Path

STEPS = {10: 9, 25: 3, 50: 1, 100: 0}  # percent -> stable copies beside one canary
MAX_ERROR_RATE = 0.05


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S ", time.gmtime()) + message, flush=True)


class Console:
    def __init__(self, url: str, key: str) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise SystemExit(f"error: GATEWAY_URL {url!r} is not an http url")
        self._conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=10)
        self._headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: object = None) -> tuple[int, dict[str, object]]:
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):  # a reload may close a kept-alive connection once
            try:
                self._conn.request(method, path, body=data, headers=self._headers)
                answer = self._conn.getresponse()
                raw = answer.read()
                break
            except (http.client.HTTPException, OSError):
                self._conn.close()
                if attempt == 2:
                    raise
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {"raw": raw[:200].decode(errors="replace")}
        return answer.status, parsed if isinstance(parsed, dict) else {"value": parsed}

    def counters(self, provider: str) -> tuple[int, int]:
        status, body = self.call("GET", f"/api/v1/providers/{provider}/metrics")
        metrics = body.get("metrics")
        if status != 200 or not isinstance(metrics, dict):
            raise SystemExit(f"error: metrics of {provider!r}: status {status} {body}")
        return int(metrics["requests"]), int(metrics["errors"])


def write_block(config: Path, alias: str, stable: str, canary: str, copies: int | None) -> None:
    """Replace the alias block: `copies` stable entries + the canary, or stable only (None)."""
    begin, end = f"# BEGIN {alias} deployments", f"# END {alias} deployments"
    text = config.read_text()
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    body = stable if copies is None else stable * copies + canary
    tmp = config.with_name(config.name + ".canary")
    tmp.write_text(f"{head}{begin}\n{body}  {end}{tail}")
    tmp.replace(config)  # the gateway never reads half a file


def read_stable(config: Path, alias: str) -> str:
    begin, end = f"# BEGIN {alias} deployments", f"# END {alias} deployments"
    text = config.read_text()
    if begin not in text or end not in text:
        raise SystemExit(f"error: {config} has no '{begin}' ... '{end}' block")
    block = text.split(begin, 1)[1].split(end, 1)[0]
    return block.lstrip("\n").rstrip(" ")


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    alias, snippet, provider = argv
    config = Path(os.environ["GATEWAY_CONFIG"])
    console = Console(os.environ["GATEWAY_URL"], os.environ.get("OPS_API_KEY", ""))
    per_step = int(os.environ.get("STEP_REQUESTS", "2000"))
    canary = Path(snippet).read_text()
    stable = read_stable(config, alias)
    backup = Path(os.environ["BACKUP_DIR"]) / f"{config.name}.pre-canary"
    backup.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(config, backup)
    chat = {"model": alias, "messages": [{"role": "user", "content": "canary"}]}

    def reload(what: str) -> None:
        status, body = console.call("POST", "/config/reload")
        if status != 200:
            raise SystemExit(f"error: reload for {what} refused: {status} {body}")
        log(f"config reloaded for {what}: {body.get('config_hash')}")

    for percent, copies in STEPS.items():
        write_block(config, alias, stable, canary, copies)
        reload(f"{percent} % to {provider}")
        before = console.counters(provider)
        failed = 0
        for _ in range(per_step):
            status, _answer = console.call("POST", "/v1/chat/completions", chat)
            failed += status != 200
        after = console.counters(provider)
        served, errors = after[0] - before[0], after[1] - before[1]
        rate = errors / served if served else 0.0
        log(
            f"step {percent} %: {served} of {per_step} requests to {provider}, "
            f"canary error rate {rate:.2%}, all requests {failed / per_step:.2%} failed"
        )
        if rate > MAX_ERROR_RATE:
            write_block(config, alias, stable, canary, None)
            reload(f"abort: 0 % to {provider}")
            log(f"ABORTED at {percent} %: canary error rate {rate:.2%} > {MAX_ERROR_RATE:.0%}")
            return 0
    log(f"rolled out: 100 % of {alias} to {provider}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
