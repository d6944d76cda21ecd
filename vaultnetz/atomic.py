"""Atomic, etag-checked writes that never lose an editor's save (CONTRACT §7).

A write goes to a dot-named temp file in the same folder (ignored by the note
reader and the watcher), is fsynced, gets the original's file mode, and takes
the original's place only if the original is still what was read.

Notes are written only when they are quiet and whole: not modified within the
last second (an editor may be saving), not empty, not shorter than the index
read them. "The last second" is measured on the file system's own clock (the
temp file's mtime), so the core never reads the clock and a network drive's
clock skew does not matter.

Where Linux offers it, the new note is swapped in with ``renameat2(RENAME_EXCHANGE)``:
the old file stays reachable under the temp name, so a save that slipped in
between the last check and the swap is seen and swapped back. Everywhere else a
plain rename follows the check, and the note is read back afterwards.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import ConcurrentEditError, NoteNotWritable

TEMP_PREFIX = ".vaultnetz-"
TEMP_SUFFIX = ".tmp"
QUIET_NS = 1_000_000_000  # a note modified more recently than this may be mid-save
QUIET_WAIT = 3.0  # seconds to wait for a busy note to become quiet, at most
STALE_NS = 60_000_000_000  # a temp file older than this is left over from a crash

_cleaned: set[str] = set()  # folders whose stale temp files this process has removed


@dataclass(frozen=True)
class Snapshot:
    """What a file was when it was read: its bytes and the stat fields that change on edit."""

    path: Path
    data: bytes
    size: int
    mtime_ns: int
    mode: int
    digest: str
    inode: int = 0


def read_snapshot(path: Path) -> Snapshot:
    with open(path, "rb") as handle:
        st = os.fstat(handle.fileno())
        data = handle.read()
    return Snapshot(path, data, st.st_size, st.st_mtime_ns, stat.S_IMODE(st.st_mode),
                    hashlib.sha256(data).hexdigest(), st.st_ino)


def _is(path: Path | str, snapshot: Snapshot) -> bool:
    """Whether the file at ``path`` is still exactly the one ``snapshot`` read."""
    try:
        with open(path, "rb") as handle:
            st = os.fstat(handle.fileno())
            if (st.st_size, st.st_mtime_ns) != (snapshot.size, snapshot.mtime_ns):
                return False
            # Same size and mtime can still hide an edit within one mtime tick.
            return hashlib.sha256(handle.read()).hexdigest() == snapshot.digest
    except FileNotFoundError:
        return False


def _write_error(path: Path, exc: OSError) -> NoteNotWritable:
    """An OSError while writing ``path`` as a message that names the note and what to do."""
    hint = {
        errno.ENOSPC: "free some disk space, then run the command again",
        errno.EDQUOT: "free some space within your disk quota, then run the command again",
        errno.EACCES: f"allow writing in the folder {str(path.parent)!r} (its permissions), "
                      "then run the command again",
        errno.EPERM: f"allow writing in the folder {str(path.parent)!r} (its permissions), "
                     "then run the command again",
        errno.EROFS: "the folder is on a read-only file system; mount it writable first",
    }.get(exc.errno or 0, "check the folder and the disk, then run the command again")
    return NoteNotWritable(f"cannot write {path}: {exc.strerror or exc}; nothing was written",
                           hint)


def _new_temp(folder: Path, target: Path) -> str:
    import tempfile  # here: most commands write nothing, and it takes 3 ms to import

    try:
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise _write_error(target, exc) from None
    try:
        # Every write in a folder clears what a killed write left there (its new temp
        # file's mtime is the file system's "now").
        remove_stale_temps(folder, os.fstat(fd).st_mtime_ns)
    finally:
        os.close(fd)
    return temp


def _fill(temp: str, target: Path, data: bytes, mode: int) -> None:
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
    except OSError as exc:
        raise _write_error(target, exc) from None


def _write_temp(folder: Path, data: bytes, mode: int, target: Path | None = None) -> str:
    temp = _new_temp(folder, target or folder)
    try:
        _fill(temp, target or folder, data, mode)
    except BaseException:
        _remove(temp)
        raise
    return temp


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def is_temp_name(name: str) -> bool:
    """A temp file of this tool's (left over when a write was killed)."""
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def remove_stale_temps(folder: Path, now_ns: int) -> list[str]:
    """Remove this tool's temp files in ``folder`` older than a minute (by the file
    system's clock ``now_ns``): left over from a write that was killed. Once per folder
    and process, so that an import of thousands of notes scans the folder once."""
    key = os.path.realpath(folder)
    if key in _cleaned:
        return []
    _cleaned.add(key)
    removed = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if not is_temp_name(entry.name):
                continue
            with contextlib.suppress(OSError):
                if now_ns - entry.stat(follow_symlinks=False).st_mtime_ns > STALE_NS:
                    os.unlink(entry.path)
                    removed.append(entry.name)
    return removed


