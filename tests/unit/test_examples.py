"""The schedule examples parse, and every drillbook command and option they use exists."""

from __future__ import annotations

import configparser
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GROUPS = {"evidence", "report", "images"}  # commands with subcommands


def _drillbook_calls(text: str) -> list[list[str]]:
    """Each `drillbook ...` command line in a shell snippet, as argv after `drillbook`."""
    calls = []
    for line in text.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        for index, word in enumerate(words):
            if Path(word).name == "drillbook":
                calls.append(words[index + 1:])
                break
    return calls


def _workflow_calls() -> list[list[str]]:
    data = yaml.safe_load((EXAMPLES / "github-actions/drills.yml").read_text())
    triggers = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"] == "17 3 1 * *"
    assert triggers["push"]["tags"] == ["v*"]
    assert set(data["jobs"]) == {"monthly", "release-gate"}
    return [
        call
        for job in data["jobs"].values()
        for step in job["steps"]
        if "run" in step
        for call in _drillbook_calls(step["run"])
    ]


def _systemd_calls() -> list[list[str]]:
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.read(EXAMPLES / "systemd/drillbook-drills.service")
    assert service["Service"]["Type"] == "oneshot" and service["Service"]["User"] != "root"
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(EXAMPLES / "systemd/drillbook-drills.timer")
    assert timer["Timer"]["Unit"] == "drillbook-drills.service"
    assert timer["Timer"]["Persistent"] == "true" and timer["Timer"]["OnCalendar"]
    return [
        call
        for key in ("ExecStartPre", "ExecStart")
        for call in _drillbook_calls(service["Service"][key])
    ]


def _cronjob_calls() -> list[list[str]]:
    job = yaml.safe_load((EXAMPLES / "kubernetes/cronjob.yaml").read_text())
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "CronJob")
    assert job["spec"]["schedule"] == "0 3 1 * *"
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    command = container["command"]
    assert command[0] == "drillbook"
    return [command[1:]]


CALLS = [*_workflow_calls(), *_systemd_calls(), *_cronjob_calls()]


def test_the_examples_call_drillbook_in_every_scheduler() -> None:
    commands = {call[0] for call in CALLS}
    assert {"run", "validate", "doctor", "history", "evidence"} <= commands
    assert len(CALLS) >= 8


@pytest.fixture(scope="module")
def helps() -> dict[tuple[str, ...], str]:
    env = dict(os.environ, COLUMNS="240", TERM="dumb", NO_COLOR="1")
    found = {}
    for call in CALLS:
        command = tuple(call[:2] if call[0] in GROUPS else call[:1])
        if command in found:
            continue
        done = subprocess.run(
            [sys.executable, "-m", "drillbook", *command, "--help"],
            capture_output=True, text=True, timeout=60, check=False, env=env,
        )
        assert done.returncode == 0, f"drillbook {' '.join(command)} --help: {done.stderr}"
        found[command] = done.stdout
    return found


@pytest.mark.parametrize("call", CALLS, ids=[" ".join(c[:3]) for c in CALLS])
def test_each_command_and_option_an_example_uses_exists(
    call: list[str], helps: dict[tuple[str, ...], str]
) -> None:
    command = tuple(call[:2] if call[0] in GROUPS else call[:1])
    text = helps[command]
    for word in call:
        if word.startswith("--"):
            assert word.split("=", 1)[0] in text, f"drillbook {' '.join(command)}: no {word}"
