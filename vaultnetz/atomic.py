"""Atomic, etag-checked writes.

A write goes to a dot-named temp file in the same folder (ignored by the note
reader and the watcher), is fsynced, gets the original's file mode, and is
renamed over the original only if the original is still what was read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import ConcurrentEditError

TEMP_PREFIX = ".vaultnetz-"
TEMP_SUFFIX = ".tmp"


@dataclass(frozen=True)
class Snapshot:
    """What a file was when it was read: its bytes and the stat fields that change on edit."""

    path: Path
    data: bytes
    size: int
    mtime_ns: int
    mode: int
    digest: str


def read_snapshot(path: Path) -> Snapshot:
    with open(path, "rb") as handle:
        st = os.fstat(handle.fileno())
        data = handle.read()
    return Snapshot(path, data, st.st_size, st.st_mtime_ns, stat.S_IMODE(st.st_mode),
                    hashlib.sha256(data).hexdigest())


def _still_same(snapshot: Snapshot) -> bool:
    try:
        st = os.stat(snapshot.path)
    except FileNotFoundError:
        return False
    if st.st_size != snapshot.size or st.st_mtime_ns != snapshot.mtime_ns:
        return False
    # Same size and mtime can still hide an edit within one mtime tick: compare content.
    with open(snapshot.path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest() == snapshot.digest


def _write_temp(folder: Path, data: bytes, mode: int) -> str:
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return temp


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def replace_checked(snapshot: Snapshot, data: bytes) -> None:
    """Replace the file with ``data`` if it is unchanged since ``snapshot``; else raise."""
    if data == snapshot.data:
        return
    temp = _write_temp(snapshot.path.parent, data, snapshot.mode)
    try:
        if not _still_same(snapshot):
            raise ConcurrentEditError(
                f"{snapshot.path} changed while vaultnetz was writing it; nothing was written",
                "run the command again")
        os.replace(temp, snapshot.path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_folder(snapshot.path.parent)


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> bool:
    """Write a file the tool owns (the feed): atomically, and only if the bytes differ."""
    try:
        if path.read_bytes() == data:
            return False
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        pass
    temp = _write_temp(path.parent, data, mode)
    try:
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_folder(path.parent)
    return True


def create_file_exclusive(path: Path, data: bytes, mode: int = 0o644) -> bool:
    """Create a new file atomically; return False (and write nothing) if it exists."""
    if path.exists():
        return False
    temp = _write_temp(path.parent, data, mode)
    try:
        os.link(temp, path)  # atomic, and fails if the target exists
    except FileExistsError:
        return False
    except OSError:
        # No hard links here (some network or FAT file systems): O_EXCL still never overwrites.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    _fsync_folder(path.parent)
    return True
