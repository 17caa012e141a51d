"""pytest plugin: scenario files become test items, drills become tests (entry point pytest11).

    pytest scenarios/                         one item per scenario
    pytest scenarios/ --drill-backend local,docker   one item per scenario and backend
    pytest scenarios/ -m monthly              scenario tags are markers (registered on the fly)

Only YAML files that look like scenarios (a mapping with `name:` and services, fault or
steady_state) are collected, and only under a directory named `scenarios` or when named on the
command line, so other YAML in a test tree never turns into items.

Outcomes: PASS passes; FAIL is a test failure whose message lists the findings; COULD NOT
VERIFY is an error (the drill runs in the item's setup, and the verdict is raised there), so a
drill that proved nothing never turns a gate green. Each finding is a user property (visible in
--junitxml). With pytest-html active, reports get the figures as columns and the findings,
step logs and the load timeline picture as extras.

For drills written in Python, the `drill_env` fixture provisions services on the local backend.
"""

from __future__ import annotations

import html
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from drillbook.drill_env import DrillEnv
from drillbook.errors import DrillbookError, ScenarioError
from drillbook.result import RunResult
from drillbook.scenario.model import Scenario
from drillbook.verdict import Status

SCENARIO_DIR = "scenarios"
_SCENARIO_KEYS = ("services", "fault", "steady_state")
_RESULT_KEY = pytest.StashKey[RunResult]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("drillbook", "drillbook drills")
    group.addoption(
        "--drill-backend",
        default=None,
        help="comma-separated backends to run each scenario on (default: the scenario's, "
        "else local)",
    )
    group.addoption(
        "--drill-reports",
        default="reports",
        help="per-run reports (result.json, report.html) go under this folder",
    )
    group.addoption(
        "--drill-history",
        default=None,
        help="history store to append runs to (default: history.sqlite in --drill-reports, "
        "or $DRILLBOOK_HISTORY)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "drill: a drillbook scenario run as a test")
    if config.pluginmanager.hasplugin("html"):
        config.pluginmanager.register(_HtmlHooks(), "drillbook-html")


# -- collection -------------------------------------------------------------------------------


def _named_on_command_line(path: Path, config: pytest.Config) -> bool:
    root = config.invocation_params.dir
    for arg in config.invocation_params.args:
        candidate = Path(str(arg).split("::", 1)[0])
        if not candidate.is_absolute():
            candidate = root / candidate
        if candidate.resolve() == path.resolve():
            return True
    return False


def looks_like_scenario(path: Path) -> bool:
    """A YAML mapping with `name:` and at least one of services, fault, steady_state."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return (
        isinstance(data, dict)
        and isinstance(data.get("name"), str)
        and any(key in data for key in _SCENARIO_KEYS)
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in {".yaml", ".yml"}:
        return None
    in_scenarios = SCENARIO_DIR in file_path.parent.parts
    if not (in_scenarios or _named_on_command_line(file_path, parent.config)):
        return None
    if not looks_like_scenario(file_path):
        return None
    result: pytest.Collector = ScenarioFile.from_parent(parent, path=file_path)
    return result


def _backends(config: pytest.Config, scenario: Scenario) -> list[str]:
    option = config.getoption("--drill-backend")
    if option:
        return [b.strip() for b in str(option).split(",") if b.strip()]
    return [scenario.backend or "local"]


def _register_marker(config: pytest.Config, tag: str) -> None:
    # --strict-markers rejects unknown marks; a tag is a marker as soon as a scenario has it.
    if tag not in {line.split(":", 1)[0].strip() for line in config.getini("markers")}:
        config.addinivalue_line("markers", f"{tag}: drillbook scenario tag")


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from drillbook.scenario.loader import load_scenario

        try:
            scenario = load_scenario(self.path)
        except ScenarioError as exc:
            yield InvalidScenario.from_parent(self, name=self.path.stem, error=exc)
            return
        backends = _backends(self.config, scenario)
        for backend in backends:
            name = scenario.name if len(backends) == 1 else f"{scenario.name}[{backend}]"
            item = DrillItem.from_parent(self, name=name, scenario=scenario, backend=backend)
            item.add_marker("drill")
            for tag in scenario.tags:
                _register_marker(self.config, tag)
                item.add_marker(tag)
            yield item


class DrillFailedError(Exception):
    """A drill graded FAIL (a test failure)."""


class DrillUnverifiedError(Exception):
    """A drill graded COULD NOT VERIFY (a test error: it proved nothing)."""


class InvalidScenario(pytest.Item):
    def __init__(self, *, error: ScenarioError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str:
        from drillbook.scenario.loader import render_problems

        return f"invalid scenario:\n{render_problems(self.error)}"

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"invalid scenario {self.name}"


def findings_text(result: RunResult) -> str:
    lines = [f"drill {result.scenario} ({result.backend}): {result.verdict.summary()}"]
    for f in result.verdict.findings:
        if f.status is not Status.PASS:
            lines.append(f"  {f.status.value} {f.code}: {f.criterion}: {f.message}")
    figures = result.measurements
    lines.append(
        f"  time to recover {figures.time_to_recover.display()}, outage "
        f"{figures.outage.display()}, rows lost {figures.rows_lost.display()}; run {result.run_id}"
    )
    return "\n".join(lines)


class DrillItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, backend: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.backend = backend

    def setup(self) -> None:
        # The drill runs here so that COULD NOT VERIFY surfaces as an error, not a failure.
        result = self._run()
        self.stash[_RESULT_KEY] = result
        for f in result.verdict.findings:
            self.user_properties.append(
                (f"{f.criterion}", f"{f.status.value} {f.code}: {f.message}")
            )
        if result.status is Status.COULD_NOT_VERIFY:
            raise DrillUnverifiedError(findings_text(result))

    def runtest(self) -> None:
        result = self.stash[_RESULT_KEY]
        if result.status is Status.FAIL:
            raise DrillFailedError(findings_text(result))

    def _run(self) -> RunResult:
        from drillbook.evidence import write_evidence
        from drillbook.history import History, default_path, record_of
        from drillbook.redact import Redactor, find_secrets
        from drillbook.report.html import write_html
        from drillbook.report.json_report import write_json
        from drillbook.runner.runner import Runner, RunOptions

        reports = Path(str(self.config.getoption("--drill-reports")))
        if not reports.is_absolute():
            reports = self.config.invocation_params.dir / reports
        option = self.config.getoption("--drill-history")
        store = History(Path(str(option)) if option else default_path(reports))
        runner = Runner(
            RunOptions(backend=self.backend, reports_dir=reports,
                       ttr_baseline=store.last_passing_ttr)
        )
        result = runner.run(self.scenario)
        redactor = Redactor(find_secrets(self.scenario))
        folder = Path(result.report_dir or reports / result.run_id)
        write_json(result, folder / "result.json", redactor)
        write_html(result, folder / "report.html", redactor)
        key = os.environ.get("DRILLBOOK_EVIDENCE_KEY")
        try:  # the same evidence bundle, chained to the previous run, as `drillbook run`
            write_evidence(result, self.scenario, folder, key_path=Path(key) if key else None,
                           chain_dir=folder.parent, redactor=redactor)
        except (DrillbookError, OSError) as exc:
            self.warn(pytest.PytestWarning(f"no evidence bundle for {result.run_id}: {exc}"))
        try:
            store.append(record_of(result, self.scenario))
        except DrillbookError as exc:  # the verdict stands; the history is a convenience
            self.warn(pytest.PytestWarning(f"run {result.run_id} not in the history: {exc}"))
        return result

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str:
        if isinstance(excinfo.value, DrillFailedError | DrillUnverifiedError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"drill {self.name}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if isinstance(item, DrillItem) and _RESULT_KEY in item.stash:
        result = item.stash[_RESULT_KEY]
        report.drill_columns = _columns(result)  # type: ignore[attr-defined]
        wanted = call.when == "call" or result.status is Status.COULD_NOT_VERIFY
        if wanted and item.config.pluginmanager.hasplugin("html"):
            extra = [*getattr(report, "extras", []), *_html_extras(result)]
            report.extras = extra  # type: ignore[attr-defined]
    return report


def _columns(result: RunResult) -> tuple[str, str, str, str]:
    m = result.measurements
    return (m.time_to_recover.display(), m.outage.display(), m.rows_lost.display(),
            result.verdict.summary())


def _html_extras(result: RunResult) -> list[Any]:
    """pytest-html extras: the figures, the findings, the step logs and the timeline picture."""
    import base64

    from pytest_html import extras

    rows = "".join(
        f"<tr><td>{html.escape(f.name)}</td><td>{html.escape(f.display())}</td>"
        f"<td>{html.escape(f.what)}</td></tr>"
        for f in result.measurements.figures()
    )
    findings = "".join(
        f"<li><b>{html.escape(f.status.value)}</b> {html.escape(str(f.code))} "
        f"<i>{html.escape(f.criterion)}</i>: {html.escape(f.message)}</li>"
        for f in result.verdict.findings
    )
    logs = "\n".join(
        f"{s.phase}[{s.index}] {s.id or s.kind}: "
        + ("ok" if s.ok else "FAILED")
        + "".join(f"\n    {line}" for line in s.output_tail)
        for s in result.journal.steps
    )
    added = [
        extras.html(f"<h4>drill {html.escape(result.run_id)}</h4><table>{rows}</table>"),
        extras.html(f"<h4>findings</h4><ul>{findings}</ul>"),
        extras.html(f"<h4>step logs</h4><pre>{html.escape(logs)}</pre>"),
    ]
    timeline = Path(result.report_dir or "") / "timeline.png"
    if result.report_dir and timeline.is_file():
        data = base64.b64encode(timeline.read_bytes()).decode()
        added.append(extras.png(data, name="timeline"))
    return added


class _HtmlHooks:
    """Registered only when pytest-html is active (its hook names exist only then)."""

    _HEADERS = ("Time to recover", "Outage", "Rows lost", "Verdict")

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells[2:2] = [f"<th>{h}</th>" for h in self._HEADERS]

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        values = getattr(report, "drill_columns", ("", "", "", ""))
        cells[2:2] = [f"<td>{html.escape(v)}</td>" for v in values]


# -- fixtures for drills written in Python ----------------------------------------------------


@pytest.fixture
def drill_env(tmp_path: Path) -> Iterator[DrillEnv]:
    """Services on the local backend for a drill written in Python; torn down afterwards.

        def test_restore(drill_env):
            db = drill_env.postgres("db")          # a real PostgreSQL
            s3 = drill_env.s3("store", buckets=["backups"])
            env = drill_env.env()                  # DATABASE_URL, AWS_ENDPOINT_URL, ...
            drill_env.inject("db.drop_table", service="db", table="orders")
            drill_env.step("run", run="./restore.sh")   # your real script, with that env
    """
    env = DrillEnv(tmp_path)
    try:
        yield env
    finally:
        env.teardown()
