"""A service's revision history: what a deploy changes, and the ctl actions over it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from drillbook.backends.base import ServiceState
from drillbook.backends.local.command import Revision, with_changes
from drillbook.errors import DrillbookError, FaultError, ServiceError
from drillbook.faults.release import ServiceDeploy
from drillbook.runner.control import perform
from drillbook.services import CommandService
from drillbook.services.gateway import GatewayService
from drillbook.testing import FakeContext, FakeService


def _gateway() -> CommandService:
    spec = GatewayService(kind="gateway", config="fixtures/gateway/config.yaml", release="v1")
    return spec.as_command(drill_token="t0ken")


def test_a_release_change_tells_the_gateway_in_argv_and_environment() -> None:
    new = with_changes(_gateway(), {"release": "v2"})
    argv = new.argv()
    assert argv[argv.index("--release") + 1] == "v2"
    assert new.env["DRILLBOOK_GATEWAY_RELEASE"] == "v2"
    assert new.env["DRILLBOOK_DRILL_TOKEN"] == "t0ken"  # the rest of the environment stays
    assert Revision(2, new, "release=v2").release() == "v2"


def test_an_environment_change_keeps_the_release() -> None:
    new = with_changes(_gateway(), {"DATABASE_URL": "postgresql://h/restored"})
    assert new.env["DATABASE_URL"] == "postgresql://h/restored"
    assert Revision(2, new, "db").release() == "v1"


def test_a_command_without_a_release_option_gets_a_release_variable() -> None:
    spec = CommandService(kind="command", command="app serve")
    assert with_changes(spec, {"release": "2.1"}).env == {"RELEASE": "2.1"}


def test_a_change_that_is_no_variable_name_is_refused() -> None:
    with pytest.raises(ServiceError, match="not an environment variable name"):
        with_changes(_gateway(), {"BAD-NAME": "x"})


@dataclass
class FakeDeployable:
    """Just the revision history of a CommandHandle, without a process."""

    name: str = "api"
    kind: str = "command"
    revisions: list[Revision] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.revisions.append(Revision(1, _gateway(), "initial"))

    def revision_history(self) -> tuple[Revision, ...]:
        return tuple(self.revisions)

    def deploy(self, changes: Mapping[str, str], timeout: float | None = None) -> Revision:
        spec = with_changes(self.revisions[-1].spec, changes)
        change = ", ".join(f"{k}={v}" for k, v in changes.items())
        self.revisions.append(Revision(len(self.revisions) + 1, spec, change))
        return self.revisions[-1]

    def undo(self, to: int | None = None, timeout: float | None = None) -> Revision:
        target = self.revisions[-2] if to is None else self.revisions[to - 1]
        self.revisions.append(
            Revision(len(self.revisions) + 1, target.spec, f"undo to revision {target.number}")
        )
        return self.revisions[-1]

    def state(self) -> ServiceState:
        return ServiceState.RUNNING


def test_ctl_deploy_history_and_undo_speak_in_revisions() -> None:
    api = FakeDeployable()
    out = perform(api, "deploy", "v2")  # type: ignore[arg-type]
    assert out == "deploy api: revision 2 (release=v2), release v2: running"
    perform(api, "deploy", "DATABASE_URL=postgresql://h/db?sslmode=disable")  # type: ignore[arg-type]
    assert api.revisions[-1].spec.env["DATABASE_URL"] == "postgresql://h/db?sslmode=disable"
    assert "undo to revision 1" in perform(api, "undo", "1")  # type: ignore[arg-type]
    history = perform(api, "history", None).splitlines()  # type: ignore[arg-type]
    assert history[0].split() == ["REVISION", "RELEASE", "CHANGE"]
    assert history[-1].split()[:3] == ["4*", "v1", "undo"]


def test_ctl_revision_actions_refuse_what_they_cannot_do() -> None:
    with pytest.raises(DrillbookError, match="takes a revision number"):
        perform(FakeDeployable(), "undo", "previous")  # type: ignore[arg-type]
    with pytest.raises(DrillbookError, match="needs a release or KEY=VALUE"):
        perform(FakeDeployable(), "deploy", None)  # type: ignore[arg-type]

    class NoHistory:
        name, kind = "db", "postgres"

    with pytest.raises(DrillbookError, match="needs a service with a revision history"):
        perform(NoHistory(), "history", None)  # type: ignore[arg-type]


def test_service_deploy_needs_something_to_change() -> None:
    with pytest.raises(ValueError, match="needs a release, env, or both"):
        ServiceDeploy(kind="service.deploy", service="gateway")


class FailingDeployable(FakeDeployable):
    def deploy(self, changes: Mapping[str, str], timeout: float | None = None) -> Revision:
        super().deploy(changes, timeout)  # recorded, as a failed rollout is
        raise ServiceError("service 'api' (command) exited with code 2 0.1s after start")


def _deploy(**fields: object) -> ServiceDeploy:
    return ServiceDeploy.model_validate({"kind": "service.deploy", "service": "api", **fields})


def test_service_deploy_records_the_new_revision(tmp_path: Path) -> None:
    api = FakeDeployable()
    ctx = FakeContext(tmp_path, services=[api])  # type: ignore[list-item]
    faults = '{"error_rate": 0.15}'
    outcome = _deploy(release="v2", env={"DRILLBOOK_DRILL_FAULTS": faults}).inject(ctx)
    assert outcome.detail["revision"] == "2" and outcome.detail["release"] == "v2"
    assert api.revisions[-1].spec.env["DRILLBOOK_DRILL_FAULTS"] == '{"error_rate": 0.15}'
    assert ctx.marks[-1][0] == "deploy"


def test_service_deploy_that_cannot_start_fails_the_fault_unless_that_is_the_point(
    tmp_path: Path,
) -> None:
    ctx = FakeContext(tmp_path, services=[FailingDeployable()])  # type: ignore[list-item]
    with pytest.raises(FaultError, match="did not start"):
        _deploy(release="v2").inject(ctx)
    outcome = _deploy(release="v2", must_start=False).inject(ctx)
    assert outcome.detail["start"].startswith("failed: service 'api'")
    assert outcome.detail["revision"] == "3"


def test_service_deploy_needs_a_service_with_a_revision_history(tmp_path: Path) -> None:
    ctx = FakeContext(tmp_path, services=[FakeService("api", "postgres")])
    with pytest.raises(FaultError, match="keeps no revision history"):
        _deploy(release="v2").inject(ctx)
