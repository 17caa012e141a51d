"""The environment contract: what a drill's scripts find in their environment.

The same script runs against a drill and against staging, so names are the ones ops scripts
already use (DATABASE_URL, PG*, AWS_*, ...). Every service also exports its variables under
its own name as prefix (DB_DATABASE_URL), so scenarios with two databases stay usable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from drillbook.backends.base import ServiceHandle

# Variables a drill defines itself; inherited values would point scripts at real systems.
_INHERITED_BLOCKLIST = re.compile(
    r"^(AWS_.*|PG.*|DATABASE_URL|GATEWAY_.*|BACKUP_.*|DRILL_.*|DRILLBOOK_.*|LITELLM_.*|"
    r"OPENAI_.*|ANTHROPIC_.*|WAL_ARCHIVE_DIR)$"
)


def prefix_for(service_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", service_name).upper() + "_"


def primary_services(
    services: Mapping[str, ServiceHandle], primary: Mapping[str, bool | None]
) -> set[str]:
    """The service of each kind whose variables get the canonical names: the one marked
    `primary: true`, else the first declared of its kind."""
    chosen: dict[str, str] = {}
    for name, handle in services.items():
        if primary.get(name):
            chosen[handle.kind] = name
    for name, handle in services.items():
        if primary.get(name) is not False:
            chosen.setdefault(handle.kind, name)
    return set(chosen.values())


def build_env(
    *,
    services: Mapping[str, ServiceHandle],
    primary: Mapping[str, bool | None],
    client_path: Sequence[Path],
    workdir: Path,
    backup_dir: Path,
    run_id: str,
    ctl_command: Path,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    inherited = dict(os.environ if base is None else base)
    env = {k: v for k, v in inherited.items() if not _INHERITED_BLOCKLIST.match(k)}
    canonical = primary_services(services, primary)
    for name, handle in services.items():
        prefix = prefix_for(name)
        for key, value in handle.env().items():
            if key.startswith(prefix):  # already named after its service (APP_URL): keep as is
                env[key] = value
                continue
            env[prefix + key] = value
            if name in canonical:
                env[key] = value
    path_parts = [str(p) for p in client_path] + [inherited.get("PATH", os.defpath)]
    env["PATH"] = os.pathsep.join(path_parts)
    env["DRILL_WORKDIR"] = str(workdir)
    env["BACKUP_DIR"] = str(backup_dir)
    env["DRILLBOOK_RUN_ID"] = run_id
    env["DRILLBOOK_CTL"] = str(ctl_command)
    return env
