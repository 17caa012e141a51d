"""The runner: one drill, one pass, phases in order, teardown always.

preflight -> provision -> seed -> baseline -> inject -> detect -> recover -> verify -> teardown
"""

from __future__ import annotations

import os
import secrets
import shutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from psycopg.conninfo import make_conninfo

from drillbook.backends import make_backend
from drillbook.backends.base import Backend
from drillbook.backends.external import ExternalHandle
from drillbook.cleanup import register_run, unregister_run
from drillbook.clock import Clock, MonotonicClock
from drillbook.datacheck import DataChecker
from drillbook.errors import DrillbookError, ProvisionError
from drillbook.grade import grade
from drillbook.journal import Phase, ProbeSample, Recorder
from drillbook.load.session import LoadError, LoadSession
from drillbook.load.timeline import write_timeline
from drillbook.measure import measure
from drillbook.probes import close_connections
from drillbook.redact import Redactor, find_secrets
from drillbook.report import BaseListener, RunListener
from drillbook.result import RunResult
from drillbook.rpo import CanaryWriter
from drillbook.runner.context import RunContext
from drillbook.runner.control import ControlServer, write_ctl_command
from drillbook.runner.envcontract import build_env
from drillbook.runner.gameday import Pauser, briefing, write_env_file
from drillbook.runner.phases import inject_faults, run_steps
from drillbook.runner.preflight import (
    environment_checks,
    external_fault_problems,
    static_checks,
)
from drillbook.runner.sampler import Sampler, first_failure_since, run_probe, stable_since
from drillbook.scenario.kinds import StepSpec
from drillbook.scenario.model import Rpo, Scenario
from drillbook.settings import drillbook_home
from drillbook.steps.run import exec_in_problems


class _AbortError(Exception):
    """Stop the drill early; the cause is already in the recorder."""


@dataclass
class RunOptions:
    backend: str | None = None  # overrides the scenario's backend; default local
    reports_dir: Path = field(default_factory=lambda: Path("reports"))
    home: Path | None = None
    dry_run: bool = False
    keep: bool = False  # keep the run dir (data dirs, logs) for inspection
    clock: Clock = field(default_factory=MonotonicClock)
    load_workers: int | None = None  # overrides every scenario's load.workers (distributed)
    backend_factory: Callable[[str, Path, str, Clock, Path | None], Backend] = make_backend
    game_day: bool = False  # an operator recovers by hand; the recovery steps are not run
    operator: str | None = None
    notes: str | None = None
    ask_notes: Callable[[], str | None] | None = None  # asked after a game day (a terminal)
    pause_before: frozenset[str] = frozenset()
    pauser: Pauser = field(default_factory=Pauser)
    allow_external_faults: bool = False  # destructive faults on `external:` services
    # (scenario, backend) -> time to recover of the last passing run, for max_ttr_regression;
    # the CLI reads it from the history store (grading itself does no I/O).
    ttr_baseline: Callable[[str, str], float | None] | None = None


def new_run_id(scenario: Scenario, clock: Clock) -> str:
    stamp = clock.wall().strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{scenario.name[:40]}-{secrets.token_hex(3)}"


