"""Loading scenario files and suites: what comes back, and how every problem is reported."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from drillbook.errors import Problem, ScenarioError
from drillbook.scenario.loader import (
    find_base_dir,
    load_scenario,
    load_scenarios,
    render_problems,
    summarize,
)
from tests.unit import loader_kinds  # noqa: F401 - registers the test.* kinds

VALID = """\
name: restore-configs
description: |
  Drop the configs table and restore it.
  Second line.
tags: [monthly, database]
services:
  db: {kind: test.service}
seed:
  - {kind: test.step, id: backup, file: fixtures/configs.sql}
steady_state:
  - {kind: test.probe, service: db}
fault:
  kind: test.fault
  service: db
  table: configs
recovery:
  - {kind: test.step, run: "drills/restore.sh --latest", timeout: 2m}
verify:
  data: {service: db, tables: [configs]}
criteria: {max_time_to_recover: 60s, max_rows_lost: 0}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project root with the files VALID refers to."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "configs.sql").write_text("select 1;\n")
    (tmp_path / "drills").mkdir()
    (tmp_path / "drills" / "restore.sh").write_text("#!/bin/sh\n")
    (tmp_path / "scenarios" / "db").mkdir(parents=True)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(path: Path, **kwargs: Path) -> list[Problem]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, **kwargs)
    return list(caught.value.problems)


def test_a_valid_scenario_loads_with_its_source_and_project_root(project: Path) -> None:
    path = write(project / "scenarios" / "db" / "restore.yaml", VALID)
    scenario = load_scenario(path)
    assert scenario.name == "restore-configs"
    assert scenario.source == path.resolve()
    assert scenario.base_dir == project.resolve()
    assert scenario.fault[0].kind == "test.fault"  # one mapping is a list of one
    assert scenario.recovery[0].timeout == 120.0
    assert scenario.verify.data[0].tables == ["configs"]


def test_base_dir_given_explicitly_wins_over_the_project_root(project: Path) -> None:
    other = project / "elsewhere"
    write(other / "fixtures" / "configs.sql", "")
    write(other / "drills" / "restore.sh", "")
    path = write(project / "scenarios" / "db" / "restore.yaml", VALID)
    assert load_scenario(path, base_dir=other).base_dir == other.resolve()


def test_base_dir_is_the_scenario_folder_when_no_project_marker_is_above(tmp_path: Path) -> None:
    path = write(tmp_path / "loose" / "s.yaml", "name: loose\n")
    assert find_base_dir(path) == (tmp_path / "loose").resolve()


@pytest.mark.parametrize("marker", ["pyproject.toml", "drillbook.toml", ".git"])
def test_base_dir_is_the_nearest_folder_with_a_project_marker(tmp_path: Path, marker: str) -> None:
    (tmp_path / "root" / marker).parent.mkdir(parents=True)
    (tmp_path / "root" / marker).touch()
    path = write(tmp_path / "root" / "a" / "b" / "s.yaml", "name: x\n")
    assert find_base_dir(path) == (tmp_path / "root").resolve()


def test_every_problem_of_a_file_is_reported_at_once_in_line_order(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.yaml",
        """\
        name: many problems
        random_seed: x
        fault:
          - {kind: test.fault}
          - {kind: nope}
        sampling: {stable_samples: 0, extra: 1}
        """,
    )
    found = problems_of(path)
    assert [p.line for p in found] == sorted(p.line for p in found)
    assert {p.key_path for p in found} == {
        "name",
        "random_seed",
        "fault[0].table",
        "fault[1].kind",
        "sampling.stable_samples",
        "sampling.extra",
    }


def test_a_bad_value_is_located_at_the_value_and_quoted(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", "name: x\ntimeouts:\n  recover:   ten minutes\n")
    (problem,) = problems_of(path)
    assert (problem.line, problem.column) == (3, 14)
    assert "'ten minutes'" in problem.message
    assert "expected a duration" in problem.message


def test_an_unknown_key_is_located_at_the_key_and_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", "name: x\ncriteria:\n  max_outage: 1s\n  max_ouatge: 1s\n")
    (problem,) = problems_of(path)
    assert (problem.line, problem.column, problem.key_path) == (4, 3, "criteria.max_ouatge")
    assert "did you mean 'max_outage'?" in problem.message
    assert "steady_state_after" in problem.message


def test_a_missing_key_is_located_at_its_parent(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.yaml", "name: x\nverify:\n  data:\n    - service: db\n      tables: [t]\n"
    )
    found = problems_of(path)
    assert [(p.line, p.key_path) for p in found] == [(4, "verify.data[0].service")]
    assert "unknown service 'db'" in found[0].message


def test_a_referenced_file_is_checked_against_the_project_root(project: Path) -> None:
    text = VALID.replace("fixtures/configs.sql", "fixtures/missing.sql")
    path = write(project / "scenarios" / "db" / "restore.yaml", text)
    (problem,) = problems_of(path)
    assert (problem.line, problem.key_path) == (9, "seed[0].file")
    assert "'fixtures/missing.sql'" in problem.message
    assert str(project.resolve()) in problem.message


def test_missing_files_are_reported_along_with_other_problems(project: Path) -> None:
    text = VALID.replace("fixtures/configs.sql", "fixtures/missing.sql").replace("60s", "soon")
    path = write(project / "scenarios" / "db" / "restore.yaml", text)
    keys = {p.key_path for p in problems_of(path)}
    assert keys == {"seed[0].file", "criteria.max_time_to_recover"}


def test_a_command_is_checked_only_when_its_first_word_is_a_path(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.yaml",
        """\
        name: commands
        recovery:
          - {kind: test.step, run: "pg_restore --clean dump.sql"}
          - {kind: test.step, run: "${workdir}/restore.sh"}
          - {kind: test.step, file: "${steps.backup.stdout}"}
          - {kind: test.step, run: "./gone.sh --fast"}
        """,
    )
    (problem,) = problems_of(path)
    assert problem.key_path == "recovery[3].run"
    assert "script not found: './gone.sh'" in problem.message


def test_files_in_lists_and_services_are_checked_too(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.yaml",
        """\
        name: lists
        services:
          gw: {kind: test.service, config: gw.yaml}
        seed:
          - kind: test.step
            files: [a.sql, b.sql]
        """,
    )
    (tmp_path / "a.sql").touch()
    assert {p.key_path for p in problems_of(path)} == {"services.gw.config", "seed[0].files[1]"}


def test_a_file_that_does_not_exist_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path / "nope.yaml")
    assert problem.file.endswith("nope.yaml")
    assert problem.message == "file not found"


