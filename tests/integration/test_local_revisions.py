"""Deploy and undo on a real local command: each revision restarts it with what it records."""

from __future__ import annotations

import sys

import httpx
import pytest

from drillbook.backends.local import CommandHandle, LocalBackend
from drillbook.errors import ProvisionError, ServiceError
from drillbook.services import CommandService
from tests.integration.local_helpers import backend_fixture, home_fixture  # noqa: F401

# Serves its RELEASE at / and refuses to start on release "broken", as a bad image does.
SERVER = """
import http.server, os, sys
release = os.environ.get("RELEASE", "none")
if release == "broken":
    sys.exit("cannot start: broken release")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = release.encode()
        self.send_response(200); self.send_header("content-length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def _serving(handle: CommandHandle) -> str:
    return httpx.get(f"http://127.0.0.1:{handle.port}/", timeout=2).text


def _api(backend: LocalBackend) -> CommandHandle:
    spec = CommandService(
        kind="command",
        command=[sys.executable, "-c", SERVER, "{port}"],
        env={"RELEASE": "v1"},
        health={"http": "http://127.0.0.1:{port}/"},
    )
    handle = backend.provision("api", spec, timeout=15)
    assert isinstance(handle, CommandHandle)
    return handle


def test_deploy_then_undo_restarts_on_each_revision(backend: LocalBackend) -> None:
    api = _api(backend)
    assert _serving(api) == "v1"
    two = api.deploy({"release": "v2"})
    assert (two.number, two.release(), _serving(api)) == (2, "v2", "v2")
    three = api.undo()
    assert (three.number, three.change, _serving(api)) == (3, "undo to revision 1", "v1")
    api.undo(2)  # a named revision, as --to-revision=2
    assert _serving(api) == "v2"
    assert [r.release() for r in api.revision_history()] == ["v1", "v2", "v1", "v2"]
    assert api.facts()["revision"] == "4"


def test_a_revision_that_cannot_start_is_recorded_and_undone(backend: LocalBackend) -> None:
    api = _api(backend)
    with pytest.raises(ProvisionError, match="exited"):
        api.deploy({"release": "broken"}, timeout=5)
    assert api.revision_history()[-1].release() == "broken"
    api.undo()
    assert _serving(api) == "v1"
    with pytest.raises(ServiceError, match="no revision 9"):
        api.undo(9)
