"""A template PostgreSQL cluster per major version, initialised once and copied per drill.

`initdb` costs ~0.7-1.3 s; copying a ready cluster costs ~0.05 s. The template is a stopped
cluster with superuser `postgres`, trust on the unix socket only (its directory is private to
the server user), scram-sha-256 over TCP, and the `drill` database already created. It lives in
$DRILLBOOK_TEMPLATES (default $DRILLBOOK_HOME/templates)/pg<major>; a file lock makes the first
use safe when several drills start at once.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import subprocess
from pathlib import Path

from drillbook.backends.local.pgbin import PgInstall
from drillbook.backends.local.runas import RunAs, chown_tree
from drillbook.backends.local.runtime import copy_tree, runtime_root
from drillbook.errors import ProvisionError
from drillbook.settings import drillbook_home

READY = ".drillbook-template"
DEFAULT_DATABASE = "drill"
INCLUDE_LINE = "include_if_exists = 'drillbook.conf'  # written by drillbook at every start\n"


def templates_dir() -> Path:
    explicit = os.environ.get("DRILLBOOK_TEMPLATES")
    return Path(explicit).expanduser().resolve() if explicit else drillbook_home() / "templates"


def template_path(install: PgInstall) -> Path:
    return templates_dir() / f"pg{install.major}"


def ensure_template(install: PgInstall, server_bin: Path, user: RunAs | None) -> Path:
    """The template data directory for `install`'s major, created first if missing."""
    target = template_path(install)
    if (target / READY).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / READY).exists():  # another drill made it while we waited
            return target
        build = runtime_root() / f"template-{os.getpid()}-{secrets.token_hex(4)}"
        build.mkdir(mode=0o700)
        try:
            chown_tree(build, user)
            data = build / "data"
            _initdb(install, server_bin, data, user, build / "initdb.log")
            staging = target.with_name(f"{target.name}.tmp-{os.getpid()}")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(target, ignore_errors=True)
            copy_tree(data, staging)
            staging.rename(target)
        finally:
            shutil.rmtree(build, ignore_errors=True)
    return target


def _run(
    argv: list[str], user: RunAs | None, log: Path, what: str, stdin: str | None = None
) -> None:
    with log.open("ab") as out:
        result = subprocess.run(
            argv,
            input=stdin.encode() if stdin is not None else None,
            stdout=out,
            stderr=subprocess.STDOUT,
            user=user.uid if user else None,
            group=user.gid if user else None,
            extra_groups=[] if user else None,
            env={"PATH": os.environ.get("PATH", os.defpath), "LC_ALL": "C", "TZ": "UTC"},
            cwd="/",
            timeout=120,
            check=False,
        )
    if result.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-20:]
        raise ProvisionError(
            f"{Path(argv[0]).name} exited with code {result.returncode} while creating {what}",
            log_tail=tail,
        )


def _initdb(
    install: PgInstall, server_bin: Path, data: Path, user: RunAs | None, log: Path
) -> None:
    argv = [
        str(server_bin / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
    ]
    if install.major >= 14:
        argv.append("--no-instructions")
    log.touch()
    chown_tree(log, user)
    what = f"the PostgreSQL {install.major} template"
    _run(argv, user, log, what)
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("\n" + INCLUDE_LINE)
    # Single-user mode creates the drill database without opening a port.
    _run(
        [str(server_bin / "postgres"), "--single", "-F", "-D", str(data), "postgres"],
        user,
        log,
        what,
        stdin=f"CREATE DATABASE {DEFAULT_DATABASE};\n",
    )
    (data / READY).write_text(f"{install.version}\n")
    chown_tree(data / READY, user)
