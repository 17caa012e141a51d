"""ctl, wait, wait_until and http steps, against fakes and a local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from pydantic import ValidationError

from drillbook.backends.base import ServiceState
from drillbook.clock import FakeClock
from drillbook.context import DrillContext
from drillbook.errors import ProvisionError
from drillbook.scenario.kinds import ProbeResult, ProbeSpec
from drillbook.steps.ctl import CtlStep
from drillbook.steps.http import HttpStep, json_mismatch
from drillbook.steps.wait import WaitStep, WaitUntilStep
from drillbook.testing import FakeContext, FakeService


class ScriptedProbe(ProbeSpec):
    """Answers from a script of 'o' (ok) and 'x' (fail); each check takes `cost` seconds."""

    kind: Literal["test.scripted"] = "test.scripted"
    script: str
    cost: float = 0.0
    calls: ClassVar[list[int]] = []

    def check(self, ctx: DrillContext, timeout: float) -> ProbeResult:
        n = len(self.calls)
        self.calls.append(n)
        assert isinstance(ctx.clock, FakeClock)
        ctx.clock.advance(self.cost)
        ok = self.script[min(n, len(self.script) - 1)] == "o"
        return ProbeResult(ok=ok, detail=f"check {n}: {'up' if ok else 'down'}")


@pytest.fixture
def clock() -> FakeClock:
    ScriptedProbe.calls.clear()
    return FakeClock()


def until(script: str, **fields: Any) -> WaitUntilStep:
    return WaitUntilStep(kind="wait_until", probe=ScriptedProbe(script=script), **fields)


# --- wait_until ------------------------------------------------------------------------------


def test_wait_until_passes_at_the_first_success_when_nothing_must_hold(
    tmp_path: Path, clock: FakeClock
) -> None:
    ctx = FakeContext(tmp_path, clock=clock)
    out = until("xxo", poll=0.5).execute(ctx, 10)
    assert out.ok
    assert clock.now_ns() == 1_000_000_000  # two polls
    assert out.detail["checks"] == "3" and out.detail["failures"] == "2"


def test_wait_until_needs_the_probe_to_hold_continuously(tmp_path: Path, clock: FakeClock) -> None:
    ctx = FakeContext(tmp_path, clock=clock)
    # ok, ok, fail (resets), then ok from t=1.5 on: holds 1.0 s at t=2.5
    out = until("ooxooooooo", holds_for=1.0, poll=0.5).execute(ctx, 10)
    assert out.ok
    assert clock.now_ns() / 1e9 == pytest.approx(2.5)


def test_wait_until_fails_at_the_timeout_with_the_probes_last_detail(
    tmp_path: Path, clock: FakeClock
) -> None:
    ctx = FakeContext(tmp_path, clock=clock)
    out = until("x", poll=0.25).execute(ctx, 2)
    assert not out.ok and out.timed_out
    assert clock.now_ns() / 1e9 == pytest.approx(2.0)
    assert "did not hold within 2s" in (out.error or "")
    assert "last: check 8: down" in (out.error or "")


def test_wait_until_counts_check_time_toward_holding(tmp_path: Path, clock: FakeClock) -> None:
    ctx = FakeContext(tmp_path, clock=clock)
    slow = ScriptedProbe(script="o", cost=0.4)
    out = WaitUntilStep(kind="wait_until", probe=slow, holds_for=1.0, poll=0.1).execute(ctx, 10)
    assert out.ok
    # checks at 0.0-0.4, 0.5-0.9, 1.0-1.4: held from 0.0 to 1.4 >= 1.0 s
    assert clock.now_ns() / 1e9 == pytest.approx(1.4)


def test_wait_until_takes_any_registered_probe_kind_as_a_mapping() -> None:
    step = WaitUntilStep.model_validate(
        {"kind": "wait_until", "probe": {"kind": "tcp", "host": "127.0.0.1", "port": 1}}
    )
    assert step.probe.kind == "tcp"
    with pytest.raises(ValidationError, match="unknown probe kind 'nope'"):
        WaitUntilStep.model_validate({"kind": "wait_until", "probe": {"kind": "nope"}})


def test_wait_sleeps_on_the_drill_clock(tmp_path: Path, clock: FakeClock) -> None:
    ctx = FakeContext(tmp_path, clock=clock)
    assert WaitStep(kind="wait", duration="30s").execute(ctx, 60).ok
    assert clock.now_ns() == 30_000_000_000
    late = WaitStep(kind="wait", duration="5m").execute(ctx, 60)
    assert late.timed_out and not late.ok


# --- ctl ---------------------------------------------------------------------------------------


def test_ctl_restarts_a_service(tmp_path: Path) -> None:
    svc = FakeService("gateway")
    ctx = FakeContext(tmp_path, services=[svc])
    out = CtlStep(kind="ctl", service="gateway", action="restart").execute(ctx, 5)
    assert out.ok and svc.calls == [("restart", "")]
    assert out.detail["state"] == "running"


def test_ctl_reports_a_failed_restart_with_the_services_last_log_lines(tmp_path: Path) -> None:
    svc = FakeService(
        "gateway",
        restart_error=ProvisionError("gateway not healthy within 5s", log_tail=["config error"]),
    )
    ctx = FakeContext(tmp_path, services=[svc])
    out = CtlStep(kind="ctl", service="gateway", action="restart").execute(ctx, 5)
    assert not out.ok
    assert out.error == "restart of service 'gateway' failed: gateway not healthy within 5s"
    assert out.output_tail == ("config error",)
    assert svc.state() == ServiceState.STOPPED


def test_ctl_sends_signals_by_name(tmp_path: Path) -> None:
    svc = FakeService("app")
    ctx = FakeContext(tmp_path, services=[svc])
    CtlStep(kind="ctl", service="app", action="signal", signal="hup").execute(ctx, 5)
    CtlStep(kind="ctl", service="app", action="kill").execute(ctx, 5)
    assert svc.calls == [("kill", "SIGHUP"), ("kill", "SIGKILL")]


@pytest.mark.parametrize(
    "fields",
    [
        {"action": "signal"},
        {"action": "restart", "signal": "SIGHUP"},
        {"action": "kill", "signal": "SIGNOPE"},
        {"action": "reboot"},
    ],
)
def test_ctl_refuses_inconsistent_actions(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CtlStep.model_validate({"kind": "ctl", "service": "app", **fields})


# --- http --------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    hits: ClassVar[int] = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        if self.path == "/flaky" and type(self).hits < 3:
            self._send(503, {"status": "starting"})
        elif self.path in ("/health", "/flaky"):
            self._send(200, {"status": "ok", "models": [{"name": "a"}], "n": 3})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self._send(201, {"got": json.loads(body), "auth": self.headers.get("Authorization")})

    def _send(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.hits = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def http(**fields: Any) -> HttpStep:
    return HttpStep.model_validate({"kind": "http", **fields})


def test_http_checks_status_and_a_subset_of_the_json(tmp_path: Path, server: str) -> None:
    ctx = FakeContext(tmp_path)
    out = http(url=f"{server}/health", expect_json={"status": "ok", "models": [{"name": "a"}]})
    result = out.execute(ctx, 5)
    assert result.ok, result.error
    assert json.loads(result.stdout)["n"] == 3
    bad = http(url=f"{server}/health", expect_json={"status": "degraded"}).execute(ctx, 5)
    assert bad.error is not None and '$.status: expected "degraded", got "ok"' in bad.error


def test_http_fails_on_an_unexpected_status(tmp_path: Path, server: str) -> None:
    out = http(url=f"{server}/missing", expect_status=[200, 204]).execute(FakeContext(tmp_path), 5)
    assert not out.ok
    assert out.error == f"GET {server}/missing: expected status 200 or 204, got 404"


def test_http_retries_until_the_answer_is_right(tmp_path: Path, server: str) -> None:
    out = http(url=f"{server}/flaky", retries=5, retry_interval="10ms").execute(
        FakeContext(tmp_path), 5
    )
    assert out.ok and out.detail["attempts"] == "3"


def test_http_posts_json_with_interpolated_headers(tmp_path: Path, server: str) -> None:
    ctx = FakeContext(tmp_path, env={"TOKEN": "t0k"})
    out = http(
        method="post",
        url=f"{server}/x",
        json={"a": [1, 2]},
        expect_status=201,
        headers={"Authorization": "Bearer ${env.TOKEN}"},
        expect_json={"got": {"a": [1, 2]}, "auth": "Bearer t0k"},
    ).execute(ctx, 5)
    assert out.ok, out.error


def test_http_reports_a_refused_connection(tmp_path: Path) -> None:
    out = http(url="http://127.0.0.1:1/").execute(FakeContext(tmp_path), 2)
    assert not out.ok and "ConnectError" in (out.error or "")


def test_json_subset_matching_is_strict_about_types() -> None:
    assert json_mismatch({"a": 1}, {"a": 1, "b": 2}) is None
    assert json_mismatch({"a": True}, {"a": 1}) == "$.a: expected true, got 1"
    assert json_mismatch({"a": {"b": 1}}, {"a": {}}) == "$.a.b: missing"
    assert json_mismatch([1], [1, 2]) == "$: expected [1], got [1, 2]"
