"""Faults on a drill's files and object storage: cut, delete or corrupt backups, empty a bucket.

Backups fail in these ways long before anyone restores them: a copy cut off by a full disk, a
cleanup job that deleted the wrong folder, bit rot, an expired lifecycle rule. Every fault here
touches only files under the run's workdir (BACKUP_DIR lives there) or a drill service's own
folders, and only the drill's own S3 service.
"""

from __future__ import annotations

import glob
import hashlib
import random
from pathlib import Path
from typing import Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field

from drillbook.context import DrillContext
from drillbook.errors import FaultError
from drillbook.registry import FAULTS
from drillbook.scenario.kinds import FaultOutcome, FaultSpec

Pick = Literal["newest", "oldest", "all"]


class _FileFault(FaultSpec):
    path: str = Field(
        description="file or glob, relative to the run's workdir (backups/backup-*.tar.gz) or "
        "absolute inside it; may use ${...}"
    )
    pick: Pick = Field(
        "all", description="which matches: the newest or oldest (by modification time), or all"
    )

    def _targets(self, ctx: DrillContext) -> list[Path]:
        pattern = ctx.interpolate(self.path)
        full = pattern if Path(pattern).is_absolute() else str(ctx.workdir / pattern)
        roots = _owned_roots(ctx)
        matches = [Path(p) for p in sorted(glob.glob(full, recursive=True))]  # noqa: PTH207 - absolute patterns
        files = [p for p in matches if p.is_file()]
        outside = [p for p in files if not any(_inside(p, root) for root in roots)]
        if outside:
            raise FaultError(
                f"refusing {self.kind} on {str(outside[0])!r}: it is outside the drill's workdir "
                f"{str(ctx.workdir)!r} and every drill service's folder"
            )
        if not files:
            raise FaultError(f"{self.kind}: no file matches {pattern!r} (under {ctx.workdir})")
        if self.pick == "all":
            return files
        by_age = sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))
        return [by_age[-1] if self.pick == "newest" else by_age[0]]


@FAULTS.register
class FileTruncate(_FileFault):
    """Cut files to a share of their size, as a copy or upload cut off half-way leaves them."""

    kind: Literal["file.truncate"]
    pick: Pick = "newest"
    keep_percent: float = Field(
        50.0, ge=0, lt=100, description="share of the original size kept, in percent"
    )

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        done = []
        for target in self._targets(ctx):
            size = target.stat().st_size
            keep = int(size * self.keep_percent / 100)
            with target.open("r+b") as handle:
                handle.truncate(keep)
            done.append(f"{target.name}: {size} -> {keep} bytes")
        return FaultOutcome(
            target=ctx.interpolate(self.path),
            detail={"files": "; ".join(done), "keep_percent": f"{self.keep_percent:g}"},
        )


@FAULTS.register
class FileDelete(_FileFault):
    """Delete files (a cleanup job run against the wrong folder, a lost volume)."""

    kind: Literal["file.delete"]

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        targets = self._targets(ctx)
        for target in targets:
            target.unlink()
        return FaultOutcome(
            target=ctx.interpolate(self.path),
            detail={"deleted": str(len(targets)), "files": ", ".join(t.name for t in targets)},
        )


@FAULTS.register
class FileCorrupt(_FileFault):
    """Flip bytes inside files, keeping their size: bit rot, a bad disk, a torn write."""

    kind: Literal["file.corrupt"]
    pick: Pick = "newest"
    bytes: int = Field(16, ge=1, le=1_000_000, description="how many bytes to flip per file")
    seed: int | None = Field(None, description="overrides the scenario's random_seed")

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        base = self.seed if self.seed is not None else ctx.random_seed
        done = []
        for target in self._targets(ctx):
            data = bytearray(target.read_bytes())
            if not data:
                raise FaultError(f"file.corrupt: {str(target)!r} is empty; nothing to flip")
            # Deterministic per file and seed, so a failed drill replays the same damage.
            mix = hashlib.sha256(f"{base}|{target.name}".encode()).digest()
            rng = random.Random(int.from_bytes(mix[:8], "big"))
            # Skip the first bytes (headers): damage in the body is what checks tend to miss.
            start = min(len(data) - 1, 64)
            offsets = sorted(rng.randrange(start, len(data)) for _ in range(self.bytes))
            for offset in offsets:
                data[offset] ^= 0xFF
            target.write_bytes(bytes(data))
            done.append(f"{target.name}: {len(offsets)} bytes from offset {offsets[0]}")
        return FaultOutcome(target=ctx.interpolate(self.path), detail={"files": "; ".join(done)})


@FAULTS.register
class S3DeleteObjects(FaultSpec):
    """Delete every object under a prefix in the drill's S3 bucket (a lifecycle rule gone wrong,
    an `aws s3 rm --recursive` in the wrong shell)."""

    kind: Literal["s3.delete_objects"]
    service: str = Field(description="the drill's s3 service")
    bucket: str | None = Field(None, description="default: the service's first bucket")
    prefix: str = Field("", description="key prefix; empty deletes the whole bucket's content")

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        handle = ctx.service(self.service)
        info = handle.info
        if handle.kind != "s3" or info.endpoint_url is None:
            raise FaultError(f"service {self.service!r} ({handle.kind}) is not an s3 service")
        bucket = self.bucket or (info.buckets[0] if info.buckets else None)
        if bucket is None:
            raise FaultError(f"s3 service {self.service!r} has no bucket; give `bucket`")
        client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=info.endpoint_url,
            aws_access_key_id=info.access_key,
            aws_secret_access_key=info.secret_key,
            region_name=info.region or "us-east-1",
            config=Config(connect_timeout=10, read_timeout=30, retries={"total_max_attempts": 2}),
        )
        deleted = 0
        try:
            pages = client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=self.prefix
            )
            for page in pages:
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                    deleted += len(keys)
        except (ClientError, BotoCoreError) as exc:
            raise FaultError(
                f"s3.delete_objects on s3://{bucket}/{self.prefix} failed after {deleted} "
                f"objects: {exc}"
            ) from exc
        if deleted == 0:
            raise FaultError(f"s3.delete_objects: no object under s3://{bucket}/{self.prefix}")
        return FaultOutcome(target=f"s3://{bucket}/{self.prefix}", detail={"deleted": str(deleted)})


def _owned_roots(ctx: DrillContext) -> list[Path]:
    roots = [ctx.workdir]
    for handle in ctx.services().values():
        roots += [p for p in (handle.info.workdir, handle.info.data_dir) if p is not None]
    return roots


def _inside(path: Path, root: Path) -> bool:
    path, root = path.resolve(), root.resolve()
    return path == root or path.is_relative_to(root)