class Runner:
    def __init__(
        self, options: RunOptions | None = None, listener: RunListener | None = None
    ) -> None:
        self.options = options or RunOptions()
        self.listener: RunListener = listener or BaseListener()

    def run(self, scenario: Scenario) -> RunResult:
        opts = self.options
        clock = opts.clock
        backend_name = opts.backend or scenario.backend or "local"
        run_id = new_run_id(scenario, clock)
        home = opts.home or drillbook_home()
        run_dir = home / "runs" / run_id
        report_dir = (opts.reports_dir / run_id).resolve()
        workdir = run_dir / "work"
        workdir.mkdir(parents=True)
        (workdir / "backups").mkdir()
        register_run(run_dir, run_id)
        recorder = Recorder(
            run_id=run_id,
            scenario=scenario.name,
            scenario_file=str(scenario.source) if scenario.source else None,
            backend=backend_name,
            clock=clock,
            probe_interval=scenario.sampling.interval,
            stable_samples=scenario.sampling.stable_samples,
            dry_run=opts.dry_run,
            game_day=opts.game_day,
        )
        ctx = RunContext(
            run_id=run_id,
            workdir=workdir,
            base_dir=scenario.base_dir or Path.cwd(),
            clock=clock,
            random_seed=scenario.random_seed,
            recorder=recorder,
            on_log=self.listener.on_log,
        )
        # Secrets the scenario itself carries (env API_KEY, a service's *_TOKEN): masked too.
        for secret in find_secrets(scenario):
            ctx.add_secret(secret)
        self.listener.on_run_start(scenario, run_id)
        drill = _Drill(scenario, ctx, recorder, self.listener, opts, run_dir, backend_name)
        try:
            drill.execute()
        except KeyboardInterrupt:
            recorder.abort(
                drill.phase, "INTERRUPTED", "interrupted (Ctrl-C or SIGTERM); teardown ran"
            )
        except _AbortError:
            pass
        except Exception as exc:  # the runner itself broke: say so, never PASS
            recorder.abort(drill.phase, "RUN_ERROR", f"{type(exc).__name__}: {exc}")
            recorder.fact("run_error.traceback", "".join(traceback.format_exc()[-4000:]))
        finally:
            drill.teardown(report_dir)
            if not opts.keep:
                shutil.rmtree(run_dir, ignore_errors=True)
            unregister_run(run_dir)
        journal = Redactor(ctx.secrets()).redact_model(recorder.snapshot(ended=True))
        measurements = measure(journal)
        baseline = None
        if opts.ttr_baseline is not None and scenario.criteria.max_ttr_regression is not None:
            baseline = opts.ttr_baseline(scenario.name, backend_name)
        verdict = grade(scenario, journal, measurements, history_baseline=baseline)
        result = RunResult(
            scenario=scenario.name,
            scenario_file=str(scenario.source) if scenario.source else None,
            run_id=run_id,
            backend=backend_name,
            journal=journal,
            measurements=measurements,
            verdict=verdict,
            report_dir=str(report_dir),
        )
        if journal.load:
            write_timeline(journal, measurements, report_dir)
        self.listener.on_run_end(result)
        return result