def test_duplicate_keys_are_all_reported_with_both_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.yaml",
        """\
        name: dupes
        services:
          db: {kind: test.service}
          db: {kind: test.service}
        criteria:
          max_outage: 1s
          max_outage: 2s
        """,
    )
    found = problems_of(path)
    assert [(p.line, p.key_path) for p in found] == [(4, "services.db"), (7, "criteria.max_outage")]
    assert "first written at line 3" in found[0].message


def test_a_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", "name: x\nservices: {db: {kind: test.service}\n")
    (problem,) = problems_of(path)
    assert problem.line is not None and problem.column is not None
    assert problem.message.startswith("yaml syntax error")


@pytest.mark.parametrize(
    "text",
    [
        "a: &x [*x]\n",
        "name: !!python/object:os.system x\n",
        "? [a, b]\n: c\nname: x\n",
        "name: x\nservices: null\nseed: null\nfault: 3\n",
        "name: x\n<<: {tags: [a]}\n",
        "name: 2024-01-01\n",
        "\x00\x01",
        "name: [unclosed",
        "'",
    ],
)
def test_odd_yaml_never_escapes_as_anything_but_a_scenario_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert exc.problems
        assert all(p.file == str(path) for p in exc.problems)


def test_a_suite_folder_is_searched_recursively_in_sorted_order(project: Path) -> None:
    folder = project / "scenarios"
    write(folder / "b" / "two.yml", "name: two\n")
    write(folder / "a" / "one.yaml", "name: one\n")
    write(folder / "three.yaml", "name: three\n")
    write(folder / ".hidden" / "skip.yaml", "broken: [")
    write(folder / "notes.txt", "not yaml")
    names = [s.name for s in load_scenarios([folder])]
    assert names == ["one", "two", "three"]


def test_a_suite_keeps_scenarios_having_any_of_the_tags(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "name: a\ntags: [monthly]\n")
    write(tmp_path / "b.yaml", "name: b\ntags: [release-gate, db]\n")
    write(tmp_path / "c.yaml", "name: c\n")
    found = load_scenarios([tmp_path], tags=["monthly", "db"])
    assert [s.name for s in found] == ["a", "b"]


def test_a_suite_reports_the_problems_of_every_file_together(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "name: a\nrandom_seed: x\n")
    write(tmp_path / "b.yaml", "name: b\n")
    write(tmp_path / "c.yaml", "- not a mapping\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenarios([tmp_path])
    files = [Path(p.file).name for p in caught.value.problems]
    assert files == ["a.yaml", "c.yaml"]


def test_two_scenarios_of_a_suite_may_not_share_a_name(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "# first\nname: same\n")
    write(tmp_path / "b.yaml", "description: second\nname: same\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenarios([tmp_path])
    (problem,) = caught.value.problems
    assert (Path(problem.file).name, problem.line, problem.key_path) == ("b.yaml", 2, "name")
    assert f"{tmp_path / 'a.yaml'}:2" in problem.message


def test_a_suite_folder_without_scenarios_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no scenario files"):
        load_scenarios([tmp_path])


def test_a_file_named_twice_in_a_suite_is_loaded_once(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", "name: a\n")
    assert len(load_scenarios([path, tmp_path])) == 1


def test_render_problems_gives_one_line_per_problem(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", "name: x\nrandom_seed: x\nbackend: k8s\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    lines = render_problems(caught.value).splitlines()
    assert lines == [
        f"{path}:2:14: random_seed: expected a whole number, got 'x'",
        f"{path}:3:10: backend: expected 'local' or 'docker', got 'k8s'",
    ]


def test_summarize_gives_the_row_drillbook_list_shows(project: Path) -> None:
    path = write(project / "scenarios" / "db" / "restore.yaml", VALID)
    row = summarize(load_scenario(path), relative_to=project)
    assert row.name == "restore-configs"
    assert row.file == str(Path("scenarios/db/restore.yaml"))
    assert row.tags == ("monthly", "database")
    assert row.services == ("db: test.service",)
    assert row.service_kinds == ("test.service",)
    assert row.faults == ("test.fault",)
    assert (row.seed_steps, row.recovery_steps) == (1, 1)
    assert row.description == "Drop the configs table and restore it."


def test_an_unknown_key_in_a_kind_lists_the_keys_of_that_kind(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.yaml", "name: x\nfault:\n  - {kind: test.fault, table: t, rows: 3}\n"
    )
    (problem,) = problems_of(path)
    assert problem.key_path == "fault[0].rows"
    assert problem.message.endswith("expected one of: kind, table, service, delay")
