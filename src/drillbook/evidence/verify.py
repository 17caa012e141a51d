"""Checking evidence: every byte against the manifest, every signature, every chain link.

Given a reports folder, every bundle under it is checked and the chain across them: each
`previous` must be the hash of another bundle's manifest, exactly one bundle starts the chain,
no two continue the same link, sequence numbers follow on, and the newest link recorded in
.evidence-chain is present. Given one bundle (or one run's folder), only that bundle is checked.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pydantic import ValidationError

from drillbook.evidence.bundle import (
    BUNDLE,
    CHAIN_HEAD,
    MANIFEST,
    PUBLIC_KEY,
    SIGNATURE,
    ChainHead,
    Manifest,
    find_bundles,
    sha256,
)
from drillbook.evidence.sign import verify_signature

_OWN_FILES = {MANIFEST, SIGNATURE}


def _check_bundle(
    bundle: Path, public_key: bytes | None
) -> tuple[list[str], Manifest | None, str | None]:
    where = str(bundle)
    try:
        data = (bundle / MANIFEST).read_bytes()
    except OSError as exc:
        return [f"{where}: manifest unreadable: {exc}"], None, None
    digest = sha256(data)
    try:
        manifest = Manifest.model_validate_json(data)
    except ValidationError as exc:
        return [f"{where}: {MANIFEST} is not a valid manifest (changed?): "
                f"{exc.errors()[0]['msg']}"], None, digest
    problems = []
    for name, expected in manifest.files.items():
        path = bundle / name
        if "/" in name or "\\" in name or name in {"", ".", ".."}:
            problems.append(f"{where}: manifest names {name!r}, which is not a file in the bundle")
        elif not path.is_file():
            problems.append(f"{where}: {name} is missing")
        elif (actual := sha256(path.read_bytes())) != expected:
            problems.append(
                f"{where}: {name} was changed (sha256 {actual[:16]}..., "
                f"manifest says {expected[:16]}...)"
            )
    for path in sorted(bundle.rglob("*")):
        name = path.relative_to(bundle).as_posix()
        if path.is_file() and name not in manifest.files and name not in _OWN_FILES:
            problems.append(f"{where}: {name} is not in the manifest (added?)")
    sig_path = bundle / SIGNATURE
    if manifest.signed or sig_path.exists():
        pub = public_key
        if pub is None and (bundle / PUBLIC_KEY).is_file():
            pub = (bundle / PUBLIC_KEY).read_bytes()
        if not sig_path.is_file():
            problems.append(f"{where}: the manifest says it is signed but {SIGNATURE} is missing")
        elif pub is None:
            problems.append(f"{where}: signed, but there is no {PUBLIC_KEY} to check it with")
        elif (why := verify_signature(pub, data, sig_path.read_bytes())) is not None:
            problems.append(f"{where}: bad signature: {why}")
    return problems, manifest, digest


def _check_chain(reports: Path, links: dict[str, tuple[Path, Manifest]]) -> list[str]:
    problems = []
    for path, manifest in links.values():
        if manifest.previous is not None and manifest.previous not in links:
            problems.append(
                f"chain gap: {path} follows run {manifest.previous_run!r} (manifest "
                f"{manifest.previous[:16]}...), which no bundle here has: a run was removed "
                "or its manifest changed"
            )
        elif manifest.previous is not None:
            before = links[manifest.previous][1]
            if manifest.sequence != before.sequence + 1:
                problems.append(
                    f"chain: {path} is number {manifest.sequence} but follows number "
                    f"{before.sequence}"
                )
    starts = [str(p) for p, m in links.values() if m.previous is None]
    if len(starts) > 1:
        problems.append(f"chain: {len(starts)} bundles start a chain: {', '.join(starts)}")
    followed = Counter(m.previous for _, m in links.values() if m.previous is not None)
    for digest, count in followed.items():
        if count > 1 and digest in links:
            problems.append(f"chain fork: {count} runs follow {links[digest][0]}")
    head_file = reports / CHAIN_HEAD
    if head_file.is_file():
        try:
            head = ChainHead.model_validate_json(head_file.read_bytes())
        except ValidationError:
            return [*problems, f"{head_file} is unreadable (changed?)"]
        if head.manifest_sha256 not in links:
            problems.append(
                f"chain: the newest run {head.run_id!r} (number {head.sequence}) recorded in "
                f"{head_file} is missing or its manifest changed"
            )
        elif head.manifest_sha256 in followed:
            problems.append(f"chain: {head_file} does not name the newest run")
    return problems


def verify_evidence(path: Path, *, public_key: Path | None = None) -> list[str]:
    """Every problem found in the bundle, run folder or reports folder `path`; [] when sound.

    `public_key` (PEM) is the key you trust; without it each bundle's signer.pub is used,
    which proves integrity since signing but not who signed.
    """
    trusted = public_key.read_bytes() if public_key is not None else None
    if (path / MANIFEST).is_file():
        return _check_bundle(path, trusted)[0]
    if (path / BUNDLE / MANIFEST).is_file():
        return _check_bundle(path / BUNDLE, trusted)[0]
    if not path.is_dir():
        return [f"{path}: no such folder"]
    bundles = find_bundles(path)
    problems = [
        f"{folder}: has no {MANIFEST}"
        for folder in sorted(path.glob(f"*/{BUNDLE}"))
        if folder.is_dir() and not (folder / MANIFEST).exists()
    ]
    if not bundles:
        return [*problems, f"{path}: no evidence bundle found (looked for */{BUNDLE}/{MANIFEST})"]
    links: dict[str, tuple[Path, Manifest]] = {}
    for bundle in bundles:
        found, manifest, digest = _check_bundle(bundle, trusted)
        problems += found
        if manifest is not None and digest is not None:
            if bundle.parent.name != manifest.run_id:
                problems.append(f"{bundle}: belongs to run {manifest.run_id!r}, not this folder")
            links[digest] = (bundle, manifest)
    return problems + _check_chain(path, links)
