#!/usr/bin/env python3
"""Call the ops console API the way the runbook's curl lines do, on a machine without curl.

    ops_api.py METHOD PATH [JSON_BODY]      prints the answer's body
    ops_api.py status PATH                  prints only the HTTP status (redirects not followed)

Exit 0 on a 2xx answer, 1 otherwise (the body still printed, the status on stderr).
GATEWAY_URL is the console; OPS_API_KEY, when set, goes as a bearer token.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect is an answer to report, as `curl -I` shows it


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    method, path = argv[0].upper(), argv[1]
    base = os.environ.get("GATEWAY_URL", "").rstrip("/")
    if not base:
        print("error: GATEWAY_URL is not set", file=sys.stderr)
        return 2
    body = argv[2].encode() if len(argv) > 2 else None
    request = urllib.request.Request(  # noqa: S310 - GATEWAY_URL is the console, http
        base + path, data=body, method="GET" if method == "STATUS" else method
    )
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if os.environ.get("OPS_API_KEY"):
        request.add_header("Authorization", "Bearer " + os.environ["OPS_API_KEY"])
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=float(os.environ.get("OPS_API_TIMEOUT", "5"))) as r:
            status, text = r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode(errors="replace")
    except OSError as exc:
        print(f"error: {method} {path}: no answer: {getattr(exc, 'reason', exc)}", file=sys.stderr)
        return 1
    print(status if method == "STATUS" else text)
    if not 200 <= status < 300:
        print(f"error: {method} {path}: status {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
