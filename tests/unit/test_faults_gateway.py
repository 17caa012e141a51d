"""The gateway fault kinds, without a gateway: how they fail when they cannot act."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from drillbook.backends.base import ServiceInfo
from drillbook.errors import FaultError
from drillbook.faults.gateway import DegradeProvider, SetFlag
from drillbook.testing import FakeContext, FakeService

NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers there


def _ctx(tmp_path: Path) -> FakeContext:
    gateway = FakeService(
        "gateway", "gateway", info=ServiceInfo(name="gateway", kind="gateway", url=NOWHERE)
    )
    return FakeContext(tmp_path, services=[gateway])


def test_degrading_a_provider_without_a_drill_token_names_the_setting(tmp_path: Path) -> None:
    fault = DegradeProvider(kind="provider.degrade", service="gateway", provider="anthropic")
    with pytest.raises(FaultError, match=r"no DRILLBOOK_DRILL_TOKEN.*drill_faults: true"):
        fault.inject(_ctx(tmp_path))


def test_setting_a_flag_on_a_gateway_that_does_not_answer_is_a_fault_error(
    tmp_path: Path,
) -> None:
    fault = SetFlag(kind="gateway.set_flag", service="gateway", flag="unified_llm_hub", timeout=2)
    with pytest.raises(FaultError, match=r"PUT http://127\.0\.0\.1:9/api/v1/features/"):
        fault.inject(_ctx(tmp_path))


def test_an_error_rate_above_one_is_refused_at_load() -> None:
    with pytest.raises(ValidationError, match="error_rate"):
        DegradeProvider(kind="provider.degrade", service="gw", provider="p", error_rate=1.5)


def test_the_degraded_default_is_the_seed_six_percent() -> None:
    fault = DegradeProvider(kind="provider.degrade", service="gw", provider="p")
    assert (fault.mode, fault.error_rate) == ("degraded", 0.06)
