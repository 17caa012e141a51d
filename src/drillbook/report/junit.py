"""JUnit XML for CI: one <testsuite> per drill, one <testcase> per criterion.

CI systems show test cases, so each graded criterion is its own case (classname = the scenario)
and a failing one names its finding code. COULD NOT VERIFY is an <error>, never a pass: a drill
that proved nothing must not turn a release gate green. The drill's figures are <properties>
(times in seconds, rows in rows, "not measured" when there is none); the last lines of each
step's output go to <system-out>. Everything passes through a Redactor.
"""

from __future__ import annotations

import os
import re
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

from drillbook.measure import Figure
from drillbook.redact import Redactor
from drillbook.result import RunResult, SuiteResult
from drillbook.verdict import Finding, Status

# XML 1.0 forbids most control characters; step output may hold ANSI escapes and worse.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _figure_value(figure: Figure) -> str:
    if figure.value is None:
        return "never ended" if figure.open_ended else "not measured"
    return f"{figure.value:.3f}" if isinstance(figure.value, float) else str(figure.value)


def _case_names(findings: tuple[Finding, ...]) -> list[str]:
    """Criterion names, made unique (CI tools merge cases that share a name)."""
    seen: dict[str, int] = {}
    names = []
    for finding in findings:
        count = seen.get(finding.criterion, 0)
        seen[finding.criterion] = count + 1
        names.append(finding.criterion if not count else f"{finding.criterion} [{count + 1}]")
    return names


def _finding_text(finding: Finding) -> str:
    lines = [finding.message]
    if finding.measured is not None:
        lines.append(f"measured: {finding.measured} {finding.unit or ''}".rstrip())
    if finding.limit is not None:
        lines.append(f"limit: {finding.limit} {finding.unit or ''}".rstrip())
    return "\n".join(lines)


def _system_out(result: RunResult) -> str:
    journal = result.journal
    lines = [f"run {result.run_id} on {result.backend}: {result.verdict.summary()}"]
    if journal.aborted_in:
        lines.append(
            f"aborted in {journal.aborted_in}: {journal.abort_code}: {journal.abort_reason}"
        )
    for step in journal.steps:
        state = (
            "skipped" if step.skipped else "timed out" if step.timed_out
            else "ok" if step.ok else f"failed (exit {step.exit_code})"
        )
        lines.append(
            f"--- {step.phase}[{step.index}] {step.id or step.kind}: {step.description} "
            f"({state}, {step.duration:.2f} s)"
        )
        if step.error:
            lines.append(f"error: {step.error}")
        lines.extend(f"| {line}" for line in step.output_tail)
    return "\n".join(lines) + "\n"


def testsuite_element(result: RunResult, redactor: Redactor) -> ET.Element:
    """The <testsuite> of one drill (already redacted text only)."""
    r = redactor.redact(result)
    findings = r.verdict.findings
    journal = r.journal
    suite = ET.Element("testsuite", {
        "name": _clean(r.scenario),
        "id": _clean(r.run_id),
        "tests": "0", "failures": "0", "errors": "0", "skipped": "0",
        "time": f"{r.run_time:.3f}",
        "timestamp": journal.started_utc.replace(tzinfo=None).isoformat(timespec="seconds"),
        "hostname": _clean(socket.gethostname()),
    })
    props = ET.SubElement(suite, "properties")
    head = {
        "run_id": r.run_id, "backend": r.backend, "verdict": r.verdict.status.value,
        "scenario_file": r.scenario_file or "",
    }
    if journal.aborted_in:
        head.update(aborted_in=journal.aborted_in, abort_code=journal.abort_code or "")
    for name, value in head.items():
        ET.SubElement(props, "property", {"name": name, "value": _clean(value)})
    for figure in r.measurements.figures():
        ET.SubElement(props, "property", {
            "name": figure.name,
            "value": _figure_value(figure),
        })

    counts = {"tests": 0, "failures": 0, "errors": 0}
    cases: list[tuple[str, Finding | None]] = list(
        zip(_case_names(findings), findings, strict=True)
    )
    if not cases:  # nothing graded proves nothing: say so as an error, never an empty pass
        cases = [("verdict", None)]
    for name, finding in cases:
        case = ET.SubElement(suite, "testcase", {
            "classname": _clean(r.scenario), "name": _clean(name), "time": "0",
        })
        counts["tests"] += 1
        if finding is None:
            counts["errors"] += 1
            error = ET.SubElement(case, "error", {
                "message": "NOTHING_CHECKED", "type": Status.COULD_NOT_VERIFY.value,
            })
            error.text = "no criterion was graded"
        elif finding.status is Status.FAIL:
            counts["failures"] += 1
            failure = ET.SubElement(case, "failure", {
                "message": finding.code.value, "type": finding.code.value,
            })
            failure.text = _clean(_finding_text(finding))
        elif finding.status is Status.COULD_NOT_VERIFY:
            counts["errors"] += 1
            error = ET.SubElement(case, "error", {
                "message": f"COULD NOT VERIFY: {finding.code.value}", "type": finding.code.value,
            })
            error.text = _clean(_finding_text(finding))
        else:
            ET.SubElement(case, "system-out").text = _clean(_finding_text(finding))
    for key, count in counts.items():
        suite.set(key, str(count))
    out = ET.SubElement(suite, "system-out")
    out.text = _clean(redactor.text(_system_out(r)))
    return suite


def junit_tree(result: RunResult | SuiteResult, redactor: Redactor | None = None) -> ET.Element:
    """<testsuites> with one <testsuite> per drill and the totals on top."""
    redactor = redactor or Redactor()
    runs = result.results if isinstance(result, SuiteResult) else (result,)
    root = ET.Element("testsuites", {"name": "drillbook"})
    totals = {"tests": 0, "failures": 0, "errors": 0}
    time = 0.0
    for run in runs:
        suite = testsuite_element(run, redactor)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        time += run.run_time
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{time:.3f}")
    return root


def write_junit(
    suite: RunResult | SuiteResult, path: Path, redactor: Redactor | None = None
) -> Path:
    """Write JUnit XML to `path` atomically; pass the run's Redactor to mask its own secrets."""
    root = junit_tree(suite, redactor)
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)
    return path
