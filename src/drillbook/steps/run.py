"""The `run` step: the team's real script or command, with the drill environment contract."""

from __future__ import annotations

import os
import shlex
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from pydantic import Field, model_validator

from drillbook.context import DrillContext
from drillbook.errors import DrillbookError, StepError
from drillbook.procs import run_process
from drillbook.registry import STEPS
from drillbook.scenario.kinds import StepOutcome, StepSpec
from drillbook.scenario.types import ScenarioCommand

BASH = "/bin/bash"


@runtime_checkable
class ExecTarget(Protocol):
    """A service a command can run inside (a container on the docker backend)."""

    def exec_command(
        self, argv: Sequence[str], env: Mapping[str, str], cwd: str | None = None
    ) -> tuple[list[str], dict[str, str]]: ...


@STEPS.register
class RunStep(StepSpec):
    """Run a script or command in its own process group, stdin from /dev/null, with the
    environment contract (DATABASE_URL, BACKUP_DIR, DRILLBOOK_CTL, ...) plus `env`."""

    kind: Literal["run"]
    run: ScenarioCommand | None = Field(
        None,
        description="a script path (relative to the project root) or a shell command line "
        "(run by bash with pipefail); may use ${...}",
    )
    command: list[str] | None = Field(
        None, min_length=1, description="argv to execute directly, no shell; may use ${...}"
    )
    args: list[str] = Field(default_factory=list, description="extra arguments; may use ${...}")
    env: dict[str, str] = Field(
        default_factory=dict, description="added to the drill environment; may use ${...}"
    )
    cwd: str | None = Field(None, description="working directory; default: the project root")
    shell: bool | None = Field(
        None,
        description="run `run` through bash -c; default: only when it is not an existing file",
    )
    exec_in: str | None = Field(
        None,
        description="run inside this service's container (docker exec, docker backend only; "
        "the local backend refuses it at preflight); `cwd` is then a path in the container",
    )

    @model_validator(mode="after")
    def _one_command(self) -> RunStep:
        if (self.run is None) == (self.command is None):
            raise ValueError("give either `run` (a script or command line) or `command` (argv)")
        if self.command is not None and self.shell:
            raise ValueError("`shell` applies to `run`, not to `command` (an argv list)")
        return self

    def argv(self, ctx: DrillContext) -> tuple[list[str], str]:
        """The argv to execute and how it was chosen (script, shell or command)."""
        args = [ctx.interpolate(a) for a in self.args]
        if self.command is not None:
            words = [ctx.interpolate(w) for w in self.command]
            return [_resolved(ctx, words[0]), *words[1:], *args], "command"
        assert self.run is not None
        text = ctx.interpolate(self.run)
        script = ctx.resolve(text) if text.strip() and "\n" not in text else None
        is_file = script is not None and script.is_file()
        if self.shell or (self.shell is None and not is_file):
            # $0 names the step in bash's own error messages; args become $1...
            return [BASH, "-c", f"set -o pipefail; {text}", self.id or "drillbook-step", *args], (
                "shell"
            )
        if is_file:
            assert script is not None
            return [*_interpreter(script), str(script), *args], "script"
        words = shlex.split(text)
        return [_resolved(ctx, words[0]), *words[1:], *args], "command"

    def execute(self, ctx: DrillContext, timeout: float) -> StepOutcome:
        argv, how = self.argv(ctx)
        env = dict(ctx.env())
        env.update({name: ctx.interpolate(value) for name, value in self.env.items()})
        cwd = ctx.resolve(ctx.interpolate(self.cwd)) if self.cwd else ctx.base_dir
        if self.exec_in is not None:
            argv, env = self._inside(ctx, argv, env)
            cwd, how = ctx.base_dir, f"{how} in {self.exec_in}"
        if not cwd.is_dir():
            raise StepError(f"run step: working directory {str(cwd)!r} does not exist")
        logs = ctx.workdir / "steps"
        logs.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=logs, prefix=f"{self.id or 'run'}-", suffix=".log")
        os.close(fd)
        try:
            result = run_process(argv, timeout=timeout, env=env, cwd=cwd, output_file=Path(name))
        except OSError as exc:
            raise StepError(
                f"run step: cannot start {argv[0]!r}: {exc.strerror or exc} (cwd {str(cwd)!r})"
            ) from exc
        shown = self.run if self.run is not None else shlex.join(self.command or [])
        detail = {
            "how": how,
            "output_file": name,
            "duration": f"{result.duration:.3f}",
        }
        if result.stdout_truncated:
            detail["stdout_truncated"] = "true"
        if result.leftovers_killed:
            detail["leftovers_killed"] = "true"
        return StepOutcome(
            ok=result.ok,
            exit_code=result.exit_code,
            # Like $(...): trailing newlines are not part of the value.
            stdout=result.stdout.rstrip("\n"),
            output_tail=result.tail,
            timed_out=result.timed_out,
            error=None if result.ok else f"{shown!r} {result.describe(timeout)}",
            detail=detail,
        )


    def _inside(
        self, ctx: DrillContext, argv: list[str], env: dict[str, str]
    ) -> tuple[list[str], dict[str, str]]:
        assert self.exec_in is not None
        handle = ctx.service(self.exec_in)
        if not isinstance(handle, ExecTarget):
            raise StepError(exec_in_refusal(self.exec_in))
        workdir = ctx.interpolate(self.cwd) if self.cwd else None
        try:
            return handle.exec_command(argv, env, workdir)
        except DrillbookError as exc:
            raise StepError(f"run step: exec_in {self.exec_in!r}: {exc}") from exc


def exec_in_refusal(service: str) -> str:
    return (
        f"run step: exec_in {service!r} needs a container (run with --backend docker); "
        "on this backend run the command on the host instead (drop exec_in)"
    )


def exec_in_problems(steps: Sequence[tuple[str, int, StepSpec]], ctx: DrillContext) -> list[str]:
    """Preflight: every `exec_in` names a provisioned service that can exec commands."""
    problems: list[str] = []
    for section, index, step in steps:
        service = getattr(step, "exec_in", None)
        if not isinstance(step, RunStep) or service is None:
            continue
        try:
            handle = ctx.service(service)
        except DrillbookError:
            problems.append(f"{section}[{index}]: exec_in {service!r} is not a drill service")
            continue
        if not isinstance(handle, ExecTarget):
            problems.append(f"{section}[{index}]: {exec_in_refusal(service)}")
    return problems


def _resolved(ctx: DrillContext, word: str) -> str:
    """A relative program path with a '/' is the project's script; a bare name is on PATH."""
    if "/" in word and not Path(word).is_absolute():
        return str(ctx.resolve(word))
    return word


def _interpreter(script: Path) -> list[str]:
    """How to run `script`: directly when executable, else by its #! line, else with bash."""
    if os.access(script, os.X_OK):
        return []
    try:
        with script.open("rb") as handle:
            first = handle.readline(512).decode("utf-8", errors="replace")
    except OSError:
        first = ""
    if first.startswith("#!"):
        words = shlex.split(first[2:].strip())
        if words:
            return words
    return [BASH]
