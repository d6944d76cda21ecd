"""A one-shot run's vault: the snapshot the last run stored, patched for the notes that
changed since, or built as the notes are read — and stored again for the next command."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import replace
from itertools import chain
from pathlib import Path

from .cache import RACY_NS
from .config import Config, load_config
from .contacts import Vault, build_vault
from .errors import VaultnetzError
from .index import NoteIndex, Progress, ReadSizes, Walked, open_cache
from .model import Problem
from .notes import FileStat, Note
from .patch import (
    MAX_LINKED,
    MAX_PATCHED,
    MENTIONS,
    NEW,
    REBUILD,
    link_targets,
    links_any,
    mention_sources,
    patch,
    reaches,
)
from .snapshot import (
    Links,
    NoteRow,
    Opened,
    built_of,
    decode_links,
    encode_changes,
    encode_snapshot,
    open_snapshot,
    snapshot_state,
)


class OneShotIndex(NoteIndex):
    """The index as a one-shot command uses it: ``load`` once, then it holds no notes."""

    from_snapshot = False  # the last load() read a snapshot of the built vault

    def cached_state(self, scanned: list[Walked]) -> str | None:
        """The digest of the notes' state as ``scanned`` (None without a cache).

        Output stored under this digest (with everything else it depends on) is still
        current: it was made from these very notes. A state is only ever stored when
        every note was old enough to be trusted by its mtime and could be read
        (``_build_as_read``, ``_from_snapshot``), so a note edited since has another size
        or mtime — even within one mtime tick — and no note needs to be looked up in the
        cache to know it.
        """
        if self.cache is None:
            return None
        return state_digest(
            ((rel, st.st_size, st.st_mtime_ns) for rel, st, _ in scanned if st is not None),
            [problem for _, st, problem in scanned if st is None])

    def load(self, scanned: list[Walked] | None = None, progress: Progress | None = None
             ) -> tuple[Vault, str | None]:
        """For a one-shot run: the vault, and the digest of the notes it is made from
        (None when some are too recent to be trusted by their mtime).

        ``scanned``: a ``scan()`` just made (else made here). The cache keeps a snapshot
        of the last vault built (per config), with the size and mtime of every note it
        was built from and what a change to it can touch. When the notes are still
        those, the snapshot is the vault; when a few notes changed, were added or
        removed in ways that reach no further than their own contact, problems and
        mentions, just those are read and the vault patched (``patch``); else every note
        is built as it is read or decoded (``_build_as_read``), and a snapshot stored —
        also after a cold read, so that the next command, whatever it is, starts from it.
        The index holds no notes afterwards.
        """
        if scanned is None:
            scanned = self.scan()
        vault, state = self._load(scanned, progress)
        return replace(vault, read_sizes=ReadSizes((rel, st.st_size) for rel, st, _ in scanned
                                                   if st is not None),
                       skipped=dict(self.skipped),
                       stored=None if state is None or self.cache is None
                       else (self._snapshot_key(), state)), state

    def _load(self, scanned: list[Walked], progress: Progress | None
              ) -> tuple[Vault, str | None]:
        if self.cache is not None:
            opened = None
            with contextlib.suppress(Exception):  # damaged: built afresh below
                opened = open_snapshot(self.cache.snapshot(self._snapshot_key()))
            found = self._from_snapshot(opened, scanned) if opened is not None else None
            if found is not None:
                self.from_snapshot = True
                return found
        vault, notes, state = self._build_as_read(scanned, progress)
        if state is not None:
            reach = reaches(vault, ((path, not targets) for path, _, _, targets in notes),
                            self._may_be_plain)
            sources = mention_sources(vault.contacts)
            self._store_snapshot(vault, [
                (path, size, mtime_ns, reach[path], tuple(sorted(sources.get(path, ()))))
                for path, size, mtime_ns, _ in notes],
                {path: targets for path, _, _, targets in notes if targets},
                self._walk_problems, state)
        return vault, state

    def _build_as_read(self, scanned: list[Walked], progress: Progress | None
                       ) -> tuple[Vault, list[tuple[str, int, int, tuple[str, ...]]], str | None]:
        """A one-shot run's build: each note goes into the build as it is read or decoded
        and is forgotten (the index is empty afterwards), so that a large vault's notes and
        contacts are never all in memory together.

        Returns the vault, each note's (path, size, mtime, ``link_targets``) and the notes'
        state: None when a note is too recent to be trusted by its mtime or could
        not be read.
        """
        reads = self._reads(scanned, set())
        self._walk_problems = reads.walk_problems
        notes: list[tuple[str, int, int, tuple[str, ...]]] = []
        limit = self.cache.session_ns - RACY_NS if self.cache is not None else None
        vouched = limit is not None

        def handed() -> Iterator[Note]:
            nonlocal vouched
            kept, self._notes = reads.kept, {}
            for note in chain(kept.values(), (note for _, note in self._read_fresh(
                    reads, progress))):
                notes.append((note.path, note.size, note.mtime_ns,
                              link_targets(note, self.config)))
                if limit is None or note.mtime_ns >= limit or (note.problems
                                                               and unread(note)):
                    vouched = False
                yield note

        vault = build_vault(self.root, self.config, handed(), self._problems())
        self._settle(reads, (path for path, _, _, _ in notes))
        state = None
        if vouched and self.cache is not None and self.cache.db is not None:
            state = state_digest(((path, size, mtime_ns) for path, size, mtime_ns, _ in notes),
                                  self._walk_problems)
        return vault, notes, state

    def _store_snapshot(self, vault: Vault, stats: list[NoteRow], links: Links | bytes,
                        walk_problems: list[Problem], state: str) -> None:
        """Keep ``vault`` with each note's stats (``NoteRow``) and ``Links``."""
        if self.cache is None:
            return
        self.cache.store_snapshot(self._snapshot_key(), encode_snapshot(
            built_of(vault), stats, links, walk_problems, state))

    def _from_snapshot(self, opened: Opened, scanned: list[Walked]
                       ) -> tuple[Vault, str | None] | None:
        """The vault from the snapshot ``opened`` for the notes ``scanned`` now, or None
        when it must be built afresh (then its vault is never decoded)."""
        stats, walk_problems, state, decode, stored_links = opened
        if [p for _, st, p in scanned if st is None] != walk_problems:
            return None
        changed: list[tuple[str, FileStat, int]] = []  # (path, stat now, its reach; NEW)
        seen = 0
        for rel, st, _ in scanned:
            if st is None:
                continue
            known = stats.get(rel)
            if known is None:
                changed.append((rel, st, NEW))
            else:
                seen += 1
                if known[0] == st.st_size and known[1] == st.st_mtime_ns:
                    continue
                if known[2] == REBUILD:
                    return None
                changed.append((rel, st, known[2]))
            if len(changed) > MAX_PATCHED:
                return None
        removed = []
        if seen != len(stats):
            present = {rel for rel, st, _ in scanned if st is not None}
            removed = [rel for rel in stats if rel not in present]
            if len(removed) + len(changed) > MAX_PATCHED \
                    or any(stats[rel][2] == REBUILD for rel in removed):
                return None
        built = None
        with contextlib.suppress(Exception):  # damaged: built afresh
            built = decode()
        if built is None:
            return None
        vault = Vault(self.root, self.config, *built)
        if not changed and not removed:
            return vault, state
        assert self.cache is not None
        earlier = self.cache.plan(self._snapshot_key())  # before a new snapshot drops it
        notes = []
        read: dict[str, Note] = {}  # every note read for the patch
        for rel, st, reach in changed:
            note = self._read(rel, st)
            assert note is not None  # without a known digest, always a note
            read[rel] = note
            notes.append((note, reach))

        links: Links | None = None  # decoded only when needed

        def linking(words: set[str]) -> list[Note] | None:
            """The unchanged notes whose links may resolve otherwise (``patch.Linking``),
            read again, with whom they mentioned (as stored) among the ``sources``."""
            nonlocal links
            links = decode_links(stored_links) if links is None else links
            found: list[Note] = []
            for rel, targets in links.items():
                if rel not in read and rel not in gone and links_any(targets, words):
                    size, mtime_ns, reach, mentions = stats[rel]
                    if reach == REBUILD or len(found) == MAX_LINKED:
                        return None
                    note = self._read(rel, FileStat(size, mtime_ns))
                    assert note is not None  # without a known digest, always a note
                    read[rel] = note
                    found.append(note)
                    if mentions:
                        sources[rel] = set(mentions)
            return found

        gone = set(removed)
        # Whom the changed and removed notes mentioned, as stored: no contact's interactions
        # need be looked through (nor decoded) to find their mentions.
        sources = {rel: set(stats[rel][3]) for rel in chain(
            (rel for rel, _, _ in changed), removed) if rel in stats and stats[rel][3]}
        patched = patch(vault, notes, removed, self.config, self._may_be_plain, sources,
                        linking)
        self.cache.store_notes(self._to_store)
        self._to_store = []
        if patched is None:
            return None
        earlier_contacts = vault.contacts
        vault = replace(patched.vault, patched_from=None if earlier is None else (
            earlier_contacts, state, earlier))
        now = patched.reach
        limit = self.cache.session_ns - RACY_NS
        if any(st.st_mtime_ns >= limit for _, st, _ in changed) or any(
                note.problems and unread(note) for note in read.values()):
            return vault, None  # too recent to vouch for: no stored feed, no new snapshot
        entries = [(rel, st.st_size, st.st_mtime_ns) for rel, st, _ in scanned if st is not None]
        before, state = state, state_digest(entries, walk_problems)
        notes_now = [
            (rel, size, mtime_ns, now[rel], tuple(sorted(sources.get(rel, ()))))
            if rel in now else (rel, size, mtime_ns, *stats[rel][2:])
            for rel, size, mtime_ns in entries]
        # The links' targets: as stored, unless a note that had or has some changed.
        targets = {rel: link_targets(note, self.config) for rel, note in read.items()}
        links_now: Links | bytes = stored_links
        if any(targets.values()) or any(stats[rel][2] & MENTIONS for rel in chain(
                (rel for rel, _, _ in changed), removed) if rel in stats):
            links_now = decode_links(stored_links) if links is None else links
            for rel in chain(removed, targets):
                links_now.pop(rel, None)
            links_now.update((rel, found) for rel, found in targets.items() if found)
        # Only the parts that changed are written, when the snapshot read is still there
        # and every contact kept its place (the unchanged ones are the same objects).
        if len(earlier_contacts) != len(vault.contacts):
            self._store_snapshot(vault, notes_now, links_now, walk_problems, state)
            return vault, state
        renewed = [i for i, (a, b) in enumerate(zip(earlier_contacts, vault.contacts,
                                                    strict=True)) if a is not b]
        if not self.cache.update_snapshot(
                self._snapshot_key(), lambda head: snapshot_state(head) == before,
                encode_changes(built_of(vault), notes_now, links_now, walk_problems, state,
                               renewed)):
            self._store_snapshot(vault, notes_now, links_now, walk_problems, state)
        return vault, state

    def _snapshot_key(self) -> str:
        """What a built vault depends on besides its notes: the config and its problems."""
        text = repr(("vault", self.config, self.config_problems, sorted(self.ignore),
                     [what for what, _ in self.skip_rules]))
        return hashlib.blake2b(text.encode("utf-8", "surrogateescape"),
                               digest_size=20).hexdigest()


