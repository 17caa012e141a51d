"""measure(): every figure from a hand-built journal, with its definition."""

from __future__ import annotations

import pytest

from drillbook.journal import ProbeSample, Sample
from drillbook.measure import STEADY_AGAIN, measure
from drillbook.testing import JournalBuilder, healthy_drill


def _recovery_of_known_length(known: float, interval: float, phase: float) -> JournalBuilder:
    """Samples every `interval`, offset by `phase` from the marks; failing from the fault
    until exactly `known` seconds after recovery starts."""
    b = JournalBuilder(interval=interval, stable_samples=3)
    b.mark("baseline.start").samples("ooo").mark("baseline.end")
    b.advance(phase).mark("inject.start").fault()
    b.advance(interval - phase).samples("x")
    b.advance(phase / 2)
    recovery = b.mark("recover.start").t
    b.advance(interval - phase / 2)
    while b.t < recovery + known:
        b.sample(False)
    b.samples("ooooo")
    return b


@pytest.mark.parametrize("phase", [0.0, 0.013, 0.049, 0.091])
def test_calibration_recovery_of_2_0_s_measures_within_one_interval(phase: float) -> None:
    m = measure(_recovery_of_known_length(2.0, 0.1, phase).journal())

    ttr = m.time_to_recover
    assert ttr.value is not None
    assert abs(ttr.value - 2.0) <= 0.1 + 1e-9
    assert ttr.resolution == pytest.approx(0.1)
    assert (ttr.start_mark, ttr.end_mark) == ("recover.start", STEADY_AGAIN)


def test_time_to_detect_runs_from_fault_start_to_first_failing_sample() -> None:
    b = JournalBuilder(interval=0.1)
    b.mark("baseline.start").samples("ooo").mark("baseline.end")
    fault_at = b.mark("inject.start").fault().t
    b.samples("ooo")  # the fault takes a while to show
    failed_at = b.t
    b.samples("xx")

    m = measure(b.journal())

    assert m.time_to_detect.value == pytest.approx(failed_at - fault_at)
    assert m.time_to_detect.value == pytest.approx(0.3)
    assert m.detected_at == pytest.approx(failed_at)


def test_failures_before_the_fault_do_not_count_as_detection() -> None:
    b = JournalBuilder(interval=0.1)
    b.samples("oxo").mark("inject.start").fault().samples("oooo")

    m = measure(b.journal())

    assert m.time_to_detect.value is None
    assert m.time_to_detect.note is not None and "not detected" in m.time_to_detect.note


def test_a_fault_never_detected_leaves_time_to_detect_unmeasured_with_a_reason() -> None:
    b = JournalBuilder(interval=0.1)
    b.mark("inject.start").fault().samples("o" * 20)

    ttd = measure(b.journal()).time_to_detect

    assert ttd.value is None
    assert ttd.note == "not detected: no sample failed in the 1.90 s sampled after the fault"


def test_flapping_recovery_is_recovered_at_the_start_of_the_last_streak() -> None:
    b = JournalBuilder(interval=0.1, stable_samples=3)
    b.mark("inject.start").fault().samples("xx")
    start = b.mark("recover.start").t
    b.samples("oo")
    b.samples("x")
    streak = b.t
    b.samples("ooo")

    m = measure(b.journal())

    assert m.recovered is True
    assert m.steady_again_at == pytest.approx(streak)
    assert m.time_to_recover.value == pytest.approx(streak - start) == pytest.approx(0.3)


def test_a_streak_shorter_than_stable_samples_is_not_recovered() -> None:
    b = JournalBuilder(interval=0.1, stable_samples=3)
    b.mark("inject.start").fault().samples("x").mark("recover.start").samples("xxooxoo")

    m = measure(b.journal())

    assert m.recovered is False
    assert m.time_to_recover.value is None
    assert m.time_to_recover.open_ended
    assert m.outage.value is None and m.outage.open_ended
    assert m.outage.display() == "never ended"


def test_outage_runs_from_first_failure_to_steady_again() -> None:
    b = JournalBuilder(interval=0.1, stable_samples=2)
    b.mark("inject.start").fault().advance(0.05)
    first_fail = b.t
    b.samples("xx").mark("recover.start").samples("xxx")
    steady = b.t
    b.samples("oo")

    outage = measure(b.journal()).outage

    assert outage.value == pytest.approx(steady - first_fail)
    assert (outage.start, outage.end) == (pytest.approx(first_fail), pytest.approx(steady))


