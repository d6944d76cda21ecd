"""What a change to a note can touch, and a built vault patched for a few changed notes.

One set of rules for the one-shot commands (patching the snapshot of the last build) and
for the watcher (patching the vault it keeps). A changed note gives its contact anew
(keeping the mentions of it), its trip, its problems and the mentions it makes; a contact
added, removed, renamed, broken or mended also has the dated notes whose links may resolve
otherwise now (``linking``) read again with it. Only too many changed notes at once are
built afresh (and, by the callers, another config or other problems walking the vault).
Pure: no file access.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from operator import attrgetter
from typing import NamedTuple

from .config import Config
from .contacts import (
    ContactLookup,
    Vault,
    contact_from_note,
    duplicate_problems,
    in_people_folder,
    is_contact_note,
    mention_day,
    mentions_in,
)
from .model import Contact, Interaction, Problem
from .notes import Note, link_key
from .trips import Trip, in_trip_folder, trip_from_note

# What a note is, for what a change to it can touch (its "reach"): a contact's note (its
# contact), a plain note (only its problems: most notes of a vault — projects, meetings,
# ideas), a trip note (its trip), a contact note that cannot be read as one (a broken
# contact: its contact is gone); with MENTIONS, its links are mentions of the contacts they
# link (it has a date: a daily note, DATED). REBUILD: anything (build afresh).
REBUILD, CONTACT, PLAIN, TRIP, BROKEN = 0, 1, 2, 4, 5
MENTIONS = 8
DATED = PLAIN | MENTIONS
NEW = -1  # a note the last build did not have
MAX_PATCHED = 50  # more changed notes than this: build afresh
MAX_LINKED = 1000  # more notes whose links may resolve otherwise after a rename: the same


def reaches(vault: Vault, notes: Iterable[tuple[str, bool]],
            may_be_plain: Callable[[str], bool]) -> dict[str, int]:
    """What a change to each of ``notes`` — (path, whether it mentions nobody: no
    ``mention_day``) — can touch."""
    contacts = {c.path for c in vault.contacts}
    skipped = set(vault.broken_contacts)
    return {path: _reach(path, path in contacts, path in skipped, not mentions_nobody,
                         vault.config, may_be_plain) for path, mentions_nobody in notes}


def _reach(path: str, contact: bool, broken: bool, mentions: bool, config: Config,
           may_be_plain: Callable[[str], bool]) -> int:
    kind = (CONTACT if contact else BROKEN if broken else TRIP if in_trip_folder(path, config)
            else PLAIN if may_be_plain(path) else REBUILD)
    return kind | MENTIONS if mentions and kind != REBUILD else kind


def link_targets(note: Note, config: Config) -> tuple[str, ...]:
    """The targets of a note's links, once each, when they are mentions (``mention_day``);
    none when the note mentions nobody."""
    if mention_day(note, config) is None:
        return ()
    return tuple(dict.fromkeys(link.target for link in note.links))


def mention_sources(contacts: Iterable[Contact]) -> dict[str, set[str]]:
    """Note path → the paths of the contacts it mentions."""
    sources: dict[str, set[str]] = {}
    for contact in contacts:
        for interaction in contact.interactions:
            if interaction.source == "mention":
                sources.setdefault(interaction.path, set()).add(contact.path)
    return sources


def name_keys(contact: Contact) -> set[str]:
    """The keys a link resolves to ``contact`` by (``ContactLookup``): its path, file
    name, name and aliases."""
    stem = contact.path.rsplit("/", 1)[-1]
    return {link_key(key) for key in (contact.path, stem, contact.name, *contact.aliases)}


def words(keys: Iterable[str]) -> set[str]:
    """Name keys without their folders: a link that may resolve by one of ``keys`` comes
    down to one of these (``links_any``)."""
    return {key.rsplit("/", 1)[-1] for key in keys}


def links_any(targets: Iterable[str], wanted: set[str]) -> bool:
    """Whether a link to one of ``targets`` may resolve by one of the ``wanted`` words: its
    key without its folders, also as the lookup falls back to it (``ContactLookup``)."""
    squashed = ["".join(word.split()) for word in wanted]
    for target in targets:
        # Most are ruled out at once: a word is part of the target's key, as is what is
        # left of each once all spaces are taken out.
        plain = target if target.isascii() else unicodedata.normalize("NFC", target)
        plain = "".join(plain.casefold().split())
        if not any(word in plain for word in squashed):
            continue
        tail = link_key(target).rsplit("/", 1)[-1]
        if tail in wanted or link_key(tail) in wanted:
            return True
    return False


# The unchanged dated notes whose links may resolve otherwise when a name with one of these
# ``words`` comes or goes, as notes — or None when they are too many (build afresh).
Linking = Callable[[set[str]], list[Note] | None]


class Patched(NamedTuple):
    vault: Vault
    reach: dict[str, int]  # of each note read for the patch, now
    lookup: ContactLookup | None  # for the vault's contacts, when there is one


@dataclass
class _Changes:
    """What the changed notes are now, as ``patch`` works it out."""

    touched: set[str]  # the changed and removed notes' paths (then those read again too)
    bases: dict[str, Contact] = field(default_factory=dict)  # built anew, no mentions yet
    gone: set[str] = field(default_factory=set)  # contacts no more
    renamed: bool = False  # a contact came, went, or has another name or aliases
    keys: set[str] = field(default_factory=set)  # names that came or went (link keys)
    problems: list[Problem] = field(default_factory=list)  # the changed notes'
    trips: dict[str, Trip | None] = field(default_factory=dict)  # by path; None: no trip
    broken: set[str] = field(default_factory=set)  # contact notes read now that are broken
    dated: list[tuple[Note, date]] = field(default_factory=list)  # their links: mentions
    reach: dict[str, int] = field(default_factory=dict)  # of each note read, now


def patch(vault: Vault, changed: list[tuple[Note, int]], removed: list[str], config: Config,
          may_be_plain: Callable[[str], bool], sources: dict[str, set[str]],
          linking: Linking, lookup: ContactLookup | None = None) -> Patched | None:
    """``vault`` with the ``changed`` notes (each with its reach before, or NEW) as they
    are now and the ``removed`` ones gone; None when that cannot be patched (build afresh).

    ``sources``: the paths of the contacts each note mentions (``mention_sources``; at
    least for the changed and removed notes), so that no contact's interactions are looked
    through. It is brought up to date for them when the vault is patched. ``linking``: see
    ``Linking``; asked only when a contact comes, goes or is renamed. ``lookup``: one
    for ``vault.contacts`` kept from before (the watcher's), else made when needed — at
    50,000 contacts, most of a daily note's patch.
    """
    contacts = vault.contacts
    found = _read_changes(vault, changed, removed, config, may_be_plain)
    if found is None:
        return None
    # What stays of the vault's problems and broken contacts: those of the notes not read.
    kept = [p for p in vault.problems if p.path not in found.touched
            or p.code == "duplicate-name"]
    broken = (set(vault.broken_contacts) - found.touched) | found.broken
    if found.keys:  # the notes whose links may resolve otherwise: their mentions anew
        again = linking(words(found.keys))
        if again is None:
            return None
        for note in again:
            if note.path not in found.touched:
                found.touched.add(note.path)
                day = mention_day(note, config)
                if day is not None:
                    found.dated.append((note, day))
                found.reach[note.path] = _reach(
                    note.path, _contact_at(contacts, note.path) is not None,
                    note.path in vault.broken_contacts, day is not None, config, may_be_plain)
    # The contacts as they are now, those built anew still without mentions: in their
    # places, or, when some came or went, in the order of their paths (as a build has them).
    bases, renamed = found.bases, found.renamed
    if found.gone or any(_contact_at(contacts, path) is None for path in bases):
        out = sorted([c for c in contacts if c.path not in found.gone and c.path not in bases]
                     + list(bases.values()), key=attrgetter("path"))
    else:
        out = [bases.get(c.path, c) for c in contacts] if renamed else list(contacts)
    mentions: list[tuple[str, Interaction]] = []
    if renamed:
        lookup = None  # the names, or their places, are others now
    if found.dated:
        names = tuple(out) if renamed else contacts
        lookup = lookup or ContactLookup(names)
        for note, day in found.dated:
            mentions.extend(mentions_in(note, day, names, lookup))
    _attach_mentions(contacts, out, found, mentions, sources)
    final = tuple(out)
    if renamed:  # who shares a name with whom: worked out again
        kept = [p for p in kept if p.code != "duplicate-name"] + duplicate_problems(final)
        kept.extend(found.problems)
        kept.sort(key=_problem_order)
    else:  # the others are in order: the few new ones put in their places
        for problem in sorted(found.problems, key=_problem_order):
            insort(kept, problem, key=_problem_order)
    for source in found.touched:
        sources.pop(source, None)
    for path, interaction in mentions:
        sources.setdefault(interaction.path, set()).add(path)
    count = vault.note_count + sum(1 for _, reach in changed if reach == NEW) - len(removed)
    trips = vault.trips if not found.trips else tuple(sorted(
        [t for t in vault.trips if t.path not in found.trips]
        + [t for t in found.trips.values() if t is not None], key=attrgetter("path")))
    return Patched(replace(vault, contacts=final, problems=tuple(kept), note_count=count,
                           trips=trips, broken_contacts=tuple(sorted(broken))),
                   found.reach, lookup)


def _read_changes(vault: Vault, changed: list[tuple[Note, int]], removed: list[str],
                  config: Config, may_be_plain: Callable[[str], bool]) -> _Changes | None:
    """What each changed note is now, and what is gone with the removed ones; None when
    one cannot be patched."""
    contacts = vault.contacts
    found = _Changes({note.path for note, _ in changed} | set(removed))
    # The trips of the notes in a trips folder that changed or are gone (None: no trip).
    found.trips = dict.fromkeys((r for r in found.touched if in_trip_folder(r, config)), None)
    for rel in removed:
        old = _contact_at(contacts, rel)
        if old is not None:
            found.gone.add(rel)
            found.keys |= name_keys(old)
    for note, _ in changed:
        rel = note.path
        old = _contact_at(contacts, rel)
        is_contact = note.ok and is_contact_note(note, config)
        day = mention_day(note, config)
        if day is not None:
            found.dated.append((note, day))
        flag = MENTIONS if day is not None else 0
        contact, field_problems = contact_from_note(note, config) if is_contact else (None, [])
        if old is not None and contact is None:
            found.gone.add(rel)  # no contact any more: broken, or untagged
            found.keys |= name_keys(old)
        if is_contact or (not note.ok and in_people_folder(rel, config.people_folders)):
            found.problems.extend(note.problems)
            found.problems.extend(field_problems)
            if contact is None:  # a contact note that cannot be read as one
                found.broken.add(rel)
                found.reach[rel] = BROKEN | flag
                continue
            if old is None or (contact.name, contact.aliases) != (old.name, old.aliases):
                found.renamed = True
                found.keys |= name_keys(contact) ^ (set() if old is None else name_keys(old))
            found.bases[rel] = contact
            found.reach[rel] = CONTACT | flag
            continue
        if in_trip_folder(rel, config):
            trip, trip_problems = trip_from_note(note, config) if note.ok else (None, [])
            found.problems.extend(note.problems)
            found.problems.extend(trip_problems)
            found.trips[rel] = trip
            found.reach[rel] = TRIP | flag
            continue
        if not may_be_plain(rel):
            return None  # in a people folder, and neither a contact nor broken: none is
        found.problems.extend(note.problems)
        found.reach[rel] = PLAIN | flag
    found.renamed = found.renamed or bool(found.gone)
    return found


def _attach_mentions(contacts: tuple[Contact, ...], out: list[Contact], found: _Changes,
                     mentions: list[tuple[str, Interaction]], sources: dict[str, set[str]]
                     ) -> None:
    """Each contact in ``out`` with its mentions: those from unchanged notes, and the
    changed notes' anew, in the order of the notes' paths (as a full build makes them)."""
    touched, bases = found.touched, found.bases
    mentioned = {path for source in touched for path in sources.get(source, ())}
    affected = (set(bases) | {path for path, _ in mentions} | mentioned) - found.gone
    new_mentions: dict[str, list[Interaction]] = {}
    for path, interaction in mentions:
        new_mentions.setdefault(path, []).append(interaction)
    for path in affected:
        old = _contact_at(contacts, path)
        base = bases.get(path)
        contact = base if base is not None else old
        assert contact is not None  # affected: a contact now, and before or anew
        own = contact.interactions if base is not None else tuple(
            i for i in contact.interactions if i.source != "mention")
        kept_mentions = [] if old is None else [
            i for i in old.interactions if i.source == "mention" and i.path not in touched]
        all_mentions = sorted(kept_mentions + new_mentions.get(path, []), key=lambda i: i.path)
        out[_place(out, path)] = replace(contact, interactions=own + tuple(all_mentions))


def _problem_order(problem: Problem) -> tuple[str, int, str]:
    return problem.path, problem.line or 0, problem.code  # as build_vault orders them


def _place(contacts: Sequence[Contact], path: str) -> int:
    """Where the contact at ``path`` is, or would be, among ``contacts``: every build and
    patch keeps them in the order of their paths."""
    return bisect_left(contacts, path, key=attrgetter("path"))


def _contact_at(contacts: Sequence[Contact], path: str) -> Contact | None:
    place = _place(contacts, path)
    return contacts[place] if place < len(contacts) and contacts[place].path == path else None
