"""Open a page in headless Chromium over the DevTools protocol: console errors, text, screenshot."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_LISTENING = re.compile(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/")


@dataclass
class Rendered:
    errors: list[str] = field(default_factory=list)
    text: str = ""
    images: list[dict[str, Any]] = field(default_factory=list)  # src prefix, natural size
    screenshot: bytes = b""


class _Session:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        if any(e.get("method") == method for e in self.events):
            return
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            self.events.append(message)
            if message.get("method") == method:
                return
        raise TimeoutError(method)


def _errors(events: list[dict[str, Any]]) -> list[str]:
    errors = []
    for event in events:
        params = event.get("params", {})
        if event.get("method") == "Log.entryAdded" and params["entry"]["level"] == "error":
            errors.append(params["entry"]["text"])
        elif event.get("method") == "Runtime.exceptionThrown":
            errors.append(str(params["exceptionDetails"].get("text")))
        elif event.get("method") == "Runtime.consoleAPICalled" and params["type"] == "error":
            errors.append(str(params["args"]))
    return errors


def render(page: Path, *, width: int = 1280) -> Rendered:
    assert CHROMIUM is not None
    profile = tempfile.mkdtemp(prefix="drillbook-chromium-")
    proc = subprocess.Popen(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", f"--window-size={width},900",
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stderr is not None
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                raise RuntimeError("chromium exited before DevTools started")
            if match := _LISTENING.search(line):
                port = match.group(1)
        assert port is not None, "chromium did not start DevTools within 30 s"
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        target = next(t for t in targets if t["type"] == "page")
        with connect(target["webSocketDebuggerUrl"], max_size=64 * 2**20) as ws:
            session = _Session(ws)
            for domain in ("Log", "Runtime", "Page"):
                session.call(f"{domain}.enable")
            session.call("Page.navigate", url=page.resolve().as_uri())
            session.wait_for("Page.loadEventFired")
            value = session.call(
                "Runtime.evaluate", returnByValue=True,
                expression="({text: document.body.innerText, images: [...document.images]"
                ".map(i => ({src: i.src.slice(0, 30), width: i.naturalWidth,"
                " complete: i.complete}))})",
            )["result"]["value"]
            shot = session.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            time.sleep(0.2)  # let late console messages arrive, then collect them with a call
            session.call("Runtime.evaluate", expression="1")
            return Rendered(
                errors=_errors(session.events), text=value["text"], images=value["images"],
                screenshot=base64.b64decode(shot["data"]),
            )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
