"""Preflight: before any fault, check that the recovery can run at all.

Two passes, both before anything is broken:
- `static_checks` before provisioning: scripts exist and are executable, named backups exist
  and are fresh enough, enough free disk for the restore;
- `environment_checks` once the drill's environment exists: tools on the drill's PATH
  (declared with `requires:`/`preflight.tools`, or the interpreter of a script's `#!` line),
  credential variables present (by name: values are never printed), backups pass their
  verification command.
A problem makes the run COULD NOT VERIFY with PREFLIGHT_FAILED, and nothing is injected.
"""

from __future__ import annotations

import os
import shlex
import shutil
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from drillbook.context import DrillContext
from drillbook.procs import run_process
from drillbook.scenario.kinds import StepSpec
from drillbook.scenario.model import Scenario
from drillbook.scenario.types import SHELL_SYNTAX

VERIFY_TIMEOUT = 120.0


def script_of(step: object) -> str | None:
    """The script a `run` step executes, when it names a file rather than a shell line."""
    run = getattr(step, "run", None)
    if not isinstance(run, str) or not run.strip():
        return None
    try:
        first = shlex.split(run)[0]
    except ValueError:
        return None
    return first if "/" in first and not SHELL_SYNTAX.search(first) else None


def _steps(scenario: Scenario) -> Iterator[tuple[str, int, StepSpec]]:
    for section, steps in (("seed", scenario.seed), ("recovery", scenario.recovery)):
        for index, step in enumerate(steps):
            yield section, index, step


def interpreter_of(script: Path) -> str | None:
    """The program a script's `#!` line needs: a path, or a command name for `env NAME`."""
    try:
        with script.open("rb") as handle:
            first = handle.readline(512).decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    words = first[2:].split()
    if not words:
        return None
    if Path(words[0]).name == "env":
        names = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        return names[0] if names else None
    return words[0]


def static_checks(scenario: Scenario, base_dir: Path, workdir: Path) -> list[str]:
    problems: list[str] = []
    for section, index, step in _steps(scenario):
        script = script_of(step)
        if script is None:
            continue
        path = (base_dir / script).resolve() if not Path(script).is_absolute() else Path(script)
        if not path.is_file():
            problems.append(f"{section}[{index}]: script {script!r} not found at {path}")
        elif not os.access(path, os.X_OK):
            problems.append(
                f"{section}[{index}]: script {script!r} is not executable (chmod +x {path})"
            )
    backup_bytes = 0
    for index, backup in enumerate(scenario.preflight.backups):
        path = base_dir / backup.path
        if not path.is_file():
            problems.append(f"preflight.backups[{index}]: backup {backup.path!r} does not exist")
            continue
        backup_bytes += path.stat().st_size
        age = time.time() - path.stat().st_mtime
        if backup.max_age is not None and age > backup.max_age:
            problems.append(
                f"preflight.backups[{index}]: backup {backup.path!r} is {age / 3600:.1f} h old; "
                f"the limit is {backup.max_age / 3600:.1f} h"
            )
    needed = max(scenario.preflight.min_free_disk, 2 * backup_bytes)
    free = shutil.disk_usage(workdir).free
    if free < needed:
        problems.append(
            f"only {free / 2**20:.0f} MiB free under {workdir}; the restore needs at least "
            f"{needed / 2**20:.0f} MiB"
        )
    return problems


def environment_checks(scenario: Scenario, ctx: DrillContext) -> list[str]:
    env: Mapping[str, str] = ctx.env()
    path = env.get("PATH", os.defpath)
    problems: list[str] = []
    wanted: dict[str, str] = {tool: "preflight.tools" for tool in scenario.preflight.tools}
    for section, index, step in _steps(scenario):
        for tool in step.requires:
            wanted.setdefault(tool, f"{section}[{index}].requires")
        script = script_of(step)
        interpreter = interpreter_of(ctx.resolve(script)) if script else None
        if interpreter:
            wanted.setdefault(interpreter, f"{section}[{index}] ({script} #! line)")
    for tool, where in wanted.items():
        found = Path(tool).is_file() if "/" in tool else shutil.which(tool, path=path)
        if not found:
            problems.append(f"{where}: {tool!r} is not on the drill's PATH")
    for name in scenario.preflight.env:
        if not env.get(name):
            problems.append(f"preflight.env: credential variable {name} is not set")
    for index, backup in enumerate(scenario.preflight.backups):
        if backup.verify is None:
            continue
        target = ctx.resolve(backup.path)
        command = backup.verify.replace("{path}", shlex.quote(str(target)))
        done = run_process(
            ["/bin/bash", "-c", command], timeout=VERIFY_TIMEOUT, env=dict(env), cwd=ctx.base_dir
        )
        if not done.ok:
            tail = "; ".join(done.tail[-3:])
            why = "timed out" if done.timed_out else f"exit {done.exit_code}"
            problems.append(
                f"preflight.backups[{index}]: {backup.path!r} failed verification ({why}): {tail}"
            )
    return problems


def external_fault_problems(scenario: Scenario, allowed: bool) -> list[str]:
    """Destructive faults aimed at services the drill did not provision, unless allowed."""
    if allowed:
        return []
    external = {name for name, spec in scenario.services.items() if spec.external is not None}
    return [
        f"fault[{index}] ({fault.kind}) targets external service {target!r}; drillbook breaks "
        "only what it provisioned unless --allow-external-faults is given"
        for index, fault in enumerate(scenario.fault)
        if fault.destructive and (target := getattr(fault, "service", None)) in external
    ]
