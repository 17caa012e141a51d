"""DrillEnv: services, faults and steps driven by hand, for drills written in Python.

What a scenario does declaratively, a test can do step by step:

    env = DrillEnv(tmp_path)                       # the pytest fixture `drill_env` does this
    env.postgres("db"); env.s3("store", buckets=["backups"])
    env.step("run", run="./backup.sh")             # the same env vars scripts get in a drill
    env.inject("db.drop_table", service="db", table="orders")
    outcome = env.step("run", run="./restore.sh", timeout=60)
    env.teardown()

Kinds and fields are exactly the scenario's (`services:`, `fault:`, `recovery:` entries), and
$DRILLBOOK_CTL works in scripts. Timing is up to the test: `env.clock` is the monotonic clock.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any, TypeVar

from drillbook import registry
from drillbook.backends import make_backend
from drillbook.backends.base import ServiceHandle
from drillbook.cleanup import register_run, unregister_run
from drillbook.clock import MonotonicClock
from drillbook.errors import UsageError
from drillbook.journal import Recorder
from drillbook.runner.context import RunContext
from drillbook.runner.control import ControlServer, write_ctl_command
from drillbook.runner.envcontract import build_env
from drillbook.scenario.kinds import FaultOutcome, KindModel, StepOutcome
from drillbook.settings import drillbook_home

K = TypeVar("K", bound=KindModel)


class DrillEnv:
    """Services provisioned on one backend, plus the environment recovery scripts would see."""

    def __init__(self, base_dir: Path, backend: str = "local") -> None:
        self.clock = MonotonicClock()
        self.run_id = f"pytest-{secrets.token_hex(4)}"
        self._run_dir = drillbook_home() / "runs" / self.run_id
        self.workdir = self._run_dir / "work"
        (self.workdir / "backups").mkdir(parents=True)
        register_run(self._run_dir, self.run_id)
        self._backend = make_backend(backend, self._run_dir, self.run_id, self.clock, base_dir)
        self.recorder = Recorder(
            run_id=self.run_id, scenario="python-drill", scenario_file=None, backend=backend,
            clock=self.clock, probe_interval=0.1, stable_samples=3,
        )
        self.ctx = RunContext(
            run_id=self.run_id, workdir=self.workdir, base_dir=base_dir, clock=self.clock,
            random_seed=0, recorder=self.recorder,
        )
        self._ctl = write_ctl_command(self._run_dir / "bin", self.run_id)
        self._control = ControlServer(self.run_id, self.ctx.services)
        self._control.start()

    def service(
        self, name: str, kind: str, *, timeout: float = 120.0, **fields: Any
    ) -> ServiceHandle:
        """Provision a service as a scenario's `services: {name: {kind: ..., **fields}}`."""
        spec = _parse(registry.SERVICES, "service", kind, fields)
        handle = self._backend.provision(name, spec, timeout=timeout)
        self.ctx.add_service(handle)
        self.ctx.set_env(self.env())
        return handle

    def postgres(self, name: str = "db", **fields: Any) -> ServiceHandle:
        return self.service(name, "postgres", **fields)

    def s3(self, name: str = "s3", **fields: Any) -> ServiceHandle:
        return self.service(name, "s3", **fields)

    def gateway(self, name: str = "gateway", **fields: Any) -> ServiceHandle:
        return self.service(name, "gateway", **fields)

    @property
    def handles(self) -> dict[str, ServiceHandle]:
        return dict(self.ctx.services())

    def env(self) -> dict[str, str]:
        """What a drill's scripts see: DATABASE_URL, PG*, AWS_*, DRILLBOOK_CTL, PATH, ..."""
        return build_env(
            services=self.ctx.services(),
            primary={},
            client_path=self._backend.client_path(),
            workdir=self.workdir,
            backup_dir=self.workdir / "backups",
            run_id=self.run_id,
            ctl_command=self._ctl,
        )

    def inject(self, kind: str, **fields: Any) -> FaultOutcome:
        """Inject a fault as a scenario's `fault:` entry would."""
        fault = _parse(registry.FAULTS, "fault", kind, fields)
        return fault.inject(self.ctx)

    def step(self, kind: str, *, timeout: float = 300.0, **fields: Any) -> StepOutcome:
        """Run a step (`run`, `sql`, `ctl`, `http`, ...) as a `recovery:` entry would."""
        step = _parse(registry.STEPS, "step", kind, fields)
        return step.execute(self.ctx, timeout)

    def teardown(self) -> None:
        try:
            self._control.close()
            self._backend.teardown()
        finally:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            unregister_run(self._run_dir)


def _parse(kinds: registry.Registry[K], family: str, kind: str, fields: dict[str, Any]) -> K:
    registry.load_plugins()
    spec_type = kinds.get(kind)
    if spec_type is None:
        raise UsageError(f"unknown {family} kind {kind!r}; known: {', '.join(kinds.kinds())}")
    return spec_type.model_validate({"kind": kind, **fields})
