"""Reporters: the JSON journal, the console, and the listener fan-out."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from drillbook.journal import FaultRecord, ProbeSample, Sample, StepRecord
from drillbook.redact import Redactor
from drillbook.report import BaseListener, Broadcast, RunListener
from drillbook.report.console import ConsoleReporter
from drillbook.report.json_report import (
    SCHEMA_VERSION,
    compress_samples,
    report_schema,
    write_json,
)
from drillbook.result import RunResult, SuiteResult
from drillbook.testing import JournalBuilder, healthy_drill, make_result, make_scenario

SECRET = "Planted-S3cret-9x"
ANSI = re.compile(r"\x1b\[")


def _result(recover_after: int = 5, **criteria: str) -> RunResult:
    scenario = make_scenario(criteria=criteria) if criteria else None
    return make_result(healthy_drill(recover_after=recover_after).journal(), scenario)


def _suite(*results: RunResult) -> SuiteResult:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return SuiteResult(results=results, started_utc=now, ended_utc=now)


# -- JSON -----------------------------------------------------------------------------------------


def test_json_report_has_documented_top_level_keys(tmp_path: Path) -> None:
    doc = json.loads(write_json(_result(), tmp_path / "r.json", Redactor()).read_text())

    assert list(doc) == ["schema_version", "kind", "generated_utc", "drillbook_version",
                         "status", "exit_code", "suite", "runs"]
    assert doc["schema_version"] == SCHEMA_VERSION == 1
    assert (doc["kind"], doc["status"], doc["exit_code"]) == ("run", "PASS", 0)
    run = doc["runs"][0]
    assert list(run) == ["scenario", "scenario_file", "run_id", "backend", "report_dir",
                         "status", "verdict", "measurements", "journal"]


def test_json_report_keeps_every_mark_with_offset_and_utc_time(tmp_path: Path) -> None:
    result = _result()
    doc = json.loads(write_json(result, tmp_path / "r.json").read_text())

    marks = doc["runs"][0]["journal"]["marks"]
    assert [m["name"] for m in marks] == [m.name for m in result.journal.marks]
    inject = next(m for m in marks if m["name"] == "inject.start")
    assert inject["t"] == pytest.approx(0.3)
    assert datetime.fromisoformat(inject["utc"]) == datetime(2026, 1, 1, 0, 0, 0, 300000,
                                                             tzinfo=UTC)


def test_json_report_keeps_steps_with_exit_code_and_last_output_lines(tmp_path: Path) -> None:
    b = healthy_drill().step("recover", ok=False, exit_code=3, output=("a", "b", "last line"))
    doc = json.loads(write_json(make_result(b.journal()), tmp_path / "r.json").read_text())

    step = doc["runs"][0]["journal"]["steps"][-1]
    assert (step["exit_code"], step["output_tail"]) == (3, ["a", "b", "last line"])
    finding = doc["runs"][0]["verdict"]["findings"]
    assert any(f["code"] == "STEP_FAILED" and f["status"] == "FAIL" for f in finding)


def test_json_figures_carry_their_definitions(tmp_path: Path) -> None:
    doc = json.loads(write_json(_result(), tmp_path / "r.json").read_text())
    ttr = doc["runs"][0]["measurements"]["time_to_recover"]
    assert ttr["value"] == pytest.approx(0.5)
    assert ttr["start_mark"] == "recover.start" and ttr["end_mark"] == "sample.steady_again"
    assert ttr["resolution"] == pytest.approx(0.1)
    assert "from the start of recovery" in ttr["what"]


def test_samples_compress_to_runs_that_keep_every_transition_exact() -> None:
    b = JournalBuilder(interval=0.1).samples("oooxxoo")
    runs = compress_samples(b.journal().samples)

    assert [(r.ok, r.count) for r in runs] == [(True, 3), (False, 2), (True, 2)]
    assert [r.first_t for r in runs] == pytest.approx([0.0, 0.3, 0.5])
    assert runs[1].probes[0].detail == "down"


def test_samples_split_when_a_different_probe_fails() -> None:
    def sample(t: float, http: bool, sql: bool) -> Sample:
        return Sample(t=t, ok=http and sql, results=(
            ProbeSample(probe="http", ok=http, latency=0.01),
            ProbeSample(probe="sql", ok=sql, latency=0.02 + t),
        ))

    runs = compress_samples([sample(0.0, False, True), sample(0.1, True, False),
                             sample(0.2, True, False)])
    assert [r.count for r in runs] == [1, 2]
    assert runs[1].probes[1].max_latency == pytest.approx(0.22)


def test_a_planted_secret_never_reaches_the_json_report(tmp_path: Path) -> None:
    b = healthy_drill()
    b.step("recover", ok=False, output=(f"PGPASSWORD={SECRET}", f"using {SECRET}"),
           error=f"auth failed for postgresql://drill:{SECRET}@127.0.0.1/drill")
    b.fact("db.dsn", f"postgresql://drill:{SECRET}@127.0.0.1:5432/drill")
    b.mark("ctl", service="db", output=SECRET)
    b.abort("recover", "RUN_ERROR", f"boom {SECRET}")
    path = write_json(_suite(make_result(b.journal())), tmp_path / "suite.json",
                      Redactor([SECRET]))

    text = path.read_text()
    assert SECRET not in text
    assert "***" in text
    json.loads(text)  # still valid JSON


def test_suite_json_lists_every_run_with_totals_and_exit_code(tmp_path: Path) -> None:
    suite = _suite(_result(), _result(recover_after=40, max_time_to_recover="1s"))
    doc = json.loads(write_json(suite, tmp_path / "s.json").read_text())

    assert doc["kind"] == "suite" and len(doc["runs"]) == 2
    assert (doc["status"], doc["exit_code"]) == ("FAIL", 1)
    assert doc["suite"]["passed"] == 1 and doc["suite"]["failed"] == 1


def test_the_report_schema_is_available_for_consumers() -> None:
    schema = report_schema()
    assert {"schema_version", "runs", "exit_code"} <= set(schema["properties"])


# -- console --------------------------------------------------------------------------------------


def _plain() -> tuple[ConsoleReporter, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=120, highlight=False)
    return ConsoleReporter(console, redactor=Redactor([SECRET]), now=lambda: 0.0), out


def _replay(reporter: RunListener, result: RunResult) -> None:
    reporter.on_run_start(make_scenario(name=result.scenario), result.run_id)
    for phase in ("baseline", "inject", "recover"):
        reporter.on_phase(phase)  # type: ignore[arg-type]
    reporter.on_step_start("recover", 0, "run drills/restore.sh")
    reporter.on_fault(FaultRecord(index=0, kind="db.drop_table", target="db.configs",
                                  started=0.0, ended=0.1, ok=True))
    for sample in result.journal.samples:
        reporter.on_sample(sample)
    for step in result.journal.steps:
        reporter.on_step_end(step)
    reporter.on_log(f"restoring with PGPASSWORD={SECRET}")
    reporter.on_run_end(result)


def test_plain_console_prints_one_line_per_event_without_ansi_codes() -> None:
    reporter, out = _plain()
    _replay(reporter, _result())
    text = out.getvalue()

    assert not ANSI.search(text)
    assert "phase inject" in text and "phase recover" in text
    assert "step recover[0] run drills/restore.sh started" in text
    assert "fault[0] db.drop_table on db.configs injected" in text
    assert text.count("steady state FAILING") == 1
    assert text.count("steady state ok again") == 1
    assert "step recover[0] restore ok in 0.50 s" in text


def test_console_masks_secrets_in_log_lines() -> None:
    reporter, out = _plain()
    _replay(reporter, _result())
    assert SECRET not in out.getvalue()
    assert "PGPASSWORD=***" in out.getvalue()


def test_console_shows_figures_and_findings_after_a_drill() -> None:
    reporter, out = _plain()
    _replay(reporter, _result(recover_after=40, max_time_to_recover="1s"))
    text = out.getvalue()

    assert "FAIL" in text and "TTR_EXCEEDED" in text
    assert "time_to_recover" in text and "4.00 s ± 0.10 s" in text
    assert "from the start of recovery" in text


def test_console_shows_failing_step_output() -> None:
    reporter, out = _plain()
    b = healthy_drill().step("recover", ok=False, exit_code=1, output=("pg_restore: error",))
    reporter.on_step_end(b.journal().steps[-1])
    assert "failed (exit 1)" in out.getvalue() and "| pg_restore: error" in out.getvalue()


def test_suite_summary_has_one_row_per_drill_and_the_exit_code() -> None:
    reporter, out = _plain()
    ok = _result()
    slow = _result(recover_after=40, max_time_to_recover="1s")
    reporter.on_suite_end(_suite(ok, slow.model_copy(update={"scenario": "slow-restore"})))
    text = out.getvalue()

    assert "slow-restore" in text and "FAIL: TTR_EXCEEDED" in text
    assert "1 passed, 1 failed, 0 could not verify; exit code 1" in text


def test_live_console_shows_progress_and_ends_with_the_tables() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    reporter = ConsoleReporter(console, live=True)
    _replay(reporter, _result())
    assert "findings" in out.getvalue()
    assert reporter._live is None  # stopped, so the terminal is handed back


# -- listeners ------------------------------------------------------------------------------------


class _Recording(BaseListener):
    def __init__(self) -> None:
        self.phases: list[str] = []

    def on_phase(self, phase: str) -> None:  # type: ignore[override]
        self.phases.append(phase)


class _Broken(BaseListener):
    def on_phase(self, phase: str) -> None:  # type: ignore[override]
        raise RuntimeError("listener bug")

    def on_sample(self, sample: Sample) -> None:
        raise RuntimeError("sampler listener bug")


def test_a_failing_listener_is_logged_and_the_others_still_hear_every_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recording = _Recording()
    fan = Broadcast([_Broken(), recording])

    with caplog.at_level(logging.ERROR, logger="drillbook.report"):
        fan.on_phase("baseline")
        fan.on_phase("inject")
        for sample in healthy_drill().journal().samples:
            fan.on_sample(sample)

    assert recording.phases == ["baseline", "inject"]
    assert fan.failures == {("_Broken", "on_phase"): 2, ("_Broken", "on_sample"): 12}
    assert len(caplog.records) == 2  # one traceback per listener and event, not per call
    assert "_Broken failed in on_phase" in caplog.records[0].getMessage()


def test_every_reporter_satisfies_the_listener_protocol() -> None:
    for listener in (BaseListener(), Broadcast([]), _plain()[0]):
        assert isinstance(listener, RunListener)


def test_base_listener_ignores_every_event() -> None:
    result = _result()
    _replay(BaseListener(), result)
    BaseListener().on_suite_end(_suite(result))
    BaseListener().on_step_end(StepRecord(phase="seed", index=0, id=None, kind="sql",
                                          description="", started=0, ended=0, ok=True))


def test_narrow_console_prints_one_line_per_finding() -> None:
    out = io.StringIO()
    reporter = ConsoleReporter(Console(file=out, force_terminal=False, width=80))
    reporter.on_run_end(_result(recover_after=40, max_time_to_recover="1s"))
    assert "FAIL  max_time_to_recover  TTR_EXCEEDED  recovered in 4.00 s" in out.getvalue()
