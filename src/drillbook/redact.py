"""Secrets never reach a report: every reporter passes what it writes through a Redactor.

Three layers: the run's own secrets (passwords, drill-only keys) replaced wherever they occur,
also URL-encoded; passwords in URLs (`postgresql://user:PW@host`); and the value of anything
named like a secret (`PGPASSWORD=...`, `api_key: ...`, `Authorization: Bearer ...`, or a field
or mapping key such as `password`, `secret_key`, `token`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words and numbers

_SENSITIVE_NAME = (
    r"[A-Za-z0-9_.-]*(?:PASSWORD|PASSWD|SECRET|TOKEN(?!S)|API_?KEY|ACCESS_KEY)[A-Za-z0-9_]*"
)
_SENSITIVE_KEY = re.compile(rf"^{_SENSITIVE_NAME}$", re.IGNORECASE)
_PATTERNS = (
    # scheme://user:PASSWORD@host
    re.compile(r"(?P<keep>\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<value>[^@\s/]+)(?=@)", re.I),
    # NAME=value, NAME: value, "name": "value" for any name that looks like a secret
    re.compile(
        rf"(?P<keep>\b{_SENSITIVE_NAME}[\"']?[ \t]*[=:][ \t]*[\"']?)(?P<value>[^\s\"'&,;]+)", re.I
    ),
    # Authorization: Bearer xxx / Basic xxx
    re.compile(r"(?P<keep>\b(?:bearer|basic)[ \t]+)(?P<value>[A-Za-z0-9._~+/=-]{4,})", re.I),
)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Redactor:
    """Masks secrets in text and, recursively, in models, mappings and sequences.

    Thread-safe; the runner shares one instance with every reporter and `add`s secrets as
    services appear, so a line printed later is masked too.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            return
        variants = {secret, quote(secret, safe=""), quote(secret, safe="/:")}
        with self._lock:
            # Longest first, so a secret containing another is masked whole.
            merged = set(self._secrets) | {v for v in variants if len(v) >= MIN_SECRET_LENGTH}
            self._secrets = tuple(sorted(merged, key=len, reverse=True))

    @property
    def secrets(self) -> tuple[str, ...]:
        with self._lock:
            return self._secrets

    def text(self, value: str) -> str:
        """`value` with every known secret and every secret-looking assignment masked."""
        out = value
        for secret in self.secrets:
            if secret in out:
                out = out.replace(secret, MASK)
        for pattern in _PATTERNS:
            out = pattern.sub(_mask_match, out)
        return out

    def __call__(self, value: T) -> T:
        return self.redact(value)

    # Names the runner reads best with; the same operations.
    def redact_text(self, value: str) -> str:
        return self.text(value)

    def redact_model(self, value: M) -> M:
        return self.redact(value)

    def redact(self, value: T) -> T:
        """A copy of `value` with secrets masked in every string it holds; same type back."""
        return self._any(value)  # type: ignore[no-any-return]

    def _any(self, value: Any) -> Any:
        if isinstance(value, str):
            masked = self.text(value)
            return value if masked == value else masked  # keep str subclasses (enums) intact
        if isinstance(value, BaseModel):
            return self._model(value)
        if isinstance(value, Mapping):
            return {self._any(k): self._field(str(k), v) for k, v in value.items()}
        if isinstance(value, tuple):
            return tuple(self._any(v) for v in value)
        if isinstance(value, list):
            return [self._any(v) for v in value]
        if isinstance(value, set | frozenset):
            return type(value)(self._any(v) for v in value)
        return value

    def _field(self, name: str, value: Any) -> Any:
        if isinstance(value, str) and value and _SENSITIVE_KEY.match(name):
            return MASK
        return self._any(value)

    def _model(self, model: BaseModel) -> BaseModel:
        update = {}
        for name in type(model).model_fields:
            old = getattr(model, name)
            new = self._field(name, old)
            if new is not old:
                update[name] = new
        return model.model_copy(update=update) if update else model


def find_secrets(value: Any) -> set[str]:
    """Values named like secrets anywhere in `value` (a scenario, its env, a service spec).

    A scenario's `env: {API_KEY: ...}` or a command service's `SERVICE_TOKEN` are secrets the
    runner never generated, so nothing else knows to mask them; unresolved `${...}` templates
    are not secrets and are left out.
    """
    found: set[str] = set()
    _collect(value, found)
    return {s for s in found if "${" not in s and len(s) >= MIN_SECRET_LENGTH}


def _collect(value: Any, found: set[str], name: str = "") -> None:
    if isinstance(value, str):
        if name and _SENSITIVE_KEY.match(name):
            found.add(value)
    elif isinstance(value, BaseModel):
        for field in type(value).model_fields:
            _collect(getattr(value, field), found, field)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _collect(item, found, str(key))
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _collect(item, found, name)


def _mask_match(match: re.Match[str]) -> str:
    value = match.group("value")
    if value == MASK:
        return match.group(0)
    return match.group("keep") + MASK
