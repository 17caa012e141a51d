"""The `command` probe: a command (a team's own health check script) exits 0 in time."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from drillbook.context import DrillContext
from drillbook.errors import ProbeError
from drillbook.procs import run_process
from drillbook.registry import PROBES
from drillbook.scenario.kinds import ProbeResult, ProbeSpec

_BASH = "/bin/bash"


@PROBES.register
class CommandProbe(ProbeSpec):
    """Run a command with the drill environment; pass on exit code 0."""

    kind: Literal["command"]
    command: list[str] | str = Field(
        description="argv list, or a shell line run by bash; may use ${...}"
    )
    env: dict[str, str] = Field(default_factory=dict, description="added to the drill environment")

    @field_validator("command")
    @classmethod
    def _nonempty(cls, value: list[str] | str) -> list[str] | str:
        if not value or (isinstance(value, list) and not value[0]):
            raise ValueError("command is empty")
        return value

    def label(self) -> str:
        shown = self.command if isinstance(self.command, str) else " ".join(self.command)
        return self.name or f"command {shown}"[:80]

    def check(self, ctx: DrillContext, timeout: float) -> ProbeResult:
        if isinstance(self.command, str):
            argv = [_BASH, "-c", f"set -o pipefail; {ctx.interpolate(self.command)}"]
        else:
            argv = [ctx.interpolate(word) for word in self.command]
            if "/" in argv[0] and not argv[0].startswith("/"):
                argv[0] = str(ctx.resolve(argv[0]))
        env = dict(ctx.env())
        env.update({k: ctx.interpolate(v) for k, v in self.env.items()})
        try:
            result = run_process(
                argv,
                timeout=timeout,
                env=env,
                cwd=ctx.base_dir,
                tail_lines=3,
                stdout_limit=65536,
                grace=0.5,
            )
        except OSError as exc:
            raise ProbeError(f"command probe: cannot start {argv[0]!r}: {exc}") from exc
        last = result.tail[-1] if result.tail else ""
        if result.ok:
            return ProbeResult(ok=True, detail=last[:200])
        reason = result.describe(timeout)
        return ProbeResult(ok=False, detail=f"{reason}: {last}"[:200] if last else reason)
