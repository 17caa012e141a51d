"""The history store: runs appended from many processes, read back as trends and baselines."""

from __future__ import annotations

import multiprocessing
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drillbook.errors import DrillbookError
from drillbook.grade import grade
from drillbook.history import History, HistoryRecord, default_path, record_of, sparkline
from drillbook.measure import measure
from drillbook.testing import healthy_drill, make_result, make_scenario
from drillbook.verdict import Code, Status

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _rec(run: int, *, status: Status = Status.PASS, ttr: float | None = 2.0,
         scenario: str = "drill", backend: str = "local", **more: object) -> HistoryRecord:
    return HistoryRecord(
        run_id=f"run-{run:03d}", scenario=scenario, backend=backend,
        started_utc=T0 + timedelta(hours=run), status=status, ttr=ttr, **more,  # type: ignore[arg-type]
    )


def test_a_finished_run_becomes_a_row_of_figures_and_codes_only() -> None:
    scenario = make_scenario(criteria={"max_time_to_recover": "0.1s"})
    journal = healthy_drill(recover_after=5).journal()
    result = make_result(journal, scenario)

    record = record_of(result, scenario)

    assert record.status is Status.FAIL and record.codes == ("TTR_EXCEEDED",)
    assert record.ttr == pytest.approx(0.5) and record.ttr_limit == 0.1
    assert record.started_utc.tzinfo is not None and record.wall_time is not None


def test_appended_runs_read_back_oldest_first_and_filter_by_scenario_and_period(
    tmp_path: Path,
) -> None:
    store = History(tmp_path / "h" / "history.sqlite")
    for run in (3, 1, 2):
        store.append(_rec(run, codes=("TTR_EXCEEDED", "ROWS_LOST"), rows_lost=4))
    store.append(_rec(4, scenario="other"))

    runs = store.runs("drill")
    assert [r.run_id for r in runs] == ["run-001", "run-002", "run-003"]
    assert runs[0].codes == ("TTR_EXCEEDED", "ROWS_LOST") and runs[0].rows_lost == 4
    assert runs[0].started_utc == T0 + timedelta(hours=1)
    window = store.runs(since=T0 + timedelta(hours=2), until=T0 + timedelta(hours=4))
    assert [r.run_id for r in window] == ["run-002", "run-003"]


def test_the_store_runs_in_wal_mode(tmp_path: Path) -> None:
    store = History(tmp_path / "history.sqlite")
    store.append(_rec(1))
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"


def _append_many(path: str, worker: int) -> None:
    store = History(Path(path))
    for n in range(25):
        store.append(_rec(worker * 100 + n))


def test_four_processes_appending_at_once_lose_no_run(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    History(path).append(_rec(999))
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_append_many, args=(str(path), w)) for w in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0

    assert len(History(path).runs()) == 4 * 25 + 1


def test_the_baseline_is_the_newest_passing_run_of_the_same_scenario_and_backend(
    tmp_path: Path,
) -> None:
    store = History(tmp_path / "history.sqlite")
    assert store.last_passing_ttr("drill", "local") is None  # no file yet
    store.append(_rec(1, ttr=3.0))
    store.append(_rec(2, ttr=4.0))
    store.append(_rec(3, ttr=9.0, status=Status.FAIL))
    store.append(_rec(4, ttr=1.0, backend="docker"))
    store.append(_rec(5, ttr=0.5, dry_run=True))

    assert store.last_passing_ttr("drill", "local") == 4.0
    assert store.last_passing_ttr("drill", "docker") == 1.0
    assert store.last_passing_ttr("other", "local") is None


def test_reading_a_missing_store_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(DrillbookError, match=r"no history store at .*nowhere\.sqlite"):
        History(tmp_path / "nowhere.sqlite").runs()


def test_the_default_path_follows_the_env_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DRILLBOOK_HISTORY", raising=False)
    assert default_path(tmp_path) == tmp_path / "history.sqlite"
    monkeypatch.setenv("DRILLBOOK_HISTORY", str(tmp_path / "x.db"))
    assert default_path(tmp_path) == tmp_path / "x.db"


