"""Fixtures for the local backend's tests: a fresh DRILLBOOK_HOME per test, one template cache
per session (initdb once), and a backend that is always torn down.

Import `home_fixture` / `backend_fixture` into a test module to use `home` / `backend`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drillbook.backends.local import LocalBackend
from drillbook.backends.local.process import find_processes
from drillbook.backends.local.state import RUN_ID_ENV


@pytest.fixture(name="home")
def home_fixture(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DRILLBOOK_HOME", str(home))
    # Shared by every test of the session (a plain path under pytest's base temp dir).
    monkeypatch.setenv("DRILLBOOK_TEMPLATES", str(tmp_path_factory.getbasetemp() / "pg-templates"))
    return home


@pytest.fixture(name="backend")
def backend_fixture(home: Path, tmp_path: Path) -> Iterator[LocalBackend]:
    run_id = f"t-{secrets.token_hex(4)}"
    backend = LocalBackend(home / "runs" / run_id, run_id, base_dir=tmp_path)
    try:
        yield backend
    finally:
        backend.teardown()
        assert find_processes(env={RUN_ID_ENV: run_id}) == []


def wait_for(predicate: Callable[[], object], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())
