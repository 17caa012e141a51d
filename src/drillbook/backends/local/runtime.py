"""Directories the unprivileged PostgreSQL user can reach, and short enough for unix sockets.

A run dir normally lives under ~/.cache, and root's home is mode 0700: a server running as the
`drillbook` user could not reach a data directory there. So PostgreSQL's data, socket and WAL
archive directories live under a root-owned, world-searchable (0711) directory in the system
temp dir, one subdirectory per run, named in the run's state file so teardown and `clean`
remove them. The service's own dir in the run dir links to them. The paths stay short because
a unix socket path is limited to 107 bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from drillbook.errors import ProvisionError

MARKER = "drillbook-run.json"


def runtime_root() -> Path:
    """`$TMPDIR/drillbook-<euid>`, created 0711 and checked to be ours (no symlink planted)."""
    root = Path(
        os.environ.get("DRILLBOOK_RUNTIME_DIR")
        or Path(tempfile.gettempdir()) / f"drillbook-{os.geteuid()}"
    )
    try:
        root.mkdir(mode=0o711, exist_ok=True)
        st = root.lstat()
    except OSError as exc:
        raise ProvisionError(f"cannot create the runtime directory {str(root)!r}: {exc}") from exc
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise ProvisionError(
            f"runtime directory {str(root)!r} is not a directory owned by uid {os.geteuid()}; "
            "remove it or set DRILLBOOK_RUNTIME_DIR"
        )
    if stat.S_IMODE(st.st_mode) != 0o711:
        root.chmod(0o711)
    return root


def run_key(run_id: str) -> str:
    """A short, filesystem-safe name for a run: a readable prefix plus a hash."""
    prefix = re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)[:16]
    return f"{prefix}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"


def service_key(name: str) -> str:
    return (
        name if len(name) <= 16 else f"{name[:7]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    )


def run_runtime_dir(run_id: str, run_dir: Path) -> Path:
    """The run's directory under the runtime root, with a marker naming its run and run dir."""
    path = runtime_root() / "runs" / run_key(run_id)
    path.mkdir(parents=True, exist_ok=True, mode=0o711)
    path.parent.chmod(0o711)
    marker = path / MARKER
    if not marker.exists():
        marker.write_text(json.dumps({"run_id": run_id, "run_dir": str(run_dir)}))
    return path


def copy_tree(src: Path, dst: Path) -> None:
    """Copy a directory keeping owners and modes (`cp -a`; reflinks where the fs has them)."""
    args = ["cp", "-a"]
    if sys.platform.startswith("linux"):
        args.append("--reflink=auto")
    result = subprocess.run(
        [*args, str(src), str(dst)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ProvisionError(
            f"copying {str(src)!r} to {str(dst)!r} failed: {result.stderr.strip()}"
        )


def remove_tree(path: Path) -> bool:
    """Remove `path` (a link is unlinked, not followed); True when something was removed."""
    try:
        if path.is_symlink() or path.is_file():
            path.unlink()
            return True
        if path.is_dir():
            shutil.rmtree(path)
            return True
    except OSError:
        shutil.rmtree(path, ignore_errors=True)
        return not path.exists()
    return False
