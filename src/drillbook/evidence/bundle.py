"""Writing evidence bundles: what an auditor needs to trust that a drill ran as reported.

Each run gets reports/<run-id>/evidence/ holding the scenario as run, the journal, the verdict
and evidence.json (hashes of the scenario and of every procedure script, versions of drillbook,
Python, the platform and each service, operator, host, the UTC time of every mark). manifest.json
lists the SHA-256 of every file and `previous`, the SHA-256 of the previous run's manifest, so
the runs under a reports folder form a chain: changing any byte, or removing a run, shows.
reports/.evidence-chain keeps the chain's newest link, so removing the last run shows too.
With a key (DRILLBOOK_EVIDENCE_KEY: a PEM Ed25519 private key), manifest.sig signs the manifest
bytes and signer.pub is the public half (pass a trusted copy to `verify_evidence`).

Secrets stay out: every file passes through a Redactor that also knows the scenario's own
secret-looking values. When that masks the scenario file, `scenario_sha256` is still the hash
of the original bytes, so the file in version control can be matched without storing the secret.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import hashlib
import os
import platform
import shlex
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import ValidationError

from drillbook import __version__
from drillbook.errors import DrillbookError
from drillbook.evidence.sign import load_private_key, sign
from drillbook.redact import Redactor, find_secrets
from drillbook.result import RunResult
from drillbook.scenario.model import Scenario
from drillbook.scenario.types import Model

BUNDLE = "evidence"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "signer.pub"
CHAIN_HEAD = ".evidence-chain"
KEY_ENV = "DRILLBOOK_EVIDENCE_KEY"
OPERATOR_ENV = "DRILLBOOK_OPERATOR"
FORMAT = 1


class ScriptHash(Model):
    step: str  # "recovery[0]"
    path: str  # as written in the scenario
    sha256: str
    size: int


class MarkTime(Model):
    name: str
    t: float
    utc: datetime


class Versions(Model):
    drillbook: str
    python: str
    platform: str
    services: dict[str, dict[str, str]]  # service name -> its facts (version, engine, ...)


class EvidenceRecord(Model):
    format: int = FORMAT
    run_id: str
    scenario: str
    scenario_file: str | None
    scenario_sha256: str  # of the bytes as run, before any secret was masked
    scenario_redacted: bool  # scenario.yaml here had a secret masked, so its hash differs
    scripts: tuple[ScriptHash, ...]
    versions: Versions
    operator: str
    host: str
    backend: str
    started_utc: datetime
    ended_utc: datetime | None
    marks: tuple[MarkTime, ...]
    status: str
    codes: tuple[str, ...]
    figures: dict[str, float | int | None]


class Manifest(Model):
    format: int = FORMAT
    run_id: str
    created_utc: datetime
    sequence: int  # 1 for the first bundle of a chain
    previous: str | None  # SHA-256 of the previous run's manifest.json bytes
    previous_run: str | None
    files: dict[str, str]  # file name in the bundle -> SHA-256
    signed: bool


class ChainHead(Model):
    run_id: str
    manifest_sha256: str
    sequence: int


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def operator_name() -> str:
    if os.environ.get(OPERATOR_ENV):
        return os.environ[OPERATOR_ENV]
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown"


def scenario_bytes(scenario: Scenario) -> bytes:
    """The scenario file as run, or (built in code) its model as YAML."""
    if scenario.source is not None and Path(scenario.source).is_file():
        return Path(scenario.source).read_bytes()
    data = scenario.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False).encode("utf-8")


def procedure_files(scenario: Scenario) -> Iterator[tuple[str, str, Path]]:
    """(step, path as written, resolved path) of every script or file seed and recovery use.

    Resolved like the runner does: relative to the scenario's folder. A `run` command line is
    split into words and every word naming an existing file counts (`restore.sh ${steps.x}`).
    """
    base = scenario.base_dir or Path.cwd()
    for section, steps in (("seed", scenario.seed), ("recovery", scenario.recovery)):
        for index, step in enumerate(steps):
            words: list[str] = []
            run = getattr(step, "run", None)
            if isinstance(run, str):
                words.append(run.strip())
                with contextlib.suppress(ValueError):  # unbalanced quotes: keep the whole line
                    words.extend(shlex.split(run))
            for name in ("command", "args"):
                value = getattr(step, name, None)
                if isinstance(value, list):
                    words.extend(w for w in value if isinstance(w, str))
            file = getattr(step, "file", None)
            if isinstance(file, str):
                words.append(file)
            seen: set[Path] = set()
            for written in words:
                word = written.replace("${base_dir}", str(base))
                if not word or "${" in word or "\n" in word:
                    continue
                path = Path(word) if Path(word).is_absolute() else base / word
                with contextlib.suppress(OSError):
                    if path.is_file() and path.resolve() not in seen:
                        seen.add(path.resolve())
                        yield f"{section}[{index}]", word, path.resolve()


def _redactor(scenario: Scenario, redactor: Redactor | None) -> Redactor:
    known = set(redactor.secrets) if redactor is not None else set()
    return Redactor(known | find_secrets(scenario))


def _services(facts: dict[str, str]) -> dict[str, dict[str, str]]:
    services: dict[str, dict[str, str]] = {}
    for key, value in facts.items():
        head, _, rest = key.partition(".")
        name, _, fact = rest.partition(".")
        if head == "service" and fact:
            services.setdefault(name, {})[fact] = value
    return services


def _record(
    result: RunResult, scenario: Scenario, raw: bytes, redacted: bool
) -> EvidenceRecord:
    journal = result.journal
    scripts = tuple(
        ScriptHash(step=step, path=written, sha256=sha256(path.read_bytes()),
                   size=path.stat().st_size)
        for step, written, path in procedure_files(scenario)
    )
    return EvidenceRecord(
        run_id=result.run_id, scenario=result.scenario, scenario_file=result.scenario_file,
        scenario_sha256=sha256(raw), scenario_redacted=redacted, scripts=scripts,
        versions=Versions(
            drillbook=__version__, python=platform.python_version(),
            platform=platform.platform(), services=_services(journal.facts),
        ),
        operator=operator_name(), host=socket.gethostname(), backend=result.backend,
        started_utc=journal.started_utc, ended_utc=journal.ended_utc,
        marks=tuple(MarkTime(name=m.name, t=m.t, utc=m.utc) for m in journal.marks),
        status=result.verdict.status.value, codes=tuple(c.value for c in result.verdict.codes),
        figures={f.name: f.value for f in result.measurements.figures()},
    )


@contextlib.contextmanager
def _chain_lock(chain_dir: Path) -> Iterator[None]:
    # Two drills finishing together must not both link to the same previous run.
    chain_dir.mkdir(parents=True, exist_ok=True)
    with (chain_dir / f"{CHAIN_HEAD}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_manifest(bundle: Path) -> tuple[Manifest, str]:
    data = (bundle / MANIFEST).read_bytes()
    return Manifest.model_validate_json(data), sha256(data)


def find_bundles(reports_dir: Path) -> list[Path]:
    return sorted(p.parent for p in reports_dir.glob(f"*/{BUNDLE}/{MANIFEST}"))


def _chain_head(chain_dir: Path) -> ChainHead | None:
    """The newest link: from reports/.evidence-chain, else the newest readable bundle."""
    head_file = chain_dir / CHAIN_HEAD
    if head_file.is_file():
        try:
            return ChainHead.model_validate_json(head_file.read_bytes())
        except ValidationError as exc:
            raise DrillbookError(
                f"evidence chain head {str(head_file)!r} is unreadable ({exc.error_count()} "
                "problem(s)); run `drillbook evidence verify` on the reports folder"
            ) from exc
    newest: tuple[int, datetime, ChainHead] | None = None
    for bundle in find_bundles(chain_dir):
        try:
            manifest, digest = _read_manifest(bundle)
        except (OSError, ValidationError):
            continue
        key = (manifest.sequence, manifest.created_utc)
        if newest is None or key > newest[:2]:
            head = ChainHead(run_id=manifest.run_id, manifest_sha256=digest,
                             sequence=manifest.sequence)
            newest = (*key, head)
    return newest[2] if newest else None


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def write_evidence(
    result: RunResult,
    scenario: Scenario,
    report_dir: Path,
    *,
    key_path: Path | None = None,
    chain_dir: Path | None = None,
    redactor: Redactor | None = None,
) -> Path:
    """Write report_dir/evidence/ and link it into the chain; returns the bundle folder.

    `key_path` (default: $DRILLBOOK_EVIDENCE_KEY, if set) signs the manifest; `chain_dir`
    (default: the reports folder holding report_dir) is where the chain head is kept.
    """
    bundle = report_dir / BUNDLE
    if (bundle / MANIFEST).exists():
        raise DrillbookError(f"evidence for run {result.run_id!r} already exists in {bundle}")
    bundle.mkdir(parents=True, exist_ok=True)
    chain_dir = chain_dir if chain_dir is not None else report_dir.parent
    if key_path is None and os.environ.get(KEY_ENV):
        key_path = Path(os.environ[KEY_ENV])
    masker = _redactor(scenario, redactor)

    raw = scenario_bytes(scenario)
    text = raw.decode("utf-8", errors="replace")
    masked = masker.text(text)
    stored = raw if masked == text else masked.encode("utf-8")
    record = masker.redact(_record(result, scenario, raw, redacted=stored != raw))
    files: dict[str, bytes] = {
        "scenario.yaml": stored,
        "evidence.json": record.model_dump_json(indent=2).encode() + b"\n",
        "journal.json": masker.redact(result.journal).model_dump_json(indent=2).encode() + b"\n",
        "verdict.json": masker.redact(result.verdict).model_dump_json(indent=2).encode() + b"\n",
    }
    signature_key = None
    if key_path is not None:
        signature_key, public_pem = load_private_key(key_path)
        files[PUBLIC_KEY] = public_pem
    for name, data in files.items():
        _atomic_write(bundle / name, data)

    with _chain_lock(chain_dir):
        head = _chain_head(chain_dir)
        manifest = Manifest(
            run_id=result.run_id, created_utc=datetime.now(UTC),
            sequence=head.sequence + 1 if head else 1,
            previous=head.manifest_sha256 if head else None,
            previous_run=head.run_id if head else None,
            files={name: sha256(data) for name, data in sorted(files.items())},
            signed=signature_key is not None,
        )
        manifest_bytes = manifest.model_dump_json(indent=2).encode() + b"\n"
        _atomic_write(bundle / MANIFEST, manifest_bytes)
        if signature_key is not None:
            _atomic_write(bundle / SIGNATURE, sign(signature_key, manifest_bytes))
        new_head = ChainHead(run_id=result.run_id, manifest_sha256=sha256(manifest_bytes),
                             sequence=manifest.sequence)
        _atomic_write(chain_dir / CHAIN_HEAD, new_head.model_dump_json().encode() + b"\n")
    return bundle
