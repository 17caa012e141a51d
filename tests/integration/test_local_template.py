"""The template cluster: initialised once per major, copied per drill, safe to share."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from drillbook.backends.local import LocalBackend, pgbin
from drillbook.backends.local.pgtemplate import READY, ensure_template, template_path
from drillbook.backends.local.runas import service_user
from drillbook.services import PostgresService
from tests.integration.local_helpers import home_fixture  # noqa: F401


@pytest.mark.slow
def test_copying_the_template_starts_postgres_faster_than_initdb(
    home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DRILLBOOK_TEMPLATES", str(tmp_path / "fresh-templates"))
    timings = []
    for attempt in range(3):  # first: initdb + copy + start; then: copy + start
        backend = LocalBackend(home / "runs" / f"t{attempt}", f"t{attempt}")
        started = time.perf_counter()
        backend.provision("db", PostgresService(kind="postgres"), timeout=60)
        timings.append(time.perf_counter() - started)
        backend.teardown()
    first, *copies = timings
    print(f"initdb+start {first:.3f}s, template copy+start {min(copies):.3f}s")
    assert min(copies) < first


def test_concurrent_first_use_initialises_the_template_once(
    home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DRILLBOOK_TEMPLATES", str(tmp_path / "shared-templates"))
    install = pgbin.pick(None)
    user = service_user()
    server_bin = pgbin.server_bindir(install, user)
    results: list[Path] = []
    errors: list[BaseException] = []

    def make() -> None:
        try:
            results.append(ensure_template(install, server_bin, user))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=make) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == [template_path(install)] * 3
    assert (template_path(install) / READY).exists()
    assert sorted(p.name for p in template_path(install).parent.iterdir()) == [
        f"pg{install.major}",
        f"pg{install.major}.lock",
    ]
