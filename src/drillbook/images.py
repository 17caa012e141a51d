"""`drillbook images build`: every image the docker backend needs, built without a registry.

A Debian base comes from Debian's own mirror (mmdebstrap -> docker import); the postgres, moto
and gateway images are Dockerfiles under docker/ FROM that base, with Debian packages and pip
packages installed inside. Each is tagged with the names scenarios use by default, but only
where the version really is the one the name promises (postgres:15 for Debian's PostgreSQL
15, never postgres:16). Idempotent: an image whose tag exists is kept unless `rebuild`.
"""

from __future__ import annotations

import hashlib
import json
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
FINGERPRINT_LABEL = "drillbook.fingerprint"
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


def build_base(tag: str, fp: str, log: Log) -> list[str]:
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
        f"LABEL {FINGERPRINT_LABEL}={fp}",
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
    return [f"Debian {DEBIAN_SUITE}: {', '.join(BASE_PACKAGES)}"]


def docker_build(
    context: Path, tag: str, build_args: dict[str, str], fp: str, log: Log
) -> list[str]:
    argv = ["docker", "build", "--network", "host", "-q", "-t", tag]
    argv += ["--label", f"{FINGERPRINT_LABEL}={fp}"]
    for key, value in build_args.items():
        argv += ["--build-arg", f"{key}={value}"]
    log(f"images: building {tag} from {context}")
    _run([*argv, str(context)], f"building {tag}", log)
    return []


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


def fingerprint(*parts: str | Path) -> str:
    """A hash of strings and of files' contents (directories walked in order): what an image
    was built from, stored as a label so a changed source is rebuilt and an unchanged one is not."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            files = sorted(p for p in part.rglob("*") if p.is_file()) if part.is_dir() else [part]
            for file in files:
                if "__pycache__" in file.parts or file.suffix == ".pyc":
                    continue
                digest.update(str(file.relative_to(part) if part.is_dir() else file.name).encode())
                digest.update(file.read_bytes())
        else:
            digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def image_fingerprint(tag: str) -> str | None:
    """The fingerprint label of a local image; None when there is no such image."""
    proc = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", tag],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return None
    try:
        labels = json.loads(proc.stdout) or {}
    except ValueError:
        return ""
    return str(labels.get(FINGERPRINT_LABEL, ""))


def image_id(tag: str) -> str:
    return subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", tag],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


class _Builder:
    """One `images build`: steps in order, what each did, the images it replaced."""

    def __init__(self, root: Path, rebuild: bool, log: Log) -> None:
        self.root = root
        self.rebuild = rebuild
        self.log = log
        self.results: list[ImageResult] = []
        self.replaced: list[str] = []  # ids of images a rebuild took the tag from

    def step(
        self,
        image: str,
        tags: list[str],
        fp: str,
        build: Callable[[], list[str]],
        notes: Sequence[str] = (),
    ) -> None:
        started = time.perf_counter()
        if not self.rebuild and image_fingerprint(tags[0]) == fp:
            _tag(tags[0], tags[1:], self.log)
            self.results.append(ImageResult(image, tuple(tags), "present", 0.0, tuple(notes)))
            return
        old = image_id(tags[0])
        notes = [*notes, *build()]
        _tag(tags[0], tags[1:], self.log)
        if old and old != image_id(tags[0]):
            self.replaced.append(old)
        seconds = time.perf_counter() - started
        self.log(f"images: {tags[0]} built in {seconds:.0f}s")
        self.results.append(ImageResult(image, tuple(tags), "built", seconds, tuple(notes)))

    def base(self, force: bool) -> str:
        local_cas = sorted(LOCAL_CA_DIR.glob("*.crt")) if LOCAL_CA_DIR.is_dir() else []
        fp = fingerprint(DEBIAN_SUITE, *BASE_PACKAGES, *local_cas)
        if force or image_fingerprint(BASE_IMAGE) is None:
            self.step("base", [BASE_IMAGE], fp, lambda: build_base(BASE_IMAGE, fp, self.log))
        return image_id(BASE_IMAGE)

    def postgres(self, base_id: str) -> None:
        tag = f"drillbook/postgres:{PG_MAJOR}"
        context = self.root / "docker" / "postgres"
        fp = fingerprint(base_id, PG_MAJOR, context)
        args = {"BASE": BASE_IMAGE, "PG_MAJOR": PG_MAJOR}
        self.step("postgres", [tag], fp, lambda: docker_build(context, tag, args, fp, self.log))
        major = _server_major(tag, self.log)
        if major != PG_MAJOR:  # never tag a name with a version the image does not have
            raise DrillbookError(f"{tag} runs PostgreSQL {major}, not {PG_MAJOR}")
        _tag(tag, [f"postgres:{major}"], self.log)
        last = self.results[-1]
        self.results[-1] = ImageResult(
            "postgres",
            (tag, f"postgres:{major}"),
            last.action,
            last.seconds,
            (f"PostgreSQL {major} from Debian {DEBIAN_SUITE}; not tagged postgres:16",),
        )

    def moto(self, base_id: str) -> None:
        version = _moto_version()
        tags = [f"drillbook/moto:{version}", f"motoserver/moto:{version}", "motoserver/moto:latest"]
        context = self.root / "docker" / "moto"
        fp = fingerprint(base_id, version, context)
        args = {"BASE": BASE_IMAGE, "MOTO_VERSION": version}

        def build() -> list[str]:
            return docker_build(context, tags[0], args, fp, self.log)

        self.step("moto", tags, fp, build, [f"moto {version} from PyPI"])

    def gateway(self, base_id: str) -> None:
        tags = [f"drillbook/gateway:{__version__}", "drillbook/gateway:latest"]
        with tempfile.TemporaryDirectory(prefix="drillbook-gateway-ctx-") as tmp:
            staged = Path(tmp)
            _stage_gateway(self.root, staged)
            fp = fingerprint(base_id, staged)

            def build() -> list[str]:
                notes = docker_build(staged, tags[0], {"BASE": BASE_IMAGE}, fp, self.log)
                check = ["docker", "run", "--rm", tags[0], "python3", "-m", "drillbook.gateway"]
                _run([*check, "--help"], f"checking {tags[0]} runs the gateway", self.log)
                return notes

            self.step("gateway", tags, fp, build, [f"drillbook {__version__} from {self.root}"])

    def prune(self) -> None:
        for old in reversed(self.replaced):  # children first, then the base they were built on
            subprocess.run(["docker", "image", "rm", old], capture_output=True, check=False)


def build_images(
    *,
    rebuild: bool = False,
    only: Sequence[str] = IMAGES,
    source: Path | None = None,
    log: Log = print,
) -> list[ImageResult]:
    """Build (or find) the base, postgres, moto and gateway images; return what happened.

    An image is kept when its tag exists with the fingerprint of what it would be built from
    (Dockerfile, sources, versions, the base's id), so a changed source is rebuilt. Raises
    DrillbookError naming the failed step and the last lines of its output.
    """
    unknown = [name for name in only if name not in IMAGES]
    if unknown:
        raise UsageError(f"unknown image {unknown[0]!r}; known: {', '.join(IMAGES)}")
    builder = _Builder(source_root(source), rebuild, log)
    base_id = builder.base(force="base" in only)
    if "postgres" in only:
        builder.postgres(base_id)
    if "moto" in only:
        builder.moto(base_id)
    if "gateway" in only:
        builder.gateway(base_id)
    builder.prune()
    return builder.results
