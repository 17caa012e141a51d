"""Scenario files in, validated Scenarios out, or one ScenarioError listing every problem.

Nothing is started here. A suite (several files, or folders of them) is checked whole: every
file, every kind in it, every file it refers to, and names unique across the suite.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from drillbook import registry
from drillbook.errors import Problem, ScenarioError
from drillbook.scenario.model import Scenario
from drillbook.scenario.problems import problems_from_validation, render_problems, source_path
from drillbook.scenario.source import Loc, SourceDoc, read_source
from drillbook.scenario.summary import ScenarioSummary, summarize
from drillbook.scenario.types import PathField, iter_scenario_paths

__all__ = [
    "PROJECT_MARKERS",
    "ScenarioSummary",
    "expand_paths",
    "find_base_dir",
    "load_scenario",
    "load_scenarios",
    "render_problems",
    "summarize",
]

PROJECT_MARKERS = ("pyproject.toml", "drillbook.toml", ".git")
SCENARIO_SUFFIXES = (".yaml", ".yml")

# Keys the loader sets itself; written in a file they are unknown keys like any other.
_LOADER_KEYS = ("source", "base_dir")

# Sections holding kinds, for checking file references when the whole scenario is invalid.
_KIND_SECTIONS: tuple[tuple[Loc, registry.Registry[Any]], ...] = (
    (("services",), registry.SERVICES),
    (("seed",), registry.STEPS),
    (("steady_state",), registry.PROBES),
    (("fault",), registry.FAULTS),
    (("recovery",), registry.STEPS),
    (("verify", "probes"), registry.PROBES),
)


def find_base_dir(scenario_file: Path) -> Path:
    """The nearest folder above the file holding pyproject.toml, drillbook.toml or .git;
    the file's own folder when there is none."""
    folder = scenario_file.resolve().parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in PROJECT_MARKERS):
            return candidate
    return folder


def _kind_items(data: dict[str, Any]) -> Iterator[tuple[Loc, registry.Registry[Any], Any]]:
    for loc, family in _KIND_SECTIONS:
        node: Any = data
        for part in loc:
            node = node.get(part) if isinstance(node, dict) else None
        if loc == ("services",) and isinstance(node, dict):
            for name, item in node.items():
                yield (*loc, name), family, item
        elif isinstance(node, dict):
            yield (*loc, 0), family, node
        elif isinstance(node, list):
            for index, item in enumerate(node):
                yield (*loc, index), family, item


def _path_fields(data: dict[str, Any], scenario: Scenario | None) -> Iterator[PathField]:
    if scenario is not None:
        yield from iter_scenario_paths(scenario)
        return
    # The scenario as a whole is invalid: still check the files of every kind that validates.
    for loc, family, item in _kind_items(data):
        kind = item.get("kind") if isinstance(item, dict) else None
        cls = family.get(kind) if isinstance(kind, str) else None
        if cls is None:
            continue
        try:
            instance = cls.model_validate(item)
        except ValidationError:
            continue
        yield from iter_scenario_paths(instance, loc)


def _missing_files(doc: SourceDoc, scenario: Scenario | None, base_dir: Path) -> Iterator[Problem]:
    for found in _path_fields(doc.data, scenario):
        target = found.ref.target(found.value)
        if target is None:
            continue
        resolved = (base_dir / Path(target).expanduser()).resolve()
        if resolved.exists():
            continue
        path, _, _ = source_path(doc.data, found.loc)
        what = "script" if found.ref.command else "file"
        yield doc.problem(
            path,
            doc.value_at(path),
            f"{what} not found: {target!r} (looked for {resolved}; relative paths start at "
            f"the project root {base_dir})",
        )


def _validate(doc: SourceDoc, base_dir: Path) -> tuple[Scenario | None, list[Problem]]:
    problems = [
        doc.problem((key,), doc.key_at((key,)), f"unknown key {key!r}; it is set by the loader")
        for key in _LOADER_KEYS
        if key in doc.data
    ]
    data = {k: v for k, v in doc.data.items() if k not in _LOADER_KEYS}
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(
            data, context={"base_dir": base_dir, "source": doc.path.resolve()}
        )
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, doc, Scenario))
    problems.extend(_missing_files(doc, scenario, base_dir))
    if problems:
        return None, problems
    assert scenario is not None
    return scenario.model_copy(update={"source": doc.path.resolve(), "base_dir": base_dir}), []


def _load(
    path: Path, file: str, base_dir: Path | None
) -> tuple[Scenario | None, SourceDoc | None, list[Problem]]:
    try:
        doc = read_source(path, file)
    except ScenarioError as exc:
        return None, None, list(exc.problems)
    base = base_dir.resolve() if base_dir is not None else find_base_dir(path)
    scenario, problems = _validate(doc, base)
    return scenario, doc, problems


def load_scenario(path: Path, *, base_dir: Path | None = None) -> Scenario:
    """Read and validate one scenario file.

    Relative file references resolve against `base_dir` (default: `find_base_dir(path)`).
    Raises ScenarioError listing every problem of the file; returns a Scenario with `source`
    (absolute) and `base_dir` set.
    """
    scenario, _, problems = _load(Path(path), str(path), base_dir)
    if problems or scenario is None:
        raise ScenarioError(problems)
    return scenario


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def expand_paths(paths: Sequence[Path]) -> tuple[list[Path], list[Problem]]:
    """Scenario files named by `paths`: files as given, folders searched recursively for
    *.yaml/*.yml (hidden folders skipped), sorted, each file once."""
    files: list[Path] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    for given in map(Path, paths):
        if given.is_dir():
            found = sorted(
                p
                for p in given.rglob("*")
                if p.suffix in SCENARIO_SUFFIXES and p.is_file() and not _is_hidden(p, given)
            )
            if not found:
                problems.append(
                    Problem(str(given), None, None, "", "no scenario files (*.yaml, *.yml) here")
                )
        else:
            found = [given]
        for path in found:
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                files.append(path)
    return files, problems


def _duplicate_names(loaded: list[tuple[Scenario, SourceDoc]]) -> Iterator[Problem]:
    first: dict[str, SourceDoc] = {}
    for scenario, doc in loaded:
        earlier = first.setdefault(scenario.name, doc)
        if earlier is doc:
            continue
        where = earlier.value_at(("name",))
        yield doc.problem(
            ("name",),
            doc.value_at(("name",)),
            f"scenario name {scenario.name!r} is already used by {earlier.file}:{where.line}; "
            "names must be unique in a suite",
        )


def load_scenarios(
    paths: Sequence[Path], *, tags: Sequence[str] = (), base_dir: Path | None = None
) -> list[Scenario]:
    """Load a suite: files and folders (every *.yaml/*.yml under them, sorted, recursively).

    Every file is validated, whatever its tags, and scenario names must be unique across the
    suite; any problem anywhere raises one ScenarioError listing them all. Then only the
    scenarios having ANY of `tags` are returned (all of them when `tags` is empty).
    """
    files, problems = expand_paths(paths)
    loaded: list[tuple[Scenario, SourceDoc]] = []
    for path in files:
        scenario, doc, found = _load(path, str(path), base_dir)
        problems.extend(found)
        if scenario is not None and doc is not None:
            loaded.append((scenario, doc))
    problems.extend(_duplicate_names(loaded))
    if problems:
        raise ScenarioError(problems)
    wanted = set(tags)
    return [s for s, _ in loaded if not wanted or wanted.intersection(s.tags)]
