"""The `run` step: the team's script with the environment contract, killed at its timeout."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from drillbook.errors import StepError
from drillbook.scenario.kinds import StepOutcome
from drillbook.steps.run import RunStep
from drillbook.testing import FakeContext, FakeService
from tests.unit.test_procs import alive


def step(**fields: object) -> RunStep:
    return RunStep.model_validate({"kind": "run", **fields})


@pytest.fixture
def ctx(tmp_path: Path) -> FakeContext:
    base = tmp_path / "project"
    (base / "drills").mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    db = FakeService("db", "postgres", env={"DATABASE_URL": "postgresql://drill@127.0.0.1/x"})
    return FakeContext(work, base_dir=base, services=[db], env={"BACKUP_DIR": str(work / "bk")})


def script(ctx: FakeContext, name: str, body: str, *, executable: bool = True) -> Path:
    path = ctx.base_dir / "drills" / name
    path.write_text(body)
    if executable:
        path.chmod(0o755)
    return path


def test_an_executable_script_runs_directly_with_its_args(ctx: FakeContext) -> None:
    script(ctx, "hello.sh", '#!/bin/bash\necho "args: $*"\n')
    out = step(run="drills/hello.sh", args=["a", "b c"]).execute(ctx, 5)
    assert out.ok and out.exit_code == 0
    assert out.stdout == "args: a b c"
    assert out.detail["how"] == "script"


def test_a_script_without_the_exec_bit_runs_by_its_shebang(ctx: FakeContext) -> None:
    script(ctx, "py.sh", "#!/usr/bin/env python3\nprint('from python')\n", executable=False)
    out = step(run="drills/py.sh").execute(ctx, 5)
    assert out.ok and out.stdout == "from python"


def test_a_command_line_runs_in_bash_with_pipefail(ctx: FakeContext) -> None:
    out = step(run="false | true").execute(ctx, 5)
    assert not out.ok and out.exit_code == 1
    assert out.detail["how"] == "shell"
    assert out.error == "'false | true' exited with code 1"


def test_the_environment_contract_and_step_env_reach_the_script(ctx: FakeContext) -> None:
    script(ctx, "env.sh", '#!/bin/bash\necho "$DATABASE_URL|$BACKUP_DIR|$DRILL_WORKDIR|$EXTRA"\n')
    out = step(run="drills/env.sh", env={"EXTRA": "${workdir}/x"}).execute(ctx, 5)
    work = str(ctx.workdir)
    assert out.stdout == f"postgresql://drill@127.0.0.1/x|{work}/bk|{work}|{work}/x"


def test_an_earlier_steps_output_feeds_a_later_command(ctx: FakeContext) -> None:
    backup = step(id="backup", run="echo /backups/db-1.dump").execute(ctx, 5)
    ctx.record_output("backup", backup)
    out = step(run="echo restoring ${steps.backup.stdout} exit=${steps.backup.exit_code}").execute(
        ctx, 5
    )
    assert out.stdout == "restoring /backups/db-1.dump exit=0"


def test_a_hung_step_is_killed_at_its_timeout_with_everything_it_started(
    ctx: FakeContext,
) -> None:
    pids = ctx.workdir / "pids"
    body = f"#!/bin/bash\nsleep 1000 &\necho $! > {pids}\necho waiting\nsleep 1000\n"
    script(ctx, "hang.sh", body)
    started = time.monotonic()
    out = step(run="drills/hang.sh").execute(ctx, 0.5)
    assert time.monotonic() - started < 3
    assert out.timed_out and not out.ok
    assert out.output_tail == ("waiting",)
    assert "timed out after 0.5s" in (out.error or "")
    deadline = time.monotonic() + 2
    while alive(int(pids.read_text())) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(int(pids.read_text()))


def test_a_script_reads_end_of_file_from_stdin_at_once(ctx: FakeContext) -> None:
    out = step(run="read -r answer || echo no-terminal").execute(ctx, 5)
    assert out.ok and out.stdout == "no-terminal"


def test_the_output_tail_keeps_the_last_forty_lines_and_a_log_file_all(ctx: FakeContext) -> None:
    out = step(run="seq 1 100; exit 2").execute(ctx, 5)
    assert out.exit_code == 2
    assert out.output_tail == tuple(str(n) for n in range(61, 101))
    assert Path(out.detail["output_file"]).read_text().split()[0] == "1"
    assert out.stdout.endswith("99\n100")


def test_a_command_list_runs_without_a_shell(ctx: FakeContext) -> None:
    out = step(command=["echo", "$HOME", "${workdir}"]).execute(ctx, 5)
    assert out.stdout == f"$HOME {ctx.workdir}"


def test_a_missing_program_is_a_step_error(ctx: FakeContext) -> None:
    with pytest.raises(StepError, match="cannot start 'no-such-program-xyz'"):
        step(command=["no-such-program-xyz"]).execute(ctx, 5)


def test_a_missing_script_in_a_command_line_fails_like_bash_says(ctx: FakeContext) -> None:
    out = step(run="drills/missing.sh --now", shell=True).execute(ctx, 5)
    assert out.exit_code == 127
    assert any("No such file" in line for line in out.output_tail)


def test_cwd_defaults_to_the_project_root_and_can_be_set(ctx: FakeContext) -> None:
    assert step(run="pwd").execute(ctx, 5).stdout == str(ctx.base_dir)
    assert step(run="pwd", cwd="${workdir}").execute(ctx, 5).stdout == str(ctx.workdir)


@pytest.mark.parametrize(
    "fields",
    [{}, {"run": "x", "command": ["y"]}, {"command": []}, {"command": ["x"], "shell": True}],
)
def test_run_needs_exactly_one_way_to_say_what_to_run(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        step(**fields)


def test_step_outcome_records_duration_and_log(ctx: FakeContext) -> None:
    out = step(run="true").execute(ctx, 5)
    assert isinstance(out, StepOutcome)
    assert float(out.detail["duration"]) < 2
    assert Path(out.detail["output_file"]).parent == ctx.workdir / "steps"
