"""The runner's own parts, without services: sampling rules, the environment contract, ctl."""

from __future__ import annotations

import secrets
import signal
import threading
from collections.abc import Mapping
from pathlib import Path

import pytest

from drillbook.backends.base import ServiceInfo, ServiceState
from drillbook.clock import FakeClock
from drillbook.errors import StepError
from drillbook.journal import Recorder, Sample
from drillbook.runner.context import RunContext
from drillbook.runner.control import ControlServer, request
from drillbook.runner.envcontract import build_env
from drillbook.runner.sampler import first_failure_since, stable_since
from drillbook.scenario.kinds import StepOutcome


def samples(pattern: str, interval: float = 0.1) -> list[Sample]:
    return [Sample(t=i * interval, ok=c == "+", results=()) for i, c in enumerate(pattern)]


def test_stable_since_returns_the_start_of_the_first_long_enough_streak() -> None:
    found = stable_since(samples("--++-+++"), since=0.0, count=3)
    assert found is not None and found.t == pytest.approx(0.5)


def test_stable_since_ignores_samples_before_the_start() -> None:
    assert stable_since(samples("+++---"), since=0.25, count=3) is None


def test_first_failure_since_finds_the_first_bad_sample_after_the_fault() -> None:
    found = first_failure_since(samples("-++-+"), since=0.1)
    assert found is not None and found.t == pytest.approx(0.3)


class _Service:
    def __init__(self, name: str, kind: str, env: Mapping[str, str]) -> None:
        self._name, self._kind, self._env = name, kind, dict(env)
        self.actions: list[str] = []
        self._state = ServiceState.RUNNING

    @property
    def name(self) -> str:
        return self._name

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def info(self) -> ServiceInfo:
        return ServiceInfo(name=self._name, kind=self._kind, url="http://127.0.0.1:9")

    def env(self) -> Mapping[str, str]:
        return self._env

    def secrets(self) -> tuple[str, ...]:
        return ()

    def start(self, timeout: float | None = None) -> None:
        self.actions.append("start")

    def stop(self, timeout: float = 10.0) -> None:
        self.actions.append("stop")
        self._state = ServiceState.STOPPED

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.actions.append(f"kill {sig}")

    def restart(self, timeout: float | None = None) -> None:
        self.actions.append("restart")

    def state(self) -> ServiceState:
        return self._state

    def healthy(self) -> bool:
        return True

    def log_tail(self, lines: int = 20) -> list[str]:
        return ["line"]

    def facts(self) -> Mapping[str, str]:
        return {}

    def teardown(self) -> None:
        pass


def test_environment_contract_gives_canonical_names_to_the_first_service_of_a_kind(
    tmp_path: Path,
) -> None:
    services = {
        "db": _Service("db", "postgres", {"DATABASE_URL": "postgresql://a", "PGPORT": "1"}),
        "staging": _Service(
            "staging", "postgres", {"DATABASE_URL": "postgresql://b", "PGPORT": "2"}
        ),
    }
    env = build_env(
        services=services,
        primary={},
        client_path=[Path("/pg/bin")],
        workdir=tmp_path,
        backup_dir=tmp_path / "b",
        run_id="r1",
        ctl_command=tmp_path / "ctl",
        base={"PATH": "/usr/bin", "AWS_SECRET_ACCESS_KEY": "real-cloud-key", "HOME": "/root"},
    )
    assert env["DATABASE_URL"] == "postgresql://a"
    assert env["STAGING_DATABASE_URL"] == "postgresql://b"
    assert env["PATH"].split(":")[0] == "/pg/bin"
    assert "AWS_SECRET_ACCESS_KEY" not in env  # a drill must never reach real cloud credentials
    assert env["HOME"] == "/root"
    assert env["DRILLBOOK_CTL"] == str(tmp_path / "ctl")


def test_primary_flag_moves_the_canonical_names(tmp_path: Path) -> None:
    services = {
        "db": _Service("db", "postgres", {"DATABASE_URL": "postgresql://a"}),
        "staging": _Service("staging", "postgres", {"DATABASE_URL": "postgresql://b"}),
    }
    env = build_env(
        services=services,
        primary={"staging": True},
        client_path=[],
        workdir=tmp_path,
        backup_dir=tmp_path,
        run_id="r",
        ctl_command=tmp_path / "ctl",
        base={},
    )
    assert env["DATABASE_URL"] == "postgresql://b"


