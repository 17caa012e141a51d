"""`drillbook images build`: every image the docker backend needs, built without a registry.

A Debian base comes from Debian's own mirror (mmdebstrap -> docker import); the postgres, moto
and gateway images are Dockerfiles under docker/ FROM that base, with Debian packages and pip
packages installed inside. Each is tagged with the names scenarios use by default, but only
where the version really is the one the name promises (postgres:15 for Debian's PostgreSQL
15, never postgres:16). Idempotent: an image whose tag exists is kept unless `rebuild`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from drillbook import __version__
from drillbook.errors import DrillbookError, UsageError

BASE_IMAGE = "drillbook/debian-base:bookworm"
DEBIAN_SUITE = "bookworm"
BASE_PACKAGES = ("ca-certificates", "python3", "python3-venv", "procps", "iproute2")
PG_MAJOR = "15"  # what bookworm ships; other majors need a repository this machine lacks
IMAGES = ("base", "postgres", "moto", "gateway")
# CAs this machine added to its trust store (Debian's place for them): a TLS-inspecting proxy
# on the way to PyPI is trusted inside the images too, as it is on the host.
LOCAL_CA_DIR = Path("/usr/local/share/ca-certificates")
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

Log = Callable[[str], None]


@dataclass(frozen=True)
class ImageResult:
    """One image: its tags, whether it was built now or already there, how long it took."""

    image: str
    tags: tuple[str, ...]
    action: str  # "built" or "present"
    seconds: float
    notes: tuple[str, ...] = field(default=())


def source_root(start: Path | None = None) -> Path:
    """The checkout holding docker/ (the Dockerfiles) and src/ (what the gateway image installs)."""
    candidates = [start] if start is not None else [Path.cwd(), Path(__file__).resolve().parents[2]]
    for root in candidates:
        if root is not None and (root / "docker" / "gateway" / "Dockerfile").is_file():
            return root.resolve()
    raise UsageError(
        "no docker/gateway/Dockerfile found in "
        + " or ".join(repr(str(c)) for c in candidates)
        + "; run from a drillbook checkout or pass --source"
    )


def image_exists(tag: str) -> bool:
    return (
        subprocess.run(
            ["docker", "image", "inspect", tag], capture_output=True, check=False
        ).returncode
        == 0
    )


def _run(argv: Sequence[str], what: str, log: Log, *, stdin: int | None = None) -> str:
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False, stdin=stdin)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise DrillbookError(f"{what} failed (exit {proc.returncode}): {' '.join(argv)}\n{tail}")
    return proc.stdout


def _tag(source: str, tags: Sequence[str], log: Log) -> None:
    for tag in tags:
        if tag != source:
            _run(["docker", "tag", source, tag], f"tagging {tag}", log)


def build_base(tag: str, log: Log) -> None:
    if shutil.which("mmdebstrap") is None:
        raise DrillbookError(
            "mmdebstrap is not installed; `apt-get install mmdebstrap` (Debian's mirror is enough)"
        )
    log(f"images: bootstrapping Debian {DEBIAN_SUITE} with mmdebstrap into {tag}")
    hooks: list[str] = []
    local_cas = sorted(LOCAL_CA_DIR.glob("*.crt")) if LOCAL_CA_DIR.is_dir() else []
    for ca in local_cas:
        hooks.append(f"--customize-hook=copy-in {ca} {LOCAL_CA_DIR}")
    if local_cas:
        hooks.append('--customize-hook=chroot "$1" update-ca-certificates')
        log(f"images: trusting {len(local_cas)} local CA(s) from {LOCAL_CA_DIR} in the base")
    strap = subprocess.Popen(
        [
            "mmdebstrap",
            "--variant=apt",
            "--include=" + ",".join(BASE_PACKAGES),
            *hooks,
            DEBIAN_SUITE,
            "-",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    changes = [
        'CMD ["/bin/bash"]',
        "ENV LANG=C.UTF-8",
        f"ENV PIP_CERT={SYSTEM_BUNDLE}",  # pip otherwise trusts only its own bundle
        f"ENV REQUESTS_CA_BUNDLE={SYSTEM_BUNDLE}",
    ]
    argv = ["docker", "import"]
    for change in changes:
        argv += ["-c", change]
    try:
        _run(
            [*argv, "-", tag],
            "docker import",
            log,
            stdin=strap.stdout.fileno() if strap.stdout else None,
        )
    finally:
        if strap.stdout:
            strap.stdout.close()
        _, err = strap.communicate()
    if strap.returncode != 0:
        tail = "\n".join(err.decode(errors="replace").strip().splitlines()[-15:])
        raise DrillbookError(f"mmdebstrap failed (exit {strap.returncode})\n{tail}")


def docker_build(context: Path, tag: str, build_args: dict[str, str], log: Log) -> None:
    argv = ["docker", "build", "--network", "host", "-q", "-t", tag]
    for key, value in build_args.items():
        argv += ["--build-arg", f"{key}={value}"]
    log(f"images: building {tag} from {context}")
    _run([*argv, str(context)], f"building {tag}", log)


def _moto_version() -> str:
    try:
        return metadata.version("moto")
    except metadata.PackageNotFoundError:
        return "5.2.1"


def _server_major(tag: str, log: Log) -> str:
    out = _run(
        ["docker", "run", "--rm", "--entrypoint", "postgres", tag, "--version"],
        f"asking {tag} for its version",
        log,
    )
    # "postgres (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)"
    words = out.split()
    version = words[2] if len(words) > 2 else ""
    return version.split(".")[0]


def _stage_gateway(root: Path, into: Path) -> None:
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(root / name, into / name)
    shutil.copytree(
        root / "src", into / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    shutil.copytree(root / "fixtures" / "migrations", into / "migrations")
    shutil.copy2(root / "docker" / "gateway" / "Dockerfile", into / "Dockerfile")


def build_images(
    *,
    rebuild: bool = False,
    only: Sequence[str] = IMAGES,
    source: Path | None = None,
    log: Log = print,
) -> list[ImageResult]:
    """Build (or find) the base, postgres, moto and gateway images; return what happened.

    Raises DrillbookError naming the failed step and the last lines of its output.
    """
    unknown = [name for name in only if name not in IMAGES]
    if unknown:
        raise UsageError(f"unknown image {unknown[0]!r}; known: {', '.join(IMAGES)}")
    root = source_root(source)
    results: list[ImageResult] = []
    need_base = any(name != "base" for name in only) or "base" in only

    def step(image: str, tags: list[str], build: Callable[[], list[str]]) -> None:
        started = time.perf_counter()
        if image_exists(tags[0]) and not rebuild:
            _tag(tags[0], tags[1:], log)
            results.append(ImageResult(image, tuple(tags), "present", 0.0))
            return
        notes = build()
        _tag(tags[0], tags[1:], log)
        seconds = time.perf_counter() - started
        log(f"images: {tags[0]} built in {seconds:.0f}s")
        results.append(ImageResult(image, tuple(tags), "built", seconds, tuple(notes)))

    def base() -> list[str]:
        build_base(BASE_IMAGE, log)
        return []

    if need_base and ("base" in only or not image_exists(BASE_IMAGE)):
        step("base", [BASE_IMAGE], base)

    if "postgres" in only:
        pg_tag = f"drillbook/postgres:{PG_MAJOR}"

        def postgres() -> list[str]:
            docker_build(
                root / "docker" / "postgres",
                pg_tag,
                {"BASE": BASE_IMAGE, "PG_MAJOR": PG_MAJOR},
                log,
            )
            return []

        step("postgres", [pg_tag], postgres)
        major = _server_major(pg_tag, log)
        if major != PG_MAJOR:  # never tag a name with a version the image does not have
            raise DrillbookError(f"{pg_tag} runs PostgreSQL {major}, not {PG_MAJOR}")
        _tag(pg_tag, [f"postgres:{major}"], log)
        results[-1] = ImageResult(
            "postgres",
            (pg_tag, f"postgres:{major}"),
            results[-1].action,
            results[-1].seconds,
            (f"PostgreSQL {major} from Debian {DEBIAN_SUITE}; not tagged postgres:16",),
        )

    if "moto" in only:
        version = _moto_version()
        moto_tags = [
            f"drillbook/moto:{version}",
            f"motoserver/moto:{version}",
            "motoserver/moto:latest",
        ]

        def moto() -> list[str]:
            docker_build(
                root / "docker" / "moto",
                moto_tags[0],
                {"BASE": BASE_IMAGE, "MOTO_VERSION": version},
                log,
            )
            return [f"moto {version} from PyPI"]

        step("moto", moto_tags, moto)

    if "gateway" in only:
        gw_tags = [f"drillbook/gateway:{__version__}", "drillbook/gateway:latest"]

        def gateway() -> list[str]:
            with tempfile.TemporaryDirectory(prefix="drillbook-gateway-ctx-") as tmp:
                _stage_gateway(root, Path(tmp))
                docker_build(Path(tmp), gw_tags[0], {"BASE": BASE_IMAGE}, log)
            return [f"drillbook {__version__} from {root}"]

        step("gateway", gw_tags, gateway)
    return results
