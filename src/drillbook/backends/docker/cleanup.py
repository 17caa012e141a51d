"""Remove a run's containers, networks and volumes by their labels (no Ryuk needed).

Used by DockerBackend.teardown (its own run) and by `drillbook clean` (runs whose runner
died, found by the `drillbook.run_dir` label: a run is live only while the runner named in
that dir's run.json is).
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from drillbook.backends.docker.config import LABEL_ROOT, LABEL_RUN, LABEL_RUN_DIR
from drillbook.backends.local.state import read_run, run_is_live


def _engine() -> Any:
    """The local engine, or None when there is no Docker here (nothing to clean then)."""
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception:  # no SDK, no socket, no daemon: nothing of ours can exist
        return None
    return client


# A backend used without a runner (a test, a benchmark) writes no run.json: its run dir,
# while recently touched, counts as live.
UNREGISTERED_FRESH_SECONDS = 600.0


def _is_live(labels: dict[str, str]) -> bool:
    text = labels.get(LABEL_RUN_DIR)
    if text is None:
        return False
    run_dir = Path(text)
    record = read_run(run_dir)
    if record is not None:
        return run_is_live(record)
    try:
        return time.time() - run_dir.stat().st_mtime < UNREGISTERED_FRESH_SECONDS
    except OSError:
        return False


def clean_docker(
    run_id: str | None = None, include_live: bool = False, *, client: Any = None
) -> tuple[int, int, int]:
    """Remove the containers, networks and volumes labelled with `run_id` (every drillbook
    run's when None), sparing live runs unless `include_live`. Returns how many of each were
    removed; never raises (what cannot be removed now is left for the next clean)."""
    client = client or _engine()
    if client is None:
        return 0, 0, 0
    filters = {"label": [f"{LABEL_ROOT}=1"] + ([f"{LABEL_RUN}={run_id}"] if run_id else [])}
    live: dict[str, bool] = {}

    def spared(labels: dict[str, str] | None) -> bool:
        if include_live:
            return False
        labels = labels or {}
        rid = labels.get(LABEL_RUN, "")
        if rid not in live:
            live[rid] = _is_live(labels)
        return live[rid]

    containers = networks = volumes = 0
    with contextlib.suppress(Exception):
        for container in client.containers.list(all=True, filters=filters):
            if spared(container.labels):
                continue
            with contextlib.suppress(Exception):
                container.remove(force=True, v=True)
                containers += 1
    with contextlib.suppress(Exception):
        for volume in client.volumes.list(filters=filters):
            if spared(volume.attrs.get("Labels")):
                continue
            with contextlib.suppress(Exception):
                volume.remove(force=True)
                volumes += 1
    with contextlib.suppress(Exception):
        for network in client.networks.list(filters=filters):
            if spared(network.attrs.get("Labels")):
                continue
            with contextlib.suppress(Exception):
                network.remove()
                networks += 1
    return containers, networks, volumes
