"""grade(): one finding per criterion; what was not measured is never PASS."""

from __future__ import annotations

from typing import Any

import pytest

from drillbook.grade import Code, Finding, Status, Verdict, exit_code, grade
from drillbook.journal import Journal
from drillbook.measure import measure
from drillbook.scenario.model import DataCheck, Verify
from drillbook.testing import JournalBuilder, healthy_drill, make_scenario


def _grade(journal: Journal, **scenario: Any) -> Verdict:
    return grade(make_scenario(**scenario), journal, measure(journal))


def _finding(verdict: Verdict, criterion: str) -> Finding:
    found = [f for f in verdict.findings if f.criterion == criterion]
    assert len(found) == 1, verdict.findings
    return found[0]


DATA = Verify(data=[DataCheck(service="db", tables=["configs"])])


def _data_scenario(**criteria: Any) -> dict[str, Any]:
    from drillbook.scenario.kinds import ServiceSpec

    class Db(ServiceSpec):
        kind: str = "postgres"

    return {"services": {"db": Db()}, "verify": DATA, "criteria": criteria}


def test_a_healthy_drill_passes_every_criterion_and_exits_0() -> None:
    verdict = _grade(
        healthy_drill(recover_after=5).journal(),
        criteria={"max_time_to_detect": "1s", "max_time_to_recover": "2s", "max_outage": "5s",
                  "max_rows_lost": 0, "max_rows_changed": 0},
    )

    assert verdict.status is Status.PASS, verdict.findings
    assert {f.criterion for f in verdict.findings} >= {
        "baseline", "recovery steps", "max_time_to_detect", "max_time_to_recover",
        "max_outage", "steady_state_after", "max_rows_lost", "max_rows_changed",
    }
    assert all(f.code is Code.OK for f in verdict.findings)
    assert exit_code([verdict]) == 0


def test_recovery_slower_than_the_limit_fails_with_ttr_exceeded() -> None:
    verdict = _grade(healthy_drill(recover_after=30).journal(),
                     criteria={"max_time_to_recover": "2s"})

    finding = _finding(verdict, "max_time_to_recover")
    assert (finding.status, finding.code) == (Status.FAIL, Code.TTR_EXCEEDED)
    assert finding.measured == pytest.approx(3.0) and finding.limit == 2.0
    assert "3.00 s (± 0.10 s) exceeds the limit 2 s" in finding.message
    assert verdict.status is Status.FAIL and exit_code([verdict]) == 1


def test_never_recovered_fails_time_to_recover_and_steady_state_after() -> None:
    b = JournalBuilder()
    b.mark("baseline.start").samples("ooo").mark("baseline.end")
    b.mark("inject.start").fault().samples("x").mark("recover.start").step(duration=1.0)
    b.samples("x" * 20).verify(False, detail="relation configs does not exist")

    verdict = _grade(b.journal(), criteria={"max_time_to_recover": "60s", "max_outage": "60s"})

    assert _finding(verdict, "max_time_to_recover").code is Code.STEADY_STATE_NOT_RESTORED
    assert _finding(verdict, "max_time_to_recover").status is Status.FAIL
    assert _finding(verdict, "max_outage").code is Code.STEADY_STATE_NOT_RESTORED
    after = _finding(verdict, "steady_state_after")
    assert (after.status, after.code) == (Status.FAIL, Code.STEADY_STATE_NOT_RESTORED)
    assert "relation configs does not exist" in after.message
    assert verdict.status is Status.FAIL


def test_not_restored_for_longer_than_the_limit_is_ttr_exceeded() -> None:
    b = JournalBuilder()
    b.mark("inject.start").fault().samples("x").mark("recover.start").samples("x" * 30)
    verdict = _grade(b.journal(), criteria={"max_time_to_recover": "1s"})
    assert _finding(verdict, "max_time_to_recover").code is Code.TTR_EXCEEDED


def test_baseline_unhealthy_abort_is_could_not_verify_and_exits_2() -> None:
    b = JournalBuilder()
    b.mark("baseline.start").samples("xxxxx").mark("baseline.end")
    b.abort("baseline", "BASELINE_UNHEALTHY", "the steady state did not hold within 30 s")

    verdict = _grade(b.journal(), criteria={"max_time_to_recover": "60s", "max_rows_lost": 0})

    assert verdict.status is Status.COULD_NOT_VERIFY
    baseline = _finding(verdict, "baseline")
    assert baseline.code is Code.BASELINE_UNHEALTHY
    assert "did not hold within 30 s" in baseline.message
    for criterion in ("max_time_to_recover", "max_rows_lost", "steady_state_after"):
        finding = _finding(verdict, criterion)
        assert (finding.status, finding.code) == (Status.COULD_NOT_VERIFY,
                                                  Code.BASELINE_UNHEALTHY)
    assert Status.PASS not in {f.status for f in verdict.findings}
    assert exit_code([verdict]) == 2


