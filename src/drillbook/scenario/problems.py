"""Pydantic validation errors turned into located, readable problems of a scenario file.

Each pydantic error `loc` is walked against the source data to find the key path as written
(a single mapping given where a list is accepted has no `[0]` in the file), then placed: a
missing key at its parent, an unknown key at the key itself, a bad value at the value.
"""

from __future__ import annotations

import difflib
import typing
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from drillbook import registry
from drillbook.errors import Problem, ScenarioError
from drillbook.scenario.kinds import KindModel
from drillbook.scenario.source import Loc, SourceDoc
from drillbook.scenario.types import IDENTIFIER

_EXPECTED = {
    "string_type": "expected a string",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "none_required": "expected nothing (null)",
}

_BOUNDS = {
    "greater_than": "expected a value greater than {gt}",
    "greater_than_equal": "expected a value of at least {ge}",
    "less_than": "expected a value less than {lt}",
    "less_than_equal": "expected a value of at most {le}",
    "too_short": "expected at least {min_length} item(s)",
    "too_long": "expected at most {max_length} item(s)",
    "string_too_short": "expected at least {min_length} character(s)",
    "string_too_long": "expected at most {max_length} character(s)",
    "literal_error": "expected {expected}",
    "enum": "expected {expected}",
}

_PATTERNS = {
    IDENTIFIER: "expected an identifier: a letter, then letters, digits, '_' or '-' "
    "(at most 63 characters, no spaces)",
    r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$": "expected a table name such as "
    "'configs' or 'schema.configs'",
    r"^[A-Za-z_][A-Za-z0-9_]*$": "expected a variable name: letters, digits and '_'",
}

_FAMILIES: dict[type[KindModel], registry.Registry[Any]] = {
    registry.SERVICES.base: registry.SERVICES,
    registry.FAULTS.base: registry.FAULTS,
    registry.STEPS.base: registry.STEPS,
    registry.PROBES.base: registry.PROBES,
}


