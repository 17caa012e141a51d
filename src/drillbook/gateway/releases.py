"""Releases of the gateway: what a drill deploys and rolls back (`--release v1|v2`).

v2 is the "new revision": it ships the unified LLM hub page behind the feature flag, needs
schema version 3, and says so in /version and a response header, so a drill can see which
revision is serving.
"""

from __future__ import annotations

from dataclasses import dataclass

RELEASE_ENV = "DRILLBOOK_GATEWAY_RELEASE"


@dataclass(frozen=True)
class Release:
    name: str
    summary: str
    unified_hub: bool
    migration_target: int  # schema version this release migrates up to at startup


RELEASES: dict[str, Release] = {
    "v1": Release("v1", "classic llm management pages", unified_hub=False, migration_target=2),
    "v2": Release(
        "v2", "unified llm hub behind FEATURE_UNIFIED_LLM_HUB", unified_hub=True, migration_target=3
    ),
}


class UnknownReleaseError(ValueError):
    pass


def get_release(name: str) -> Release:
    try:
        return RELEASES[name]
    except KeyError:
        raise UnknownReleaseError(
            f"unknown release {name!r}; known: {', '.join(sorted(RELEASES))}"
        ) from None
