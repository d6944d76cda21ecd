import errno
import os
import stat
from pathlib import Path

import pytest

from vaultnetz import atomic
from vaultnetz.atomic import (
    create_file_exclusive,
    read_snapshot,
    replace_checked,
    update_note,
    write_atomic,
)
from vaultnetz.errors import ConcurrentEditError, NoteNotWritable


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


@pytest.mark.parametrize(
    ("code", "hint"),
    [(errno.ENOSPC, "free some disk space"), (errno.EACCES, "allow writing in the folder"),
     (errno.EROFS, "read-only file system")],
)
def test_write_errors_name_the_note_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, hint: str
) -> None:
    note = tmp_path / "Anna.md"
    note.write_bytes(b"---\nname: Anna\n---\n")

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    with pytest.raises(NoteNotWritable) as raised:
        update_note(note, lambda data: data + b"more\n")
    assert str(note) in raised.value.message and "nothing was written" in raised.value.message
    assert hint in (raised.value.hint or "")
    assert note.read_bytes() == b"---\nname: Anna\n---\n"


def test_a_full_disk_while_writing_leaves_the_note_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    note = tmp_path / "Anna.md"
    note.write_bytes(b"---\nname: Anna\n---\n")
    real_fsync = os.fsync

    def full(fd: int) -> None:
        if os.fstat(fd).st_size > 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(NoteNotWritable, match="No space left on device"):
        update_note(note, lambda data: data + b"more\n")
    assert note.read_bytes() == b"---\nname: Anna\n---\n"
    assert [p.name for p in tmp_path.iterdir()] == ["Anna.md"]


def test_a_busy_note_is_waited_for_then_refused(tmp_path: Path) -> None:
    note = tmp_path / "Anna.md"
    note.write_bytes(b"---\nname: Anna\n---\n")
    future = os.stat(note).st_mtime_ns + 3_600_000_000_000  # modified "just now", always
    os.utime(note, ns=(future, future))
    naps: list[float] = []
    with pytest.raises(ConcurrentEditError, match="being saved by another program"):
        update_note(note, lambda data: data + b"more\n", quiet_ns=1_000_000_000, wait=0.5,
                    sleep=naps.append)
    assert naps and sum(naps) <= 0.5 + 1e-9
    assert note.read_bytes() == b"---\nname: Anna\n---\n"
    assert [p.name for p in tmp_path.iterdir()] == ["Anna.md"]


def test_a_save_that_slips_in_before_the_swap_is_swapped_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    note = tmp_path / "Anna.md"
    note.write_bytes(b"old\n")
    real_exchange = atomic._exchange
    saved = []

    def editor_saves_first(a: str, b: Path) -> bool:
        if not saved:  # an editor's atomic save lands between the check and the swap
            (tmp_path / ".swp").write_bytes(b"the editor's save\n")
            os.replace(tmp_path / ".swp", note)
            saved.append(1)
        return real_exchange(a, b)

    monkeypatch.setattr(atomic, "_exchange", editor_saves_first)
    if atomic._renameat2() is None:
        pytest.skip("no renameat2 here")
    with pytest.raises(ConcurrentEditError, match="nothing was written"):
        update_note(note, lambda data: data + b"new\n")
    assert note.read_bytes() == b"the editor's save\n"
    assert [p.name for p in tmp_path.iterdir()] == ["Anna.md"]


def test_every_kind_of_write_removes_stale_temp_files_in_its_folder(tmp_path: Path) -> None:
    for i, write in enumerate((lambda f: write_atomic(f / "feed.ics", b"x"),
                               lambda f: create_file_exclusive(f / "new.md", b"x"))):
        folder = tmp_path / str(i)
        folder.mkdir()
        stale, fresh = folder / ".vaultnetz-old.tmp", folder / ".vaultnetz-new.tmp"
        stale.write_bytes(b"left by a killed write")
        fresh.write_bytes(b"a write going on right now")
        os.utime(stale, (1_700_000_000, 1_700_000_000))
        write(folder)
        assert not stale.exists() and fresh.exists()