def show(value: Any) -> str:
    """A bad value as the user wrote it, short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def source_path(data: Any, loc: tuple[int | str, ...]) -> tuple[Loc, Loc, bool]:
    """(source path, rest of `loc` not found in the source, loc names a dict key)."""
    node = data
    path: list[str | int] = []
    for index, part in enumerate(loc):
        if part == "[key]":
            return tuple(path), (), True
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and part == 0:
            continue  # one mapping written where a list is accepted
        else:
            return tuple(path), tuple(loc[index:]), False
    return tuple(path), (), False


def _unwrap(annotation: Any, node: Any) -> Any:
    """Strip Annotated and Optional; a list written as one mapping is its item type."""
    while True:
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is Annotated:
            annotation = args[0]
        elif args and origin not in (list, dict, tuple) and origin is not None:
            # a Union: the member that fits the written node best
            members = [a for a in args if a is not type(None)]
            picks = [a for a in members if _fits(a, node)]
            annotation = (picks or members)[0]
        elif origin is list and isinstance(node, dict):
            annotation = args[0]
        else:
            return annotation


def _fits(annotation: Any, node: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _fits(typing.get_args(annotation)[0], node)
    if isinstance(node, dict):
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        return origin is dict or is_model
    if isinstance(node, list):
        return origin in (list, tuple)
    return True


def _model_of(annotation: Any, node: Any) -> type[BaseModel] | None:
    annotation = _unwrap(annotation, node)
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return None
    family = next((f for base, f in _FAMILIES.items() if annotation is base), None)
    if family is not None:
        kind = node.get("kind") if isinstance(node, dict) else None
        found = family.get(kind) if isinstance(kind, str) else None
        return found if found is not None else annotation
    return annotation


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def allowed_keys(root: type[BaseModel], data: Any, parent: Loc) -> list[str] | None:
    """The keys the model at `parent` accepts, following kinds by their written `kind:`."""
    annotation: Any = root
    node = data
    for part in parent:
        model = _model_of(annotation, node)
        if model is not None:
            if not isinstance(part, str) or part not in model.model_fields:
                return None
            annotation = model.model_fields[part].annotation
        else:
            inner = _unwrap(annotation, node)
            args = typing.get_args(inner)
            origin = typing.get_origin(inner)
            if origin in (list, tuple) and args:
                annotation = args[0]
            elif origin is dict and len(args) == 2:
                annotation = args[1]
            else:
                return None
        node = _child(node, part)
    model = _model_of(annotation, node)
    if model is None:
        return None
    return [name for name, info in model.model_fields.items() if not info.exclude]


def _message(
    err: ErrorDetails, key: str | int | None, allowed: list[str] | None, written: Any
) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    # quote the value as written ('0s'), not as pydantic saw it after parsing (0.0)
    value = written if written is not None else err.get("input")
    if kind == "extra_forbidden":
        text = f"unknown key {key!r}"
        if allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            if close:
                text += f" (did you mean {close[0]!r}?)"
            text += f"; expected one of: {', '.join(allowed)}"
        return text
    if kind == "missing":
        return f"missing required key {key!r}"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        text = str(ctx["error"])
    elif kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern"))
        text = _PATTERNS.get(pattern, f"expected text matching {pattern}")
    elif kind in ("too_short", "too_long") and "actual_length" in ctx:
        text = _BOUNDS[kind].format(**ctx) + f", got {ctx['actual_length']}"
    elif kind in _BOUNDS:
        try:
            text = _BOUNDS[kind].format(**ctx)
        except (KeyError, IndexError):
            text = err["msg"]
    elif kind in _EXPECTED:
        text = _EXPECTED[kind]
    elif kind.startswith(("kind_", "unknown_", "duplicate_")):
        # our own errors (unknown kind, unknown service, ...) already say what they got
        return err["msg"]
    else:
        text = err["msg"]
    text = text[:1].lower() + text[1:]
    if "got " not in text:
        text += f", got {show(value)}"
    return text


def problems_from_validation(
    error: ValidationError, doc: SourceDoc, root: type[BaseModel]
) -> list[Problem]:
    """One located problem per pydantic error (union branches that fail alike are merged)."""
    merged: dict[tuple[int, int, str], list[str]] = {}
    for err in error.errors(include_url=False):
        path, rest, is_key = source_path(doc.data, err["loc"])
        kind = err["type"]
        key: str | int | None = path[-1] if path else None
        if kind == "missing" and rest:
            key = rest[-1]
            where = doc.key_at(path)
            path = (*path, rest[-1])
        elif kind in ("kind_missing", "extra_forbidden") or is_key:
            where = doc.key_at(path)
        elif kind == "kind_unknown" and isinstance(doc.written(path), dict):
            path = (*path, "kind")
            where = doc.value_at(path)
        else:
            where = doc.value_at(path)
        allowed = allowed_keys(root, doc.data, path[:-1]) if kind == "extra_forbidden" else None
        written = path[-1] if is_key else doc.written(path) if not rest else None
        problem = doc.problem(path, where, _message(err, key, allowed, written))
        slot = merged.setdefault((where.line, where.column, problem.key_path), [])
        if problem.message not in slot:
            slot.append(problem.message)
    return [
        Problem(doc.file, line, column, key_path, _either(messages))
        for (line, column, key_path), messages in sorted(merged.items())
    ]


def _either(messages: list[str]) -> str:
    """'expected a whole number or expected 'auto', got 'abc'' for the branches of a union."""
    tails = {m.rpartition(", got ")[2] for m in messages}
    if len(messages) > 1 and len(tails) == 1 and all(", got " in m for m in messages):
        heads = [m.rpartition(", got ")[0] for m in messages]
        return f"{' or '.join(heads)}, got {tails.pop()}"
    return " or ".join(messages)


def render_problems(error: ScenarioError) -> str:
    """One line per problem, `file:line:col: key.path: message`, for the command line."""
    return "\n".join(problem.render() for problem in error.problems)
