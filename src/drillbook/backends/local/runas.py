"""Who runs PostgreSQL: `initdb` and `postgres` refuse to run as root.

These machines run everything as root, so when the effective uid is 0 the server runs as an
unprivileged system user `drillbook` (created with useradd when missing; `nobody` when that
fails). Its directories are created for, and owned by, that user. Not root: the server runs as
the calling user.
"""

from __future__ import annotations

import functools
import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

SERVICE_USER = "drillbook"


@dataclass(frozen=True)
class RunAs:
    name: str
    uid: int
    gid: int


@functools.cache
def service_user() -> RunAs | None:
    """The user PostgreSQL runs as, or None to run it as the current user (not root)."""
    if os.geteuid() != 0:
        return None
    for attempt in range(2):
        try:
            entry = pwd.getpwnam(SERVICE_USER)
            return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid)
        except KeyError:
            if attempt == 0:
                _create_user()
    entry = pwd.getpwnam("nobody")
    return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _create_user() -> None:
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    if not Path(useradd).exists():
        return
    # A concurrent first run may create it at the same moment: the failure is then harmless.
    subprocess.run(
        [
            useradd,
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            "--comment",
            "drillbook drill services",
            SERVICE_USER,
        ],
        capture_output=True,
        check=False,
        timeout=30,
    )


def chown_tree(path: Path, user: RunAs | None) -> None:
    """Give `path` and everything under it to `user` (no-op when not root)."""
    if user is None:
        return
    os.chown(path, user.uid, user.gid, follow_symlinks=False)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(Path(root) / name, user.uid, user.gid, follow_symlinks=False)


def can_traverse(path: Path, user: RunAs | None) -> bool:
    """Whether `user` may reach `path` (search permission on it and every parent)."""
    if user is None:
        return True
    current = path.resolve()
    for part in [current, *current.parents]:
        try:
            st = part.stat()
        except OSError:
            return False
        if st.st_uid == user.uid:
            bit = stat.S_IXUSR
        elif st.st_gid == user.gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True
