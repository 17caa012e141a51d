"""Where drillbook keeps its state: DRILLBOOK_HOME (run dirs, PostgreSQL templates)."""

from __future__ import annotations

import os
from pathlib import Path


def drillbook_home() -> Path:
    """$DRILLBOOK_HOME, else $XDG_CACHE_HOME/drillbook, else ~/.cache/drillbook."""
    explicit = os.environ.get("DRILLBOOK_HOME")
    if explicit:
        return Path(explicit).expanduser().resolve()
    cache = os.environ.get("XDG_CACHE_HOME")
    base = Path(cache).expanduser() if cache else Path.home() / ".cache"
    return (base / "drillbook").resolve()
