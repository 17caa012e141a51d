"""`config.corrupt_yaml`: break a service's YAML config the ways deploys break them.

The choice of line, key or cut point is deterministic for a given seed, so a drill that failed
can be replayed exactly. The original is kept in the run's workdir (not next to the file: the
procedure under drill must not find a backup the team does not have).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import random
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.util import load_yaml_guess_indent

from drillbook.context import DrillContext
from drillbook.errors import DrillbookError, FaultError
from drillbook.faults.service import restart_detail
from drillbook.registry import FAULTS
from drillbook.scenario.kinds import FaultOutcome, FaultSpec
from drillbook.scenario.types import Duration

Mode = Literal["syntax_error", "truncate", "remove_key", "invalid_value"]
MODES: tuple[Mode, ...] = ("syntax_error", "truncate", "remove_key", "invalid_value")
INVALID = "drillbook-invalid-value"


@FAULTS.register
class CorruptYaml(FaultSpec):
    """Corrupt a YAML file of the drill: a syntax error, a truncation, a removed key or a value
    of the wrong type; then optionally restart (or SIGHUP) the service that reads it."""

    kind: Literal["config.corrupt_yaml"]
    service: str | None = Field(
        None, description="service whose config file (info.config_path) is the target"
    )
    path: str | None = Field(
        None,
        description="file to corrupt instead, relative to the run's workdir (a file the drill "
        "created); may use ${...}",
    )
    mode: Mode | Literal["random"] = "syntax_error"
    key: str | None = Field(
        None,
        description="dotted path for remove_key/invalid_value, e.g. model_list.0.litellm_params; "
        "default: the largest top-level section",
    )
    then: Literal["none", "restart", "reload"] = Field(
        "none", description="restart the service, or send it SIGHUP (reload), after corrupting"
    )
    restart_timeout: Duration | None = Field(
        None, description="how long `then: restart` waits for health; default: the service's"
    )
    seed: int | None = Field(None, description="overrides the scenario's random_seed")

    @model_validator(mode="after")
    def _consistent(self) -> CorruptYaml:
        if self.service is None and self.path is None:
            raise ValueError("give the service whose config to corrupt, or a path")
        if self.then != "none" and self.service is None:
            raise ValueError(f"then: {self.then} needs the service to {self.then}")
        if self.key is not None and self.mode in ("syntax_error", "truncate"):
            raise ValueError(f"key is used by remove_key and invalid_value, not by {self.mode}")
        return self

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        target = self._target(ctx)
        try:
            original = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FaultError(f"cannot read config {str(target)!r}: {exc}") from exc
        backup = self._backup_path(ctx, target)
        if not backup.exists():  # a second fault on the same file keeps the true original
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target, backup)
        rng = random.Random(self._seed(ctx))
        mode = rng.choice(MODES) if self.mode == "random" else self.mode
        corrupted, detail = corrupt(original, mode, self.key, rng)
        target.write_text(corrupted, encoding="utf-8")
        detail.update(mode=mode, original_copy=str(backup))
        detail.update(self._then(ctx))
        return FaultOutcome(target=str(target), detail=detail)

    def revert(self, ctx: DrillContext) -> None:
        # Only a service's config file that lives outside every directory of the run outlives
        # the drill; files in the run are removed with it (and may hold the team's fix).
        try:
            target = self._target(ctx)
            backup = self._backup_path(ctx, target)
            run_dirs = [ctx.workdir] + [
                p for h in ctx.services().values() for p in (h.info.workdir, h.info.data_dir) if p
            ]
            if backup.exists() and not any(_inside(target, root) for root in run_dirs):
                shutil.copy2(backup, target)
        except (DrillbookError, OSError):
            pass

    def _target(self, ctx: DrillContext) -> Path:
        if self.path is not None:
            raw = Path(ctx.interpolate(self.path))
            target = raw if raw.is_absolute() else ctx.workdir / raw
        else:
            assert self.service is not None
            config = ctx.service(self.service).info.config_path
            if config is None:
                raise FaultError(
                    f"service {self.service!r} has no config file to corrupt; give `path`"
                )
            target = config
        if not target.is_file():
            raise FaultError(f"config file {str(target)!r} does not exist")
        owned = [ctx.workdir] + [
            p for h in ctx.services().values() for p in (h.info.config_path, h.info.workdir) if p
        ]
        if not any(_inside(target, root) for root in owned):
            raise FaultError(
                f"refusing to corrupt {str(target)!r}: it is outside the drill's workdir "
                f"{str(ctx.workdir)!r} and no drill service owns it"
            )
        return target

    def _backup_path(self, ctx: DrillContext, target: Path) -> Path:
        owner = self.service or "path"
        return ctx.workdir / "faults" / f"{owner}.{target.name}.pre-fault"

    def _seed(self, ctx: DrillContext) -> int:
        # Mixing in the spec makes two different corruptions in one drill choose independently.
        base = self.seed if self.seed is not None else ctx.random_seed
        spec = self.model_dump_json(exclude={"then", "restart_timeout"})
        return int.from_bytes(hashlib.sha256(f"{base}|{spec}".encode()).digest()[:8], "big")

    def _then(self, ctx: DrillContext) -> dict[str, str]:
        if self.then == "none" or self.service is None:
            return {}
        handle = ctx.service(self.service)
        if self.then == "restart":
            return restart_detail(handle, self.restart_timeout)
        try:
            handle.kill(signal.SIGHUP)
        except DrillbookError as exc:
            return {"reload": "failed", "reload_error": str(exc).splitlines()[0][:300]}
        return {"reload": "SIGHUP sent"}


def _inside(path: Path, root: Path) -> bool:
    path, root = path.resolve(), root.resolve()
    return path == root or path.is_relative_to(root)


# --- the corruptions: pure functions of (text, key, rng) -------------------------------------


@dataclass(frozen=True)
class _KeyAt:
    path: tuple[Any, ...]
    line: int  # 0-based
    col: int

    @property
    def dotted(self) -> str:
        return ".".join(str(p) for p in self.path)


def corrupt(
    text: str, mode: Mode, key: str | None, rng: random.Random
) -> tuple[str, dict[str, str]]:
    """`text` corrupted per `mode`, and what was done (line numbers 1-based, no values)."""
    if mode == "syntax_error":
        return _syntax_error(text, rng)
    if mode == "truncate":
        return _truncate(text, rng)
    data, dump = _load_rt(text)
    if not isinstance(data, CommentedMap | CommentedSeq) or not data:
        raise FaultError(f"{mode} needs a YAML mapping or list with entries; this file has none")
    path = _resolve_key(data, key) if key else (_main_key(data, text, rng),)
    parent = _node_at(data, path[:-1])
    line = _line_of(parent, path[-1])
    if mode == "remove_key":
        del parent[path[-1]]
        how = "removed"
    else:
        old = parent[path[-1]]
        parent[path[-1]] = _wrong_type(old)
        how = f"{_yaml_type(old)} value replaced by a {_yaml_type(parent[path[-1]])}"
    detail = {"key": ".".join(str(p) for p in path), "line": str(line + 1), "how": how}
    return dump(data), detail


def _syntax_error(text: str, rng: random.Random) -> tuple[str, dict[str, str]]:
    lines = text.splitlines(keepends=True)
    keys = _key_positions(text)
    rng.shuffle(keys)
    for at in keys:
        line = lines[at.line]
        colon = line.find(":", at.col)
        if colon < 0:
            continue
        body = line.rstrip("\r\n")
        end = line[len(body) :]
        edits = [
            ("removed the ':' after the key", body[:colon] + body[colon + 1 :]),
            (
                "opened a '[' that never closes",
                f"{body[: colon + 1]} [{body[colon + 1 :].lstrip()}",
            ),
            ("indented the line one space too far", " " + body),
        ]
        if at.col > 0:
            edits.append(("indented the line with a tab", "\t" + body.lstrip(" ")))
        rng.shuffle(edits)
        for how, new in edits:
            candidate = "".join([*lines[: at.line], new + end, *lines[at.line + 1 :]])
            if not parses(candidate):
                return candidate, {"line": str(at.line + 1), "key": at.dotted, "how": how}
    # No key line to break (empty or flow-only file): a stray bracket never parses.
    return "]\n" + text, {"line": "1", "key": "", "how": "inserted a stray ']' line"}


def _truncate(text: str, rng: random.Random) -> tuple[str, dict[str, str]]:
    """Cut the file inside a key in its later part, as a write cut off by a full disk does."""
    keys = _key_positions(text)
    if keys:
        total = max(at.line for at in keys) + 1
        later = [at for at in keys if at.line >= total // 4] or keys
        at = rng.choice(later)
        starts = [0]
        for line in text.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))
        line_text = text[starts[at.line] :].split("\n", 1)[0]
        colon = line_text.find(":", at.col)
        key_len = (colon if colon > at.col else len(line_text)) - at.col
        cut = starts[at.line] + at.col + (rng.randint(1, key_len - 1) if key_len > 1 else 1)
        key = at.dotted
    else:
        cut = rng.randint(len(text) // 4, max(len(text) // 4, (len(text) * 3) // 4))
        key = ""
    kept = text[:cut]
    detail = {
        "line": str(kept.count("\n") + 1),
        "key": key,
        "how": f"truncated after {len(kept.encode())} of {len(text.encode())} bytes",
    }
    return kept, detail


def _wrong_type(old: Any) -> Any:
    if isinstance(old, str):
        seq = CommentedSeq([INVALID])
        seq.fa.set_flow_style()
        return seq
    return INVALID  # mappings, lists, numbers, booleans, null: a string where they were


def _yaml_type(value: Any) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else "string"


# --- YAML helpers ------------------------------------------------------------------------------


def parses(text: str) -> bool:
    """Whether `text` loads with ruamel.yaml and with PyYAML (whichever services use)."""
    try:
        YAML(typ="safe", pure=True).load(text)
    except Exception:
        return False
    try:
        yaml.safe_load(text)
    except Exception:
        return False
    return True


def _load_rt(text: str) -> tuple[Any, Any]:
    """Round-trip load (comments and quotes kept) and a dumper using the file's indentation."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    try:
        data = yaml.load(text)
        _, indent, offset = load_yaml_guess_indent(text)
    except Exception as exc:
        raise FaultError(f"the config does not parse, so no key can be found in it: {exc}") from exc
    indent, offset = indent or 2, offset or 0
    yaml.indent(mapping=max(2, indent - offset), sequence=indent, offset=offset)

    def dump(value: Any) -> str:
        out = io.StringIO()
        yaml.dump(value, out)
        return out.getvalue()

    return data, dump


