"""Probes without services: tcp, process, http, command, sql expectations; the contract."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from drillbook import registry
from drillbook.backends.base import ServiceInfo
from drillbook.pgclient import Expectation
from drillbook.probes import CommandProbe, HttpProbe, ProcessProbe, SqlProbe, TcpProbe
from drillbook.scenario.kinds import ProbeResult, ProbeSpec, StepSpec
from drillbook.testing import FakeContext, FakeService


class _Slow(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow":
            threading.Event().wait(0.3)
        body = b'{"status": "healthy"}' if self.path != "/down" else b"bad gateway"
        self.send_response(502 if self.path == "/down" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_http_probe_passes_on_the_expected_status_and_body(tmp_path: Path, server: str) -> None:
    svc = FakeService("gw", info=ServiceInfo(name="gw", kind="gateway", url=server))
    ctx = FakeContext(tmp_path, services=[svc])
    probe = HttpProbe(kind="http", service="gw", path="/health", expect_body_contains="healthy")
    assert probe.check(ctx, 2).ok
    by_url = HttpProbe(kind="http", url="${services.gw.url}/health")
    assert by_url.check(ctx, 2).ok


def test_http_probe_fails_on_status_body_and_latency(tmp_path: Path, server: str) -> None:
    ctx = FakeContext(tmp_path)
    down = HttpProbe(kind="http", url=f"{server}/down").check(ctx, 2)
    assert not down.ok and down.detail.startswith("status 502")
    body = HttpProbe(kind="http", url=f"{server}/", expect_body_contains="ready").check(ctx, 2)
    assert not body.ok and "lacks 'ready'" in body.detail
    slow = HttpProbe(kind="http", url=f"{server}/slow", max_latency="100ms")
    result = slow.check(ctx, 2)
    assert not result.ok and "> max 100ms" in result.detail
    timeout = HttpProbe(kind="http", url=f"{server}/slow").check(ctx, 0.1)
    assert not timeout.ok and timeout.detail == "no answer within 0.1s"


def test_http_probe_reports_a_refused_connection(tmp_path: Path) -> None:
    result = HttpProbe(kind="http", url="http://127.0.0.1:1/").check(FakeContext(tmp_path), 1)
    assert not result.ok and "ConnectError" in result.detail


def test_tcp_probe_sees_a_listening_and_a_closed_port(tmp_path: Path) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    svc = FakeService("db", info=ServiceInfo(name="db", kind="postgres", port=port))
    ctx = FakeContext(tmp_path, services=[svc])
    assert TcpProbe(kind="tcp", service="db").check(ctx, 1).ok
    listener.close()
    closed = TcpProbe(kind="tcp", host="127.0.0.1", port=port).check(ctx, 1)
    assert not closed.ok and "refused" in closed.detail.lower()


def test_process_probe_follows_the_service_state(tmp_path: Path) -> None:
    svc = FakeService("app")
    ctx = FakeContext(tmp_path, services=[svc])
    probe = ProcessProbe(kind="process", service="app")
    assert probe.check(ctx, 1) == ProbeResult(ok=True, detail="running")
    svc.kill()
    assert probe.check(ctx, 1) == ProbeResult(ok=False, detail="state exited")
    svc.start()
    svc.is_healthy = False
    assert not ProcessProbe(kind="process", service="app", healthy=True).check(ctx, 1).ok


def test_command_probe_passes_on_exit_zero_and_reports_the_last_line(tmp_path: Path) -> None:
    ctx = FakeContext(tmp_path, env={"WANT": "ok"})
    assert CommandProbe(kind="command", command='test "$WANT" = ok').check(ctx, 2).ok
    failed = CommandProbe(kind="command", command="echo broken >&2; exit 4").check(ctx, 2)
    assert failed == ProbeResult(ok=False, detail="exited with code 4: broken")
    hung = CommandProbe(kind="command", command=["sleep", "5"]).check(ctx, 0.2)
    assert not hung.ok and hung.detail.startswith("timed out after 0.2s")


@pytest.mark.parametrize(
    ("text", "value", "ok"),
    [
        ("1000", 1000, True),
        (">= 1000", 1200, True),
        (">= 1000", 999, False),
        ("== 0", 0, True),
        ("<3", 2.5, True),
        ("!= broken", "fine", True),
        ("'ok'", "ok", True),
        ("true", True, True),
        ("null", None, True),
        ("> 5", "abc", False),
    ],
)
def test_expectations_compare_numbers_as_numbers_and_text_as_text(
    text: str, value: Any, ok: bool
) -> None:
    assert Expectation.parse(text).matches(value) is ok


def test_a_bad_expectation_is_refused_when_loading() -> None:
    with pytest.raises(ValidationError, match=">= needs a number"):
        SqlProbe(kind="sql", service="db", query="select 1", expect=">= lots")
    assert SqlProbe(kind="sql", service="db", query="select 1", expect=1000).expect == "1000"


def test_every_built_in_kind_is_registered_documented_and_has_a_schema() -> None:
    assert {"http", "sql", "tcp", "process", "s3", "command"} <= set(registry.PROBES.kinds())
    assert {"run", "ctl", "http", "sql", "wait_until", "wait"} <= set(registry.STEPS.kinds())
    families: list[type[ProbeSpec] | type[StepSpec]] = [*registry.PROBES, *registry.STEPS]
    for cls in families:
        if cls.__module__.startswith(("drillbook.probes", "drillbook.steps")):
            assert cls.__doc__, cls
            assert cls.model_json_schema()["type"] == "object"


def test_a_missing_service_target_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="give either `url` or `service`"):
        HttpProbe(kind="http")
    with pytest.raises(ValidationError):
        TcpProbe(kind="tcp", host="x")
