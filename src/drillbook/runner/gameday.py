"""Game days and walk-throughs: a person recovers by hand while the harness keeps time.

`--game-day`: after the fault, the harness shows what is failing and waits while an operator
recovers in another terminal (with the drill's environment from a file and $DRILLBOOK_CTL);
recovery ends when the steady state holds again, or fails at the scenario's recover timeout.
`--pause-before PHASE`: stop before a phase until Enter (or SIGUSR1) so a team can walk
through a drill step by step.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from drillbook.backends.base import ServiceHandle
from drillbook.journal import Sample


class Pauser:
    """Blocks the runner at a pause point until `resume()` (Enter, SIGUSR1, or a test)."""

    def __init__(self) -> None:
        self._go = threading.Event()

    def resume(self) -> None:
        self._go.set()

    def wait(self, timeout: float | None = None) -> bool:
        resumed = self._go.wait(timeout)
        self._go.clear()
        return resumed


def write_env_file(path: Path, env: Mapping[str, str], keys: Sequence[str]) -> Path:
    """`source`-able exports of the drill contract for the operator's shell (mode 0600:
    it holds the drill's passwords)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    lines = [f"export {k}={shlex.quote(env[k])}" for k in keys if k in env]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def briefing(
    *,
    scenario_name: str,
    runbook: str | None,
    last_sample: Sample | None,
    services: Mapping[str, ServiceHandle],
    env_file: Path,
    ctl: str,
    timeout: float,
    log_lines: int = 5,
) -> list[str]:
    """What an operator needs to see when the incident is handed over."""
    lines = [f"GAME DAY: {scenario_name} is broken; recover it by hand (within {timeout:g} s)."]
    if runbook:
        lines.append(f"runbook: {runbook}")
    if last_sample is not None:
        for result in last_sample.results:
            state = "ok  " if result.ok else "FAIL"
            lines.append(f"  probe {state} {result.probe}: {result.detail}")
    for name, handle in services.items():
        lines.append(f"  service {name} ({handle.kind}): {handle.state()}")
        lines.extend(f"    | {line}" for line in handle.log_tail(log_lines))
    lines.append(f"environment: source {env_file}")
    lines.append(f"control: {ctl} restart|stop|start|status|logs SERVICE")
    lines.append("the drill ends as soon as the steady state holds again")
    return lines