def _key_positions(text: str) -> list[_KeyAt]:
    """Every mapping key with its line and column; [] when the text does not parse."""
    yaml = YAML(typ="rt")
    try:
        data = yaml.load(text)
    except Exception:
        return []
    found: list[_KeyAt] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, CommentedMap):
            for k in node:
                line, col = node.lc.key(k)
                found.append(_KeyAt((*path, k), line, col))
                walk(node[k], (*path, k))
        elif isinstance(node, CommentedSeq):
            for index, item in enumerate(node):
                walk(item, (*path, index))

    walk(data, ())
    return sorted(found, key=lambda at: (at.line, at.col))


def _main_key(data: CommentedMap | CommentedSeq, text: str, rng: random.Random) -> Any:
    """The top-level entry spanning the most lines: the section a service can least do
    without (ties broken by the seed)."""
    keys = list(data) if isinstance(data, CommentedMap) else list(range(len(data)))
    starts = [_line_of(data, k) for k in keys] + [text.count("\n") + 1]
    sizes = [end - start for start, end in itertools.pairwise(starts)]
    biggest = max(sizes)
    return rng.choice([k for k, size in zip(keys, sizes, strict=True) if size == biggest])


def _resolve_key(data: Any, dotted: str) -> tuple[Any, ...]:
    path: list[Any] = []
    node = data
    for part in dotted.split("."):
        where = ".".join(str(p) for p in path) or "the top level"
        if isinstance(node, CommentedMap):
            match = next((k for k in node if str(k) == part), _MISSING)
            if match is _MISSING:
                known = ", ".join(str(k) for k in node) or "none"
                raise FaultError(f"key {dotted!r}: no {part!r} at {where}; keys there: {known}")
            path.append(match)
            node = node[match]
        elif isinstance(node, CommentedSeq):
            if not part.isdigit() or int(part) >= len(node):
                raise FaultError(
                    f"key {dotted!r}: {part!r} is not an index of the {len(node)}-item list "
                    f"at {where}"
                )
            path.append(int(part))
            node = node[int(part)]
        else:
            raise FaultError(f"key {dotted!r}: {where} holds a plain value, not a mapping or list")
    return tuple(path)


_MISSING = object()


def _node_at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _line_of(parent: Any, key: Any) -> int:
    if isinstance(parent, CommentedMap):
        return int(parent.lc.key(key)[0])
    return int(parent.lc.item(key)[0])
