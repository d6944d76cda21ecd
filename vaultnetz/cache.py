"""The cache: parsed notes, built vaults and feeds, in SQLite outside the vault.

An accelerator only (CONTRACT §7): deleting it loses nothing, and any problem
with it — corrupt, locked, from another version, unwritable — means working
without it, never an error. Notes are keyed by path, size and mtime; an entry
whose mtime was not clearly older than the moment it was read is verified by
content hash, so an edit within one mtime tick is not missed ("racy" entries,
as git calls them). That moment is the file system's time, read from a marker
file, never the clock.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .model import Interaction, InteractionKind, Problem
from .notes import Link, Note, iso_day
from .version import __version__

SCHEMA = 5  # 2: notes in marshal's format; 3: snapshots of built vaults; 4: no events;
# 5: snapshots keep the targets of dated notes' links
_RESULTS_KEPT = 4  # feeds for a few --tag/--horizon variants (each can be megabytes)
_SNAPSHOTS_KEPT = 2  # built vaults (tens of megabytes for a large vault)
RACY_NS = 2_000_000_000  # mtime granularity we do not trust (FAT has 2 s)
_new = tuple.__new__  # a named tuple made directly: its __new__ is a Python function


def cache_file(cache_dir: Path, vault_root: Path) -> Path:
    """One cache file per vault, named by a hash of its absolute path."""
    key = hashlib.sha256(str(vault_root.resolve()).encode()).hexdigest()[:16]
    return cache_dir / f"vault-{key}.sqlite"


@functools.cache
def code_stamp() -> str:
    """A digest of the package's modules (name, size, mtime): changes with the code."""
    parts = []
    for path in sorted(Path(__file__).parent.glob("*.py")):
        with contextlib.suppress(OSError):
            st = path.stat()
            parts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=8).hexdigest()


_SCALARS = frozenset({str, int, float, bool, type(None), date, datetime})


def _plain(value: Any) -> bool:
    """Values the cache keeps exactly (dates tagged); nested mappings are not cached."""
    if type(value) in _SCALARS:  # nearly every value: no isinstance chain
        return True
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return not isinstance(value, dict | set | tuple | bytes)


def _tagged(value: Any) -> Any:
    """Dates as ("d", iso) and ("t", iso): a plain value is never a tuple."""
    kind = type(value)
    if kind is date:
        return ("d", value.isoformat())
    if kind is datetime:
        return ("t", value.isoformat())
    if kind is list:
        return [_tagged(item) for item in value]
    return value


def encode_note(note: Note) -> bytes | None:
    """A note in marshal's format, or None when its front-matter holds values the cache
    would not give back exactly (nested mappings, sets, binary).

    marshal, not JSON: it is several times faster both ways, and the cache is this
    program's own file, fingerprinted by Python version (its format may change).
    """
    if not all(_plain(v) for v in note.meta.values()):
        return None
    try:
        return marshal.dumps((
            note.path, note.size, note.mtime_ns,
            {k: _tagged(v) if type(v) in _TAGGED else v for k, v in note.meta.items()},
            note.meta_lines,
            [(e.day.toordinal(), e.kind, e.text, e.line) for e in note.log],
            [(link.target, link.line, link.context) for link in note.links],
            [(p.path, p.line, p.severity, p.code, p.message, p.hint) for p in note.problems],
            note.ok, note.has_log_heading,
        ))
    except ValueError:  # an object marshal cannot write
        return None


_TAGGED = frozenset({date, datetime, list})
KINDS: dict[str, InteractionKind] = {"contact": "contact", "attempt": "attempt",
                                      "declined": "declined"}  # one string each, not one per entry


@functools.lru_cache(maxsize=8192)
def day_of(ordinal: int) -> date:
    return date.fromordinal(ordinal)  # one object per day, as the parser shares them


def _untagged(value: Any) -> Any:
    """``_tagged`` undone; short strings (tags, cities, cadences) shared as the parser
    shares them, not one per occurrence in every note."""
    kind = type(value)
    if kind is str:
        return sys.intern(value) if len(value) <= 40 else value
    if kind is tuple:
        return iso_day(value[1]) if value[0] == "d" else datetime.fromisoformat(value[1])
    if kind is list:
        return [_untagged(item) for item in value]
    return value


