"""The docker backend: services as containers (testcontainers-python), reaped by label.

Imports nothing heavy: `drillbook clean` reaches cleanup.py without testcontainers or docker
installed (it then has nothing to clean).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drillbook.backends.docker.backend import DockerBackend

__all__ = ["DockerBackend"]


def __getattr__(name: str) -> Any:
    if name == "DockerBackend":
        from drillbook.backends.docker.backend import DockerBackend

        return DockerBackend
    raise AttributeError(name)
