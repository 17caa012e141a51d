"""pg_dump, pg_restore and psql of the server's own major, for scripts that run on the host.

A dump taken by an older pg_dump than the server fails, and one restored by an older
pg_restore may too: so the tools on PATH must match the server. Host binaries of that major
(/usr/lib/postgresql/<major>/bin) are used when present; otherwise wrapper scripts run the
server image's own tools by `docker exec`. The container publishes the same port and mounts
the run dir at its host path, so the wrappers need no rewriting of addresses or files.
Which one was used is in the journal facts (client_tools, client_version).
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drillbook.backends.docker.postgres import DockerPostgres

TOOLS = (
    "psql", "pg_dump", "pg_dumpall", "pg_restore", "pg_isready", "pg_basebackup",
    "createdb", "dropdb",
)  # fmt: skip
HOST_ROOT = Path("/usr/lib/postgresql")
_PASS = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGOPTIONS", "PGSSLMODE")


@dataclass(frozen=True)
class ClientTools:
    bindir: Path
    source: str  # "host" or "docker exec <container>"
    version: str


def host_version(bindir: Path) -> str | None:
    try:
        out = subprocess.run(
            [str(bindir / "pg_dump"), "--version"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    words = out.split()  # "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    return words[2] if len(words) > 2 else None


def pick_client_tools(service: DockerPostgres) -> ClientTools:
    major = service.major or ""
    if service.run.settings.host_clients != "never" and major:
        bindir = HOST_ROOT / major / "bin"
        version = host_version(bindir)
        if version is not None and version.split(".")[0] == major:
            return ClientTools(bindir=bindir, source="host", version=version)
    return write_wrappers(service)


def write_wrappers(service: DockerPostgres) -> ClientTools:
    """One script per tool in the service dir's bin/, each `docker exec`-ing into the server."""
    bindir = service.workdir / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    container = service.container_name
    mounts = [str(service.run.run_dir), str(service.run.base_dir)]
    passes = " ".join(f"-e {name}" for name in _PASS)
    for tool in TOOLS:
        script = f"""#!/bin/sh
# drillbook: {tool} of the server's major, run inside {container} (docker exec).
# Paths under the run dir and the scenario dir are the same inside; elsewhere use stdin/stdout.
wd=/
for m in {" ".join(shlex.quote(m) for m in mounts)}; do
    case "$PWD/" in "$m"/*) wd="$PWD";; esac
done
if [ -t 0 ]; then tty=-t; else tty=; fi
exec docker exec -i $tty -w "$wd" {passes} {shlex.quote(container)} {tool} "$@"
"""
        path = bindir / tool
        path.write_text(script)
        path.chmod(0o755)
    version = service.server_version or "unknown"
    return ClientTools(bindir=bindir, source=f"docker exec {container}", version=version)


def path_has_docker() -> bool:
    return any(
        (Path(part) / "docker").exists() for part in os.environ.get("PATH", "").split(os.pathsep)
    )
