"""JUnit XML and the HTML report: every criterion visible, nothing unproven passes, no secret."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

from drillbook.redact import Redactor
from drillbook.report.html import render_html, write_html
from drillbook.report.junit import write_junit
from drillbook.result import RunResult, SuiteResult
from drillbook.testing import JournalBuilder, healthy_drill, make_result, make_scenario

SECRET = "Planted-S3cret-9x"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _suite(*results: RunResult) -> SuiteResult:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return SuiteResult(results=results, started_utc=now, ended_utc=now)


def _passing(report_dir: Path | None = None) -> RunResult:
    b = healthy_drill()
    b.step("recover", id="echo", output=(f"token used: {SECRET}", "done <ok> & \x1b[31mred"))
    b.fact("service.db.version", "15.4").fact("service.db.password", SECRET)
    scenario = make_scenario(criteria={"max_time_to_recover": "5s", "max_rows_lost": 0})
    return make_result(b.journal(), scenario, report_dir=report_dir)


def _failing() -> RunResult:
    scenario = make_scenario(name="slow", criteria={"max_time_to_recover": "0.1s"})
    return make_result(healthy_drill(recover_after=10).journal(), scenario)


def _unverified() -> RunResult:
    b = JournalBuilder(scenario="broken")
    b.mark("provision.start").abort("provision", "PROVISION_FAILED", "initdb: port busy")
    return make_result(b.journal(), make_scenario(name="broken"))


def _xml(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


# -- JUnit ---------------------------------------------------------------------------------------


def test_junit_has_one_suite_per_drill_and_one_case_per_criterion(tmp_path: Path) -> None:
    result = _passing()
    root = _xml(write_junit(_suite(result, _failing()), tmp_path / "j.xml"))

    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["drill", "slow"]
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == [f.criterion for f in result.verdict.findings]
    assert {c.get("classname") for c in cases} == {"drill"}
    assert "max_time_to_recover" in [c.get("name") for c in cases]


def test_junit_counts_match_the_cases_they_sum(tmp_path: Path) -> None:
    root = _xml(write_junit(_suite(_passing(), _failing(), _unverified()), tmp_path / "j.xml"))

    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "")) == len(cases)
        assert int(suite.get("failures", "")) == sum(len(c.findall("failure")) for c in cases)
        assert int(suite.get("errors", "")) == sum(len(c.findall("error")) for c in cases)
    assert int(root.get("tests", "")) == len(root.findall("testsuite/testcase"))
    assert int(root.get("failures", "")) == len(root.findall("testsuite/testcase/failure"))
    assert int(root.get("errors", "")) == len(root.findall("testsuite/testcase/error"))


def test_failed_criterion_is_a_failure_named_by_its_code(tmp_path: Path) -> None:
    root = _xml(write_junit(_failing(), tmp_path / "j.xml"))

    case = root.find("testsuite/testcase[@name='max_time_to_recover']")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "TTR_EXCEEDED"
    assert "limit: 0.1 s" in (failure.text or "")


def test_could_not_verify_is_an_error_never_a_pass(tmp_path: Path) -> None:
    root = _xml(write_junit(_unverified(), tmp_path / "j.xml"))

    suite = root.find("testsuite")
    assert suite is not None
    assert int(suite.get("errors", "")) >= 1
    assert suite.find("testcase/error[@type='PROVISION_FAILED']") is not None
    # every case is either failed or errored: none of them passes
    for case in suite.findall("testcase"):
        assert case.find("error") is not None or case.find("failure") is not None


def test_a_run_with_no_findings_is_reported_as_an_error(tmp_path: Path) -> None:
    result = _passing()
    empty = result.model_copy(
        update={"verdict": result.verdict.model_copy(update={"findings": ()})}
    )
    root = _xml(write_junit(empty, tmp_path / "j.xml"))
    assert root.find("testsuite/testcase[@name='verdict']/error") is not None


def test_junit_properties_carry_the_figures(tmp_path: Path) -> None:
    result = _passing()
    root = _xml(write_junit(result, tmp_path / "j.xml"))

    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["verdict"] == "PASS"
    assert props["run_id"] == result.run_id
    assert float(props["time_to_recover"] or "nan") == result.measurements.time_to_recover.value
    assert props["rows_lost"] == "0"


def test_junit_system_out_has_redacted_step_output_without_control_characters(
    tmp_path: Path,
) -> None:
    path = write_junit(_passing(), tmp_path / "j.xml", Redactor([SECRET]))
    text = path.read_text()

    assert SECRET not in text
    out = _xml(path).find("testsuite/system-out")
    assert out is not None and "| token used: ***" in (out.text or "")
    assert "\x1b" not in text


# -- HTML ----------------------------------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def test_html_summary_lists_every_drill_with_verdict_and_figures(tmp_path: Path) -> None:
    passing, failing = _passing(), _failing()
    html = write_html(_suite(passing, failing), tmp_path / "r.html").read_text()
    text = " ".join(_page(html).text)

    assert "Summary" in text
    for result in (passing, failing):
        m = result.measurements
        assert result.scenario in text
        assert m.time_to_recover.display() in text
        assert m.outage.display() in text
    assert "TTR_EXCEEDED" in text
    assert 'class="fail"' in html and 'class="pass"' in html


def test_html_explains_each_figure_and_lists_the_timeline(tmp_path: Path) -> None:
    result = _passing()
    html = render_html(result)
    text = " ".join(_page(html).text)

    assert result.measurements.time_to_recover.what in text
    for mark in result.journal.marks:
        assert mark.name in text
    assert "recover[" in text  # step start/end rows
    assert "15.4" in text  # service facts
    assert "<rect" in html  # the sample strip


def test_html_is_self_contained_without_scripts(tmp_path: Path) -> None:
    html = render_html(_suite(_passing(), _unverified()))
    page = _page(html)

    assert not [t for t, _ in page.tags if t == "script"]
    assert not [a for t, a in page.tags if t == "link"]
    for _, attrs in page.tags:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not value or value.startswith(("#", "data:")), value


def test_html_escapes_step_output_and_masks_secrets(tmp_path: Path) -> None:
    html = render_html(_passing(), Redactor([SECRET]))

    assert SECRET not in html
    assert "done &lt;ok&gt; &amp;" in html
    assert "<ok>" not in html


def test_html_embeds_the_timeline_picture_when_the_run_has_one(tmp_path: Path) -> None:
    (tmp_path / "timeline.png").write_bytes(PNG)
    html = render_html(_passing(report_dir=tmp_path))

    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert f'src="{uri}"' in html
    assert "data:image/png" not in render_html(_passing(report_dir=tmp_path / "none"))


def test_html_shows_why_a_drill_could_not_be_verified() -> None:
    html = render_html(_unverified())
    assert "PROVISION_FAILED" in html
    assert "initdb: port busy" in html
    assert "COULD NOT VERIFY" in html
