"""The `drillbook` command."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from drillbook import __version__
from drillbook.cli_history import history as history_command
from drillbook.cli_history import report_app
from drillbook.cli_images import images_app
from drillbook.errors import DrillbookError, ScenarioError, UsageError
from drillbook.journal import PHASES
from drillbook.runner.gameday import Pauser

if TYPE_CHECKING:
    from drillbook.history import History
    from drillbook.notify import NotifyOn
    from drillbook.redact import Redactor
    from drillbook.result import RunResult, SuiteResult
    from drillbook.scenario.model import Scenario

EXIT_INVALID = 3

app = typer.Typer(
    name="drillbook",
    help="Prove that rollback and restore runbooks work, and measure how long they take.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True, soft_wrap=True)

PathsArg = Annotated[
    list[Path], typer.Argument(help="scenario files or directories", show_default=False)
]
ExcludeOpt = Annotated[
    list[str], typer.Option("--exclude-tag", "-x", help="skip scenarios with this tag (repeatable)")
]
TagOpt = Annotated[
    list[str], typer.Option("--tag", "-t", help="only scenarios with this tag (repeatable)")
]


def _load(paths: list[Path], tags: list[str], exclude: Sequence[str] = ()) -> list[Scenario]:
    from drillbook.scenario.loader import load_scenarios

    scenarios = [s for s in load_scenarios(paths, tags=tags) if not set(s.tags) & set(exclude)]
    if not scenarios:
        raise UsageError(
            f"no scenario found in {', '.join(map(str, paths))}"
            + (f" with tag {' or '.join(tags)}" if tags else "")
            + (f" without tag {' or '.join(exclude)}" if exclude else "")
        )
    return scenarios


def _ask_notes() -> str | None:
    try:
        return input("operator notes for the journal (Enter to skip): ").strip() or None
    except EOFError:
        return None


def _listen_for_resume(pauser: Pauser) -> None:
    """Enter on a terminal, or SIGUSR1 from anywhere, resumes a paused drill."""
    signal.signal(signal.SIGUSR1, lambda _s, _f: pauser.resume())

    def read_lines() -> None:
        for _line in sys.stdin:
            pauser.resume()

    threading.Thread(target=read_lines, name="drillbook-resume", daemon=True).start()


def _terminate(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM behaves like Ctrl-C: the runner's teardown still runs.
    raise KeyboardInterrupt(f"signal {signum}")


@app.command()
def run(
    paths: PathsArg,
    tag: TagOpt = [],
    exclude_tag: ExcludeOpt = [],
    backend: Annotated[str | None, typer.Option(help="local (default) or docker")] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="write the suite result as JSON here")
    ] = None,
    reports_dir: Annotated[Path, typer.Option(help="per-run reports go under this folder")] = Path(
        "reports"
    ),
    dry_run: Annotated[
        bool,
        typer.Option(help="provision, seed, baseline, verify; skip destructive faults and steps"),
    ] = False,
    keep: Annotated[
        bool, typer.Option(help="keep the run's data directories for inspection")
    ] = False,
    junit_path: Annotated[
        Path | None,
        typer.Option("--junit", help="write the suite as JUnit XML here (a case per criterion)"),
    ] = None,
    html_path: Annotated[
        Path | None, typer.Option("--html", help="write the suite as one HTML file here")
    ] = None,
    evidence_key: Annotated[
        Path | None,
        typer.Option(
            envvar="DRILLBOOK_EVIDENCE_KEY",
            help="PEM Ed25519 private key that signs each run's evidence manifest",
        ),
    ] = None,
    game_day: Annotated[
        bool,
        typer.Option(help="after the fault, wait for a person to recover by hand (timed)"),
    ] = False,
    operator: Annotated[
        str | None, typer.Option(envvar="DRILLBOOK_OPERATOR", help="who runs the drill")
    ] = None,
    notes: Annotated[str | None, typer.Option(help="operator's notes for the journal")] = None,
    allow_external_faults: Annotated[
        bool, typer.Option(help="let faults touch services declared `external:` (staging...)")
    ] = False,
    load_workers: Annotated[
        int | None,
        typer.Option(min=0, help="locust workers for scenarios with load (0: one process)"),
    ] = None,
    pause_before: Annotated[
        list[str],
        typer.Option(help="stop before this phase until Enter or SIGUSR1 (repeatable)"),
    ] = [],
    history_path: Annotated[
        Path | None,
        typer.Option(
            "--history",
            envvar="DRILLBOOK_HISTORY",
            help="append each run to this SQLite store (default: history.sqlite in --reports-dir)",
        ),
    ] = None,
    notify: Annotated[
        str | None,
        typer.Option(
            metavar="ENV_VAR",
            help="post a JSON summary of each run to the webhook URL held in this variable",
        ),
    ] = None,
    notify_on: Annotated[
        str, typer.Option(help="failure (anything but PASS) or always")
    ] = "failure",
) -> None:
    """Run drills and grade them.

    Each run's folder under --reports-dir gets result.json, report.html and evidence/ (hashed,
    chained to the previous run, signed when a key is given). Each run is appended to the
    history store (figures and codes only), which `max_ttr_regression` compares against.
    Exit 0 all passed, 1 a drill failed, 2 could not verify, 3 invalid input.
    """
    from drillbook.evidence.sign import load_private_key
    from drillbook.grade import exit_code
    from drillbook.history import History, default_path
    from drillbook.notify import NotifyOn
    from drillbook.redact import Redactor, find_secrets
    from drillbook.report.console import ConsoleReporter
    from drillbook.result import SuiteResult
    from drillbook.runner.runner import Runner, RunOptions

    scenarios = _load(paths, tag, exclude_tag)
    if notify_on not in set(NotifyOn):
        raise UsageError(f"--notify-on {notify_on!r}: expected failure or always")
    store = History(history_path if history_path is not None else default_path(reports_dir))
    if evidence_key is not None:
        try:  # a bad key stops us before any drill, not after
            load_private_key(evidence_key)
        except DrillbookError as exc:
            raise UsageError(str(exc)) from exc
    # The scenarios' own secrets (env API_KEY, service tokens) are masked in every output.
    redactor = Redactor(set().union(*(find_secrets(s) for s in scenarios)))
    signal.signal(signal.SIGTERM, _terminate)
    reporter = ConsoleReporter(console, redactor=redactor)
    unknown = sorted(set(pause_before) - set(PHASES))
    if unknown:
        raise UsageError(f"--pause-before {unknown[0]!r}: phases are {', '.join(PHASES)}")
    options = RunOptions(
        backend=backend,
        reports_dir=reports_dir,
        dry_run=dry_run,
        keep=keep,
        game_day=game_day,
        operator=operator,
        notes=notes,
        pause_before=frozenset(pause_before),
        load_workers=load_workers,
        allow_external_faults=allow_external_faults,
        ask_notes=_ask_notes if game_day and notes is None and sys.stdin.isatty() else None,
        ttr_baseline=_baseline_lookup(store),
    )
    if pause_before:
        _listen_for_resume(options.pauser)
    runner = Runner(options, reporter)
    results = []
    suite_started = runner.options.clock.wall()
    interrupted = False
    for scenario in scenarios:
        result = runner.run(scenario)
        results.append(result)
        _write_run_reports(result, scenario, reports_dir, redactor, evidence_key)
        _record_history(store, result, scenario)
        if notify is not None:
            _notify(notify, NotifyOn(notify_on), result, redactor)
        if result.journal.abort_code == "INTERRUPTED":
            interrupted = True
            break
    suite = SuiteResult(
        results=tuple(results), started_utc=suite_started, ended_utc=runner.options.clock.wall()
    )
    reporter.on_suite_end(suite)
    _write_suite_reports(
        suite, redactor, json_path=json_path, junit_path=junit_path, html_path=html_path
    )
    code = exit_code([r.verdict for r in results])
    raise typer.Exit(130 if interrupted else code)


def _write_run_reports(
    result: RunResult,
    scenario: Scenario,
    reports_dir: Path,
    redactor: Redactor,
    evidence_key: Path | None,
) -> None:
    from drillbook.evidence import write_evidence
    from drillbook.report.html import write_html
    from drillbook.report.json_report import write_json

    folder = Path(result.report_dir or reports_dir / result.run_id)
    write_json(result, folder / "result.json", redactor)
    write_html(result, folder / "report.html", redactor)
    try:
        write_evidence(
            result,
            scenario,
            folder,
            key_path=evidence_key,
            chain_dir=folder.parent,
            redactor=redactor,
        )
    except (DrillbookError, OSError) as exc:  # the drill's verdict stands; say what is missing
        err.print(
            f"[yellow]warning[/yellow]: no evidence bundle for {result.run_id}: {exc}",
            highlight=False,
        )


def _baseline_lookup(store: History) -> Callable[[str, str], float | None]:
    def lookup(scenario: str, backend: str) -> float | None:
        try:
            return store.last_passing_ttr(scenario, backend)
        except DrillbookError as exc:  # unreadable history: the criterion cannot be verified
            err.print(f"[yellow]warning[/yellow]: {exc}", highlight=False)
            return None

    return lookup


def _record_history(store: History, result: RunResult, scenario: Scenario) -> None:
    from drillbook.history import record_of

    try:
        store.append(record_of(result, scenario))
    except (DrillbookError, OSError) as exc:  # the verdict stands; say what is missing
        err.print(
            f"[yellow]warning[/yellow]: {result.run_id} not added to the history: {exc}",
            highlight=False,
        )


def _notify(env_var: str, on: NotifyOn, result: RunResult, redactor: Redactor) -> None:
    from drillbook.notify import post, summarize, wanted

    if not wanted(result.status, on):
        return

    def warn(text: str) -> None:
        err.print(f"[yellow]warning[/yellow]: {text}", markup=True, highlight=False)

    if post(env_var, summarize(result), warn=warn, redactor=redactor):
        console.print(f"notified the webhook in ${env_var}", highlight=False)


def _write_suite_reports(
    suite: SuiteResult,
    redactor: Redactor,
    *,
    json_path: Path | None,
    junit_path: Path | None,
    html_path: Path | None,
) -> None:
    from drillbook.report.html import write_html
    from drillbook.report.json_report import write_json
    from drillbook.report.junit import write_junit

    if json_path is not None:
        write_json(suite, json_path, redactor)
        console.print(f"suite result written to {json_path}")
    if junit_path is not None:
        write_junit(suite, junit_path, redactor)
        console.print(f"JUnit XML written to {junit_path}")
    if html_path is not None:
        write_html(suite, html_path, redactor)
        console.print(f"HTML report written to {html_path}")


@app.command()
def validate(
    paths: PathsArg,
    tag: TagOpt = [],
    exclude_tag: ExcludeOpt = [],
) -> None:
    """Check scenario files (and every kind in them) without starting anything."""
    scenarios = _load(paths, tag, exclude_tag)
    for scenario in scenarios:
        console.print(f"[green]ok[/green] {scenario.source}  ({scenario.name})")
    console.print(f"{len(scenarios)} scenario(s) valid")


@app.command("list")
def list_(
    paths: PathsArg,
    tag: TagOpt = [],
    exclude_tag: ExcludeOpt = [],
) -> None:
    """List scenarios with their tags, services and what they break."""
    from drillbook.scenario.loader import summarize

    table = Table("name", "tags", "services", "faults", "recovery", "file")
    for scenario in _load(paths, tag, exclude_tag):
        row = summarize(scenario, relative_to=Path.cwd())
        table.add_row(
            row.name,
            ", ".join(row.tags),
            ", ".join(row.services),
            ", ".join(row.faults),
            str(row.recovery_steps),
            row.file,
        )
    console.print(table)


@app.command()
def preflight(
    paths: PathsArg,
    tag: TagOpt = [],
    exclude_tag: ExcludeOpt = [],
) -> None:
    """Check, without starting anything, that each scenario's recovery could run.

    Scripts exist and are executable, named backups exist and are fresh, disk is free, and
    the tools of every step are on PATH here. Exit 0 when all is well, 2 otherwise.
    """
    import shutil as _shutil

    from drillbook.runner.preflight import interpreter_of, script_of, static_checks
    from drillbook.settings import drillbook_home

    home = drillbook_home()
    home.mkdir(parents=True, exist_ok=True)
    bad = 0
    for scenario in _load(paths, tag, exclude_tag):
        base = scenario.base_dir or Path.cwd()
        problems = static_checks(scenario, base, home)
        for section, steps in (("seed", scenario.seed), ("recovery", scenario.recovery)):
            for index, step in enumerate(steps):
                script = script_of(step)
                tools = list(step.requires)
                interpreter = interpreter_of(base / script) if script else None
                tools += [interpreter] if interpreter else []
                problems += [
                    f"{section}[{index}]: {tool!r} is not on PATH"
                    for tool in tools
                    if not (Path(tool).is_file() if "/" in tool else _shutil.which(tool))
                ]
        bad += bool(problems)
        mark = "[red]FAIL[/red]" if problems else "[green]ok[/green]"
        console.print(f"{mark} {scenario.name}  ({scenario.source})")
        for problem in problems:
            console.print(f"    PREFLIGHT_FAILED: {problem}", markup=False, highlight=False)
    raise typer.Exit(2 if bad else 0)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor completion)."""
    from drillbook.scenario.schema import scenario_json_schema

    sys.stdout.write(json.dumps(scenario_json_schema(), indent=2) + "\n")


