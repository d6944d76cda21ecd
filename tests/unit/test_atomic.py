import os
import stat
from pathlib import Path

import pytest

from vaultnetz.atomic import create_file_exclusive, read_snapshot, replace_checked, write_atomic
from vaultnetz.errors import ConcurrentEditError


def test_replace_keeps_mode_and_leaves_no_temp_file(tmp_path: Path) -> None:
    note = tmp_path / "A.md"
    note.write_bytes(b"old\n")
    note.chmod(0o640)
    snapshot = read_snapshot(note)
    replace_checked(snapshot, b"new\n")
    assert note.read_bytes() == b"new\n"
    assert stat.S_IMODE(note.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["A.md"]


def test_concurrent_edit_writes_nothing(tmp_path: Path) -> None:
    note = tmp_path / "A.md"
    note.write_bytes(b"old\n")
    snapshot = read_snapshot(note)
    note.write_bytes(b"the editor saved this\n")
    with pytest.raises(ConcurrentEditError, match="run the command again"):
        replace_checked(snapshot, b"new\n")
    assert note.read_bytes() == b"the editor saved this\n"
    assert [p.name for p in tmp_path.iterdir()] == ["A.md"]


def test_same_size_same_mtime_edit_is_caught_by_the_hash(tmp_path: Path) -> None:
    note = tmp_path / "A.md"
    note.write_bytes(b"aaaa\n")
    snapshot = read_snapshot(note)
    note.write_bytes(b"bbbb\n")
    os.utime(note, ns=(snapshot.mtime_ns, snapshot.mtime_ns))
    with pytest.raises(ConcurrentEditError):
        replace_checked(snapshot, b"cccc\n")
    assert note.read_bytes() == b"bbbb\n"


def test_deleted_meanwhile_writes_nothing(tmp_path: Path) -> None:
    note = tmp_path / "A.md"
    note.write_bytes(b"x")
    snapshot = read_snapshot(note)
    note.unlink()
    with pytest.raises(ConcurrentEditError):
        replace_checked(snapshot, b"y")
    assert list(tmp_path.iterdir()) == []


def test_failure_between_temp_write_and_rename_keeps_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    note = tmp_path / "A.md"
    note.write_bytes(b"precious\n")
    snapshot = read_snapshot(note)

    def crash(*args: object) -> None:
        raise KeyboardInterrupt  # as if the process were interrupted right before the rename

    monkeypatch.setattr(os, "replace", crash)
    monkeypatch.setattr("vaultnetz.atomic._exchange", crash)
    with pytest.raises(KeyboardInterrupt):
        replace_checked(snapshot, b"new\n")
    assert note.read_bytes() == b"precious\n"
    assert [p.name for p in tmp_path.iterdir()] == ["A.md"]


def test_write_atomic_only_when_bytes_differ(tmp_path: Path) -> None:
    target = tmp_path / "feed.ics"
    assert write_atomic(target, b"one")
    mtime = target.stat().st_mtime_ns
    assert not write_atomic(target, b"one")
    assert target.stat().st_mtime_ns == mtime
    assert write_atomic(target, b"two")
    assert target.read_bytes() == b"two"


def test_create_exclusive_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "New.md"
    assert create_file_exclusive(target, b"first")
    assert not create_file_exclusive(target, b"second")
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["New.md"]
