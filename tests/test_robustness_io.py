"""course.atomic, the one helper every writer of the package uses (issue 15: nothing lost).

The writers themselves are tested beside their modules: checkpoints (test_checkpoint.py), the
tokenizers (test_text.py, test_bpe.py), downloads (test_data.py), ``course run -o`` and
``course clean`` (test_cli.py).
"""

import os
import stat

import pytest

from course import atomic


def test_a_write_replaces_the_file_and_leaves_nothing_else(tmp_path):
    path = tmp_path / "notes.json"
    path.write_text("old")
    atomic.write_text(path, "new ✓")
    assert path.read_text(encoding="utf-8") == "new ✓"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.json"]


def test_a_failure_inside_the_block_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    path = tmp_path / "notes.json"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="half-way"), atomic.replacing(path) as tmp:
        tmp.write_text("half of the new")
        raise RuntimeError("half-way")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["notes.json"]
    with pytest.raises(UnicodeEncodeError):
        atomic.write_text(path, "lone \ud800")  # the encoding fails before any byte is written
    assert path.read_text() == "old"


def test_new_files_and_folders_take_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        folder = atomic.check_writable_folder(tmp_path / "a" / "b")
        atomic.write_bytes(folder / "f.bin", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o750
    assert stat.S_IMODE((folder / "f.bin").stat().st_mode) == 0o640


def test_folders_and_files_in_the_way_are_clear_errors(tmp_path):
    (tmp_path / "file").write_text("keep")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        atomic.check_writable_folder(tmp_path / "file" / "below")
    with pytest.raises(IsADirectoryError, match="is a folder; give a file name"):
        atomic.write_text(tmp_path, "x")
    assert (tmp_path / "file").read_text() == "keep"


def test_an_unwritable_folder_is_named(tmp_path, monkeypatch):
    # as chmod a-w would do (tests may run as root, who may write anywhere)
    monkeypatch.setattr(atomic.os, "access", lambda path, mode: False)
    with pytest.raises(PermissionError, match="is not writable"):
        atomic.check_writable_folder(tmp_path)