def test_baseline_that_did_not_hold_without_abort_is_could_not_verify() -> None:
    b = healthy_drill()
    journal = b.journal()
    flaky = journal.model_copy(update={"samples": tuple(
        s.model_copy(update={"ok": False}) if s.t < 0.3 else s for s in journal.samples
    )})
    verdict = _grade(flaky)
    assert _finding(verdict, "baseline").code is Code.BASELINE_UNHEALTHY
    assert verdict.status is Status.COULD_NOT_VERIFY


def test_a_hung_recovery_step_fails_with_step_timed_out() -> None:
    b = healthy_drill()
    b.step("recover", ok=False, timed_out=True, duration=120.0, id="restore-hung",
           output=("restoring...", "still waiting for lock"))

    verdict = _grade(b.journal())

    finding = _finding(verdict, "recovery step 1 (restore-hung)")
    assert (finding.status, finding.code) == (Status.FAIL, Code.STEP_TIMED_OUT)
    assert "timed out after 120.00 s" in finding.message
    assert "still waiting for lock" in finding.message
    assert verdict.status is Status.FAIL


def test_a_failing_recovery_step_fails_with_step_failed() -> None:
    b = healthy_drill()
    b.step("recover", ok=False, exit_code=2, error="pg_restore: error: could not open input")
    verdict = _grade(b.journal())
    finding = _finding(verdict, "recovery step 1 (run)")
    assert (finding.status, finding.code) == (Status.FAIL, Code.STEP_FAILED)
    assert "exit code 2" in finding.message and "could not open input" in finding.message


def test_a_restore_that_restores_nothing_fails_with_rows_lost() -> None:
    b = healthy_drill()
    journal = b.journal()
    empty = JournalBuilder().data("configs", before=1000, lost=1000, exists_after=True).journal()
    journal = journal.model_copy(update={"data": empty.data})

    verdict = _grade(journal, **_data_scenario(max_rows_lost=0))

    finding = _finding(verdict, "max_rows_lost")
    assert (finding.status, finding.code) == (Status.FAIL, Code.ROWS_LOST)
    assert finding.measured == 1000 and finding.limit == 0
    assert "db.configs: 1000" in finding.message
    assert verdict.status is Status.FAIL


def test_a_declared_data_check_allows_no_lost_rows_by_default() -> None:
    journal = healthy_drill().journal()
    journal = journal.model_copy(update={"data": JournalBuilder().data(lost=1).journal().data})
    verdict = _grade(journal, **_data_scenario())
    finding = _finding(verdict, "max_rows_lost")
    assert finding.code is Code.ROWS_LOST
    assert "the default for a declared data check" in finding.message


def test_changed_rows_over_the_limit_fail_with_rows_changed() -> None:
    journal = healthy_drill().journal()
    journal = journal.model_copy(update={"data": JournalBuilder().data(changed=4).journal().data})
    verdict = _grade(journal, **_data_scenario(max_rows_changed=1))
    assert _finding(verdict, "max_rows_changed").code is Code.ROWS_CHANGED


def test_a_checksum_mismatch_with_equal_rows_fails_rows_changed() -> None:
    journal = healthy_drill().journal()
    diff = JournalBuilder().data(checksum_match=False, keyed=False).journal().data
    verdict = _grade(journal.model_copy(update={"data": diff}), **_data_scenario())
    finding = _finding(verdict, "max_rows_changed")
    assert finding.code is Code.ROWS_CHANGED and "checksum differs" in finding.message


def test_a_data_comparison_that_could_not_be_made_is_could_not_verify() -> None:
    journal = healthy_drill().journal()
    diff = JournalBuilder().data(error="connection refused").journal().data
    verdict = _grade(journal.model_copy(update={"data": diff}), **_data_scenario())
    finding = _finding(verdict, "max_rows_lost")
    assert (finding.status, finding.code) == (Status.COULD_NOT_VERIFY, Code.DATA_CHECK_FAILED)
    assert "connection refused" in finding.message