@app.command()
def doctor() -> None:
    """Check this machine: PostgreSQL binaries, ports, disk, docker, clock."""
    from drillbook.doctor import doctor as run_doctor

    checks = run_doctor()
    table = Table("check", "status", "detail", "hint")
    bad = False
    for check in checks:
        status = (
            "[green]ok[/green]"
            if check.ok
            else ("[yellow]warn[/yellow]" if (not check.required) else "[red]FAIL[/red]")
        )
        bad = bad or (not check.ok and bool(check.required))
        table.add_row(check.name, status, check.detail, check.hint or "")
    console.print(table)
    raise typer.Exit(1 if bad else 0)


@app.command()
def clean(
    run_id: Annotated[str | None, typer.Option(help="only this run")] = None,
    all_runs: Annotated[
        bool, typer.Option("--all", help="also runs whose runner is still alive")
    ] = False,
) -> None:
    """Remove everything crashed runs left behind: processes, ports, directories."""
    from drillbook.cleanup import clean as run_clean

    report = run_clean(run_id=run_id, include_live=all_runs)
    console.print(
        f"killed {report.processes_killed} process(es), removed {report.directories_removed} "
        f"run dir(s), {report.containers_removed} container(s)"
    )
    for problem in report.problems:
        err.print(f"[yellow]warning[/yellow]: {problem}")


