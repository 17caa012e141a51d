"""Preflight: before anything is provisioned or broken, check that the recovery can run."""

from __future__ import annotations

import os
import shlex
import shutil

from drillbook.context import DrillContext
from drillbook.scenario.model import Scenario

MIN_FREE_BYTES = 256 * 1024 * 1024


def script_of(step: object) -> str | None:
    """The script a `run` step executes, when it names a file rather than a shell line."""
    run = getattr(step, "run", None)
    if not isinstance(run, str) or not run.strip():
        return None
    try:
        first = shlex.split(run)[0]
    except ValueError:
        return None
    return first if "/" in first else None


def preflight(scenario: Scenario, ctx: DrillContext) -> list[str]:
    """Problems that would make the drill's result meaningless; empty when all is well."""
    problems: list[str] = []
    for section, steps in (("seed", scenario.seed), ("recovery", scenario.recovery)):
        for index, step in enumerate(steps):
            script = script_of(step)
            if script is None:
                continue
            path = ctx.resolve(script)
            if not path.is_file():
                problems.append(f"{section}[{index}]: script {script!r} not found at {path}")
            elif not os.access(path, os.X_OK):
                problems.append(
                    f"{section}[{index}]: script {script!r} is not executable (chmod +x {path})"
                )
    usage = shutil.disk_usage(ctx.workdir)
    if usage.free < MIN_FREE_BYTES:
        problems.append(
            f"only {usage.free // (1024 * 1024)} MiB free under {ctx.workdir}; need at least "
            f"{MIN_FREE_BYTES // (1024 * 1024)} MiB"
        )
    return problems
