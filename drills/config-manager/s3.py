#!/usr/bin/env python3
"""Off-site copies of Config Manager backups (seed 002, "Storage Locations: Secondary S3").

The aws CLI is not on every host, so this uses boto3 with the standard variables:
AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, BACKUP_BUCKET.
Keys live under S3_PREFIX (default llm-config/backups/).

    s3.py put FILE             upload, then check size and SHA-256 of what landed
    s3.py get NAME DEST        download one backup (NAME or full key)
    s3.py ls                   backup keys, one per line
    s3.py latest               the newest backup's name (by the timestamp in its name)
    s3.py rm NAME...           delete backups
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path
from typing import Any

import boto3

STAMP = re.compile(r"(\d{8}-\d{6})\.tar\.gz$")


def client() -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        region_name=os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION"),
    )


def bucket() -> str:
    name = os.environ.get("BACKUP_BUCKET")
    if not name:
        sys.exit("s3.py: BACKUP_BUCKET is not set")
    return name


def prefix() -> str:
    return os.environ.get("S3_PREFIX", "llm-config/backups/")


def key_for(name: str) -> str:
    return name if name.startswith(prefix()) else prefix() + Path(name).name


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def keys(s3: Any) -> list[str]:
    found: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket(), Prefix=prefix()):
        found += [o["Key"] for o in page.get("Contents", [])]
    return found


def put(s3: Any, path: Path) -> None:
    digest = sha256(path)
    key = key_for(path.name)
    s3.upload_file(str(path), bucket(), key, ExtraArgs={"Metadata": {"sha256": digest}})
    head = s3.head_object(Bucket=bucket(), Key=key)
    if head["ContentLength"] != path.stat().st_size or head["Metadata"].get("sha256") != digest:
        sys.exit(f"s3.py: upload of {path.name} does not match: {head['ContentLength']} bytes")
    print(f"s3://{bucket()}/{key}")


def get(s3: Any, name: str, dest: Path) -> None:
    key = key_for(name)
    target = dest / Path(key).name if dest.is_dir() else dest
    partial = target.with_name(target.name + ".partial")
    s3.download_file(bucket(), key, str(partial))
    expected = s3.head_object(Bucket=bucket(), Key=key)["Metadata"].get("sha256")
    if expected and sha256(partial) != expected:
        partial.unlink()
        sys.exit(f"s3.py: {key} downloaded with a SHA-256 other than the one uploaded")
    partial.rename(target)
    print(target)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    command, args = argv[0], argv[1:]
    s3 = client()
    if command == "put" and len(args) == 1:
        put(s3, Path(args[0]))
    elif command == "get" and len(args) == 2:
        get(s3, args[0], Path(args[1]))
    elif command == "ls" and not args:
        for key in keys(s3):
            print(key)
    elif command == "latest" and not args:
        stamped = [(m.group(1), k) for k in keys(s3) if (m := STAMP.search(k))]
        if not stamped:
            sys.exit(f"s3.py: no backup under s3://{bucket()}/{prefix()}")
        print(Path(max(stamped)[1]).name)
    elif command == "rm" and args:
        for name in args:
            s3.delete_object(Bucket=bucket(), Key=key_for(name))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
