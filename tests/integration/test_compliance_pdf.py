"""The compliance report prints to PDF with Debian's headless Chromium."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drillbook.history import HistoryRecord
from drillbook.report.compliance import print_pdf, write_compliance
from drillbook.verdict import Status

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed"),
]


def test_the_compliance_report_prints_to_a_pdf(tmp_path: Path) -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    record = HistoryRecord(run_id="r1", scenario="restore", backend="local",
                           started_utc=since + timedelta(days=2), status=Status.PASS, ttr=4.2,
                           ttr_limit=30.0)
    html = write_compliance([record], tmp_path, since=since, until=since + timedelta(days=31),
                            reports_dir=tmp_path)

    pdf = print_pdf(html)

    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 5000