def decode_note(data: bytes, known_path: str | None = None) -> Note:
    """A note from ``encode_note``'s bytes. ``known_path``: the caller's string for the
    same path, kept instead of a copy of it in every note and log entry."""
    (path, size, mtime_ns, meta, meta_lines, log, links, problems, ok,
     has_heading) = marshal.loads(data)
    if path == known_path:
        path = known_path
    return Note(
        path, size, mtime_ns, {sys.intern(k): _untagged(v) for k, v in meta.items()},
        {sys.intern(k): v for k, v in meta_lines.items()},
        tuple([_new(Interaction, (day_of(d), KINDS[k], t, "log", path, ln))
               for d, k, t, ln in log]),
        tuple(Link(t, ln, c) for t, ln, c in links),
        tuple(Problem(*p) for p in problems),
        ok, has_heading,
    )


@dataclass(frozen=True, slots=True)
class CachedNote:
    """A cache entry's key fields; its data is fetched only when it is used."""

    path: str
    size: int
    mtime_ns: int
    recorded_ns: int
    digest: str

    def matches(self, size: int, mtime_ns: int) -> bool:
        return self.size == size and self.mtime_ns == mtime_ns

    @property
    def trusted(self) -> bool:
        """Size and mtime suffice when the file was clearly older than when it was read."""
        return self.mtime_ns < self.recorded_ns - RACY_NS


def _file_system_now(folder: Path) -> int:
    """The file system's current time, from a marker file's mtime (0 when it cannot)."""
    marker = folder / ".now"
    try:
        with open(marker, "w") as handle:
            handle.write("x")  # a write, so that the mtime is surely updated
        return os.stat(marker).st_mtime_ns
    except OSError:
        return 0


