"""config.replace and deploy.command: a deploy as a fault, confined to the drill's own files."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from drillbook.backends.base import ServiceInfo, ServiceState
from drillbook.errors import FaultError, ProvisionError
from drillbook.faults.deploy import ConfigReplace, DeployCommand
from drillbook.testing import FakeContext, FakeService


def _gateway(tmp_path: Path, **kwargs: object) -> tuple[FakeService, Path]:
    svc_dir = tmp_path / "services" / "gateway"
    svc_dir.mkdir(parents=True)
    config = svc_dir / "config.yaml"
    config.write_text("model_list: [good]\n")
    info = ServiceInfo(name="gateway", kind="gateway", config_path=config, workdir=svc_dir)
    return FakeService("gateway", "gateway", info=info, **kwargs), config  # type: ignore[arg-type]


def _ctx(tmp_path: Path, *services: FakeService) -> FakeContext:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    (tmp_path / "bad.yaml").write_text("model_list: [bad]\n")
    return FakeContext(work, base_dir=tmp_path, services=services)


def test_config_replace_deploys_the_source_and_keeps_the_original_in_the_workdir(
    tmp_path: Path,
) -> None:
    svc, config = _gateway(tmp_path)
    ctx = _ctx(tmp_path, svc)
    fault = ConfigReplace(kind="config.replace", service="gateway", source="bad.yaml")
    outcome = fault.inject(ctx)
    assert config.read_text() == "model_list: [bad]\n"
    kept = Path(outcome.detail["original_copy"])
    assert kept.read_text() == "model_list: [good]\n"
    assert kept.is_relative_to(ctx.workdir)
    assert not list(config.parent.glob("*.deploying"))


def test_config_replace_records_a_failed_restart_instead_of_raising(tmp_path: Path) -> None:
    svc, _ = _gateway(tmp_path, restart_error=ProvisionError("exited with code 2"))
    fault = ConfigReplace(
        kind="config.replace", service="gateway", source="bad.yaml", then="restart"
    )
    outcome = fault.inject(_ctx(tmp_path, svc))
    assert outcome.detail["restart"] == "failed"
    assert svc.state() is ServiceState.STOPPED


def test_config_replace_refuses_a_file_outside_the_drill(tmp_path: Path) -> None:
    outside = tmp_path / "etc" / "litellm.yaml"
    outside.parent.mkdir()
    outside.write_text("x: 1\n")
    fault = ConfigReplace(kind="config.replace", path=str(outside), source="bad.yaml")
    with pytest.raises(FaultError, match="outside the drill's workdir"):
        fault.inject(_ctx(tmp_path))
    assert outside.read_text() == "x: 1\n"


def test_config_replace_needs_exactly_one_target() -> None:
    with pytest.raises(ValidationError, match="either the service"):
        ConfigReplace(kind="config.replace", source="bad.yaml")
    with pytest.raises(ValidationError, match="needs the service"):
        ConfigReplace(kind="config.replace", path="x.yaml", source="bad.yaml", then="restart")


def _wait_for(path: Path, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    return path.read_text().strip()


def test_deploy_command_returns_at_once_and_records_the_exit_code(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    fault = DeployCommand(kind="deploy.command", run='sleep 0.3; echo "in $DRILL_WORKDIR"; exit 3')
    started = time.monotonic()
    outcome = fault.inject(ctx)
    assert time.monotonic() - started < 0.25
    assert _wait_for(Path(outcome.detail["status_file"])) == "3"
    assert f"in {ctx.workdir}" in (ctx.workdir / "deploy.log").read_text()
    fault.revert(ctx)


def test_deploy_command_still_running_at_teardown_is_killed(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    fault = DeployCommand(kind="deploy.command", run="sleep 60")
    outcome = fault.inject(ctx)
    started = time.monotonic()
    fault.revert(ctx)
    assert time.monotonic() - started < 4
    assert _wait_for(Path(outcome.detail["status_file"])) == "-15"  # SIGTERM
