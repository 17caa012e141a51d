"""--notify: a JSON summary reaches a real local webhook; its URL appears in no output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from drillbook.notify import NotifyOn, post, summarize, wanted
from drillbook.testing import healthy_drill, make_result, make_scenario
from drillbook.verdict import Status

TOKEN = "hook-token-5e1f0c"


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, object]]] = []
    status: ClassVar[int] = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        type(self).received.append(json.loads(body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"received": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/{TOKEN}", handler
    finally:
        server.shutdown()
        server.server_close()


def _failed_result():  # type: ignore[no-untyped-def]
    scenario = make_scenario(criteria={"max_time_to_recover": "0.1s"})
    return make_result(healthy_drill().journal(), scenario)


def test_the_summary_holds_status_figures_codes_and_run_id_only(
    hook: tuple[str, type[_Hook]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = hook
    monkeypatch.setenv("DRILL_HOOK", url)
    warnings: list[str] = []

    assert post("DRILL_HOOK", summarize(_failed_result()), warn=warnings.append)

    (body,) = handler.received
    assert body["status"] == "FAIL" and body["codes"] == ["TTR_EXCEEDED"]
    assert body["run_id"] == "run-1" and body["scenario"] == "drill"
    figures = {f["name"]: f["value"] for f in body["figures"]}  # type: ignore[union-attr]
    assert figures["time_to_recover"] == pytest.approx(0.5)
    assert warnings == []


def test_a_failing_webhook_warns_without_naming_its_url(
    hook: tuple[str, type[_Hook]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = hook
    handler.status = 500
    monkeypatch.setenv("DRILL_HOOK", url)
    warnings: list[str] = []
    assert not post("DRILL_HOOK", summarize(_failed_result()), warn=warnings.append)
    monkeypatch.setenv("DRILL_HOOK", f"http://127.0.0.1:1/{TOKEN}")  # nothing listens
    assert not post("DRILL_HOOK", summarize(_failed_result()), warn=warnings.append)
    monkeypatch.setenv("DRILL_HOOK", f"not a url {TOKEN}")
    assert not post("DRILL_HOOK", summarize(_failed_result()), warn=warnings.append)
    monkeypatch.delenv("DRILL_HOOK")
    assert not post("DRILL_HOOK", summarize(_failed_result()), warn=warnings.append)

    assert len(warnings) == 4 and "HTTP 500" in warnings[0]
    assert all("$DRILL_HOOK" in w and TOKEN not in w and "127.0.0.1" not in w for w in warnings)


def test_failure_mode_skips_passing_runs_and_always_mode_does_not() -> None:
    assert not wanted(Status.PASS, NotifyOn.FAILURE)
    assert wanted(Status.COULD_NOT_VERIFY, NotifyOn.FAILURE)
    assert wanted(Status.PASS, NotifyOn.ALWAYS)


@pytest.mark.slow
def test_drillbook_run_notifies_and_no_output_or_file_holds_the_url(
    hook: tuple[str, type[_Hook]], tmp_path: Path
) -> None:
    url, handler = hook
    scenario = tmp_path / "quick.yaml"
    scenario.write_text(
        "name: quick\n"
        "services: {app: {kind: command, command: [sleep, '600']}}\n"
        "steady_state: [{kind: process, service: app}]\n"
        "fault: [{kind: service.kill, service: app}]\n"
        "recovery: [{kind: ctl, action: start, service: app}]\n"
        "criteria: {max_time_to_recover: 20s, max_ttr_regression: '50%'}\n"
        "timeouts: {recover: 20s}\n"
    )
    (tmp_path / "drillbook.toml").write_text("")
    env = dict(os.environ, DRILL_HOOK=url)
    env.pop("DRILLBOOK_HISTORY", None)
    outputs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "drillbook", "run", "quick.yaml", "--notify", "DRILL_HOOK",
             "--notify-on", "always", "--reports-dir", "reports"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
        )
        outputs.append(done.stdout + done.stderr)
    # first run: no earlier passing run to compare with; second: compared with the first
    assert [b["status"] for b in handler.received] == ["COULD NOT VERIFY", "PASS"], outputs
    assert "NOT_MEASURED" in handler.received[0]["codes"]  # type: ignore[operator]
    assert "notified the webhook in $DRILL_HOOK" in outputs[1]
    for text in outputs:
        assert url not in text and TOKEN not in text
    for path in (tmp_path / "reports").rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    history = subprocess.run(
        [sys.executable, "-m", "drillbook", "history", "quick", "--chart", "ttr.png"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert history.returncode == 0, history.stderr
    assert "quick (local): 2 run(s), 1 passed" in history.stdout
    assert (tmp_path / "ttr.png").read_bytes()[:4] == b"\x89PNG"
