"""`drillbook doctor` on this machine: every check answers, none raises."""

from __future__ import annotations

from pathlib import Path

from drillbook.doctor import Check, doctor
from tests.integration.local_helpers import home_fixture  # noqa: F401


def test_doctor_answers_every_check_and_the_local_backend_prerequisites_hold(home: Path) -> None:
    checks = doctor()
    names = [c.name for c in checks]
    assert names == [
        "postgres binaries",
        "postgres server user",
        "free disk",
        "free port",
        "moto (s3)",
        "clock",
        "docker",
    ]
    assert all(isinstance(c, Check) and c.detail for c in checks)
    by_name = {c.name: c for c in checks}
    for required in (
        "postgres binaries",
        "postgres server user",
        "free port",
        "moto (s3)",
        "clock",
    ):
        assert by_name[required].ok, by_name[required]
    assert by_name["docker"].required is False  # a missing engine only warns