class _Drill:
    """The state of one run while its phases execute."""

    def __init__(
        self,
        scenario: Scenario,
        ctx: RunContext,
        recorder: Recorder,
        listener: RunListener,
        opts: RunOptions,
        run_dir: Path,
        backend_name: str,
    ) -> None:
        self.scenario = scenario
        self.ctx = ctx
        self.recorder = recorder
        self.listener = listener
        self.opts = opts
        self.run_dir = run_dir
        self.backend_name = backend_name
        self.phase: Phase = "preflight"
        self.backend: Backend | None = None
        self.sampler: Sampler | None = None
        self.control: ControlServer | None = None
        self.checker = DataChecker()
        self.injected = False
        self.load: LoadSession | None = None
        self.canary: CanaryWriter | None = None

    # phases -------------------------------------------------------------------------------
    def enter(self, phase: Phase) -> None:
        self.phase = phase
        if phase in self.opts.pause_before:
            self.recorder.mark("paused", before=phase)
            self.listener.on_log(f"paused before {phase}: press Enter (or send SIGUSR1) to go on")
            self.opts.pauser.wait()
            self.recorder.mark("resumed", before=phase)
        self.recorder.mark(f"{phase}.start")
        self.listener.on_phase(phase)

    def leave(self, **detail: str) -> None:
        self.recorder.mark(f"{self.phase}.end", **detail)

    def abort(self, code: str, reason: str) -> NoReturn:
        self.recorder.abort(self.phase, code, reason)
        self.leave(aborted=code)
        raise _AbortError

    def execute(self) -> None:
        self.enter("preflight")
        problems = static_checks(self.scenario, self.ctx.base_dir, self.ctx.workdir)
        problems += external_fault_problems(self.scenario, self.opts.allow_external_faults)
        if problems:
            self.abort("PREFLIGHT_FAILED", "; ".join(problems))
        self.leave()

        self.enter("provision")
        self.provision()
        problems = environment_checks(self.scenario, self.ctx)
        problems += exec_in_problems(_run_steps_of(self.scenario), self.ctx)
        if problems:
            self.abort("PREFLIGHT_FAILED", "; ".join(problems))
        self.leave()
        self.seed_and_baseline()
        self.inject_and_detect()
        self.recover_and_verify()

    def seed_and_baseline(self) -> None:
        scenario, rec = self.scenario, self.recorder
        self.enter("seed")
        self.start_canary()
        failed = run_steps("seed", scenario.seed, self.ctx, rec, self.listener)
        if failed is not None:
            self.abort(
                "SEED_FAILED",
                f"seed step {failed.index} ({failed.description}) failed: {failed.error}",
            )
        self.leave()

        self.enter("baseline")
        self.sampler = Sampler(
            scenario.steady_state,
            self.ctx,
            rec,
            scenario.sampling.interval,
            self.listener.on_sample,
        )
        self.sampler.start()
        need = scenario.sampling.stable_samples
        since = rec.t()
        if scenario.steady_state:
            held = self.sampler.wait_for(
                lambda s: stable_since(s, since, need) is not None, scenario.timeouts.baseline
            )
            if not held:
                samples = rec.samples()
                failing = [r for r in samples[-1].results if not r.ok] if samples else []
                why = "; ".join(f"{r.probe}: {r.detail}" for r in failing) or "no sample taken"
                self.abort(
                    "BASELINE_UNHEALTHY",
                    f"steady state did not hold {need} samples in a row within "
                    f"{scenario.timeouts.baseline:g}s before the fault ({why})",
                )
            rec.mark("baseline.steady")
        self.checker.before(self.ctx, scenario.verify.data, rec)
        if scenario.load is not None and not self.opts.dry_run:  # users from here to verify
            load = scenario.load
            if self.opts.load_workers is not None:
                load = load.model_copy(update={"workers": self.opts.load_workers})
            self.load = LoadSession(load, self.ctx, rec)
            try:
                self.load.start()
            except LoadError as exc:
                self.abort("LOAD_FAILED", str(exc))
        self.leave()

    def inject_and_detect(self) -> None:
        scenario, rec = self.scenario, self.recorder
        self.enter("inject")
        if self.canary is not None:  # the incident starts now: later writes are not counted
            self.canary.stop("fault")
        self.injected = True
        failed_fault = inject_faults(
            scenario.fault, self.ctx, rec, self.listener, dry_run=self.opts.dry_run
        )
        if failed_fault is not None:
            self.abort(
                "FAULT_FAILED",
                f"fault {failed_fault.index} ({failed_fault.kind}): {failed_fault.error}",
            )
        self.leave()

        self.enter("detect")
        inject_t = rec.mark("fault.injected").t
        start = rec.mark_t("inject.start")
        detected = False
        if self.sampler is not None and scenario.steady_state and not self.opts.dry_run:
            detected = self.sampler.wait_for(
                lambda s: first_failure_since(s, start) is not None, scenario.timeouts.detect
            )
        self.leave(detected=str(detected).lower(), waited_from=f"{inject_t:.3f}")

    def recover_and_verify(self) -> None:
        scenario, rec = self.scenario, self.recorder
        need = scenario.sampling.stable_samples
        self.enter("recover")
        budget_end = rec.t() + scenario.timeouts.recover
        if self.opts.game_day:
            self.hand_over(budget_end)
            return
        failed = run_steps(
            "recover",
            scenario.recovery,
            self.ctx,
            rec,
            self.listener,
            budget_end=budget_end,
            dry_run=self.opts.dry_run,
        )
        recover_start = rec.mark_t("recover.start")
        steady = False
        if failed is None and self.sampler is not None and scenario.steady_state:
            steady = self.sampler.wait_for(
                lambda s: stable_since(s, recover_start, need) is not None,
                max(0.0, budget_end - rec.t()),
            )
        self.leave(steady=str(steady).lower())
        self.verify()

    def verify(self) -> None:
        scenario, rec = self.scenario, self.recorder
        self.enter("verify")
        for probe in scenario.verify_probes:
            rec.verify_result(run_probe(probe, self.ctx, rec))
        self.checker.after(self.ctx, scenario.verify.data, rec)
        if self.load is not None:
            self.load.stop()
        if self.canary is not None and scenario.rpo is not None:
            rec.set_rpo(self.canary.measure(self._rpo_dsn(scenario.rpo)))
        self.leave()

    def provision(self) -> None:
        scenario, rec = self.scenario, self.recorder
        self.backend = self.opts.backend_factory(
            self.backend_name, self.run_dir, self.ctx.run_id, self.ctx.clock, self.ctx.base_dir
        )
        deadline = rec.t() + scenario.timeouts.provision
        for name, spec in scenario.services.items():
            timeout = max(1.0, min(spec.startup_timeout, deadline - rec.t()))
            self.listener.on_log(f"starting {spec.kind} service {name!r}")
            try:
                handle = (
                    ExternalHandle(name, spec.kind, spec.external)
                    if spec.external is not None
                    else self.backend.provision(name, spec, timeout=timeout)
                )
            except ProvisionError as exc:
                self.abort("PROVISION_FAILED", f"service {name!r} ({spec.kind}): {exc}")
            except DrillbookError as exc:
                self.abort("PROVISION_FAILED", f"service {name!r} ({spec.kind}): {exc}")
            self.ctx.add_service(handle)
            for key, value in handle.facts().items():
                rec.fact(f"service.{name}.{key}", value)
        ctl = write_ctl_command(self.run_dir / "bin", self.ctx.run_id)
        env = build_env(
            services=self.ctx.services(),
            primary={n: s.primary for n, s in scenario.services.items()},
            client_path=self.backend.client_path(),
            workdir=self.ctx.workdir,
            backup_dir=self.ctx.workdir / "backups",
            run_id=self.ctx.run_id,
            ctl_command=ctl,
        )
        self.ctx.set_env(env)
        extra = {k: self.ctx.interpolate(v) for k, v in scenario.env.items()}
        for secret in find_secrets(extra):  # `${...}` resolved: the values scripts really see
            self.ctx.add_secret(secret)
        self.ctx.set_env({**env, **extra})
        self.control = ControlServer(
            self.ctx.run_id,
            self.ctx.services,
            on_action=self._ctl_mark,
        )
        self.control.start()

    def _ctl_mark(self, action: str, name: str, ok: bool) -> None:
        self.recorder.mark("ctl", action=action, service=name, ok=str(ok).lower())

    def hand_over(self, budget_end: float) -> None:
        """Game day: show the incident, wait for a person to recover it, then verify."""
        scenario, rec, opts = self.scenario, self.recorder, self.opts
        sampler = self.sampler
        if sampler is None or not scenario.steady_state:
            self.abort("PREFLIGHT_FAILED", "a game day needs steady_state probes to see recovery")
        env = self.ctx.env()
        env_file = write_env_file(
            self.run_dir / "operator.env",
            env,
            [k for k in env if k not in os.environ or env[k] != os.environ[k]],
        )
        rec.mark("gameday.handover", operator=opts.operator or "")
        samples = rec.samples()
        for line in briefing(
            scenario_name=scenario.name,
            runbook=scenario.runbook,
            last_sample=samples[-1] if samples else None,
            services=self.ctx.services(),
            env_file=env_file,
            ctl=env.get("DRILLBOOK_CTL", "drillbook ctl"),
            timeout=budget_end - rec.t(),
        ):
            self.listener.on_log(line)
        start, need = rec.mark_t("recover.start"), scenario.sampling.stable_samples
        steady = sampler.wait_for(
            lambda s: stable_since(s, start, need) is not None, max(0.0, budget_end - rec.t())
        )
        notes = opts.notes
        if notes is None and opts.ask_notes is not None:
            notes = opts.ask_notes()
        rec.mark(
            "gameday.end",
            operator=opts.operator or "",
            notes=notes or "",
            steady=str(steady).lower(),
        )
        self.leave(steady=str(steady).lower())
        self.verify()

    def _rpo_dsn(self, rpo: Rpo) -> str:
        info = self.ctx.service(rpo.service).info
        if info.dsn is None:
            raise DrillbookError(f"rpo.service {rpo.service!r} is not a database service")
        return make_conninfo(info.dsn, dbname=rpo.database) if rpo.database else info.dsn

    def start_canary(self) -> None:
        rpo = self.scenario.rpo
        if rpo is None:
            return
        self.canary = CanaryWriter(self._rpo_dsn(rpo), rpo.service, rpo.interval, self.recorder.t)
        self.canary.start()

    def teardown(self, report_dir: Path) -> None:
        rec = self.recorder
        self.phase = "teardown"
        rec.mark("teardown.start")
        self.listener.on_phase("teardown")
        if self.sampler is not None:
            self.sampler.stop()
        if self.load is not None:
            self.load.stop(linger=False)
        if self.canary is not None:
            self.canary.stop("teardown")
        close_connections()  # cached probe connections must not outlive the server
        if self.control is not None:
            self.control.close()
        if self.injected:
            for fault in reversed(self.scenario.fault):
                try:
                    fault.revert(self.ctx)
                except Exception as exc:  # revert must not stop teardown
                    rec.fact(f"revert.{fault.kind}", f"failed: {exc}")
        self._keep_logs(report_dir)
        if self.backend is not None:
            self.backend.teardown()
        rec.mark("teardown.end")

    def _keep_logs(self, report_dir: Path) -> None:
        """Copy every service log into the report before the run dir goes away."""
        logs = report_dir / "logs"
        redactor = Redactor(self.ctx.secrets())
        for name, handle in self.ctx.services().items():
            path = handle.info.log_path
            if path is None or not path.exists():
                continue
            logs.mkdir(parents=True, exist_ok=True)
            text = path.read_text(encoding="utf-8", errors="replace")
            (logs / f"{name}.log").write_text(redactor.redact_text(text), encoding="utf-8")


def _run_steps_of(scenario: Scenario) -> list[tuple[str, int, StepSpec]]:
    return [
        (section, index, step)
        for section, steps in (("seed", scenario.seed), ("recovery", scenario.recovery))
        for index, step in enumerate(steps)
    ]


def verify_sample_ok(results: list[ProbeSample]) -> bool:
    return all(r.ok for r in results)
