"""Atomic writes: a file (``write_atomic``) and a folder of files (``write_folder_atomic``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from behavtest.files import write_atomic, write_folder_atomic


def test_write_atomic_takes_text_and_bytes_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "a.json"
    write_atomic(path, "é\n")
    write_atomic(path.with_name("b.bin"), b"\x00\xff")
    assert path.read_text(encoding="utf-8") == "é\n"
    assert path.with_name("b.bin").read_bytes() == b"\x00\xff"
    assert path.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.json", "b.bin"]


def test_a_new_folder_appears_whole(tmp_path: Path) -> None:
    target = tmp_path / "runs" / "organism"
    with write_folder_atomic(target) as work:
        assert work.parent == target.parent and not target.exists()
        (work / "weights").write_text("w")
    assert (target / "weights").read_text() == "w"
    assert target.stat().st_mode & 0o777 == 0o755
    assert [p.name for p in target.parent.iterdir()] == ["organism"]


def test_an_old_folder_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "organism"
    target.mkdir()
    (target / "old").write_text("old")
    with write_folder_atomic(target) as work:
        (work / "new").write_text("new")
        assert (target / "old").is_file()  # untouched until the block ends
    assert [p.name for p in target.iterdir()] == ["new"]
    assert [p.name for p in tmp_path.iterdir()] == ["organism"]


def test_a_failed_writer_leaves_the_old_folder(tmp_path: Path) -> None:
    target = tmp_path / "organism"
    target.mkdir()
    (target / "old").write_text("old")
    with pytest.raises(RuntimeError), write_folder_atomic(target) as work:
        (work / "half").write_text("h")
        raise RuntimeError("interrupted")
    assert [p.name for p in target.iterdir()] == ["old"]
    assert [p.name for p in tmp_path.iterdir()] == ["organism"]


def test_a_file_in_the_way_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "organism"
    target.write_text("mine")
    with pytest.raises(OSError), write_folder_atomic(target) as work:
        (work / "new").write_text("new")
    assert target.read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["organism"]
