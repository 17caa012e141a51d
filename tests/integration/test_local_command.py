"""Any command as a service: its own dir, log, port, health check and process group."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Literal

import httpx
import pytest

from drillbook.backends.base import ServiceState
from drillbook.backends.local import CommandHandle, LocalBackend
from drillbook.backends.local.process import find_processes
from drillbook.backends.local.state import RUN_ID_ENV
from drillbook.errors import ProvisionError
from drillbook.scenario.kinds import ServiceSpec
from drillbook.services import CommandService, PostgresService
from tests.integration.local_helpers import backend_fixture, home_fixture, wait_for  # noqa: F401

# A tiny service that refuses to start on a bad config, as real ones do.
CONFIGURED_SERVER = """
import json, sys, http.server
try:
    config = json.load(open("conf/app.json"))
    port = int(config["port"])
except Exception as exc:
    print(f"config error: {exc}", flush=True)
    sys.exit(2)
print(f"serving {config['name']} on {port}", flush=True)
handler = http.server.SimpleHTTPRequestHandler
http.server.ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()
"""


def command(
    backend: LocalBackend, name: str, timeout: float = 15, **fields: object
) -> CommandHandle:
    handle = backend.provision(name, CommandService(kind="command", **fields), timeout=timeout)
    assert isinstance(handle, CommandHandle)
    return handle


def test_command_serves_from_its_workdir_on_an_auto_port(
    backend: LocalBackend, tmp_path: Path
) -> None:
    source = tmp_path / "app.yaml"
    source.write_text("greeting: hello\n")
    web = command(
        backend,
        "web-app",
        command=f"{sys.executable} -m http.server {{port}} --bind 127.0.0.1",
        config_files={"conf/app.yaml": "app.yaml"},  # relative to base_dir
        health={"http": "http://127.0.0.1:{port}/"},
    )
    assert web.healthy() and web.state() is ServiceState.RUNNING
    assert web.info.url == f"http://127.0.0.1:{web.port}"
    assert web.info.config_path == backend.services_dir / "web-app" / "conf" / "app.yaml"
    assert dict(web.env()) == {
        "WEB_APP_URL": web.info.url,
        "WEB_APP_CONFIG": str(web.info.config_path),
    }
    # http.server serves its cwd: the config is there, so the cwd is the service dir.
    assert httpx.get(f"{web.info.url}/conf/app.yaml").text == "greeting: hello\n"
    assert wait_for(lambda: any("GET /conf/app.yaml" in line for line in web.log_tail()))


def test_health_that_never_passes_raises_with_the_wait_and_the_log_tail(
    backend: LocalBackend,
) -> None:
    with pytest.raises(ProvisionError) as caught:
        command(
            backend,
            "mute",
            timeout=1.0,
            command=[
                sys.executable,
                "-c",
                "print('booting', flush=True); import time; time.sleep(60)",
            ],
            health={"tcp": True},
        )
    text = str(caught.value)
    assert "was not healthy within 1s" in text and "waited 1." in text
    assert "nothing accepts connections" in text
    assert "booting" in caught.value.log_tail
    assert find_processes(env={RUN_ID_ENV: backend.run_id}) == []


def test_a_command_that_exits_reports_its_code_and_stays_stopped(backend: LocalBackend) -> None:
    with pytest.raises(ProvisionError, match=r"exited with code 3 \d+\.\d+s after start") as caught:
        command(
            backend,
            "dies",
            command=[sys.executable, "-c", "print('bad config'); raise SystemExit(3)"],
        )
    assert "bad config" in caught.value.log_tail


def test_a_corrupt_config_makes_restart_fail_until_it_is_restored(
    backend: LocalBackend, tmp_path: Path
) -> None:
    (tmp_path / "server.py").write_text(CONFIGURED_SERVER)
    good = tmp_path / "app.json"
    port_holder = command(
        backend, "probe", command=[sys.executable, "-c", "import time; time.sleep(60)"]
    )
    port = port_holder.port
    port_holder.teardown()
    good.write_text(json.dumps({"name": "gw", "port": port}))
    svc = command(
        backend,
        "gw",
        command=[sys.executable, "{base_dir}/server.py"],
        config_files={"conf/app.json": str(good)},
        port=port,
        health={"http": "http://127.0.0.1:{port}/"},
    )
    config = svc.info.config_path
    assert config is not None
    backup = config.read_text()
    config.write_text("{not json")
    with pytest.raises(ProvisionError, match="exited with code 2") as caught:
        svc.restart(timeout=5)
    assert any("config error" in line for line in caught.value.log_tail)
    assert svc.state() is ServiceState.STOPPED and not svc.healthy()
    config.write_text(backup)
    svc.start()
    assert svc.healthy()


def test_kill_reaches_the_whole_process_group(backend: LocalBackend) -> None:
    svc = command(backend, "sh", command=["sh", "-c", "sleep 300 & sleep 300 & wait"])
    assert wait_for(lambda: len(find_processes(env={RUN_ID_ENV: backend.run_id})) == 3)
    svc.kill(signal.SIGKILL)
    assert wait_for(lambda: svc.state() is ServiceState.EXITED)
    assert wait_for(lambda: find_processes(env={RUN_ID_ENV: backend.run_id}) == [])


def test_stop_uses_the_stop_signal_and_waits(backend: LocalBackend, tmp_path: Path) -> None:
    flag = tmp_path / "got-int"
    script = (
        "import signal, sys, time\n"
        f"def bye(*_):\n    open({str(flag)!r}, 'w').write('x'); sys.exit(0)\n"
        "signal.signal(signal.SIGINT, bye)\nprint('up', flush=True)\ntime.sleep(60)\n"
    )
    svc = command(backend, "graceful", command=[sys.executable, "-c", script], stop_signal="INT")
    assert wait_for(lambda: "up" in svc.log_tail())
    started = time.monotonic()
    svc.stop(timeout=5)
    assert time.monotonic() - started < 4
    assert flag.exists() and svc.state() is ServiceState.STOPPED


def test_a_fixed_port_in_use_is_refused_before_starting(backend: LocalBackend) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ProvisionError, match=f"port {port} is already in use"):
            command(backend, "clash", command=["sleep", "10"], port=port)


ECHO_DATABASE_URL = "import os, time; print(os.environ['DATABASE_URL'], flush=True); time.sleep(60)"


class EchoDbService(ServiceSpec):
    """A kind of its own that the local backend runs through as_command()."""

    kind: Literal["echo-db"] = "echo-db"
    database: str | None = None

    def as_command(self, *, database_url: str | None = None) -> CommandService:
        return CommandService(
            kind="command",
            command=[sys.executable, "-c", ECHO_DATABASE_URL],
            env={"DATABASE_URL": database_url or "none", "ECHO_API_TOKEN": "tok-123"},
        )


def test_a_kind_offering_as_command_runs_as_a_command_under_its_own_kind(
    backend: LocalBackend,
) -> None:
    db = backend.provision("db", PostgresService(kind="postgres"), timeout=60)
    svc = backend.provision("echo", EchoDbService(database="db"), timeout=10)
    assert svc.kind == "echo-db"
    assert wait_for(lambda: svc.log_tail()[-1:] == [db.info.dsn])
    assert svc.secrets() == ("tok-123",)
    assert set(svc.env()) == {"ECHO_DB_URL"}
    with pytest.raises(ProvisionError, match="its database 'nope' is not a postgres service"):
        backend.provision("echo2", EchoDbService(database="nope"), timeout=10)