def test_a_sparkline_scales_from_zero_to_the_slowest_and_marks_gaps() -> None:
    assert sparkline([1.0, None, 5.0, 3.0]) == "▂·█▅"
    assert sparkline([2.0, 2.05]) == "██"
    assert sparkline([None]) == "·"
    assert sparkline([]) == ""


# -- max_ttr_regression -------------------------------------------------------------------


def _graded(baseline: float | None, budget: str = "20%", **journal: int) -> tuple[Status, Code]:
    scenario = make_scenario(criteria={"max_ttr_regression": budget})
    j = healthy_drill(**journal).journal()  # recover_after=5 -> ttr 0.5 s
    verdict = grade(scenario, j, measure(j), history_baseline=baseline)
    (finding,) = [f for f in verdict.findings if f.criterion == "max_ttr_regression"]
    return finding.status, finding.code


def test_a_recovery_slower_than_the_budget_allows_fails_with_ttr_regressed() -> None:
    assert _graded(0.4) == (Status.FAIL, Code.TTR_REGRESSED)  # +25% > 20%


def test_a_recovery_within_the_budget_passes() -> None:
    assert _graded(0.45) == (Status.PASS, Code.OK)  # +11%
    assert _graded(1.0) == (Status.PASS, Code.OK)  # faster


def test_without_an_earlier_passing_run_the_budget_cannot_be_verified() -> None:
    assert _graded(None) == (Status.COULD_NOT_VERIFY, Code.NOT_MEASURED)


def test_the_regression_finding_states_both_times_and_the_budget() -> None:
    scenario = make_scenario(criteria={"max_ttr_regression": "20%"})
    j = healthy_drill().journal()
    verdict = grade(scenario, j, measure(j), history_baseline=0.4)
    (finding,) = [f for f in verdict.findings if f.criterion == "max_ttr_regression"]
    assert "0.50 s" in finding.message and "0.40 s" in finding.message
    assert "+25%" in finding.message and "budget 20%" in finding.message
    assert finding.limit == pytest.approx(0.48)


def test_a_regression_budget_alone_counts_as_something_checked() -> None:
    scenario = make_scenario(steady_state=[], verify={"probes": []},
                             criteria={"max_ttr_regression": "20%"})
    j = healthy_drill().journal()
    verdict = grade(scenario, j, measure(j), history_baseline=0.6)
    assert Code.NOTHING_CHECKED not in verdict.codes


def test_a_budget_is_a_percentage_between_0_and_100() -> None:
    with pytest.raises(ValueError, match="expected a percentage"):
        make_scenario(criteria={"max_ttr_regression": "fast"})
    assert replace(_rec(1), ttr=None).ttr is None


def test_a_first_budgeted_run_that_only_lacked_a_baseline_becomes_the_baseline(
    tmp_path: Path,
) -> None:
    scenario = make_scenario(criteria={"max_ttr_regression": "20%"})
    journal = healthy_drill().journal()
    m = measure(journal)
    result = make_result(journal, scenario).model_copy(
        update={"verdict": grade(scenario, journal, m, history_baseline=None)}
    )
    assert result.status is Status.COULD_NOT_VERIFY
    store = History(tmp_path / "history.sqlite")
    store.append(record_of(result, scenario))

    assert store.last_passing_ttr("drill", "local") == pytest.approx(0.5)


def test_a_run_that_regressed_never_becomes_the_baseline(tmp_path: Path) -> None:
    scenario = make_scenario(criteria={"max_ttr_regression": "20%"})
    journal = healthy_drill().journal()
    m = measure(journal)
    result = make_result(journal, scenario).model_copy(
        update={"verdict": grade(scenario, journal, m, history_baseline=0.1)}
    )
    store = History(tmp_path / "history.sqlite")
    store.append(record_of(result, scenario))

    assert store.last_passing_ttr("drill", "local") is None


def test_a_bare_date_is_midnight_utc_and_a_bad_one_is_quoted() -> None:
    from drillbook.cli_history import parse_day
    from drillbook.errors import UsageError

    assert parse_day("2026-01-01", "--since") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_day("2026-01-01T02:00:00+02:00", "--since") == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(UsageError, match="--since 'January'"):
        parse_day("January", "--since")
