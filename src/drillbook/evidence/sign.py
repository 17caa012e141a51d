"""Ed25519 signatures of evidence manifests (the `cryptography` package, extra "evidence")."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import TYPE_CHECKING

from drillbook.errors import DrillbookError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )


def _crypto_missing() -> DrillbookError:
    return DrillbookError(
        "signing evidence needs the cryptography package; install drillbook[evidence]"
    )


def load_private_key(path: Path) -> tuple[Ed25519PrivateKey, bytes]:
    """The Ed25519 private key in PEM file `path`, and its public key as PEM."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    except ImportError as exc:
        raise _crypto_missing() from exc
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise DrillbookError(
            f"evidence key {str(path)!r} could not be read as an unencrypted PEM private key: "
            f"{exc}"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise DrillbookError(
            f"evidence key {str(path)!r} is a {type(key).__name__}, not an Ed25519 key; "
            "make one with `openssl genpkey -algorithm ed25519 -out evidence.pem`"
        )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public


def load_public_key(data: bytes) -> Ed25519PublicKey:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError as exc:
        raise _crypto_missing() from exc
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise DrillbookError(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise DrillbookError(f"the public key is a {type(key).__name__}, not Ed25519")
    return key


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    """The signature of `data`, base64 on one line (readable in a diff, safe in any store)."""
    return base64.b64encode(key.sign(data)) + b"\n"


def verify_signature(public_pem: bytes, data: bytes, signature: bytes) -> str | None:
    """None when `signature` (as `sign` wrote it) is `data` signed by the key; else why not."""
    from cryptography.exceptions import InvalidSignature

    try:
        key = load_public_key(public_pem)
        raw = base64.b64decode(signature.strip(), validate=True)
        key.verify(raw, data)
    except DrillbookError as exc:
        return str(exc)
    except (binascii.Error, ValueError):
        return "the signature is not valid base64"
    except InvalidSignature:
        return "the signature does not match the manifest and key"
    return None
