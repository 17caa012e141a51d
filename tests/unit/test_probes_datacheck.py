"""Data check diffs from row files (no database): exact lost / added / changed counts."""

from __future__ import annotations

from pathlib import Path

from drillbook.datacheck import diff
from drillbook.journal import TableSnapshot


def snap(
    rows: int, *, keys: tuple[str, ...] = ("id",), checksum: str | None = "c", **kw: object
) -> TableSnapshot:
    fields: dict[str, object] = {
        "service": "db",
        "table": "configs",
        "t": 0.0,
        "exists": True,
        "rows": rows,
        "checksum": checksum,
        "key_columns": keys,
    }
    fields.update(kw)
    return TableSnapshot.model_validate(fields)


def rows(path: Path, pairs: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"{k}\t{h}\n" for k, h in sorted(pairs)))
    return path


def test_keyed_rows_are_matched_by_key(tmp_path: Path) -> None:
    before = rows(tmp_path / "b", [("k1", "a"), ("k2", "b"), ("k3", "c"), ("k4", "d")])
    # k1 lost, k3 changed, k5 added
    after = rows(tmp_path / "a", [("k2", "b"), ("k3", "X"), ("k4", "d"), ("k5", "e")])
    result = diff(snap(4), snap(4, checksum="other"), before, after)
    assert (result.rows_lost, result.rows_added, result.rows_changed) == (1, 1, 1)
    assert result.keyed and not result.checksum_match and result.error is None


def test_unkeyed_rows_compare_as_a_multiset(tmp_path: Path) -> None:
    before = rows(tmp_path / "b", [("", "a"), ("", "a"), ("", "b"), ("", "c")])
    after = rows(tmp_path / "a", [("", "a"), ("", "b"), ("", "c"), ("", "d"), ("", "d")])
    result = diff(snap(4, keys=()), snap(5, keys=()), before, after)
    assert (result.rows_lost, result.rows_added, result.rows_changed) == (1, 2, 0)
    assert not result.keyed


def test_a_restore_that_lost_the_primary_key_is_compared_by_content(tmp_path: Path) -> None:
    before = rows(tmp_path / "b", [("k2", "a"), ("k1", "b")])
    after = rows(tmp_path / "a", [("", "b"), ("", "a")])
    result = diff(snap(2), snap(2, keys=()), before, after)
    assert (result.rows_lost, result.rows_added, result.rows_changed) == (0, 0, 0)
    assert not result.keyed and result.checksum_match


def test_a_missing_table_after_means_every_row_lost(tmp_path: Path) -> None:
    before = rows(tmp_path / "b", [("k1", "a"), ("k2", "b")])
    empty = rows(tmp_path / "a", [])
    gone = snap(0, exists=False, checksum=None, keys=())
    result = diff(snap(2), gone, before, empty)
    assert result.rows_lost == 2 and result.rows_after == 0 and not result.exists_after
    assert result.error is None and not result.checksum_match


def test_an_unreachable_database_is_an_error_not_a_number(tmp_path: Path) -> None:
    empty = rows(tmp_path / "x", [])
    down = snap(0, exists=False, error="cannot read 'configs': connection refused")
    result = diff(snap(2), down, empty, empty)
    assert result.error == "cannot read 'configs': connection refused"
    assert result.rows_lost == 0


def test_a_table_missing_before_the_fault_cannot_be_compared(tmp_path: Path) -> None:
    empty = rows(tmp_path / "x", [])
    result = diff(snap(0, exists=False, checksum=None), snap(3), empty, empty)
    assert result.error is not None and "did not exist before the fault" in result.error