def _context(tmp_path: Path) -> RunContext:
    clock = FakeClock()
    recorder = Recorder(
        run_id="r",
        scenario="s",
        scenario_file=None,
        backend="local",
        clock=clock,
        probe_interval=0.1,
        stable_samples=3,
    )
    return RunContext(
        run_id="r",
        workdir=tmp_path,
        base_dir=tmp_path,
        clock=clock,
        random_seed=0,
        recorder=recorder,
    )


def test_interpolation_reads_step_output_services_and_env(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    ctx.add_service(_Service("gw", "gateway", {}))
    ctx.set_env({"BACKUP_DIR": "/b"})
    ctx.record_output("backup", StepOutcome(ok=True, exit_code=0, stdout="/b/db.dump\n"))
    text = ctx.interpolate("${steps.backup.stdout} ${services.gw.url} ${env.BACKUP_DIR} ${workdir}")
    assert text == f"/b/db.dump http://127.0.0.1:9 /b {tmp_path}"


@pytest.mark.parametrize(
    "ref", ["${steps.nope.stdout}", "${services.gw.nofield}", "${env.MISSING}"]
)
def test_unknown_references_are_errors_not_empty_strings(tmp_path: Path, ref: str) -> None:
    ctx = _context(tmp_path)
    ctx.add_service(_Service("gw", "gateway", {}))
    with pytest.raises(StepError):
        ctx.interpolate(ref)


def test_ctl_socket_restarts_a_service_and_reports_unknown_ones() -> None:
    service = _Service("gateway", "gateway", {})
    run_id = "test-" + secrets.token_hex(4)
    actions: list[tuple[str, str, bool]] = []
    server = ControlServer(
        run_id, lambda: {"gateway": service}, on_action=lambda *a: actions.append(a)
    )
    server.start()
    try:
        ok, out = request(run_id, "restart", "gateway", None)
        assert ok, out
        assert service.actions == ["restart"]
        ok, out = request(run_id, "kill", "gateway", "HUP")
        assert ok and service.actions[-1] == f"kill {int(signal.SIGHUP)}"
        ok, out = request(run_id, "restart", "db", None)
        assert not ok and "unknown service 'db'" in out
        assert ("restart", "gateway", True) in actions
    finally:
        server.close()


def test_ctl_without_a_running_drill_says_so() -> None:
    ok, out = request("no-such-run-" + secrets.token_hex(3), "status", "x", None, timeout=2)
    assert not ok and "no running drill" in out


def test_ctl_serves_concurrent_requests() -> None:
    service = _Service("a", "command", {})
    run_id = "test-" + secrets.token_hex(4)
    server = ControlServer(run_id, lambda: {"a": service})
    server.start()
    try:
        results: list[bool] = []
        threads = [
            threading.Thread(target=lambda: results.append(request(run_id, "status", "a", None)[0]))
            for _ in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [True] * 8
    finally:
        server.close()


def test_shell_variables_pass_through_interpolation_untouched(tmp_path: Path) -> None:
    assert (
        _context(tmp_path).interpolate("echo ${HOME} ${PGPORT:-5432}")
        == "echo ${HOME} ${PGPORT:-5432}"
    )


def test_procedures_can_report_facts_such_as_the_pitr_time_reached() -> None:
    from drillbook.runner.phases import reported_facts

    out = (
        "restoring\nDRILLBOOK_FACT pitr.target=2026-01-01 12:00:00+00\n"
        "  DRILLBOOK_FACT x=1 \nnoise=2"
    )
    assert reported_facts(out) == [("pitr.target", "2026-01-01 12:00:00+00"), ("x", "1")]


@pytest.mark.parametrize(
    ("line", "script"),
    [
        ("drills/x/restore.sh --latest", "drills/x/restore.sh"),
        ('out="$(drills/x/backup.sh)"; echo "$out"', None),
        ("pg_restore -d db backup.dump", None),
        ("rc=0; drills/x.sh || rc=$?", None),
    ],
)
def test_only_a_first_word_that_is_a_path_counts_as_the_script(
    line: str, script: str | None
) -> None:
    from drillbook.runner.preflight import script_of
    from drillbook.steps.run import RunStep

    assert script_of(RunStep(kind="run", run=line)) == script
