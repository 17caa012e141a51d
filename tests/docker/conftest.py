"""Docker tests need an engine and the locally built images (`drillbook images build`);
without them they skip, they do not fail. .ci/run builds the images, so CI runs them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from drillbook.backends.docker.config import LABEL_RUN, DockerSettings


def _engine() -> Any:
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception:
        return None
    return client


def _missing_images(client: Any) -> list[str]:
    settings = DockerSettings.from_env()
    wanted = [
        settings.postgres_candidates(None),
        [settings.s3_image],
        [settings.gateway_image],
        [settings.command_image_name],
    ]
    missing = []
    for candidates in wanted:
        found = False
        for image in candidates:
            with contextlib.suppress(Exception):
                client.images.get(image)
                found = True
                break
        if not found:
            missing.append(" or ".join(candidates))
    return missing


@pytest.fixture(scope="session")
def engine() -> Any:
    client = _engine()
    if client is None:
        pytest.skip("no Docker engine reachable")
    missing = _missing_images(client)
    if missing:
        pytest.skip(f"images not built ({', '.join(missing)}); run `drillbook images build`")
    return client


def labelled(client: Any, run_id: str) -> dict[str, list[str]]:
    """Names of everything still labelled with `run_id`, by resource type."""
    filters = {"label": f"{LABEL_RUN}={run_id}"}
    return {
        "containers": [c.name for c in client.containers.list(all=True, filters=filters)],
        "networks": [n.name for n in client.networks.list(filters=filters)],
        "volumes": [v.name for v in client.volumes.list(filters=filters)],
    }


def nothing_left(client: Any, run_id: str) -> bool:
    return not any(labelled(client, run_id).values())


@pytest.fixture
def sweep(engine: Any) -> Iterator[list[str]]:
    """Run ids a test creates; whatever they leave is removed afterwards, pass or fail."""
    run_ids: list[str] = []
    yield run_ids
    from drillbook.backends.docker.cleanup import clean_docker

    for run_id in run_ids:
        clean_docker(run_id, include_live=True, client=engine)
