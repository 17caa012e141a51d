"""Game days and walk-throughs: a person recovers, the harness keeps time."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import psycopg
import pytest

from drillbook.report import BaseListener
from drillbook.result import RunResult
from drillbook.runner.runner import Runner, RunOptions
from drillbook.scenario.loader import load_scenario
from tests.integration.engine_helpers import findings, scratch_project, write

pytestmark = pytest.mark.slow

SCENARIO = """
name: game-day
runbook: https://wiki.example/runbooks/beat-table
services:
  db: {kind: postgres}
seed:
  - {kind: sql, service: db, sql: "create table beat (n int); insert into beat values (1)"}
steady_state:
  - {kind: sql, name: beat present, service: db, query: "select count(*) from beat", expect: ">= 1"}
fault:
  - {kind: db.delete_rows, service: db, table: beat, where: "true"}
recovery:
  - {kind: run, run: "exit 1"}
timeouts: {recover: RECOVER}
criteria: {max_time_to_recover: 20s}
"""


class Operator(BaseListener):
    """Plays the person at the keyboard: reads the briefing, fixes the table after `delay`."""

    def __init__(self, delay: float | None) -> None:
        self.delay = delay
        self.lines: list[str] = []
        self.acted_after: float | None = None

    def on_log(self, line: str) -> None:
        self.lines.append(line)
        found = re.match(r"environment: source (\S+)", line)
        if found and self.delay is not None:
            threading.Thread(target=self.recover, args=(Path(found.group(1)),), daemon=True).start()

    def recover(self, env_file: Path) -> None:
        handed_over = time.monotonic()
        env = dict(
            re.match(r"export (\w+)=(.*)", line).groups()  # type: ignore[union-attr]
            for line in env_file.read_text().splitlines()
        )
        time.sleep(self.delay or 0)
        with psycopg.connect(env["DATABASE_URL"].strip("'"), autocommit=True) as conn:
            conn.execute("insert into beat values (1)")
        self.acted_after = time.monotonic() - handed_over


def game_day(
    tmp_path: Path, delay: float | None, recover: str = "30s"
) -> tuple[RunResult, Operator]:
    project = scratch_project(tmp_path)
    scenario = load_scenario(write(project, "gd.yaml", SCENARIO.replace("RECOVER", recover)))
    operator = Operator(delay)
    options = RunOptions(
        reports_dir=tmp_path / "r",
        game_day=True,
        operator="alice",
        notes="restored the row by hand",
    )
    return Runner(options, operator).run(scenario), operator


def test_time_to_recover_of_a_person_matches_when_they_fixed_it(tmp_path: Path) -> None:
    result, operator = game_day(tmp_path, delay=1.5)
    assert any(line.startswith("GAME DAY") for line in operator.lines)
    assert any("beat present" in line and "FAIL" in line for line in operator.lines)
    assert any("wiki.example" in line for line in operator.lines)
    assert not any(s.phase == "recover" for s in result.journal.steps)  # the script never ran
    ttr = result.measurements.time_to_recover.value
    assert ttr is not None and operator.acted_after is not None
    assert abs(ttr - operator.acted_after) <= result.journal.probe_interval + 0.05, (
        ttr,
        operator.acted_after,
    )
    end = result.journal.mark("gameday.end")
    assert end is not None and end.detail["operator"] == "alice"
    assert end.detail["notes"] == "restored the row by hand"
    assert result.verdict.status == "PASS", result.verdict.summary()


def test_an_operator_who_never_recovers_fails_at_the_timeout(tmp_path: Path) -> None:
    result, _ = game_day(tmp_path, delay=None, recover="2s")
    assert result.verdict.status == "FAIL"
    assert findings(result) & {"STEADY_STATE_NOT_RESTORED", "TTR_EXCEEDED"}


def test_pause_before_a_phase_waits_until_resumed(tmp_path: Path) -> None:
    project = scratch_project(tmp_path)
    scenario = load_scenario(
        write(
            project,
            "p.yaml",
            SCENARIO.replace("RECOVER", "5s").replace(
                '{kind: run, run: "exit 1"}',
                '{kind: sql, service: db, sql: "insert into beat values (1)"}',
            ),
        )
    )
    options = RunOptions(reports_dir=tmp_path / "r", pause_before=frozenset({"inject"}))

    class Walkthrough(BaseListener):
        def on_log(self, line: str) -> None:
            if line.startswith("paused before inject"):
                threading.Timer(1.0, options.pauser.resume).start()

    result = Runner(options, Walkthrough()).run(scenario)
    paused, resumed = result.journal.mark("paused"), result.journal.mark("resumed")
    assert paused is not None and resumed is not None
    assert resumed.t - paused.t >= 0.9
    inject = result.journal.mark("inject.start")
    assert inject is not None and inject.t >= resumed.t
    assert result.verdict.status == "PASS", result.verdict.summary()
