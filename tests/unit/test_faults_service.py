"""service.kill / stop / restart / signal against a FakeService, and the fault contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from drillbook import registry
from drillbook.backends.base import ServiceState
from drillbook.errors import FaultError, ProvisionError, ServiceError
from drillbook.faults import ServiceKill, ServiceRestart, ServiceSignal, ServiceStop
from drillbook.scenario.kinds import FaultSpec
from drillbook.testing import FakeContext, FakeService


class BrokenKill(FakeService):
    def kill(self, sig: int = 9) -> None:
        raise ServiceError("no process to signal")


def test_kill_sends_sigkill_by_default(tmp_path: Path) -> None:
    svc = FakeService("db")
    ctx = FakeContext(tmp_path, services=[svc])
    outcome = ServiceKill(kind="service.kill", service="db").inject(ctx)
    assert svc.calls == [("kill", "SIGKILL")]
    assert svc.state() == ServiceState.EXITED
    assert outcome.target == "db"
    assert outcome.detail == {"signal": "SIGKILL", "state_before": "running"}


def test_signal_sends_the_named_signal(tmp_path: Path) -> None:
    svc = FakeService("gw")
    ServiceSignal(kind="service.signal", service="gw", signal="hup").inject(
        FakeContext(tmp_path, services=[svc])
    )
    assert svc.calls == [("kill", "SIGHUP")]
    assert svc.state() == ServiceState.RUNNING


def test_stop_is_graceful_and_reports_the_state(tmp_path: Path) -> None:
    svc = FakeService("gw")
    outcome = ServiceStop(kind="service.stop", service="gw").inject(
        FakeContext(tmp_path, services=[svc])
    )
    assert svc.calls == [("stop", "")]
    assert outcome.detail["state_after"] == "stopped"


def test_a_restart_that_does_not_come_up_is_recorded_not_raised(tmp_path: Path) -> None:
    svc = FakeService("gw", restart_error=ProvisionError("gw not healthy within 3s"))
    outcome = ServiceRestart(kind="service.restart", service="gw").inject(
        FakeContext(tmp_path, services=[svc])
    )
    assert outcome.detail == {
        "restart": "failed",
        "restart_error": "gw not healthy within 3s",
        "state": "stopped",
    }


def test_a_signal_that_cannot_be_sent_is_a_fault_error(tmp_path: Path) -> None:
    svc = BrokenKill("db")
    with pytest.raises(FaultError, match="could not send SIGKILL to service 'db'"):
        ServiceKill(kind="service.kill", service="db").inject(FakeContext(tmp_path, services=[svc]))


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "service.kill", "service": "db", "signal": "SIGWHAT"},
        {"kind": "service.signal", "service": "db"},
        {"kind": "service.stop"},
        {"kind": "service.kill", "service": "db", "extra": 1},
    ],
)
def test_bad_service_faults_are_refused_when_loading(fields: dict[str, Any]) -> None:
    cls = registry.FAULTS.get(fields["kind"])
    assert cls is not None
    with pytest.raises(ValidationError):
        cls.model_validate(fields)


def test_every_built_in_fault_is_registered_and_documented() -> None:
    kinds = set(registry.FAULTS.kinds())
    assert {
        "config.corrupt_yaml",
        "db.drop_table",
        "db.delete_rows",
        "service.kill",
        "service.stop",
        "service.restart",
        "service.signal",
    } <= kinds
    for cls in registry.FAULTS:
        if cls.__module__.startswith("drillbook.faults"):
            assert issubclass(cls, FaultSpec) and cls.__doc__, cls
            assert cls.model_json_schema()["type"] == "object"
