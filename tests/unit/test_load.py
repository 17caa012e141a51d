"""Load: the scenario section, measurement windows, the decision matrix and load criteria."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from drillbook.journal import Journal
from drillbook.load.buckets import Bucketer
from drillbook.load.matrix import decide
from drillbook.load.plan import percentile, round_ms
from drillbook.load.session import build_plan
from drillbook.load.timeline import write_timeline
from drillbook.load.windows import measure_load
from drillbook.measure import measure
from drillbook.scenario.load import DecisionMatrix, Load
from drillbook.scenario.model import Scenario
from drillbook.testing import JournalBuilder, load_buckets, make_result, make_scenario
from drillbook.verdict import Code, Status


def drill(
    baseline: list[tuple[int, int]],
    fault: list[tuple[int, int]],
    recovery: list[tuple[int, int]],
    after: list[tuple[int, int]],
    *,
    after_latency: int = 10,
) -> Journal:
    """A run whose load buckets fall whole inside each window."""
    b = JournalBuilder(interval=0.1)
    b.mark("baseline.start").samples("ooo")
    load_buckets(b, baseline)
    b.mark("baseline.end").mark("inject.start").fault(kind="gateway.error_spike")
    load_buckets(b, fault)
    b.mark("recover.start").step("recover", duration=float(len(recovery)), id="rollback")
    load_buckets(b, recovery)
    b.samples("ooo").mark("recover.end").mark("verify.start").verify()
    load_buckets(b, after, latency_ms=after_latency)
    b.mark("verify.end")
    return b.journal()


def load_scenario(**criteria: object) -> Scenario:
    return make_scenario(
        services={"gateway": {"kind": "command", "command": ["true"]}},
        load={"service": "gateway"},
        criteria=criteria,
    )


SPIKE = drill([(100, 0)] * 3, [(100, 6)] * 6, [(100, 3)], [(100, 0)] * 3)


def test_load_section_has_a_default_mix_of_chat_models_and_hub_pages() -> None:
    load = Load(service="gateway")
    assert [r.kind for r in load.mix] == ["chat_completion", "model_list", "hub_page"]
    plan = build_plan(load, "http://127.0.0.1:1", seed=0)
    chat = plan.requests[0]
    assert (chat.method, chat.path) == ("POST", "/v1/chat/completions")
    assert chat.body is not None and chat.body["model"] == "gpt-4o"


def test_a_path_request_without_a_path_is_refused() -> None:
    with pytest.raises(ValidationError, match="needs a path"):
        Load(service="gateway", mix=[{"kind": "path"}])


def test_percent_limits_and_scales_read_as_users_write_them() -> None:
    s = make_scenario(criteria={
        "max_error_rate_after": "1%",
        "decision_matrix": {"duration_scale": "1m=1s", "expect_action": "fix_forward"},
    })
    assert s.criteria.max_error_rate_after == pytest.approx(0.01)
    assert s.criteria.decision_matrix is not None
    assert s.criteria.decision_matrix.duration_scale == pytest.approx(1 / 60)


def test_load_naming_an_undeclared_service_is_a_scenario_error() -> None:
    with pytest.raises(ValidationError, match="unknown service 'gw'"):
        make_scenario(load={"service": "gw"})


def test_windows_split_the_buckets_at_the_fault_recovery_and_its_end() -> None:
    f = measure_load(SPIKE)
    assert f is not None
    counts = {w.name: (w.buckets, w.requests, w.failures) for w in f.windows}
    assert counts == {
        "baseline": (3, 300, 0), "fault": (6, 600, 36), "recovery": (1, 100, 3),
        "after": (3, 300, 0),
    }
    assert f.window("fault").error_rate == pytest.approx(0.06)
    assert f.window("after").error_rate == 0
    assert f.failures == 39


def test_detection_is_the_first_failed_request_after_the_fault() -> None:
    f = measure_load(SPIKE)
    assert f is not None and f.fault_at is not None and f.time_to_detect is not None
    assert 0 < f.time_to_detect < 1.0  # inside the first fault bucket
    assert f.errors_stopped_at is not None and f.recovered_at is not None
    assert f.errors_stopped_at <= f.recovered_at


def test_no_load_means_no_load_figures() -> None:
    assert measure_load(JournalBuilder().journal()) is None


def test_p95_merges_bucket_histograms() -> None:
    assert percentile({10: 95, 500: 5}, 0.95) == 10
    assert percentile({10: 94, 500: 6}, 0.95) == 500
    assert round_ms(1234.0) == 1200 and round_ms(234.4) == 230 and round_ms(12.4) == 12


def _decide(journal: Journal, **matrix: object) -> str:
    f = measure_load(journal)
    assert f is not None
    return decide(DecisionMatrix.model_validate(matrix), journal.load, f).action


def test_seed_004_calls_for_immediate_rollback_above_10_percent_for_2_scaled_minutes() -> None:
    j = drill([(100, 0)] * 3, [(100, 12)] * 3, [(100, 0)], [(100, 0)] * 2)
    assert _decide(j, duration_scale="1m=1s", expect_action="fix_forward") == (
        "immediate_rollback"
    )


def test_seed_004_waits_for_the_duration_before_calling_for_a_rollback() -> None:
    short = drill([(100, 0)] * 3, [(100, 12)] * 1, [(100, 0)], [(100, 0)] * 2)
    assert _decide(short, duration_scale="1m=1s", expect_action="fix_forward") == "fix_forward"
    six = drill([(100, 0)] * 3, [(100, 6)] * 5, [(100, 0)], [(100, 0)] * 2)
    assert _decide(six, duration_scale="1m=1s", expect_action="fix_forward") == (
        "consider_rollback"
    )


def test_seed_001_reads_a_doubled_p95_as_rollback_within_an_hour() -> None:
    b = JournalBuilder()
    b.mark("baseline.start")
    load_buckets(b, [(100, 0)] * 3, latency_ms=10)
    b.mark("inject.start").fault()
    load_buckets(b, [(100, 0)] * 3, latency_ms=25)
    b.mark("recover.start").step("recover", duration=1.0)
    load_buckets(b, [(100, 0)] * 2)
    assert _decide(b.journal(), rules="seed-001", expect_action="fix_forward") == (
        "rollback_within_1h"
    )


def test_error_rate_after_recovery_within_the_limit_passes() -> None:
    s = load_scenario(max_error_rate_after="1%", max_p95_after_ratio=2)
    findings = {f.criterion: f for f in make_result(SPIKE, s).verdict.findings}
    assert findings["max_error_rate_after"].status is Status.PASS
    assert findings["max_p95_after_ratio"].status is Status.PASS


def test_a_spike_left_on_after_recovery_fails_error_rate_exceeded() -> None:
    j = drill([(100, 0)] * 3, [(100, 6)] * 3, [(100, 6)], [(100, 6)] * 3)
    v = make_result(j, load_scenario(max_error_rate_after="1%")).verdict
    assert v.status is Status.FAIL
    assert Code.ERROR_RATE_EXCEEDED in v.codes


def test_slow_answers_after_recovery_fail_latency_exceeded() -> None:
    j = drill([(100, 0)] * 3, [(100, 0)] * 2, [(100, 0)], [(100, 0)] * 2, after_latency=40)
    v = make_result(j, load_scenario(max_p95_after_ratio=2)).verdict
    assert Code.LATENCY_EXCEEDED in v.codes


def test_failed_requests_over_the_limit_fail_and_zero_downtime_sees_recovery_failures() -> None:
    s = load_scenario(max_failed_requests=10, zero_downtime=True)
    v = make_result(SPIKE, s).verdict
    assert {Code.REQUESTS_FAILED, Code.DOWNTIME} <= set(v.codes)


def test_zero_downtime_passes_when_nothing_fails_from_recovery_on() -> None:
    j = drill([(100, 0)] * 3, [(100, 6)] * 3, [(100, 0)], [(100, 0)] * 3)
    v = make_result(j, load_scenario(zero_downtime=True)).verdict
    assert next(f for f in v.findings if f.criterion == "zero_downtime").status is Status.PASS


def test_decision_matrix_passes_when_it_names_the_expected_action() -> None:
    matrix = {"duration_scale": "1m=1s", "expect_action": "consider_rollback"}
    v = make_result(SPIKE, load_scenario(decision_matrix=matrix)).verdict
    found = next(f for f in v.findings if f.criterion == "decision_matrix")
    assert found.status is Status.PASS
    assert "1 min of the runbook = 1 s" in found.message
    wrong = {**matrix, "expect_action": "immediate_rollback"}
    v = make_result(SPIKE, load_scenario(decision_matrix=wrong)).verdict
    assert Code.DECISION_MISMATCH in v.codes


def test_load_criteria_without_load_could_not_verify() -> None:
    j = drill([], [], [], [])
    s = make_scenario(criteria={"max_error_rate_after": "1%", "zero_downtime": True})
    v = make_result(j, s).verdict
    found = [f for f in v.findings if f.criterion in ("max_error_rate_after", "zero_downtime")]
    assert [f.status for f in found] == [Status.COULD_NOT_VERIFY] * 2
    assert all("no load ran" in f.message for f in found)


def test_timeline_picture_is_written_for_a_drill_with_load(tmp_path: Path) -> None:
    path = write_timeline(SPIKE, measure(SPIKE), tmp_path / "run")
    assert path is not None and path.name == "timeline.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert write_timeline(JournalBuilder().journal(), measure(SPIKE), tmp_path) is None


def test_the_harness_never_imports_locust_or_gevent() -> None:
    import subprocess
    import sys

    code = (
        "import sys, drillbook.runner.runner, drillbook.load.session, drillbook.load.timeline, "
        "drillbook.cli; print(sorted(m for m in ('locust', 'gevent') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def _bucketer() -> tuple[Bucketer, list[dict[str, object]]]:
    printed: list[dict[str, object]] = []
    return Bucketer(0, 1.0, lambda: 4, printed.append), printed


def test_buckets_are_cut_by_completion_time_and_printed_once_complete() -> None:
    b, printed = _bucketer()
    b.add([(100_000_000, 5.0, 200, False), (900_000_000, 50.0, 500, True),
           (1_500_000_000, 7.0, 200, False)])
    b.flush(before_ns=1_200_000_000)
    assert len(printed) == 1
    first = printed[0]
    assert (first["requests"], first["failures"], first["by_status"]) == (2, 1, {"500": 1})
    assert first["first_failure_ns"] == 900_000_000 and first["p50"] == 5.0
    b.flush(before_ns=3_000_000_000)
    assert [p["requests"] for p in printed] == [2, 1, 0]  # an empty bucket is news too


def test_a_late_sample_counts_in_the_oldest_open_bucket_and_the_last_is_partial() -> None:
    b, printed = _bucketer()
    b.flush(before_ns=2_000_000_000)
    b.add([(500_000_000, 5.0, 0, True)])  # reported after its bucket was printed
    b.flush_all(2_400_000_000)
    assert [p["failures"] for p in printed] == [0, 0, 1]
    assert printed[-1]["end_ns"] == 2_400_000_000


def test_a_small_error_rate_calls_for_fixing_forward_not_a_rollback() -> None:
    j = drill([(200, 0)] * 3, [(200, 1)] * 10, [(200, 0)], [(200, 0)] * 2)
    for rules in ("seed-001", "seed-004"):
        assert _decide(j, rules=rules, duration_scale="1m=1s", expect_action="fix_forward") == (
            "fix_forward"
        )