@app.command()
def ctl(
    action: Annotated[
        str, typer.Argument(help="start|stop|restart|kill|signal|status|health|logs")
    ],
    service: Annotated[str, typer.Argument(help="a service of the running drill")],
    arg: Annotated[str | None, typer.Argument(help="signal name or number of log lines")] = None,
    run_id: Annotated[
        str | None, typer.Option(envvar="DRILLBOOK_RUN_ID", help="the drill to control")
    ] = None,
) -> None:
    """Control a service of a running drill (what $DRILLBOOK_CTL does)."""
    from drillbook.runner.control import main as ctl_main

    argv = (["--run-id", run_id] if run_id else []) + [action, service] + ([arg] if arg else [])
    raise typer.Exit(ctl_main(argv))


evidence_app = typer.Typer(
    help="Evidence bundles: hashed, chained and signed records of each run.",
    no_args_is_help=True,
)
app.add_typer(evidence_app, name="evidence")


@evidence_app.command("verify")
def evidence_verify(
    path: Annotated[
        Path,
        typer.Argument(
            help="a reports folder (checks the chain too), a run's folder or one evidence folder",
            show_default=False,
        ),
    ],
    public_key: Annotated[
        Path | None, typer.Option(help="the PEM public key you trust to have signed them")
    ] = None,
) -> None:
    """Check every byte of evidence against its manifest, signatures and the chain of runs.

    Exit 0 when all holds, 1 when a problem was found (each is listed).
    """
    from drillbook.evidence import find_bundles, verify_evidence

    problems = verify_evidence(path, public_key=public_key)
    for problem in problems:
        console.print(Text.assemble(("problem", "red"), f": {problem}"), highlight=False)
    if problems:
        console.print(f"{len(problems)} problem(s) in the evidence under {path}")
        raise typer.Exit(1)
    count = len(find_bundles(path)) or 1
    console.print(f"[green]ok[/green]: {count} bundle(s) under {path} intact")


app.command("history")(history_command)
app.add_typer(report_app, name="report")
app.add_typer(images_app, name="images")


@app.command()
def version() -> None:
    """Print drillbook's version."""
    console.print(__version__)


def main() -> None:
    try:
        app()
    except ScenarioError as exc:
        from drillbook.scenario.loader import render_problems

        err.print(render_problems(exc), markup=False, highlight=False)
        err.print(
            f"[red]invalid scenario[/red]: {len(exc.problems)} problem(s); nothing was started"
        )
        sys.exit(EXIT_INVALID)
    except UsageError as exc:
        err.print(f"[red]error[/red]: {exc}", markup=True, highlight=False)
        sys.exit(EXIT_INVALID)
    except DrillbookError as exc:
        err.print(f"[red]error[/red]: {exc}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