def test_a_declared_table_with_no_comparison_is_could_not_verify() -> None:
    journal = healthy_drill().journal().model_copy(update={"data": ()})
    verdict = _grade(journal, **_data_scenario())
    finding = _finding(verdict, "max_rows_lost")
    assert finding.code is Code.DATA_CHECK_FAILED
    assert "db.configs: no comparison recorded" in finding.message


def test_a_failing_verify_probe_fails_steady_state_after() -> None:
    b = healthy_drill().verify(False, probe="count", detail="expected >= 1000, got 0")
    finding = _finding(_grade(b.journal()), "steady_state_after")
    assert (finding.status, finding.code) == (Status.FAIL, Code.STEADY_STATE_NOT_RESTORED)
    assert "count: expected >= 1000, got 0" in finding.message


def test_steady_state_after_can_be_switched_off() -> None:
    b = healthy_drill().verify(False)
    verdict = _grade(b.journal(), criteria={"steady_state_after": False})
    assert all(f.criterion != "steady_state_after" for f in verdict.findings)


def test_fault_never_detected_fails_detect_when_sampled_past_the_limit() -> None:
    b = JournalBuilder()
    b.mark("baseline.start").samples("ooo").mark("baseline.end")
    b.mark("inject.start").fault().samples("o" * 30).mark("recover.start").samples("ooo")

    verdict = _grade(b.journal(), criteria={"max_time_to_detect": "2s",
                                            "max_time_to_recover": "10s"})

    detect = _finding(verdict, "max_time_to_detect")
    assert (detect.status, detect.code) == (Status.FAIL, Code.FAULT_NOT_DETECTED)
    recover = _finding(verdict, "max_time_to_recover")
    assert (recover.status, recover.code) == (Status.COULD_NOT_VERIFY, Code.FAULT_NOT_DETECTED)


def test_fault_not_detected_before_sampling_stopped_short_of_the_limit_is_unknown() -> None:
    b = JournalBuilder()
    b.mark("inject.start").fault().samples("ooo")
    b.abort("detect", "INTERRUPTED", "interrupted (Ctrl-C)")
    detect = _finding(_grade(b.journal(), criteria={"max_time_to_detect": "10s"}),
                      "max_time_to_detect")
    assert (detect.status, detect.code) == (Status.COULD_NOT_VERIFY, Code.FAULT_NOT_DETECTED)


def test_detection_slower_than_the_limit_fails_ttd_exceeded() -> None:
    b = JournalBuilder()
    b.mark("inject.start").fault().samples("o" * 10 + "x")
    finding = _finding(_grade(b.journal(), criteria={"max_time_to_detect": "0.5s"}),
                       "max_time_to_detect")
    assert finding.code is Code.TTD_EXCEEDED and finding.measured == pytest.approx(1.0)


def test_outage_longer_than_the_limit_fails_outage_exceeded() -> None:
    finding = _finding(_grade(healthy_drill(recover_after=20).journal(),
                              criteria={"max_outage": "1s"}), "max_outage")
    assert finding.code is Code.OUTAGE_EXCEEDED and finding.measured == pytest.approx(2.1)


def test_interrupted_during_recovery_grades_what_was_not_reached_as_could_not_verify() -> None:
    b = JournalBuilder()
    b.mark("baseline.start").samples("ooo").mark("baseline.end")
    b.mark("inject.start").fault().samples("x").mark("recover.start").samples("xx")
    b.abort("recover", "INTERRUPTED", "interrupted (Ctrl-C or SIGTERM); teardown ran")

    verdict = _grade(b.journal(), **_data_scenario(max_time_to_recover="60s"))

    assert _finding(verdict, "run").code is Code.INTERRUPTED
    for criterion in ("max_time_to_recover", "steady_state_after", "max_rows_lost",
                      "recovery steps"):
        finding = _finding(verdict, criterion)
        assert (finding.status, finding.code) == (Status.COULD_NOT_VERIFY, Code.INTERRUPTED)
    assert verdict.status is Status.COULD_NOT_VERIFY
    assert exit_code([verdict]) == 2


def test_a_run_error_never_passes_even_when_every_figure_passed() -> None:
    b = healthy_drill().abort("teardown", "RUN_ERROR", "RuntimeError: boom")
    verdict = _grade(b.journal())
    assert _finding(verdict, "run").code is Code.RUN_ERROR
    assert verdict.status is Status.COULD_NOT_VERIFY


