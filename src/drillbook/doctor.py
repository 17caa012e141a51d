"""`drillbook doctor`: can this machine run drills? One typed check per prerequisite."""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version as package_version

from drillbook.backends.local import pgbin
from drillbook.backends.local.pgtemplate import READY, templates_dir
from drillbook.backends.local.ports import free_port
from drillbook.backends.local.runas import service_user
from drillbook.settings import drillbook_home

MIN_FREE_BYTES = 1 << 30


@dataclass(frozen=True)
class Check:
    """One prerequisite. `required=False`: a failure is a warning (docker, say), not an error."""

    name: str
    ok: bool
    detail: str
    hint: str = ""
    required: bool = True


def doctor() -> list[Check]:
    """Run every check; none raises."""
    checks: list[tuple[str, Callable[[], Check], bool]] = [
        ("postgres binaries", _postgres, True),
        ("postgres server user", _server_user, True),
        ("free disk", _disk, True),
        ("free port", _port, True),
        ("moto (s3)", _moto, True),
        ("clock", _clock, True),
        ("docker", _docker, False),
    ]
    results = []
    for name, run, required in checks:
        try:
            results.append(run())
        except Exception as exc:  # a broken check is a failed check, never a traceback
            results.append(
                Check(name, False, f"check failed: {type(exc).__name__}: {exc}", required=required)
            )
    return results


def _postgres() -> Check:
    installs = pgbin.find_installs()
    if not installs:
        return Check("postgres binaries", False, "no PostgreSQL server binaries found", pgbin.HINT)
    found = "; ".join(f"{i.version} ({i.source}) {i.bindir}" for i in installs)
    cached = sorted(p.name for p in templates_dir().glob("pg*") if (p / READY).exists())
    extra = f"; templates: {', '.join(cached)}" if cached else ""
    return Check("postgres binaries", True, f"{found}{extra}")


def _server_user() -> Check:
    user = service_user()
    if user is None:
        return Check("postgres server user", True, "not root: the server runs as the current user")
    installs = pgbin.find_installs()
    if not installs:
        return Check(
            "postgres server user", False, f"user {user.name!r}; no binaries to try", pgbin.HINT
        )
    server_bin = pgbin.server_bindir(installs[0], user)  # copies a wheel where it can reach it
    result = subprocess.run(
        [str(server_bin / "initdb"), "--version"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
        user=user.uid,
        group=user.gid,
        extra_groups=[],
    )
    ok = result.returncode == 0
    detail = f"root: the server runs as {user.name!r} (uid {user.uid}), because initdb refuses root"
    if not ok:
        detail += f"; running postgres as that user failed: {result.stderr.strip()[:200]}"
    return Check(
        "postgres server user",
        ok,
        detail,
        "" if ok else "check that the user can read the binaries",
    )


def _disk() -> Check:
    home = drillbook_home()
    probe = home
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    ok = free >= MIN_FREE_BYTES
    detail = f"{free / (1 << 30):.1f} GiB free at {home}"
    return Check(
        "free disk", ok, detail, "" if ok else "free at least 1 GiB or set DRILLBOOK_HOME elsewhere"
    )


def _port() -> Check:
    port = free_port()
    return Check("free port", True, f"bound 127.0.0.1:{port}")


def _moto() -> Check:
    missing = [m for m in ("moto", "flask", "boto3") if importlib.util.find_spec(m) is None]
    if missing:
        return Check(
            "moto (s3)",
            False,
            f"not importable: {', '.join(missing)}",
            "pip install 'moto[server]' boto3",
        )
    return Check("moto (s3)", True, f"moto {package_version('moto')} with its server")


def _clock() -> Check:
    info = time.get_clock_info("perf_counter")
    samples = []
    for _ in range(200):
        a = time.perf_counter_ns()
        b = time.perf_counter_ns()
        while b == a:
            b = time.perf_counter_ns()
        samples.append(b - a)
    step = min(samples)
    ok = info.monotonic and step < 1_000_000
    detail = (
        f"perf_counter monotonic={info.monotonic}, resolution {info.resolution:g}s, "
        f"smallest step {step} ns"
    )
    return Check(
        "clock", ok, detail, "" if ok else "timings need a sub-millisecond monotonic clock"
    )


def _docker() -> Check:
    if importlib.util.find_spec("docker") is None:
        return Check(
            "docker",
            False,
            "docker SDK not installed (only the docker backend needs it)",
            "pip install 'drillbook[docker]'",
            required=False,
        )
    try:
        docker = importlib.import_module("docker")
        client = docker.from_env(timeout=2)
        client.ping()
        version = client.version().get("Version", "?")
        client.close()
    except Exception as exc:
        return Check(
            "docker",
            False,
            f"engine not reachable: {str(exc).splitlines()[0][:200]}",
            "start the Docker engine, or use the local backend",
            required=False,
        )
    return Check("docker", True, f"engine {version} reachable", required=False)
