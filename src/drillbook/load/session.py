"""The harness side of load: start the locust process, read its buckets into the journal.

The runner starts a session once the baseline holds (it then runs `load.baseline` seconds
before the fault, so the baseline window has buckets) and stops it after verify (after
lingering `load.after` seconds, for the after-recovery window). Bucket times arrive on
CLOCK_MONOTONIC, the clock of every process on the machine, and are placed on the run's clock.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from drillbook.context import DrillContext
from drillbook.errors import DrillbookError
from drillbook.journal import LoadBucket, Recorder
from drillbook.load.plan import KEY_ENV, BucketLine, LoadPlan, PlannedRequest
from drillbook.scenario.load import Load

START_TIMEOUT = 30.0


class LoadError(DrillbookError):
    """The load could not start or produced nothing."""


def master_key(ctx: DrillContext, service: str) -> str:
    """The gateway's own master key, read from its config the way the gateway reads it."""
    from drillbook.gateway.config import load_config  # only gateways need it

    handle = ctx.service(service)
    path = handle.info.config_path
    if path is None or not path.exists():
        raise LoadError(
            f"load.key 'master': service {service!r} ({handle.kind}) has no config file to read "
            "its master key from; give load.key explicitly"
        )
    key = load_config(path, env={**os.environ, **handle.env()}).master_key
    if not key:
        raise LoadError(f"load.key 'master': {path} sets no general_settings.master_key")
    return key


def build_plan(load: Load, base_url: str, seed: int) -> LoadPlan:
    return LoadPlan(
        base_url=base_url,
        requests=tuple(
            PlannedRequest(
                label=r.label(), method=r.resolved_method(), path=r.resolved_path(),
                weight=r.weight, body=r.body(), auth=r.auth,
            )
            for r in load.mix
        ),
        header=load.header,
        users=load.users,
        spawn_rate=load.spawn_rate,
        rps=load.rps,
        bucket=load.bucket,
        timeout=load.timeout,
        workers=load.workers,
        seed=seed,
    )


class LoadSession:
    """One locust process (a master and its workers with `load.workers`) for one drill."""

    def __init__(self, load: Load, ctx: DrillContext, recorder: Recorder) -> None:
        self.load = load
        self.ctx = ctx
        self.recorder = recorder
        self.proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._started = threading.Event()
        self._done = threading.Event()
        self._errors: list[str] = []
        self._stderr: IO[str] | None = None
        self._stderr_path: Path | None = None
        self._stopped = False
        self._lines: deque[str] = deque(maxlen=20)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the users and let them run `load.baseline` seconds; LoadError if they cannot."""
        load, ctx = self.load, self.ctx
        handle = ctx.service(load.service)
        if handle.info.url is None:
            raise LoadError(f"load.service {load.service!r} ({handle.kind}) has no url to load")
        key = ""
        implicit = "key" not in load.model_fields_set
        if load.key == "master" and not (implicit and handle.kind != "gateway"):
            key = master_key(ctx, load.service)
        elif load.key:
            key = ctx.interpolate(load.key)
        ctx.add_secret(key)
        folder = ctx.workdir / "load"
        folder.mkdir(parents=True, exist_ok=True)
        plan_path = folder / "plan.json"
        plan = build_plan(load, handle.info.url.rstrip("/"), ctx.random_seed)
        plan_path.write_text(plan.model_dump_json(), encoding="utf-8")
        self._stderr_path = folder / "locust.log"
        self._stderr = self._stderr_path.open("w", encoding="utf-8")
        env = {**os.environ, KEY_ENV: key, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "drillbook.load.worker", "--plan", str(plan_path)],
            stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL,
            env=env, text=True, start_new_session=True,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, name="load-reader", daemon=True)
        self._reader.start()
        started = self._started.wait(START_TIMEOUT)
        code = self.proc.poll()
        if not started or self._errors or code is not None:
            why = "; ".join(self._errors) or (
                f"the load process exited with code {code}" if code is not None
                else f"no start within {START_TIMEOUT:g} s"
            )
            self.stop(linger=False)
            raise LoadError(f"the load did not start: {why}; last output: {self.tail()}")
        self.recorder.mark(
            "load.start", users=str(load.users), workers=str(load.workers),
            rps=f"{load.rps:g}" if load.rps else "uncapped",
        )
        ctx.log(f"load: {load.users} users on {load.service!r}, {load.baseline:g} s of baseline")
        self.ctx.clock.sleep(load.baseline)
        # The first bucket is printed once complete (later with workers, which report late).
        patience = 2 * load.bucket + (2.0 if load.workers else 0.5)
        waited = 0.0
        while not any(b.requests for b in self.recorder.load_buckets()) and waited < patience:
            self.ctx.clock.sleep(0.05)
            waited += 0.05
        buckets = self.recorder.load_buckets()
        if not any(b.requests for b in buckets):
            self.stop(linger=False)
            raise LoadError(
                f"no request completed in the {load.baseline:g} s of load baseline "
                f"({len(buckets)} buckets); last output: {self.tail()}"
            )

    def stop(self, *, linger: bool = True, timeout: float = 15.0) -> None:
        """Stop the users (after `load.after` seconds when lingering); safe to call twice."""
        if self._stopped or self.proc is None:
            return
        self._stopped = True
        if linger and self.proc.poll() is None:
            self.ctx.clock.sleep(self.load.after)
        self.recorder.mark("load.stop")
        proc = self.proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the master only: it stops its workers
        self._done.wait(timeout)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        # Anything of its group left (a worker whose master died) goes.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        if self._stderr is not None:
            self._stderr.close()
        if self._errors:
            self.recorder.fact("load.errors", "; ".join(self._errors)[:500])

    def tail(self) -> str:
        lines = list(self._lines)
        if self._stderr_path is not None and self._stderr_path.exists():
            err = self._stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()
            lines += err[-5:]
        return " | ".join(line[:200] for line in lines[-6:]) or "none"

    # -- reader thread ----------------------------------------------------------------------

    def _read(self) -> None:
        proc = self.proc
        assert proc is not None and proc.stdout is not None
        for raw in proc.stdout:
            line = raw.strip()
            if not line.startswith("{"):
                if line:
                    self._lines.append(line)
                continue
            try:
                data = json.loads(line)
            except ValueError:
                self._lines.append(line)
                continue
            kind = data.get("type")
            if kind == "bucket":
                try:
                    self.recorder.load_bucket(self._bucket(BucketLine.model_validate(data)))
                except ValidationError as exc:
                    self._errors.append(f"bad bucket line: {exc.errors()[0]['msg']}")
            elif kind == "started":
                self._started.set()
            elif kind == "error":
                self._errors.append(str(data.get("message")))
                self._started.set()
            elif kind == "done":
                self._done.set()
        self._started.set()  # the process ended: nobody waits in vain
        self._done.set()

    def _bucket(self, b: BucketLine) -> LoadBucket:
        t = self.recorder.t_of

        def s(ms: float | None) -> float | None:
            return None if ms is None else ms / 1000.0

        return LoadBucket(
            start=t(b.start_ns), end=t(b.end_ns), requests=b.requests, failures=b.failures,
            by_status=b.by_status, p50=s(b.p50), p95=s(b.p95), p99=s(b.p99), max=s(b.max),
            first_failure=t(b.first_failure_ns) if b.first_failure_ns is not None else None,
            last_failure=t(b.last_failure_ns) if b.last_failure_ns is not None else None,
            users=b.users, hist=b.hist,
        )
