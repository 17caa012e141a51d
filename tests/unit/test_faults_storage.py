"""The file faults: cut, delete and corrupt the drill's own files, and nothing outside it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drillbook.errors import FaultError
from drillbook.faults.storage import FileCorrupt, FileDelete, FileTruncate
from drillbook.testing import FakeContext


def _backups(workdir: Path) -> list[Path]:
    folder = workdir / "backups"
    folder.mkdir()
    paths = []
    for age, name in enumerate(["backup-c.tar.gz", "backup-b.tar.gz", "backup-a.tar.gz"]):
        path = folder / name
        path.write_bytes(bytes(range(256)) * 40)
        os.utime(path, (1_000_000 - age * 100, 1_000_000 - age * 100))
        paths.append(path)
    return paths  # newest first (by mtime, not by name)


def test_truncate_cuts_only_the_newest_backup_to_the_share_kept(tmp_path: Path) -> None:
    newest, middle, oldest = _backups(tmp_path)
    fault = FileTruncate(kind="file.truncate", path="backups/backup-*.tar.gz", keep_percent=60)
    outcome = fault.inject(FakeContext(tmp_path))
    assert newest.stat().st_size == 6144
    assert middle.stat().st_size == oldest.stat().st_size == 10240
    assert "10240 -> 6144 bytes" in outcome.detail["files"]


def test_delete_removes_every_match_recursively(tmp_path: Path) -> None:
    _backups(tmp_path)
    (tmp_path / "backups" / "safety").mkdir()
    (tmp_path / "backups" / "safety" / "x.dump").write_text("x")
    outcome = FileDelete(kind="file.delete", path="backups/**").inject(FakeContext(tmp_path))
    assert outcome.detail["deleted"] == "4"
    assert not any(p.is_file() for p in (tmp_path / "backups").rglob("*"))


def test_corrupt_flips_bytes_deterministically_and_keeps_the_size(tmp_path: Path) -> None:
    newest, _, _ = _backups(tmp_path)
    original = newest.read_bytes()
    fault = FileCorrupt(kind="file.corrupt", path="backups/*", bytes=8, seed=7)
    fault.inject(FakeContext(tmp_path))
    first = newest.read_bytes()
    assert len(first) == len(original) and first != original
    newest.write_bytes(original)
    fault.inject(FakeContext(tmp_path))
    assert newest.read_bytes() == first


def test_file_faults_refuse_paths_outside_the_drill(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("precious")
    workdir = tmp_path / "work"
    workdir.mkdir()
    with pytest.raises(FaultError, match="outside the drill"):
        FileDelete(kind="file.delete", path=str(outside)).inject(FakeContext(workdir))
    assert outside.read_text() == "precious"


def test_file_fault_without_a_match_says_what_it_looked_for(tmp_path: Path) -> None:
    with pytest.raises(FaultError, match="no file matches"):
        FileTruncate(kind="file.truncate", path="backups/*.tar.gz").inject(FakeContext(tmp_path))
