"""Registries of kinds, keyed by the YAML `kind:`. Third-party kinds arrive by entry points.

A bad plugin is rejected at registration with the culprit named (pluggy's `_verify_hook` idea):
wrong base class, no `kind` Literal, contract method not implemented, or a duplicate kind.
"""

from __future__ import annotations

import importlib
import threading
import typing
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from pydantic import ValidationInfo
from pydantic_core import PydanticCustomError

from drillbook.errors import PluginError
from drillbook.scenario.kinds import FaultSpec, KindModel, ProbeSpec, ServiceSpec, StepSpec

K = TypeVar("K", bound=KindModel)

ENTRY_POINT_GROUP = "drillbook.kinds"
_BUILTIN_MODULES = ("drillbook.services", "drillbook.faults", "drillbook.steps", "drillbook.probes")


def _literal_kind(cls: type[KindModel]) -> str | None:
    field = cls.model_fields.get("kind")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    if typing.get_origin(field.annotation) is typing.Literal and len(args) == 1:
        value = args[0]
        return value if isinstance(value, str) else None
    return None


class Registry(Generic[K]):
    def __init__(self, family: str, base: type[K], contract: str | None) -> None:
        self.family = family
        self.base = base
        self.contract = contract
        self._kinds: dict[str, type[K]] = {}

    def register(self, cls: type[K]) -> type[K]:
        """Class decorator: add `cls` under its `kind` Literal."""
        where = f"{cls.__module__}.{cls.__qualname__}"
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise PluginError(f"{where}: a {self.family} kind must subclass {self.base.__name__}")
        kind = _literal_kind(cls)
        if kind is None:
            raise PluginError(f"{where}: needs a field `kind: Literal['...']` naming its kind")
        if self.contract and getattr(cls, self.contract) is getattr(self.base, self.contract):
            raise PluginError(
                f"{where}: {self.family} kind {kind!r} does not implement {self.contract}()"
            )
        existing = self._kinds.get(kind)
        if existing is not None and existing is not cls:
            raise PluginError(
                f"{where}: {self.family} kind {kind!r} is already registered by "
                f"{existing.__module__}.{existing.__qualname__}"
            )
        self._kinds[kind] = cls
        return cls

    def get(self, kind: str) -> type[K] | None:
        load_plugins()
        return self._kinds.get(kind)

    def kinds(self) -> list[str]:
        load_plugins()
        return sorted(self._kinds)

    def __iter__(self) -> Iterator[type[K]]:
        load_plugins()
        return iter([self._kinds[k] for k in sorted(self._kinds)])

    def parse(self, value: Any, handler: Callable[[Any], K], info: ValidationInfo) -> K:
        """Pydantic wrap-validator: validate a mapping with the model of its `kind`."""
        if isinstance(value, self.base):
            return value
        if not isinstance(value, dict):
            raise PydanticCustomError(
                "kind_mapping",
                "expected a mapping with a 'kind' key, got {got}",
                {"got": repr(value)},
            )
        kind = value.get("kind")
        if kind is None:
            raise PydanticCustomError(
                "kind_missing",
                "missing 'kind'; known {family} kinds: {known}",
                {"family": self.family, "known": ", ".join(self.kinds()) or "none"},
            )
        cls = self.get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise PydanticCustomError(
                "kind_unknown",
                "unknown {family} kind {kind}; known {family} kinds: {known}",
                {
                    "family": self.family,
                    "kind": repr(kind),
                    "known": ", ".join(self.kinds()) or "none",
                },
            )
        return cls.model_validate(value, context=info.context)


SERVICES: Registry[ServiceSpec] = Registry("service", ServiceSpec, None)
FAULTS: Registry[FaultSpec] = Registry("fault", FaultSpec, "inject")
STEPS: Registry[StepSpec] = Registry("step", StepSpec, "execute")
PROBES: Registry[ProbeSpec] = Registry("probe", ProbeSpec, "check")

_loaded = False
_load_lock = threading.RLock()


def load_plugins() -> None:
    """Import the built-in kinds and every `drillbook.kinds` entry point, once."""
    global _loaded  # noqa: PLW0603 - a process-wide, load-once switch
    if _loaded:
        return
    with _load_lock:
        if _loaded:
            return
        _loaded = True
        for module in _BUILTIN_MODULES:
            importlib.import_module(module)
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                ep.load()
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"entry point {ep.name!r} ({ep.value}) failed to load: {exc}"
                ) from exc
