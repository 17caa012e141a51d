"""A scenario file read as plain data, with the line and column of every key and value.

The YAML is parsed with ruamel's round-trip loader (it keeps positions), converted to plain
dicts, lists and scalars for pydantic, and the positions are kept in a side map keyed by the
key path, e.g. ('fault', 0, 'table'). Lines and columns are 1-based, as editors show them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from drillbook.errors import Problem, ScenarioError

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    line: int
    column: int


@dataclass(frozen=True)
class SourceDoc:
    """One scenario file: its top-level mapping as plain data, and where each piece was written."""

    file: str
    path: Path
    data: dict[str, Any]
    keys: Mapping[Loc, Position]
    values: Mapping[Loc, Position]

    def key_at(self, loc: Loc) -> Position:
        """Where the key (or list item) `loc` was written; the nearest ancestor if unknown."""
        for depth in range(len(loc), -1, -1):
            found = self.keys.get(loc[:depth]) or self.values.get(loc[:depth])
            if found is not None:
                return found
        return Position(1, 1)

    def value_at(self, loc: Loc) -> Position:
        """Where the value at `loc` starts; its key for an empty value (ruamel places those
        at the next token); the nearest known ancestor otherwise."""
        if loc and self.written(loc) is None:
            return self.key_at(loc)
        return self.values.get(loc) or self.key_at(loc)

    def written(self, loc: Loc) -> Any:
        """The plain value at `loc`, None when absent."""
        node: Any = self.data
        for part in loc:
            if isinstance(node, dict):
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                return None
        return node

    def problem(self, loc: Loc, where: Position, message: str) -> Problem:
        return Problem(self.file, where.line, where.column, render_loc(loc), message)


def render_loc(loc: Loc) -> str:
    """('fault', 0, 'table') -> 'fault[0].table'; odd keys are quoted."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if part and not set(part) & set(" .[]'\"\t") else repr(part)
            text += f".{key}" if text else key
    return text


def _plain_key(key: Any) -> str:
    # Every scenario mapping is keyed by names; `1:` or `true:` are names written oddly.
    value = _plain_scalar(key)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _plain_scalar(value: Any) -> Any:
    # ruamel's round-trip scalars subclass str/int/float and carry formatting; pydantic and
    # the rest of drillbook want the plain types.
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, TaggedScalar):
        return str(value.value)
    if isinstance(value, bool) or type(value).__name__ == "ScalarBoolean":
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dt.date):
        # An unquoted 2024-01-01 is a date in YAML; scenario fields want the text.
        return value.isoformat()
    return value


class _Converter:
    def __init__(self) -> None:
        self.keys: dict[Loc, Position] = {}
        self.values: dict[Loc, Position] = {}

    @staticmethod
    def _pos(getter: Any, arg: Any) -> Position | None:
        try:
            line, column = getter(arg)
        except (KeyError, IndexError, TypeError, AttributeError):
            return None  # merged (<<) keys and similar have no position of their own
        return Position(line + 1, column + 1)

    def convert(self, node: Any, loc: Loc) -> Any:
        if isinstance(node, CommentedMap):
            out: dict[Any, Any] = {}
            for raw_key, raw_value in node.items():
                key = _plain_key(raw_key)
                here = (*loc, key)
                if (pos := self._pos(node.lc.key, raw_key)) is not None:
                    self.keys[here] = pos
                if (pos := self._pos(node.lc.value, raw_key)) is not None:
                    self.values[here] = pos
                out[key] = self.convert(raw_value, here)
            return out
        if isinstance(node, CommentedSeq):
            items: list[Any] = []
            for index, raw_item in enumerate(node):
                here = (*loc, index)
                if (pos := self._pos(node.lc.item, index)) is not None:
                    self.keys[here] = pos
                    self.values[here] = pos
                items.append(self.convert(raw_item, here))
            return items
        return _plain_scalar(node)


def _mark_position(mark: Any) -> Position | None:
    if mark is None:
        return None
    return Position(int(mark.line) + 1, int(mark.column) + 1)


