"""The compliance report: every run of the period, targets vs achieved, re-tests, controls."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from drillbook.history import History, HistoryRecord
from drillbook.report.compliance import write_compliance
from drillbook.verdict import Status

JAN = datetime(2026, 1, 1, tzinfo=UTC)


def _rec(day: int, status: Status, ttr: float, scenario: str = "restore", **more: object
         ) -> HistoryRecord:
    return HistoryRecord(
        run_id=f"r{day:02d}-{scenario}", scenario=scenario, backend="local",
        started_utc=JAN + timedelta(days=day), status=status, ttr=ttr, ttr_limit=30.0,
        **more,  # type: ignore[arg-type]
    )


RECORDS = [
    _rec(3, Status.FAIL, 41.5, codes=("TTR_EXCEEDED",), rows_lost=0, rpo=2.0, rpo_limit=5.0),
    _rec(10, Status.PASS, 12.25, rows_lost=0, rpo=1.0, rpo_limit=5.0),
    _rec(12, Status.COULD_NOT_VERIFY, 3.0, scenario="config", codes=("BASELINE_UNHEALTHY",)),
]


def test_the_report_lists_every_run_with_targets_and_the_retest(tmp_path: Path) -> None:
    path = write_compliance(RECORDS, tmp_path / "out", since=JAN, until=JAN + timedelta(days=31),
                            reports_dir=tmp_path / "reports")
    page = path.read_text()

    assert path.name == "compliance-20260101-20260201.html"
    for run in RECORDS:
        assert run.run_id in page
    assert "41.50 s / 30.00 s <b>missed</b>" in page and "12.25 s / 30.00 s met" in page
    assert "FAIL on 2026-01-04 (TTR_EXCEEDED): re-tested, passed on 2026-01-11" in page
    assert "COULD NOT VERIFY on 2026-01-13 (BASELINE_UNHEALTHY): no passing re-test" in page
    assert "guidance, not certification" in page


def test_each_control_is_mapped_and_backup_controls_need_a_data_check(tmp_path: Path) -> None:
    page = write_compliance(RECORDS, tmp_path, since=JAN, until=JAN + timedelta(days=31),
                            reports_dir=tmp_path).read_text()
    for ref in ("A1.3", "A.8.13", "A.5.30", "CP-4", "CP-9(1)"):
        assert ref in page
    backup_row = page[page.index("A.8.13"):].split("</tr>", 1)[0]
    assert "restore (local)" in backup_row and "config (local)" not in backup_row


def test_drillbook_report_compliance_reads_the_history_store(tmp_path: Path) -> None:
    store = History(tmp_path / "reports" / "history.sqlite")
    for record in RECORDS:
        store.append(record)
    done = subprocess.run(
        [sys.executable, "-m", "drillbook", "report", "compliance", "--since", "2026-01-05",
         "--until", "2026-02-01", "--out", "out"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert "(2 run(s))" in done.stdout
    page = (tmp_path / "out" / "compliance-20260105-20260201.html").read_text()
    assert "r10-restore" in page and "r03-restore" not in page