def test_outage_is_zero_when_the_samples_after_the_fault_never_failed() -> None:
    b = JournalBuilder(interval=0.1)
    b.mark("inject.start").fault().samples("oooo").mark("recover.start").samples("ooo")

    m = measure(b.journal())

    assert m.outage.value == 0.0
    assert m.outage.note == "no failing sample after the fault"


def test_skipped_fault_measures_no_detection_and_no_outage() -> None:
    b = JournalBuilder(interval=0.1, dry_run=True)
    b.mark("inject.start").fault(skipped=True).samples("oooo")

    m = measure(b.journal())

    assert not m.fault_injected
    assert m.time_to_detect.value is None and m.outage.value is None


def test_baseline_held_when_it_ended_with_n_passing_samples() -> None:
    b = JournalBuilder(stable_samples=3)
    b.mark("baseline.start").samples("xxooo").mark("baseline.end")
    assert measure(b.journal()).baseline_held is True


def test_baseline_not_held_when_its_last_samples_fail() -> None:
    b = JournalBuilder(stable_samples=3)
    b.mark("baseline.start").samples("oooox").mark("baseline.end")
    assert measure(b.journal()).baseline_held is False


def test_baseline_steady_mark_counts_as_held() -> None:
    b = JournalBuilder(stable_samples=3)
    b.mark("baseline.start").samples("o").mark("baseline.steady").mark("baseline.end")
    assert measure(b.journal()).baseline_held is True


def test_probe_interval_is_the_median_gap_actually_achieved() -> None:
    b = JournalBuilder(interval=0.1)
    for gap in (0.1, 0.1, 0.5, 0.1, 0.12):  # one slow probe does not skew it
        b.sample(True).advance(gap - 0.1)
    m = measure(b.journal())

    assert m.probe_interval.value == pytest.approx(0.1)
    assert m.time_to_recover.resolution == pytest.approx(0.1)
    assert m.samples.value == 5 and m.failing_samples.value == 0


def test_resolution_falls_back_to_the_asked_interval_without_two_samples() -> None:
    m = measure(JournalBuilder(interval=0.25).mark("inject.start").journal())
    assert m.probe_interval.value is None
    assert m.time_to_detect.resolution == 0.25


def test_data_figures_sum_the_comparisons_and_keep_them_per_table() -> None:
    b = JournalBuilder()
    b.data("configs", lost=12).data("audit", changed=3, added=1).data("broken", error="gone")

    m = measure(b.journal())

    assert (m.rows_lost.value, m.rows_changed.value, m.rows_added.value) == (12, 3, 1)
    assert m.rows_lost.note == "could not compare: db.broken"
    assert m.checksum_match is False
    assert [t.table for t in m.tables] == ["configs", "audit", "broken"]


def test_no_data_comparison_leaves_rows_unmeasured() -> None:
    m = measure(JournalBuilder().journal())
    assert m.rows_lost.value is None and m.checksum_match is None


def test_every_step_has_its_timing_and_outcome() -> None:
    b = JournalBuilder()
    b.step("seed", duration=0.5, id="backup")
    b.step("recover", duration=2.0, timed_out=True, ok=False, kind="run")

    steps = measure(b.journal()).steps

    assert [(s.phase, s.id, s.duration, s.ok, s.timed_out) for s in steps] == [
        ("seed", "backup", 0.5, True, False),
        ("recover", None, 2.0, False, True),
    ]
    assert steps[1].label == "recover[1] run"


def test_every_figure_says_what_it_measures_from_what_to_what() -> None:
    m = measure(healthy_drill().journal())

    for figure in m.figures():
        assert figure.what, figure.name
    for figure in (m.time_to_detect, m.time_to_recover, m.outage):
        assert figure.start_mark and figure.end_mark and figure.resolution
        assert figure.start is not None and figure.end is not None


def test_samples_out_of_order_are_measured_in_time_order() -> None:
    b = healthy_drill()
    journal = b.journal()
    shuffled = journal.model_copy(update={"samples": tuple(reversed(journal.samples))})
    assert measure(shuffled) == measure(journal)


def test_a_sample_fails_when_any_probe_fails() -> None:
    b = JournalBuilder(interval=0.1, stable_samples=1)
    b.mark("inject.start").fault()
    results = (
        ProbeSample(probe="http", ok=True, latency=0.01),
        ProbeSample(probe="sql", ok=False, detail="relation missing", latency=0.01),
    )
    b.recorder.sample(Sample(t=b.advance(0.2).t, ok=False, results=results))
    assert measure(b.journal()).time_to_detect.value == pytest.approx(0.2)
