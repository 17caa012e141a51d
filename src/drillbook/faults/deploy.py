"""Faults that are a deploy: a given config file put over the live one, or a deploy command
(the team's own reload script, say) running in the background while the drill watches.

`config.replace` is the bad change a human ships by hand; `deploy.command` is the bad change
shipped through the team's tooling, so the tooling's own safety net (an automatic rollback) is
what the drill measures.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path
from typing import IO, Literal

from pydantic import Field, PrivateAttr, model_validator

from drillbook.context import DrillContext
from drillbook.errors import DrillbookError, FaultError
from drillbook.faults.service import restart_detail
from drillbook.registry import FAULTS
from drillbook.scenario.kinds import FaultOutcome, FaultSpec
from drillbook.scenario.types import Duration, ScenarioCommand, ScenarioPath

_BASH = "/bin/bash"


def _inside(path: Path, root: Path) -> bool:
    path, root = path.resolve(), root.resolve()
    return path == root or path.is_relative_to(root)


def _run_dirs(ctx: DrillContext) -> list[Path]:
    return [ctx.workdir] + [
        p for h in ctx.services().values() for p in (h.info.workdir, h.info.data_dir) if p
    ]


@FAULTS.register
class ConfigReplace(FaultSpec):
    """Copy `source` over a service's config file (or a file of the run), as a deploy that
    ships the wrong file does; then optionally restart the service or send it SIGHUP."""

    kind: Literal["config.replace"]
    source: ScenarioPath = Field(description="the file to deploy, relative to the project root")
    service: str | None = Field(
        None, description="service whose config file (info.config_path) is replaced"
    )
    path: str | None = Field(
        None, description="file to replace instead, relative to the run's workdir; may use ${...}"
    )
    then: Literal["none", "restart", "reload"] = Field(
        "none", description="restart the service, or send it SIGHUP (reload), after the copy"
    )
    restart_timeout: Duration | None = Field(
        None, description="how long `then: restart` waits for health; default: the service's"
    )

    @model_validator(mode="after")
    def _consistent(self) -> ConfigReplace:
        if (self.service is None) == (self.path is None):
            raise ValueError("give either the service whose config to replace, or a path")
        if self.then != "none" and self.service is None:
            raise ValueError(f"then: {self.then} needs the service to {self.then}")
        return self

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        source = ctx.resolve(self.source)
        if not source.is_file():
            raise FaultError(f"config.replace: source {str(source)!r} does not exist")
        target = self._target(ctx)
        keep = self._original(ctx, target)
        if target.exists() and not keep.exists():  # a second replace keeps the true original
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target, keep)
        # Write then rename, as deploy tools do: the service never reads half a file.
        tmp = target.with_name(f".{target.name}.deploying")
        shutil.copyfile(source, tmp)
        tmp.replace(target)
        detail = {"source": str(source), "original_copy": str(keep)}
        detail.update(self._then(ctx))
        return FaultOutcome(target=str(target), detail=detail)

    def revert(self, ctx: DrillContext) -> None:
        # Only a file outside every directory of the run outlives the drill.
        try:
            target = self._target(ctx)
            keep = self._original(ctx, target)
            if keep.exists() and not any(_inside(target, root) for root in _run_dirs(ctx)):
                shutil.copy2(keep, target)
        except (DrillbookError, OSError):
            pass

    def _target(self, ctx: DrillContext) -> Path:
        if self.path is not None:
            raw = Path(ctx.interpolate(self.path))
            target = raw if raw.is_absolute() else ctx.workdir / raw
        else:
            assert self.service is not None
            config = ctx.service(self.service).info.config_path
            if config is None:
                raise FaultError(
                    f"service {self.service!r} has no config file to replace; give `path`"
                )
            target = config
        owned = [ctx.workdir] + [
            p for h in ctx.services().values() for p in (h.info.config_path, h.info.workdir) if p
        ]
        if not any(_inside(target, root) for root in owned):
            raise FaultError(
                f"refusing to replace {str(target)!r}: it is outside the drill's workdir "
                f"{str(ctx.workdir)!r} and no drill service owns it"
            )
        return target

    def _original(self, ctx: DrillContext, target: Path) -> Path:
        owner = self.service or "path"
        return ctx.workdir / "faults" / f"{owner}.{target.name}.pre-replace"

    def _then(self, ctx: DrillContext) -> dict[str, str]:
        if self.then == "none" or self.service is None:
            return {}
        handle = ctx.service(self.service)
        if self.then == "restart":
            return restart_detail(handle, self.restart_timeout)
        try:
            handle.kill(signal.SIGHUP)
        except DrillbookError as exc:
            return {"reload": "failed", "reload_error": str(exc).splitlines()[0][:300]}
        return {"reload": "SIGHUP sent"}


@FAULTS.register
class DeployCommand(FaultSpec):
    """Start a deploy command (bash line, drill environment, project root as cwd) in the
    background and return at once. Its output goes to `log` and, when it ends, its exit code
    to `status_file` (both in the run's workdir), so a recovery step can wait for it."""

    kind: Literal["deploy.command"]
    run: ScenarioCommand = Field(description="the deploy command line; may use ${...}")
    status_file: str = Field("deploy.status", description="exit code file, in the workdir")
    log: str = Field("deploy.log", description="output file, in the workdir")

    _proc: subprocess.Popen[bytes] | None = PrivateAttr(None)
    _waiter: threading.Thread | None = PrivateAttr(None)

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        status = ctx.workdir / self.status_file
        log_path = ctx.workdir / self.log
        status.unlink(missing_ok=True)
        line = ctx.interpolate(self.run)
        out: IO[bytes] = log_path.open("ab")
        try:
            proc = subprocess.Popen(
                [_BASH, "-c", f"set -o pipefail; {line}"],
                cwd=ctx.base_dir,
                env=dict(ctx.env()),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            out.close()
            raise FaultError(f"deploy.command: cannot start {line!r}: {exc}") from exc

        def wait() -> None:
            code = proc.wait()
            out.close()
            tmp = status.with_name(status.name + ".tmp")
            tmp.write_text(f"{code}\n", encoding="utf-8")
            tmp.replace(status)

        waiter = threading.Thread(target=wait, name="drillbook-deploy", daemon=True)
        waiter.start()
        self._proc, self._waiter = proc, waiter
        return FaultOutcome(
            target=line[:160],
            detail={"pid": str(proc.pid), "status_file": str(status), "log": str(log_path)},
        )

    def revert(self, ctx: DrillContext) -> None:
        # A deploy still running at teardown must not outlive the drill.
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGKILL)
        if self._waiter is not None:
            self._waiter.join(timeout=3)
