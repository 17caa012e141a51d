#!/usr/bin/env python3
"""Backup retention for the LLM Config Manager (seed 002, "Retention Policy"), locally and in S3.

    retention.py [--now YYYYmmdd-HHMMSS] [--dry-run] [--local-only | --s3-only]

Per tier, keep the newest backups inside the tier's window, at most the tier's count:
hourly 24 within 24 hours, daily 30 within 30 days, weekly 12 within 90 days, monthly 12
within 365 days. Ages come from the timestamp in the name (backup-<tier>-<stamp>.tar.gz),
not from mtimes, which a copy or a restore from S3 resets. Backups of other tiers (manual)
and files that are not backups are never touched. Prints what it kept and deleted per tier.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

POLICY = {
    "hourly": (24, timedelta(hours=24)),
    "daily": (30, timedelta(days=30)),
    "weekly": (12, timedelta(days=90)),
    "monthly": (12, timedelta(days=365)),
}
NAME = re.compile(r"^backup-(hourly|daily|weekly|monthly)-(\d{8}-\d{6})\.tar\.gz$")


@dataclass(frozen=True)
class Backup:
    name: str
    tier: str
    taken: datetime


def parse(names: Iterable[str]) -> list[Backup]:
    found = []
    for name in names:
        match = NAME.match(name)
        if match:
            taken = datetime.strptime(match.group(2), "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
            found.append(Backup(name, match.group(1), taken))
    return found


def to_delete(backups: list[Backup], now: datetime) -> tuple[dict[str, int], list[Backup]]:
    """How many each tier keeps, and the backups past their tier's count or window."""
    kept: dict[str, int] = {}
    doomed: list[Backup] = []
    for tier, (count, window) in POLICY.items():
        newest_first = sorted((b for b in backups if b.tier == tier), key=lambda b: b.taken)[::-1]
        keep = [b for b in newest_first if now - b.taken <= window][:count]
        kept[tier] = len(keep)
        doomed += [b for b in newest_first if b not in keep]
    return kept, doomed


def local(now: datetime, dry_run: bool) -> None:
    folder = Path(os.environ["BACKUP_DIR"])
    kept, doomed = to_delete(parse(p.name for p in folder.iterdir() if p.is_file()), now)
    for backup in doomed:
        if not dry_run:
            (folder / backup.name).unlink()
    report("local", kept, doomed, dry_run)


def s3(now: datetime, dry_run: bool) -> None:
    import boto3  # only hosts with an off-site copy need it

    bucket = os.environ["BACKUP_BUCKET"]
    prefix = os.environ.get("S3_PREFIX", "llm-config/backups/")
    client = boto3.session.Session().client(
        "s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None
    )
    names = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        names += [o["Key"][len(prefix) :] for o in page.get("Contents", [])]
    kept, doomed = to_delete(parse(names), now)
    for start in range(0, len(doomed), 1000):
        batch = [{"Key": prefix + b.name} for b in doomed[start : start + 1000]]
        if batch and not dry_run:
            answer = client.delete_objects(Bucket=bucket, Delete={"Objects": batch})
            if answer.get("Errors"):
                sys.exit(f"retention: s3 refused to delete {answer['Errors'][:3]}")
    report(f"s3://{bucket}/{prefix}", kept, doomed, dry_run)


def report(where: str, kept: dict[str, int], doomed: list[Backup], dry_run: bool) -> None:
    verb = "would delete" if dry_run else "deleted"
    for tier in POLICY:
        gone = sum(1 for b in doomed if b.tier == tier)
        print(f"{where} {tier}: kept {kept[tier]}, {verb} {gone}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--now", help="reference time YYYYmmdd-HHMMSS (UTC); default: now")
    parser.add_argument("--dry-run", action="store_true")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--local-only", action="store_true")
    where.add_argument("--s3-only", action="store_true")
    args = parser.parse_args()
    now = (
        datetime.strptime(args.now, "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
        if args.now
        else datetime.now(UTC)
    )
    if not args.s3_only:
        local(now, args.dry_run)
    if not args.local_only and os.environ.get("BACKUP_BUCKET"):
        s3(now, args.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