def unread(note: Note) -> bool:
    """Whether the note could not be read: made readable again (a `chmod`), it keeps its
    size and mtime, so no state that includes it is vouched for."""
    return any(problem.code == "unreadable" for problem in note.problems)


def state_digest(entries: Iterable[tuple[str, int, int]], problems: Iterable[Problem | None]
                 ) -> str:
    """A digest of (path, size, mtime) of every note, in path order, and the walk's problems."""
    hasher = hashlib.blake2b(digest_size=20)
    for path, size, mtime_ns in sorted(entries):
        hasher.update(f"{path}\0{size}\0{mtime_ns}\n".encode("utf-8", "surrogateescape"))
    hasher.update(repr(list(problems)).encode("utf-8", "surrogateescape"))
    return hasher.hexdigest()


def load_vault(root: Path, config: Config | None = None, cache_dir: Path | None = None,
               progress: Progress | None = None, jobs: int | None = None) -> Vault:
    """Read every note of the vault at ``root`` (through the cache in ``cache_dir``, if any).

    ``progress(done, total)`` is called now and then while notes are read; ``jobs``
    is how many processes read them on a cold start (None: as the cores allow).
    """
    if not root.is_dir():
        raise VaultnetzError(f"the vault {str(root)!r} is not a folder",
                             "pass --vault PATH or set VAULTNETZ_VAULT")
    cache = open_cache(cache_dir, root, config or load_config(root)[0]) if cache_dir else None
    try:
        return OneShotIndex(root, config, cache, jobs=jobs).load(progress=progress)[0]
    finally:
        if cache is not None:
            cache.close()