# --------------------------------------------------------------------------- the swap

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    import ctypes  # here: most commands write nothing

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):  # not Linux, or a C library without it
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _sync_file_system(folder: Path) -> None:
    """Put everything written on the file system of ``folder`` on the disk: Linux's
    syncfs (that file system only), else sync (all of them)."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def _exchange(a: str, b: Path) -> bool:
    """Swap the files at ``a`` and ``b`` atomically; False when the system cannot."""
    function = _renameat2()
    if function is None:
        return False
    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    import ctypes

    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False  # this file system cannot swap: rename instead
    raise OSError(code, os.strerror(code), str(b))


def _changed(path: Path) -> ConcurrentEditError:
    return ConcurrentEditError(
        f"{path} changed while vaultnetz was writing it; nothing was written",
        "another program (an editor) saved it in the meantime: run the command again")


def _swap_in(temp: str, snapshot: Snapshot, data: bytes) -> None:
    """Put ``temp`` (holding ``data``) in the place of the note read as ``snapshot``."""
    path = snapshot.path
    if not _is(path, snapshot):
        raise _changed(path)
    if _exchange(temp, path):
        # The old note is now at ``temp``: if it is not what was checked a moment ago,
        # a save slipped in between; swap it back, and the save stands.
        if not _is(temp, snapshot):
            if not _exchange(temp, path):  # pragma: no cover - it just worked
                raise _changed(path)
            raise _changed(path)
    else:
        os.replace(temp, path)
    fsync_folder(path.parent)
    try:
        now = path.read_bytes()
    except FileNotFoundError:
        now = b""
    if now != data:
        # Saved over by an editor right after the write: the editor's version stays, and
        # the change was not made.
        raise ConcurrentEditError(
            f"{path} was saved by another program right after vaultnetz wrote it; its "
            "version was kept and the change is not in the note", "run the command again")


# --------------------------------------------------------------------------- writes


Change = Callable[[bytes], bytes]


def update_note(path: Path, change: Change, *, min_size: int = 0,
                quiet_ns: int | None = None, wait: float | None = None,
                sleep: Callable[[float], None] = time.sleep) -> tuple[Snapshot, bytes]:
    """Apply ``change`` (old bytes → new bytes) to the note at ``path``, safely.

    The note must be quiet (unmodified for ``quiet_ns``; a busy note is waited for,
    ``wait`` seconds at most) and whole (not empty, at least ``min_size`` bytes: what
    the index read). ``change`` may raise to refuse. Returns the snapshot the change
    was made from and the new bytes (equal to the old when nothing changed: then
    nothing is written). Raises ``ConcurrentEditError`` or ``NoteNotWritable``.
    """
    quiet_ns = QUIET_NS if quiet_ns is None else quiet_ns
    wait = QUIET_WAIT if wait is None else wait
    temp = _new_temp(path.parent, path)  # also the file system's clock
    try:
        snapshot = _quiet_snapshot(path, temp, quiet_ns, wait, sleep)
        if not snapshot.data.strip():
            raise NoteNotWritable(
                f"{path} is empty right now (an editor may be saving it); nothing was written",
                "wait until the note is saved, then run the command again")
        if snapshot.size < min_size:
            raise NoteNotWritable(
                f"{path} is shorter than when vaultnetz read it a moment ago "
                f"({snapshot.size:,} bytes, was {min_size:,}); nothing was written",
                "wait until the note is saved, then run the command again")
        data = change(snapshot.data)
        if data == snapshot.data:
            return snapshot, data
        _fill(temp, path, data, snapshot.mode)
        _swap_in(temp, snapshot, data)
        return snapshot, data
    finally:
        _remove(temp)


def _quiet_snapshot(path: Path, temp: str, quiet_ns: int, wait: float,
                    sleep: Callable[[float], None]) -> Snapshot:
    step = 0.1
    tries = max(1, int(wait / step) + 1)
    for attempt in range(tries):
        try:
            snapshot = read_snapshot(path)
        except FileNotFoundError:
            raise ConcurrentEditError(f"{path} is gone (moved or deleted); nothing was written",
                                      "run the command again") from None
        except IsADirectoryError:
            raise NoteNotWritable(f"{path} is a folder, not a note") from None
        os.utime(temp)  # now, by the file system's clock
        now_ns = os.stat(temp).st_mtime_ns
        whole = len(snapshot.data) == snapshot.size
        if whole and now_ns - snapshot.mtime_ns >= quiet_ns:
            return snapshot
        if attempt < tries - 1:
            sleep(step)
    raise ConcurrentEditError(
        f"{path} is being saved by another program (it changed less than a second ago); "
        "nothing was written", "wait until the editor is done, then run the command again")


def replace_checked(snapshot: Snapshot, data: bytes) -> None:
    """Replace the file with ``data`` if it is unchanged since ``snapshot``; else raise."""
    if data == snapshot.data:
        return
    temp = _write_temp(snapshot.path.parent, data, snapshot.mode, snapshot.path)
    try:
        _swap_in(temp, snapshot, data)
    finally:
        _remove(temp)


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> bool:
    """Write a file the tool owns (the feed): atomically, and only if the bytes differ."""
    try:
        if path.read_bytes() == data:
            return False
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        pass
    temp = _write_temp(path.parent, data, mode, path)
    try:
        os.replace(temp, path)
    except OSError as exc:
        raise _write_error(path, exc) from None
    finally:
        _remove(temp)
    fsync_folder(path.parent)
    return True


def create_file_exclusive(path: Path, data: bytes, mode: int = 0o644, *,
                          sync_folder: bool = True) -> bool:
    """Create a new file atomically; return False (and write nothing) if it exists.

    ``sync_folder=False``: the caller syncs the folder once after many files (import).
    """
    if path.exists():
        return False
    temp = _write_temp(path.parent, data, mode, path)
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
        except OSError as exc:
            raise _write_error(path, exc) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            _remove(str(path))  # never leave a half-written note
            raise _write_error(path, exc) from None
    finally:
        _remove(temp)
    if sync_folder:
        fsync_folder(path.parent)
    return True


def create_files_exclusive(files: list[tuple[Path, bytes]], mode: int = 0o644) -> list[bool]:
    """Create many new files (an import): each atomically and never over an existing one,
    as ``create_file_exclusive``, but with one wait for the disk for all of them.

    Every file is first written whole to a temp file; one sync of the file system puts them on the
    disk; only then is each linked to its name (so no name ever shows a file whose bytes
    are not there yet), and each folder is synced once. Returns, per file, whether it was
    created (False: the name was taken).
    """
    staged: list[str | None] = []
    try:
        for path, data in files:
            if path.exists():
                staged.append(None)
                continue
            new = _new_temp(path.parent, path)
            staged.append(new)
            try:
                with open(new, "wb") as handle:
                    handle.write(data)
                os.chmod(new, mode)
            except OSError as exc:
                raise _write_error(path, exc) from None
        if any(staged):
            _sync_file_system(files[0][0].parent)
        made: list[bool] = []
        for (path, data), staged_temp in zip(files, staged, strict=True):
            if staged_temp is None:
                made.append(False)
                continue
            try:
                os.link(staged_temp, path)
                made.append(True)
            except FileExistsError:
                made.append(False)
            except OSError:  # no hard links on this file system
                made.append(create_file_exclusive(path, data, mode))
        for folder in {path.parent for (path, _), ok in zip(files, made, strict=True) if ok}:
            fsync_folder(folder)
        return made
    finally:
        for leftover in staged:
            if leftover is not None:
                _remove(leftover)
