"""The `drillbook` command as a user meets it: exit codes, messages, nothing started on bad
input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MALFORMED = REPO / "tests" / "unit" / "malformed"
# Corpus files that fail with built-in kinds alone (the rest use test-only kinds).
GENERIC = sorted(
    p
    for p in MALFORMED.glob("*.yaml")
    if p.name.startswith("builtin_") or b"test." not in p.read_bytes()
)


def drillbook(*args: str, home: Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DRILLBOOK_HOME=str(home), COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "drillbook", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def expected_line(path: Path) -> str:
    first = (
        path.read_bytes().decode("utf-8", "replace").splitlines()[0] if path.stat().st_size else ""
    )
    return first.removeprefix("# expect:").split()[0] if first.startswith("# expect:") else ""


def test_a_suite_of_malformed_scenarios_exits_3_with_every_file_and_line_and_starts_nothing(
    tmp_path: Path,
) -> None:
    assert len(GENERIC) >= 10
    done = drillbook("run", *map(str, GENERIC), home=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    for path in GENERIC:
        line = expected_line(path)
        assert f"{path.name}:{line}" in done.stderr if line else path.name in done.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.parametrize("path", GENERIC[:4], ids=lambda p: p.name)
def test_validate_names_the_file_line_and_key_of_each_problem(tmp_path: Path, path: Path) -> None:
    done = drillbook("validate", str(path), home=tmp_path)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert path.name in done.stderr


def test_validate_and_list_accept_the_shipped_scenarios(tmp_path: Path) -> None:
    done = drillbook("validate", "scenarios", home=tmp_path)
    assert done.returncode == 0, done.stderr
    listed = drillbook("list", "scenarios", "--tag", "database", home=tmp_path)
    assert listed.returncode == 0
    assert "postgres-drop-table-restore" in listed.stdout


def test_schema_is_json_with_every_fault_kind(tmp_path: Path) -> None:
    done = drillbook("schema", home=tmp_path)
    assert done.returncode == 0
    text = json.dumps(json.loads(done.stdout))
    for kind in ("db.drop_table", "config.corrupt_yaml", "service.kill"):
        assert kind in text


def test_a_missing_path_is_invalid_input(tmp_path: Path) -> None:
    done = drillbook("run", "no/such/dir", home=tmp_path)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr


def test_doctor_reports_postgres_binaries(tmp_path: Path) -> None:
    done = drillbook("doctor", home=tmp_path)
    assert "postgres" in done.stdout
    assert done.returncode in (0, 1)


def test_clean_with_nothing_to_clean_is_quiet_success(tmp_path: Path) -> None:
    done = drillbook("clean", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "killed 0 process" in done.stdout