def test_an_unknown_abort_code_is_graded_as_run_error() -> None:
    b = healthy_drill().abort("verify", "SOMETHING_NEW", "odd")
    assert _finding(_grade(b.journal()), "run").code is Code.RUN_ERROR


@pytest.mark.parametrize(
    ("code", "criterion"),
    [("PREFLIGHT_FAILED", "preflight"), ("PROVISION_FAILED", "provision"),
     ("SEED_FAILED", "seed"), ("FAULT_FAILED", "fault")],
)
def test_early_aborts_are_graded_under_their_phase(code: str, criterion: str) -> None:
    b = JournalBuilder().abort("provision", code, "postgres did not start within 60 s")
    verdict = _grade(b.journal(), criteria={"max_time_to_recover": "60s"})
    assert _finding(verdict, criterion).code is Code(code)
    assert _finding(verdict, "max_time_to_recover").code is Code(code)
    assert verdict.status is Status.COULD_NOT_VERIFY


def test_a_dry_run_never_passes() -> None:
    b = JournalBuilder(dry_run=True)
    b.mark("baseline.start").samples("ooo").mark("baseline.end")
    b.mark("inject.start").fault(skipped=True).samples("o")
    b.mark("recover.start").step(skipped=True).samples("ooo").verify()

    verdict = _grade(b.journal(), criteria={"max_time_to_recover": "60s", "max_outage": "1m"})

    for criterion in ("dry_run", "max_time_to_recover", "max_outage", "steady_state_after",
                      "recovery steps"):
        finding = _finding(verdict, criterion)
        assert (finding.status, finding.code) == (Status.COULD_NOT_VERIFY, Code.NOT_RUN)
    assert verdict.status is Status.COULD_NOT_VERIFY


def test_a_scenario_that_checks_nothing_cannot_pass() -> None:
    b = JournalBuilder()
    b.mark("inject.start").fault().mark("recover.start").step()
    verdict = _grade(b.journal(), steady_state=[])
    assert _finding(verdict, "criteria").code is Code.NOTHING_CHECKED
    assert verdict.status is Status.COULD_NOT_VERIFY


def test_a_time_limit_without_probes_is_not_measured() -> None:
    b = JournalBuilder()
    b.mark("inject.start").fault().mark("recover.start").step()
    verdict = _grade(b.journal(), steady_state=[], criteria={"max_time_to_recover": "1m"})
    finding = _finding(verdict, "max_time_to_recover")
    assert (finding.status, finding.code) == (Status.COULD_NOT_VERIFY, Code.NOT_MEASURED)


def test_a_failed_fault_without_abort_is_could_not_verify() -> None:
    b = healthy_drill().fault(ok=False, error="table configs does not exist")
    finding = _finding(_grade(b.journal()), "fault")
    assert finding.code is Code.FAULT_FAILED and "does not exist" in finding.message


def test_a_failed_seed_step_is_could_not_verify() -> None:
    b = healthy_drill().step("seed", ok=False, exit_code=1)
    assert _finding(_grade(b.journal()), "seed").code is Code.SEED_FAILED


def test_exit_code_is_0_passed_1_failed_2_could_not_verify() -> None:
    assert exit_code([Status.PASS, Status.PASS]) == 0
    assert exit_code([Status.PASS, Status.COULD_NOT_VERIFY, Status.FAIL]) == 1
    assert exit_code([Status.PASS, Status.COULD_NOT_VERIFY]) == 2
    assert exit_code([]) == 2  # nothing ran, nothing was verified


def test_status_strings_are_the_ones_users_read() -> None:
    assert [s.value for s in Status] == ["PASS", "FAIL", "COULD NOT VERIFY"]
    verdict = _grade(healthy_drill(recover_after=30).journal(),
                     criteria={"max_time_to_recover": "1s"})
    assert verdict.summary() == "FAIL: TTR_EXCEEDED"


def test_sampling_that_stopped_before_the_fault_is_not_called_undetected() -> None:
    b = JournalBuilder()
    b.samples("ooo").mark("inject.start").fault().mark("recover.start").step()
    b.abort("recover", "RUN_ERROR", "sampler died")
    verdict = _grade(b.journal(), criteria={"max_time_to_detect": "1s",
                                            "max_time_to_recover": "1s"})
    for criterion in ("max_time_to_detect", "max_time_to_recover"):
        assert _finding(verdict, criterion).code is Code.RUN_ERROR
