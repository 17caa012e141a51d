#!/usr/bin/env python3
"""Backup retention (seed 000, "Backup Retention Policy"): keep the last 10 backups, then one
per day for 7 days, then one per week for 4 weeks (~40 days of history); remove the rest.

    prune-backups.py [--dir BACKUP_DIR] [--dry-run] [--last 10] [--daily 7] [--weekly 4]

Times come from the names (litellm.yaml.backup-YYYYmmdd_HHMMSS, UTC), not from mtimes, which
a copy or a restore changes. The windows follow each other: the daily ones start at the day
before the oldest of the last 10, the weekly ones at the week before the oldest daily one, so
each tier extends the history instead of overlapping the one before.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, datetime
from pathlib import Path

PREFIX = "litellm.yaml.backup-"


def stamp(path: Path) -> datetime | None:
    try:
        return datetime.strptime(path.name[len(PREFIX) :], "%Y%m%d_%H%M%S")
    except ValueError:
        return None


def keep_set(backups: list[tuple[datetime, Path]], last: int, daily: int, weekly: int) -> set[Path]:
    """Which backups to keep; `backups` newest first."""
    keep = [p for _, p in backups[:last]]
    rest = backups[last:]
    if not keep:
        return set()
    oldest_day = backups[min(last, len(backups)) - 1][0].date()
    days: list[date] = []
    for when, path in rest:
        day = when.date()
        if day < oldest_day and day not in days and len(days) < daily:
            days.append(day)
            keep.append(path)
    oldest_week = (days[-1] if days else oldest_day).isocalendar()[:2]
    weeks: list[tuple[int, int]] = []
    for when, path in rest:
        week = when.date().isocalendar()[:2]
        if week < oldest_week and week not in weeks and len(weeks) < weekly:
            weeks.append(week)
            keep.append(path)
    return set(keep)


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--dir", type=Path, default=os.environ.get("BACKUP_DIR"))
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--last", type=int, default=10)
    p.add_argument("--daily", type=int, default=7)
    p.add_argument("--weekly", type=int, default=4)
    args = p.parse_args()
    if args.dir is None:
        p.error("no backup dir: pass --dir or set BACKUP_DIR")
    found = []
    for path in args.dir.glob(PREFIX + "*"):
        when = stamp(path)
        if when is None:
            print(f"[WARN] not a backup name, left alone: {path.name}")
            continue
        found.append((when, path))
    found.sort(reverse=True)
    keep = keep_set(found, args.last, args.daily, args.weekly)
    removed = 0
    for _, path in found:
        if path not in keep:
            removed += 1
            if not args.dry_run:
                path.unlink()
    kept = sorted((w for w, p in found if p in keep), reverse=True)
    span = (kept[0] - kept[-1]).total_seconds() / 86400 if kept else 0
    verb = "would remove" if args.dry_run else "removed"
    print(
        f"[INFO] {len(found)} backups: kept {len(kept)}, {verb} {removed}; "
        f"history {span:.1f} days ({kept[-1]:%Y-%m-%d} .. {kept[0]:%Y-%m-%d})"
        if kept
        else f"[INFO] {len(found)} backups: nothing kept"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
