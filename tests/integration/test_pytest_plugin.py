"""The pytest plugin: scenario files become items; FAIL fails, COULD NOT VERIFY errors;
JUnit shows each criterion; pytest-html gets the figures as columns and the findings as extras."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.integration.engine_helpers import REPO, scratch_project, write

SCENARIO = (REPO / "scenarios/service/corrupt-config-restore.yaml").read_text()


def _pytest(project: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DRILLBOOK_HISTORY=str(project / "reports" / "history.sqlite"))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--strict-markers", *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = scratch_project(tmp_path)
    write(project, "scenarios/service/restore.yaml", SCENARIO)
    write(project, "scenarios/service/broken-restore.yaml",
          SCENARIO.replace("name: service-corrupt-config-restore", "name: broken-restore")
          .replace("tags: [monthly,", "tags: [weekly,")
          .replace("drills/litellm-config/restore-latest-backup.sh", "drills/nothing.sh")
          + "timeouts: {recover: 6s}\n")
    write(project, "drills/nothing.sh", "#!/bin/sh\necho restoring nothing\nexit 0\n",
          executable=True)
    write(project, "scenarios/unverifiable.yml", """
        name: unverifiable
        tags: [monthly]
        services: {app: {kind: command, command: [sleep, "600"]}}
        steady_state: [{kind: tcp, host: 127.0.0.1, port: 1}]
        timeouts: {baseline: 1s}
    """)
    # YAML that is not a scenario, in and out of a scenarios/ folder: never an item.
    write(project, "scenarios/values.yaml", "replicas: 3\n")
    write(project, "scenarios/broken.yaml", "name: [unclosed\n")
    write(project, "config/other.yaml", "name: other\nservices: {}\n")
    return project


def _items(done: subprocess.CompletedProcess[str]) -> list[str]:
    return sorted(line for line in done.stdout.splitlines() if "::" in line)


def test_only_scenario_files_under_scenarios_become_items(project: Path) -> None:
    done = _pytest(project, "--collect-only", "-q", ".")
    assert _items(done) == [
        "scenarios/service/broken-restore.yaml::broken-restore",
        "scenarios/service/restore.yaml::service-corrupt-config-restore",
        "scenarios/unverifiable.yml::unverifiable",
    ], done.stdout + done.stderr


def test_a_scenario_named_on_the_command_line_is_collected_anywhere(project: Path) -> None:
    done = _pytest(project, "--collect-only", "-q", "config/other.yaml")
    assert _items(done) == ["config/other.yaml::other"], done.stdout + done.stderr


def test_each_backend_is_its_own_item(project: Path) -> None:
    done = _pytest(project, "--collect-only", "-q", "scenarios/service/restore.yaml",
                   "--drill-backend", "local,docker")
    assert [i.rsplit("::", 1)[1] for i in _items(done)] == [
        "service-corrupt-config-restore[docker]", "service-corrupt-config-restore[local]",
    ]


def test_tags_select_drills_as_markers_under_strict_markers(project: Path) -> None:
    done = _pytest(project, "--collect-only", "-q", "scenarios", "-m", "weekly")
    assert _items(done) == ["scenarios/service/broken-restore.yaml::broken-restore"], (
        done.stdout + done.stderr
    )


def test_the_project_test_suite_gains_no_item_from_its_malformed_yaml() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q",
         "tests/unit"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    files = {i.split("::", 1)[0] for i in _items(done)}
    assert files and not [f for f in files if f.endswith((".yaml", ".yml"))], done.stdout


@pytest.mark.slow
def test_pass_fail_and_could_not_verify_map_to_pass_failure_and_error(project: Path) -> None:
    junit, report = project / "junit.xml", project / "report.html"
    done = _pytest(project, "scenarios", f"--junitxml={junit}", f"--html={report}",
                   "--self-contained-html", "-v")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "restore.yaml::service-corrupt-config-restore PASSED" in out
    assert "broken-restore.yaml::broken-restore FAILED" in out
    assert "unverifiable.yml::unverifiable ERROR" in out
    assert "STEADY_STATE_NOT_RESTORED" in out or "TTR_EXCEEDED" in out
    assert "BASELINE_UNHEALTHY" in out

    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("errors")) == ("1", "1")
    names = {p.get("name") for p in suite.iter("property")}
    assert {"max_time_to_recover", "baseline"} <= names

    page = report.read_text()
    for text in ("Time to recover", "Rows lost", "Verdict", "findings", "step logs"):
        assert text in page

    assert (project / "reports" / "history.sqlite").is_file()
    assert len(list((project / "reports").glob("*/evidence/manifest.json"))) == 3
    assert len(list((project / "reports").glob("*/result.json"))) == 3