class Cache:
    """The SQLite cache of one vault. Every method swallows database errors."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = path
        # marshal's format belongs to the Python version, and what is stored to the code
        # that made it (a development install changes without a new version): either
        # changed, the cache starts afresh.
        self.fingerprint = (f"{SCHEMA}:{__version__}:{code_stamp()}:{sys.version_info[0]}."
                            f"{sys.version_info[1]}:{marshal.version}:{fingerprint}")
        self.db: sqlite3.Connection | None = None
        self.session_ns = 0
        self._open()

    def _open(self) -> None:
        for attempt in range(2):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.session_ns = _file_system_now(self.path.parent)
                db = sqlite3.connect(self.path, timeout=0.5, isolation_level=None)
                with contextlib.suppress(OSError):
                    os.chmod(self.path, 0o600)
                with contextlib.suppress(sqlite3.OperationalError):  # e.g. no shared memory
                    db.execute("PRAGMA journal_mode=WAL")  # commits without a sync each
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
                row = db.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
                if row is None or row[0] != self.fingerprint:
                    # Another version or other parse settings: start afresh.
                    db.execute("DROP TABLE IF EXISTS notes")
                    db.execute("DROP TABLE IF EXISTS events")
                    db.execute("DROP TABLE IF EXISTS results")
                    db.execute("DROP TABLE IF EXISTS snapshots")
                db.execute("CREATE TABLE IF NOT EXISTS notes (path TEXT PRIMARY KEY, size INTEGER, "
                           "mtime_ns INTEGER, recorded_ns INTEGER, digest TEXT, data BLOB)")
                db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, "
                           "data BLOB, errors INTEGER)")
                db.execute("CREATE TABLE IF NOT EXISTS snapshots (key TEXT, part INTEGER, "
                           "data BLOB, PRIMARY KEY (key, part))")
                db.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)",
                           (self.fingerprint,))
                self.db = db
                return
            except sqlite3.DatabaseError:
                # Corrupt or not a database: remove it once and start again.
                with contextlib.suppress(OSError):
                    for suffix in ("", "-wal", "-shm"):
                        os.unlink(f"{self.path}{suffix}")
                if attempt:
                    self.db = None
            except (sqlite3.Error, OSError):
                self.db = None  # locked or unwritable: work without a cache
                return

    def _run(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        if self.db is None:
            return []
        try:
            return self.db.execute(sql, tuple(args)).fetchall()
        except sqlite3.Error:
            self.db = None
            return []

    def notes(self) -> dict[str, CachedNote]:
        rows = self._run("SELECT path, size, mtime_ns, recorded_ns, digest FROM notes")
        return {row[0]: CachedNote(*row) for row in rows}

    def iter_note_data(self) -> Iterator[tuple[str, bytes]]:
        """(path, data) of every entry, streamed: the whole table at once would double peak
        memory on a large vault."""
        if self.db is None:
            return
        try:
            yield from self.db.execute("SELECT path, data FROM notes")
        except sqlite3.Error:
            self.db = None

    def store_notes(self, rows: list[tuple[str, int, int, str, bytes]]) -> None:
        """Store (path, size, mtime_ns, digest, data) rows read in this session."""
        if rows:
            self._write("INSERT OR REPLACE INTO notes VALUES (?, ?, ?, ?, ?, ?)",
                        [(p, size, mtime, self.session_ns, dig, data)
                         for p, size, mtime, dig, data in rows])

    def touch_notes(self, paths: Iterable[str]) -> None:
        """Record that these entries were verified by content in this session."""
        self._write("UPDATE notes SET recorded_ns = ? WHERE path = ?",
                    [(self.session_ns, p) for p in paths])

    def forget_notes(self, paths: Iterable[str]) -> None:
        """Drop the entries of notes that are gone."""
        self._write("DELETE FROM notes WHERE path = ?", [(p,) for p in paths])

    def _write(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if self.db is None:
            return
        try:
            self.db.execute("BEGIN")
            self.db.executemany(sql, rows)
            self.db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")
            self.db = None

    def result(self, key: str) -> tuple[bytes, int] | None:
        """A whole command's output stored under ``key`` (and how many errors it had)."""
        rows = self._run("SELECT data, errors FROM results WHERE key = ?", (key,))
        return (bytes(rows[0][0]), int(rows[0][1])) if rows else None

    def store_result(self, key: str, data: bytes, errors: int) -> None:
        """Keep the output under ``key``, and only the newest few others."""
        self._write("INSERT OR REPLACE INTO results VALUES (?, ?, ?)", [(key, data, errors)])
        self._write(f"DELETE FROM results WHERE rowid NOT IN "
                    f"(SELECT rowid FROM results ORDER BY rowid DESC LIMIT {_RESULTS_KEPT})", [()])

    def snapshot(self, key: str) -> Iterator[bytes]:
        """The parts stored under ``key`` by ``store_snapshot``, in order, streamed."""
        if self.db is None:
            return
        try:
            for (data,) in self.db.execute(
                    "SELECT data FROM snapshots WHERE key = ? AND part >= 0 ORDER BY part",
                    (key,)):
                yield bytes(data)
        except sqlite3.Error:
            self.db = None

    def store_snapshot(self, key: str, parts: Iterable[bytes]) -> None:
        """Keep ``parts`` (made one at a time, as they are stored) under ``key``, and only
        the newest few other snapshots."""
        if self.db is None:
            return
        try:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM snapshots WHERE key = ?", (key,))
            self.db.executemany("INSERT INTO snapshots VALUES (?, ?, ?)",
                                ((key, i, part) for i, part in enumerate(parts)))
            self.db.execute(
                "DELETE FROM snapshots WHERE key NOT IN (SELECT key FROM snapshots "
                "GROUP BY key ORDER BY max(rowid) DESC LIMIT ?)", (_SNAPSHOTS_KEPT,))
            self.db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")
            self.db = None

    def update_snapshot(self, key: str, still: Callable[[bytes], bool],
                        parts: dict[int, bytes]) -> bool:
        """Replace some ``parts`` (by number) of the snapshot under ``key``, and drop its
        plan, if its first part is ``still`` the one this run read (another run may have
        stored another since). False when nothing was changed: store it whole instead."""
        if self.db is None:
            return False
        try:
            self.db.execute("BEGIN IMMEDIATE")
            head = self.db.execute("SELECT data FROM snapshots WHERE key = ? AND part = 0",
                                   (key,)).fetchone()
            ok = head is not None and still(bytes(head[0])) and all(
                self.db.execute("UPDATE snapshots SET data = ? WHERE key = ? AND part = ?",
                                (data, key, number)).rowcount == 1
                for number, data in parts.items())
            if ok:
                self.db.execute("DELETE FROM snapshots WHERE key = ? AND part = -1", (key,))
            self.db.execute("COMMIT" if ok else "ROLLBACK")
            return ok
        except Exception:  # a database error, or a first part that is no snapshot's
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")
            return False

    def plan(self, key: str) -> bytes | None:
        """The plan stored with the snapshot under ``key`` (``store_plan``)."""
        rows = self._run("SELECT data FROM snapshots WHERE key = ? AND part = -1", (key,))
        return bytes(rows[0][0]) if rows else None

    def store_plan(self, key: str, data: bytes) -> None:
        """Keep a plan with the snapshot under ``key``: a new snapshot drops it."""
        self._write("INSERT OR REPLACE INTO snapshots VALUES (?, -1, ?)", [(key, data)])

    def close(self) -> None:
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()
            self.db = None


def clear(cache_dir: Path) -> int:
    """Delete every cache file; return how many were removed."""
    removed = 0
    if not cache_dir.is_dir():
        return 0
    for path in cache_dir.glob("vault-*.sqlite*"):
        with contextlib.suppress(OSError):
            path.unlink()
            removed += 1
    return removed