def _duplicates(node: Node, loc: Loc, seen: set[int]) -> Iterator[tuple[Loc, Position, int]]:
    """(key path, position, line of the first occurrence) of every repeated mapping key."""
    if id(node) in seen:  # aliases may point back at a node already walked
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            line = int(key_node.start_mark.line) + 1
            if key is not None and key in first:
                pos = Position(line, int(key_node.start_mark.column) + 1)
                yield (*loc, key), pos, first[key]
            elif key is not None:
                first[key] = line
            yield from _duplicates(value_node, (*loc, key if key is not None else "?"), seen)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicates(item, (*loc, index), seen)


def _yaml() -> YAML:
    return YAML(typ="rt", pure=True)


def _syntax_problems(file: str, text: str, exc: YAMLError) -> list[Problem]:
    if isinstance(exc, DuplicateKeyError):
        try:
            root = _yaml().compose(text)
        except YAMLError:
            root = None
        found = list(_duplicates(root, (), set())) if root is not None else []
        if found:
            return [
                Problem(
                    file,
                    pos.line,
                    pos.column,
                    render_loc(loc),
                    f"duplicate key {loc[-1]!r} (first written at line {first}); "
                    "each key may appear once in a mapping",
                )
                for loc, pos, first in found
            ]
    if isinstance(exc, MarkedYAMLError):
        where = _mark_position(exc.problem_mark) or _mark_position(exc.context_mark)
        problem = " ".join((exc.problem or "").split())
        message = f"yaml syntax error: {problem or 'cannot parse'}"
        if "'\\t'" in problem:
            message += "; indent with spaces, tabs are not allowed in yaml indentation"
        context_pos = _mark_position(exc.context_mark)
        if exc.context and context_pos is not None and context_pos != where:
            message += f" ({' '.join(exc.context.split())} at line {context_pos.line})"
        line, column = (where.line, where.column) if where else (None, None)
        return [Problem(file, line, column, "", message)]
    return [Problem(file, None, None, "", f"yaml syntax error: {' '.join(str(exc).split())}")]


def _decode(file: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = raw[exc.start : exc.start + 1].hex()
        raise ScenarioError(
            [
                Problem(
                    file,
                    line,
                    column,
                    "",
                    f"the file is not valid UTF-8 (byte 0x{bad}); save it as UTF-8",
                )
            ]
        ) from None


def _read_text(path: Path, file: str) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        message = "file not found"
    except IsADirectoryError:
        message = "is a directory, expected a scenario file (.yaml)"
    except OSError as exc:
        message = f"cannot read the file: {(exc.strerror or str(exc)).lower()}"
    else:
        return _decode(file, raw)
    raise ScenarioError([Problem(file, None, None, "", message)])


def read_source(path: Path, file: str | None = None) -> SourceDoc:
    """Parse one scenario file; ScenarioError with located problems if it is not a mapping."""
    file = file if file is not None else str(path)
    text = _read_text(path, file)
    try:
        root = _yaml().load(text)
    except YAMLError as exc:
        raise ScenarioError(_syntax_problems(file, text, exc)) from None
    except Exception as exc:  # ruamel raises a few non-YAMLError types on odd input
        message = f"yaml syntax error: {' '.join(str(exc).split()) or type(exc).__name__}"
        raise ScenarioError([Problem(file, None, None, "", message)]) from None
    if root is None:
        raise ScenarioError(
            [Problem(file, 1, 1, "", "the file is empty; a scenario needs at least 'name'")]
        )
    if not isinstance(root, CommentedMap):
        line = getattr(getattr(root, "lc", None), "line", 0) + 1
        kind = "a list" if isinstance(root, CommentedSeq) else f"{_plain_scalar(root)!r}"
        raise ScenarioError(
            [
                Problem(
                    file,
                    line,
                    1,
                    "",
                    f"expected a mapping of scenario keys (name, services, ...) at the top "
                    f"level, got {kind}",
                )
            ]
        )
    converter = _Converter()
    converter.values[()] = Position(root.lc.line + 1, root.lc.col + 1)
    data = converter.convert(root, ())
    return SourceDoc(file, path, data, converter.keys, converter.values)
