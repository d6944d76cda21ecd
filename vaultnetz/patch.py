"""What a change to a note can touch, and a built vault patched for a few changed notes.

One set of rules for the one-shot commands (patching the snapshot of the last build) and
for the watcher (patching the vault it keeps): a change that reaches no further than its
own contact, its own problems and the mentions it makes is patched in; anything else —
a name or an alias, a new or removed contact, a contact note whose links are mentions (it
has a date), a trip, errors in a contact — is built afresh. Pure: no file access.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from .config import Config
from .contacts import (
    ContactLookup,
    Vault,
    contact_from_note,
    is_contact_note,
    mention_day,
    mentions_in,
)
from .model import Contact, Interaction
from .notes import Note

# What a change to a note can touch: anything (build afresh); only its own contact (a
# contact note that mentions nobody: its links, if any, are no mentions without a date);
# only its own problems (a note that is no contact, no trip and mentions nobody: most notes
# of a vault — projects, meetings, ideas); or its problems and the mentions it makes (a
# dated note that links contacts: a daily note).
REBUILD, CONTACT, PLAIN, DATED = 0, 1, 2, 3
NEW = -1  # a note the last build did not have
MAX_PATCHED = 50  # more changed notes than this: build afresh


def reaches(vault: Vault, notes: Iterable[tuple[str, bool]],
            may_be_plain: Callable[[str], bool]) -> dict[str, int]:
    """What a change to each of ``notes`` — (path, whether it mentions nobody: no
    ``mention_day``) — can touch."""
    contacts = {c.path for c in vault.contacts}
    skipped = set(vault.broken_contacts)

    def reach(path: str, mentions_nobody: bool) -> int:
        if path in contacts:
            return CONTACT if mentions_nobody else REBUILD
        if path in skipped or not may_be_plain(path):
            return REBUILD
        return PLAIN if mentions_nobody else DATED

    return {path: reach(path, mentions_nobody) for path, mentions_nobody in notes}


def mention_sources(contacts: Iterable[Contact]) -> dict[str, set[str]]:
    """Note path → the paths of the contacts it mentions."""
    sources: dict[str, set[str]] = {}
    for contact in contacts:
        for interaction in contact.interactions:
            if interaction.source == "mention":
                sources.setdefault(interaction.path, set()).add(contact.path)
    return sources


def patch(vault: Vault, changed: list[tuple[Note, int]], removed: list[str], config: Config,
          may_be_plain: Callable[[str], bool], sources: dict[str, set[str]]
          ) -> tuple[Vault, dict[str, int]] | None:
    """``vault`` with the ``changed`` notes (each with its reach before: CONTACT, PLAIN,
    DATED or NEW) as they are now and the ``removed`` ones gone, and the reach of each
    changed note now; None when a change reaches further (build afresh).

    ``sources``: the paths of the contacts each note mentions (``mention_sources``; at
    least for the changed and removed notes), so that no contact's interactions are looked
    through. It is brought up to date for them when the vault is patched.
    """
    contacts = vault.contacts
    where = {c.path: i for i, c in enumerate(contacts)}
    bases: dict[str, Contact] = {}  # the contacts built anew, without their mentions
    touched = {note.path for note, _ in changed} | set(removed)
    kept = [p for p in vault.problems if p.path not in touched or p.code == "duplicate-name"]
    now: dict[str, int] = {}
    mentions: list[tuple[str, Interaction]] = []  # from the changed dated notes
    lookup: ContactLookup | None = None
    for note, reach in changed:
        rel = note.path
        if reach == CONTACT:
            if (not note.ok or mention_day(note, config) is not None
                    or not is_contact_note(note, config)):
                return None
            contact, field_problems = contact_from_note(note, config)
            old = contacts[where[rel]]
            if contact is None or (contact.name, contact.aliases) != (old.name, old.aliases):
                return None
            bases[rel] = contact
            kept.extend(note.problems)
            kept.extend(field_problems)
            now[rel] = CONTACT
            continue
        if (note.ok and is_contact_note(note, config)) or not may_be_plain(rel):
            return None  # a new contact (or trip): others' links may now reach it
        kept.extend(note.problems)
        day = mention_day(note, config)
        if day is not None:
            lookup = lookup or ContactLookup(contacts)
            mentions.extend(mentions_in(note, day, contacts, lookup))
        now[rel] = PLAIN if day is None else DATED
    # Each contact's mentions: those from unchanged notes, and the changed notes' anew,
    # in the order of the notes' paths (as a full build makes them).
    mentioned = {path for source in touched for path in sources.get(source, ())}
    affected = set(bases) | {path for path, _ in mentions} | mentioned
    new_mentions: dict[str, list[Interaction]] = {}
    for path, interaction in mentions:
        new_mentions.setdefault(path, []).append(interaction)
    out = list(contacts)
    for path in affected:
        old = contacts[where[path]]
        base = bases.get(path)
        own = base.interactions if base is not None else tuple(
            i for i in old.interactions if i.source != "mention")
        kept_mentions = [i for i in old.interactions
                         if i.source == "mention" and i.path not in touched]
        all_mentions = sorted(kept_mentions + new_mentions.get(path, []), key=lambda i: i.path)
        out[where[path]] = replace(base if base is not None else old,
                                   interactions=own + tuple(all_mentions))
    kept.sort(key=lambda p: (p.path, p.line or 0, p.code))
    for source in touched:
        sources.pop(source, None)
    for path, interaction in mentions:
        sources.setdefault(interaction.path, set()).add(path)
    count = vault.note_count + sum(1 for _, reach in changed if reach == NEW) - len(removed)
    return replace(vault, contacts=tuple(out), problems=tuple(kept), note_count=count), now
