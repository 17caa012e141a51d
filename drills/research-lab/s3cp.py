#!/usr/bin/env python3
"""`aws s3 cp` for hosts without the aws CLI (boto3, the standard AWS_* variables).

s3cp.py FILE s3://BUCKET/KEY     upload, then check the size that landed
s3cp.py s3://BUCKET/KEY FILE     download
s3cp.py ls s3://BUCKET/PREFIX    keys under a prefix, one per line
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import boto3


def client() -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        region_name=os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION"),
    )


def split(url: str) -> tuple[str, str]:
    if not url.startswith("s3://"):
        sys.exit(f"s3cp.py: {url!r} is not an s3:// url")
    bucket, _, key = url[5:].partition("/")
    return bucket, key


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "ls":
        bucket, prefix = split(argv[1])
        pages = client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                print(item["Key"])
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = argv
    s3 = client()
    if dst.startswith("s3://"):
        bucket, key = split(dst)
        size = Path(src).stat().st_size
        s3.upload_file(src, bucket, key)
        landed = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
        if landed != size:
            sys.exit(f"s3cp.py: {dst} has {landed} bytes, {src} has {size}")
        print(f"upload: {src} to {dst} ({size} bytes)")
    else:
        bucket, key = split(src)
        s3.download_file(bucket, key, dst)
        print(f"download: {src} to {dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
