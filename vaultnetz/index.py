"""The notes of a vault: find the vault, walk it, read its notes (through the cache and
helper processes) and keep them current for the watcher; ``load`` is a one-shot run's."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .cache import Cache, CachedNote, cache_file, decode_note, encode_note
from .config import CONFIG_NAME, Config, load_config
from .contacts import (
    BuildMemo,
    ContactLookup,
    Vault,
    build_vault,
    in_people_folder,
    mention_day,
)
from .errors import VaultnetzError
from .model import Problem
from .notes import (
    FileStat,
    Note,
    ParseSettings,
    file_stat,
    is_ignored_name,
    read_note,
    walk_notes,
)
from .patch import (
    MAX_LINKED,
    MAX_PATCHED,
    NEW,
    REBUILD,
    links_any,
    mention_sources,
    patch,
    reaches,
)
from .skips import skip_rules, skipped_by
from .trips import in_trip_folder

if TYPE_CHECKING:
    from .parallel import Wanted

Walked = tuple[str, FileStat | None, Problem | None]  # one item of a vault's walk
Progress = Callable[[int, int], None]  # (notes read, notes to read)


class ReadSizes(Mapping[str, int]):
    """Each note's size when it was read, by path; made into a table only when a write
    asks (most commands never do, and at 50,000 notes the table is 2 MB of peak memory)."""

    def __init__(self, pairs: Iterable[tuple[str, int]]) -> None:
        self._pairs: Iterable[tuple[str, int]] | None = pairs
        self._table: dict[str, int] = {}

    def _sizes(self) -> dict[str, int]:
        if self._pairs is not None:
            self._table, self._pairs = dict(self._pairs), None
        return self._table

    def __getitem__(self, path: str) -> int:
        return self._sizes()[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sizes())

    def __len__(self) -> int:
        return len(self._sizes())


def find_vault(explicit: str | None, env: Mapping[str, str], cwd: Path) -> Path:
    """--vault → $VAULTNETZ_VAULT → nearest ancestor with vaultnetz.toml or .obsidian/ → cwd."""
    if explicit:
        return Path(explicit)
    if env.get("VAULTNETZ_VAULT"):
        return Path(env["VAULTNETZ_VAULT"])
    for folder in (cwd, *cwd.parents):
        if is_vault(folder, people_folders=()):
            return folder
    return cwd


def is_vault(folder: Path, people_folders: Iterable[str] = ("People",)) -> bool:
    """Whether ``folder`` looks like a vault: vaultnetz.toml, .obsidian/ or a people folder."""
    if (folder / CONFIG_NAME).is_file() or (folder / ".obsidian").is_dir():
        return True
    return any((folder / p).is_dir() for p in people_folders)


def require_vault(root: Path, searched: bool) -> Path:
    """``root``, when it is a vault; else an error that says where vaultnetz looked and how
    to start (no command runs, or writes, in a folder that is no vault)."""
    if not root.is_dir():
        raise VaultnetzError(f"the vault {str(root)!r} is not a folder",
                             "pass --vault PATH or set VAULTNETZ_VAULT")
    if is_vault(root):
        return root
    where = f"in {root} and its parents" if searched else f"in {root}"
    raise VaultnetzError(
        f"no vault here: looked for vaultnetz.toml or .obsidian/ {where}, and for a People/ "
        f"folder in {root}",
        f"start one with `vaultnetz init {root}`, or pass --vault PATH (or set "
        "VAULTNETZ_VAULT) to your notes")


@dataclass
class _Reads:
    """What one refresh does with each note, and what it found doing it."""

    cached: dict[str, CachedNote]  # the cache's entries (path, size, mtime, digest)
    kept: dict[str, Note] = field(default_factory=dict)  # unchanged: the note it has
    from_cache: dict[str, FileStat] = field(default_factory=dict)  # to decode
    to_read: list[Wanted] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)  # racy entries whose content matched
    walk_problems: list[Problem] = field(default_factory=list)


class NoteIndex:
    """The notes of one vault, kept current by re-reading only what changed.

    The CLI refreshes it once (with the on-disk cache behind it); the watcher
    keeps one in memory and refreshes it on every change.
    """

    def __init__(self, root: Path, config: Config | None = None, cache: Cache | None = None,
                 *, keep_last_good: bool = False, ignore: Iterable[str] = (),
                 memoize: bool = False, jobs: int | None = None) -> None:
        # keep_last_good and memoize: for the watcher, which refreshes the same index often.
        if not root.is_dir():
            raise VaultnetzError(f"the vault {str(root)!r} is not a folder",
                                 "pass --vault PATH or set VAULTNETZ_VAULT")
        self.root = root
        self.config_problems: list[Problem] = []
        if config is None:
            config, self.config_problems = load_config(root)
        self.config = config
        self.settings = parse_settings(config)
        self.cache = cache
        self.jobs = jobs  # processes reading a cold vault; None: as the cores allow
        self.keep_last_good = keep_last_good
        # The agenda note is written by vaultnetz and never read as input.
        self.ignore = {i.replace("\\", "/") for i in ignore} | (
            {config.agenda_note} if config.agenda_note else set())
        self.skip_rules = skip_rules(root, config.exclude)  # templates, `exclude`
        self.skipped: dict[str, int] = {}  # notes each rule skipped in the last scan
        self.stale: dict[str, tuple[Problem, ...]] = {}  # broken now, last good state kept
        self._notes: dict[str, Note] = {}
        self._walk_problems: list[Problem] = []
        self._vault: Vault | None = None
        self._to_store: list[tuple[str, int, int, str, bytes]] = []
        self._memo = BuildMemo() if memoize else None
        # The watcher's (memoize): the last vault built or patched, what a change to each of
        # its notes can touch, which contacts each note mentions, the walk's problems then,
        # and the notes changed since.
        self._built: Vault | None = None
        self._reach: dict[str, int] = {}
        self._sources: dict[str, set[str]] = {}
        self._lookup: ContactLookup | None = None  # for _built's contacts, once made
        self._built_problems: list[Problem] = []
        self._dirty: set[str] = set()
        self._folders: dict[str, set[str]] | None = None  # see _folder_notes
        self._links: list[str] = []  # symbolic links in the vault (last scan)
        self.parsed = 0  # notes parsed in the last refresh (for tests and benchmarks)
        self.delivered = 0  # of those, parsed by helper processes

    def scan(self) -> list[Walked]:
        """Every note's path and stat (or the problem reading it), without reading notes."""
        links: list[str] = []
        scanned = []
        skipped: dict[str, int] = {}
        for item in walk_notes(self.root, links):
            if item[0] in self.ignore:
                continue
            rule = skipped_by(self.skip_rules, item[0]) if self.skip_rules else None
            if rule is not None:
                skipped[rule] = skipped.get(rule, 0) + 1
                continue
            scanned.append(item)
        self._links = links
        self.skipped = skipped
        return scanned

    def refresh(self, force: Iterable[str] = (), scanned: list[Walked] | None = None,
                progress: Progress | None = None) -> bool:
        """Re-read the notes whose size or mtime changed, and those in ``force``.

        ``scanned`` is a ``scan()`` just made (else the vault is walked here).
        ``progress(done, total)`` is called now and then while notes are read.
        Returns True when anything changed (a note, a new or deleted note, a problem).
        """
        reads = self._reads(self.scan() if scanned is None else scanned, set(force))
        notes = reads.kept
        fresh: dict[str, Note] = {}  # read or parsed in this refresh
        for rel, note in self._read_fresh(reads, progress):
            fresh[rel] = note
        for rel, note in fresh.items():
            notes[rel] = self._keep(rel, note)
        if self._memo is not None:
            self._dirty.update(fresh)
        if self.keep_last_good:
            self._keep_unreadable(reads.walk_problems, notes)
        removed = self._notes.keys() - notes.keys()
        for gone in removed:
            self.stale.pop(gone, None)
        if self._memo is not None:
            self._dirty.update(removed)
        changed = bool(fresh) or bool(removed) or reads.walk_problems != self._walk_problems
        self._settle(reads, notes.keys() | removed)
        self._notes, self._walk_problems = notes, reads.walk_problems
        self._folders = None
        if self._memo is not None:  # the watcher: made now, not on its first edit's event
            self._folder_notes()
        if changed:
            self._vault = None
        return changed

    def _reads(self, scanned: list[Walked], forced: set[str]) -> _Reads:
        """What a refresh must do with each of the notes ``scanned``: keep the note it
        has, decode the cache's entry, or read it."""
        reads = _Reads(cached=self.cache.notes() if self.cache is not None and not self._notes
                       else {})
        self._to_store = []
        self.parsed = self.delivered = 0
        for rel, st, problem in scanned:
            if problem is not None:
                reads.walk_problems.append(problem)
                continue
            assert st is not None
            old = self._notes.get(rel)
            if (old is not None and rel not in forced and old.size == st.st_size
                    and old.mtime_ns == st.st_mtime_ns):
                reads.kept[rel] = old
                self.stale.pop(rel, None)  # readable again, as it was
                continue
            entry = reads.cached.get(rel)
            if entry is not None and entry.matches(st.st_size, st.st_mtime_ns) and entry.trusted:
                reads.from_cache[rel] = st
                continue
            known = entry.digest if entry is not None and entry.matches(
                st.st_size, st.st_mtime_ns) else ""
            reads.to_read.append((rel, st.st_size, st.st_mtime_ns, known))
        return reads

    def _read_fresh(self, reads: _Reads, progress: Progress | None
                    ) -> Iterator[tuple[str, Note]]:
        """(path, note) of every note ``reads`` says to read or decode, as each comes."""
        delivered: set[str] = set()
        for rel, st, note in self._read_all(reads.to_read, progress):
            if note is None:
                reads.from_cache[rel] = st  # racy entry, but its content hash still matches
                reads.verified.append(rel)
            else:
                delivered.add(rel)
                yield rel, note
        if reads.from_cache and self.cache is not None:
            # One pass over the cache, decoding one entry at a time: bounded memory.
            for path, data in self.cache.iter_note_data():
                wanted = reads.from_cache.get(path)
                if wanted is not None and path not in delivered:
                    decoded = None
                    with contextlib.suppress(Exception):  # damaged: parsed again below
                        decoded = decode_note(data, path)
                    if decoded is not None and (decoded.path, decoded.size,
                                                decoded.mtime_ns) == (path, wanted.st_size,
                                                                      wanted.st_mtime_ns):
                        delivered.add(path)
                        yield path, decoded
        for rel, st in reads.from_cache.items():
            if rel not in delivered:  # missing or damaged in the cache: parse it
                note = self._read(rel, st)
                assert note is not None  # without a known digest, always a note
                yield rel, note

    def _settle(self, reads: _Reads, present: Iterable[str]) -> None:
        """The cache brought up to date after a refresh: the notes read stored, the racy
        entries verified, those of notes that are gone dropped."""
        if self.cache is not None:
            self.cache.store_notes(self._to_store)
            self.cache.touch_notes(reads.verified)
            gone = reads.cached.keys() - set(present)
            if gone:
                self.cache.forget_notes(gone)
        self._to_store = []

    def _keep(self, rel: str, note: Note) -> Note:
        """The note to keep for ``rel`` now that ``note`` was read."""
        old = self._notes.get(rel)
        if self.keep_last_good and old is not None and old.ok and not note.ok:
            # The watcher: a note saved half-way, emptied for a moment, grown over the size
            # limit or unreadable keeps its last good state, reported.
            self.stale[rel] = note.problems
            return old
        self.stale.pop(rel, None)
        return note

    def _keep_unreadable(self, walk_problems: list[Problem], notes: dict[str, Note]) -> None:
        """The watcher: the notes of a folder (or a note) that cannot be read now keep their
        last good state, reported with the reason, instead of vanishing from the feed."""
        for problem in walk_problems:
            if problem.code not in ("unreadable-folder", "unreadable"):
                continue
            prefix = "" if problem.path == "." else problem.path + "/"
            for path, old in self._notes.items():
                if path not in notes and (path == problem.path or path.startswith(prefix)):
                    notes[path] = old
                    self.stale[path] = (problem,)

    def refresh_changed(self, files: Iterable[str], folders: Iterable[str] = ()) -> bool:
        """``refresh()`` for the watcher, which knows what changed: only these files, and
        the entries of these folders (added or removed), are looked at.

        Whatever a stat of the file cannot settle — a symbolic link, a folder created,
        moved or deleted, an unreadable path — falls back to a full ``refresh()``.
        Returns True when anything changed.
        """
        paths = set(files)
        changed = False

        def walk_it_all() -> bool:
            # What was already changed here counts too: the full refresh compares with it.
            if changed:
                self._vault = None
            return self.refresh(force=paths) or changed

        if self._links or (not self._notes and not self._walk_problems):
            # A change to a link's target is no event of the link's: walk it all.
            return walk_it_all()
        for folder in folders:
            if any(is_ignored_name(part) for part in folder.split("/") if part):
                continue
            entries = self._note_names(folder)
            if entries is None:
                return walk_it_all()
            prefix = f"{folder}/" if folder else ""
            paths |= {prefix + name for name in entries} ^ self._folder_notes().get(folder, set())
        problem_paths = {p.path for p in self._walk_problems}
        for rel in sorted(paths):
            parts = rel.split("/")
            if rel in self.ignore or any(is_ignored_name(part) for part in parts) or (
                    self.skip_rules and skipped_by(self.skip_rules, rel)):
                continue
            if rel in problem_paths or any(p.startswith(rel + "/") for p in problem_paths):
                return walk_it_all()
            try:
                st = os.lstat(self.root / rel)
            except (FileNotFoundError, NotADirectoryError):
                if rel in self._notes:
                    del self._notes[rel]
                    self._folder_notes().get(_folder_of(rel), set()).discard(rel)
                    self._dirty.add(rel)
                    self.stale.pop(rel, None)
                    changed = True
                elif any(p.startswith(rel + "/") for p in self._notes):
                    return walk_it_all()  # a folder is gone
                continue
            except OSError:
                return walk_it_all()
            if stat.S_ISLNK(st.st_mode) or stat.S_ISDIR(st.st_mode):
                return walk_it_all()
            if not rel.lower().endswith(".md"):
                continue
            if not stat.S_ISREG(st.st_mode):
                return walk_it_all()  # a pipe or a device: the walk reports it
            note = self._read(rel, file_stat(st))
            assert note is not None  # without a known digest, always a note
            if rel not in self._notes:
                self._folder_notes().setdefault(_folder_of(rel), set()).add(rel)
            self._notes[rel] = self._keep(rel, note)
            self._dirty.add(rel)
            changed = True
        if self.cache is not None:
            self.cache.store_notes(self._to_store)
        self._to_store = []
        if changed:
            self._vault = None
        return changed

    def _note_names(self, folder: str) -> set[str] | None:
        """The names of the notes directly in ``folder`` (None: not a plain folder)."""
        path = self.root / folder if folder else self.root
        try:
            if folder and os.path.islink(path):
                return None
            names = os.listdir(path)
        except OSError:
            return None
        return {name for name in names if name[-3:].lower() == ".md"
                and not is_ignored_name(name)}

    def _folder_notes(self) -> dict[str, set[str]]:
        """Folder → the paths of the notes directly in it (made when first asked for after
        a walk, then kept up to date by ``refresh_changed``)."""
        if self._folders is None:
            self._folders = {}
            for path in self._notes:
                self._folders.setdefault(_folder_of(path), set()).add(path)
        return self._folders

    def _read(self, rel: str, st: FileStat, known: str = "") -> Note | None:
        """Read and parse a note; None when its content's digest is ``known`` (the cache
        entry is right after all)."""
        note, content = read_note(str(self.root), rel, st, self.settings, known or None)
        if note is not None and content is not None:
            self.parsed += 1
            self._store(rel, st, content,
                        encode_note(note) if self.cache is not None else None)
        return note

    def _store(self, rel: str, st: FileStat, content: str, encoded: bytes | None) -> None:
        """Record a note read in this session. One whose front-matter the cache's format
        cannot hold is recorded without data: its size and mtime still vouch for the
        vault's state (a stored feed, a snapshot), and it is parsed whenever needed."""
        if self.cache is not None:
            self._to_store.append((rel, st.st_size, st.st_mtime_ns, content, encoded or b""))
            if len(self._to_store) >= 500:  # bounded memory on a cold start
                self.cache.store_notes(self._to_store)
                self._to_store = []

    def _read_all(self, to_read: list[Wanted], progress: Progress | None
                  ) -> Iterator[tuple[str, FileStat, Note | None]]:
        """(path, stat, note or None as ``_read`` gives it) for each note to read.

        Many notes (a cold start) are shared with helper processes, one per core;
        whatever a helper does not deliver is read here.
        """
        from .parallel import Helper, processes_for, share_out  # only when notes are read

        total = len(to_read)
        processes = processes_for(total, self.jobs)
        shares = share_out(to_read, processes)
        helpers = [Helper(self.root, self.settings, share) for share in shares[1:]]
        done = 0

        def one_more() -> None:
            nonlocal done
            done += 1
            if progress is not None and (done % 250 == 0 or done == total):
                progress(done, total)

        def delivered(wait: bool) -> Iterator[tuple[str, FileStat, Note | None]]:
            for helper in helpers:
                for rel, content, encoded in helper.delivered(wait=wait):
                    wanted = helper.wanted[rel]
                    note = self._delivered(wanted, content, encoded)
                    if note is not False:
                        del helper.wanted[rel]
                        one_more()
                        yield rel, FileStat(wanted[1], wanted[2]), note

        try:
            for i, (rel, size, mtime_ns, known) in enumerate(shares[0], 1):
                st = FileStat(size, mtime_ns)
                yield rel, st, self._read(rel, st, known)
                one_more()
                if i % 250 == 0:
                    yield from delivered(wait=False)
            yield from delivered(wait=True)
        finally:
            for helper in helpers:
                helper.close()
        for helper in helpers:  # what a helper did not deliver
            for rel, size, mtime_ns, known in list(helper.wanted.values()):
                st = FileStat(size, mtime_ns)
                yield rel, st, self._read(rel, st, known)
                one_more()

    def _delivered(self, wanted: Wanted, content: str, encoded: bytes | None
                   ) -> Note | Literal[False] | None:
        """A note a helper read: None when the cache's entry is right (as from ``_read``),
        False when the delivery is no good (the note is read here instead)."""
        rel, size, mtime_ns, known = wanted
        if encoded is None:
            return None if known and content == known else False
        try:
            note = decode_note(encoded, rel)
        except Exception:  # anything odd: read it here
            return False
        if (note.path, note.size, note.mtime_ns) != (rel, size, mtime_ns):
            return False
        self.parsed += 1
        self.delivered += 1
        self._store(rel, FileStat(size, mtime_ns), content, encoded)
        return note

    def vault(self) -> Vault:
        """The vault of the notes as they are now: for the watcher (``memoize``), the last
        one patched for the notes changed since, when their changes reach no further
        than their own contact, problems and mentions (``patch``); else built afresh."""
        if self._vault is None:
            vault = self._patched_vault()
            if vault is None:
                notes = [self._notes[path] for path in sorted(self._notes)]
                vault = build_vault(self.root, self.config, notes, self._problems(),
                                    self._memo)
                self._lookup = self._memo.current_lookup() if self._memo is not None else None
                if self._memo is not None:
                    self._reach = reaches(vault, ((n.path, mention_day(n, self.config) is None)
                                                  for n in notes),
                                          self._may_be_plain)
                    self._sources = mention_sources(vault.contacts)
                    self._built_problems = list(self._walk_problems)
            self._dirty.clear()
            notes_now = list(self._notes.values())  # their sizes: only if a write asks
            self._vault = replace(vault, read_sizes=ReadSizes(
                (note.path, note.size) for note in notes_now), skipped=dict(self.skipped))
            self._built = self._vault if self._memo is not None else None
        return self._vault

    def _patched_vault(self) -> Vault | None:
        """The last vault built, patched for the notes changed since; None: build afresh."""
        if (self._built is None or not self._dirty or len(self._dirty) > MAX_PATCHED
                or self.stale or self._walk_problems != self._built_problems):
            return None
        changed: list[tuple[Note, int]] = []
        removed: list[str] = []
        for rel in sorted(self._dirty):
            note, reach = self._notes.get(rel), self._reach.get(rel, NEW)
            if reach == REBUILD:
                return None
            if note is not None:
                changed.append((note, reach))
            elif reach != NEW:  # else added and removed again since
                removed.append(rel)

        def linking(words: set[str]) -> list[Note] | None:
            """The unchanged notes whose links may resolve otherwise (``patch.Linking``)."""
            found: list[Note] = []
            for path, note in self._notes.items():
                if note.links and path not in self._dirty and links_any(
                        (link.target for link in note.links), words):
                    if self._reach.get(path) == REBUILD or len(found) == MAX_LINKED:
                        return None
                    found.append(note)
            return found

        patched = patch(self._built, changed, removed, self.config, self._may_be_plain,
                        self._sources, linking, self._lookup)
        if patched is None:
            return None
        for rel in removed:
            del self._reach[rel]
        self._reach.update(patched.reach)
        self._lookup = patched.lookup
        return patched.vault

    def _may_be_plain(self, path: str) -> bool:
        """Not in a people folder or a trip folder: a note there is a contact or a trip."""
        return not (in_people_folder(path, self.config.people_folders)
                    or in_trip_folder(path, self.config))

    def _problems(self) -> list[Problem]:
        walked = set(self._walk_problems)
        stale = dict.fromkeys(p for problems in self.stale.values() for p in problems
                              if p not in walked)  # a folder's problem once, not per note
        return self.config_problems + self._walk_problems + list(stale)


def _folder_of(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def parse_settings(config: Config) -> ParseSettings:
    return ParseSettings(config.log_heading, config.max_note_size,
                         "|".join(("date", *config.fields.get("date", ()))))


def cache_fingerprint(config: Config) -> str:
    """The settings that change how a note parses: a change empties the cache."""
    return "\0".join(map(str, parse_settings(config)))


def open_cache(cache_dir: Path, root: Path, config: Config) -> Cache:
    return Cache(cache_file(cache_dir, root), cache_fingerprint(config))
