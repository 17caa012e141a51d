"""The HTML report in a real browser (Debian's chromium, headless): no console errors, the
figures and the timeline picture shown, and a screenshot taken."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drillbook.report.html import write_html
from drillbook.result import SuiteResult
from drillbook.testing import JournalBuilder, healthy_drill, make_result, make_scenario
from tests.integration.chromium import CHROMIUM, render

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (apt-get install chromium)"),
]

MAGENTA = (255, 0, 255)


def _picture(path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    image.new("RGB", (600, 120), MAGENTA).save(path)


def _suite(report_dir: Path) -> SuiteResult:
    passing = make_result(
        healthy_drill().step("recover", id="restore", output=("<restored> & done",)).journal(),
        make_scenario(criteria={"max_time_to_recover": "5s", "max_rows_lost": 0}),
        report_dir=report_dir,
    )
    failing = make_result(
        healthy_drill(recover_after=10).journal(),
        make_scenario(name="slow", criteria={"max_time_to_recover": "0.1s"}),
    )
    b = JournalBuilder(scenario="broken")
    b.mark("provision.start").abort("provision", "PROVISION_FAILED", "initdb: port busy")
    broken = make_result(b.journal(), make_scenario(name="broken"))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return SuiteResult(results=(passing, failing, broken), started_utc=now, ended_utc=now)


def test_report_renders_without_console_errors_and_shows_figures_and_picture(
    tmp_path: Path,
) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    _picture(run_dir / "timeline.png")
    suite = _suite(run_dir)
    page = render(write_html(suite, tmp_path / "report.html"))
    (tmp_path / "screenshot.png").write_bytes(page.screenshot)

    assert page.errors == []
    for result in suite.results:
        assert result.scenario in page.text
        assert result.measurements.time_to_recover.display() in page.text
    assert suite.results[0].measurements.time_to_recover.what in page.text
    assert "TTR_EXCEEDED" in page.text and "COULD NOT VERIFY" in page.text
    (picture,) = page.images
    assert picture["src"].startswith("data:image/png") and picture["width"] == 600

    image = pytest.importorskip("PIL.Image").open(io.BytesIO(page.screenshot)).convert("RGB")
    assert image.size[1] > 1000  # the whole page, not only the first screen
    assert MAGENTA in {color for _, color in image.getcolors(maxcolors=1 << 20) or []}


def test_the_browser_check_does_see_console_errors(tmp_path: Path) -> None:
    # The negative control: a page that misses a resource is reported, so [] above means clean.
    page = tmp_path / "broken.html"
    page.write_text('<html><body><p>hi</p><img src="missing.png"></body></html>')
    assert render(page).errors != []
