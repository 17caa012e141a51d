"""Every malformed scenario in tests/unit/malformed/ fails with a located ScenarioError.

Each corpus file starts with `# expect: <line> <fragment>`: some rendered problem line must
name the file and that line and contain the fragment (a key path, often with the message).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from drillbook.errors import ScenarioError
from drillbook.scenario.loader import load_scenario, load_scenarios
from drillbook.scenario.problems import render_problems
from tests.unit import loader_kinds  # noqa: F401 - registers the test.* kinds

CORPUS = Path(__file__).parent / "malformed"
CASES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".yaml", ".yml"))
_EXPECT = re.compile(rb"^# expect: (\d+) (.+?)\r?\n")


def expectation(path: Path) -> tuple[int, str]:
    match = _EXPECT.match(path.read_bytes())
    assert match, f"{path.name}: first line must be '# expect: <line> <fragment>'"
    return int(match.group(1)), match.group(2).decode()


def test_the_corpus_has_at_least_24_malformed_scenarios() -> None:
    assert len(CASES) >= 24


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_malformed_scenario_is_rejected_at_its_line_with_its_key_path(path: Path) -> None:
    line, fragment = expectation(path)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    rendered = render_problems(caught.value)
    assert path.name in rendered
    located = [text for text in rendered.splitlines() if f"{path.name}:{line}:" in text]
    assert located, f"no problem at line {line}:\n{rendered}"
    assert any(fragment in text for text in located), f"{fragment!r} not in:\n{rendered}"
    assert "Traceback" not in rendered


def test_the_whole_corpus_as_a_suite_reports_every_file_in_one_error() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenarios([CORPUS])
    files = {problem.file for problem in caught.value.problems}
    assert {str(p) for p in CASES} <= files
