"""Notes → contacts: a contact's fields (under the keys people use), its mentions in dated
notes, names two contacts share, and the built ``Vault``. Pure: no file access."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from operator import attrgetter
from pathlib import Path
from typing import Any

from .config import Config, field_keys
from .model import Contact, Interaction, Problem
from .notes import Note, link_key
from .trips import Trip, in_trip_folder, trip_from_note
from .values import ISO_DATE, in_range, parse_birthday, parse_cadence, parse_date


@dataclass(frozen=True, eq=False)
class Vault:
    root: Path
    config: Config
    contacts: tuple[Contact, ...]
    problems: tuple[Problem, ...]
    note_count: int
    broken_contacts: tuple[str, ...] = ()  # paths of contact notes skipped for errors
    trips: tuple[Trip, ...] = ()
    # Each note's size when it was read: a write refuses a note that is shorter now.
    read_sizes: Mapping[str, int] = field(default_factory=dict)
    skipped: Mapping[str, int] = field(default_factory=dict)  # notes each skip rule left out
    # (snapshot key, state): the vault is the snapshot stored under that key for the notes
    # in that state; its plan can be stored with it (``snapshot.plan_of``).
    stored: tuple[str, str] | None = None
    # (contacts, state, plan) of the stored vault this one was patched from: its plan, if
    # it is today's, spares scheduling again the contacts that did not change (``plan_of``).
    patched_from: tuple[tuple[Contact, ...], str, bytes] | None = None

    @functools.cached_property
    def name(self) -> str:
        """The vault's name in obsidian:// links."""
        return self.config.obsidian_vault or self.root.resolve().name

    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def _nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def in_people_folder(path: str, folders: tuple[str, ...]) -> bool:
    lowered = path.casefold()
    return any(lowered.startswith(folder.casefold() + "/") for folder in folders)


def _strings(value: Any) -> tuple[str, ...]:
    """A list or a single value, as Obsidian writes it, as a tuple of non-empty strings."""
    if value is None:
        return ()
    if isinstance(value, str):  # the common case, quickly
        text = value.strip()
        return (text,) if text else ()
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if item is None or isinstance(item, list | dict):
            continue
        text = str(item).strip()
        if text:
            out.append(text)
    return tuple(out)


def _tags(value: Any) -> tuple[str, ...]:
    """The tags of a `tags` value, without '#', each once."""
    if type(value) is str:
        return _tags_of((value,))
    if type(value) is list and all(type(item) is str for item in value):
        return _tags_of(tuple(value))
    return _parse_tags(value)


@functools.lru_cache(maxsize=4096)
def _tags_of(items: tuple[str, ...]) -> tuple[str, ...]:
    # The same few tag lists stand in thousands of notes: one tuple each, shared.
    return _parse_tags(list(items))


def _parse_tags(value: Any) -> tuple[str, ...]:
    tags: list[str] = []
    for item in _strings(value):
        for part in item.replace(",", " ").split():
            tag = part.lstrip("#").strip()
            if tag and tag not in tags:
                tags.append(tag)
    return tuple(tags)


def is_contact_note(note: Note, config: Config) -> bool:
    """In a people folder, or tagged `person` (or `person/…`, in the front-matter or as
    `#person` in the text)."""
    if in_people_folder(note.path, config.people_folders):
        return True
    if not note.meta:
        return False
    return any(t.casefold() == "person" or t.casefold().startswith("person/")
               for t in _note_tags(note.meta, field_keys(note.meta, config)))


def _note_tags(meta: Mapping[str, Any], keys: Mapping[str, str]) -> tuple[str, ...]:
    """The tags of the front-matter (under whichever key holds them) and of the text."""
    found = _tags(meta[keys["tags"]]) if "tags" in keys else ()
    body = meta.get("::#tags")
    if body:
        found = found + tuple(t for t in body if t not in found)
    return found


_STATUSES = {s: s for s in ("active", "paused", "archived")}
_PRIORITIES = {p: p for p in ("high", "normal", "low")}


def contact_from_note(note: Note, config: Config) -> tuple[Contact | None, list[Problem]]:
    """Build a contact from its note; a bad field is a warning and the contact stays
    without it."""
    meta = note.meta
    problems: list[Problem] = []
    keys = field_keys(meta, config) if meta else {}
    order = config.order

    def get(field_name: str) -> Any:
        key = keys.get(field_name)
        return None if key is None else meta[key]

    def bad(field_name: str, message: str, hint: str) -> None:
        # One unusable value never hides the contact: it is a warning, and the contact
        # stays without it (CONTRACT §8).
        key = keys.get(field_name, config.key(field_name))
        shown = key[2:] + "::" if key.startswith("::") else key
        problems.append(Problem(note.path, note.meta_lines.get(key), "warning",
                                f"bad-{field_name}", f"{shown}: {message}; ignored", hint))

    def parse(field_name: str, parser: Any, hint: str) -> Any:
        raw = get(field_name)
        if raw is None or raw == "":
            return None
        try:
            return parser(raw)
        except ValueError as exc:
            message = str(exc)
            if message.startswith(field_name.split("_")[0]):  # "cadence 'x' is not …"
                message = message.split(" ", 1)[1]
            if "; use " in message:  # the parser says what is accepted: that is the hint
                message, accepted = message.split("; use ", 1)
                hint = f"use {accepted}"
            bad(field_name, message, hint)
            return None

    tags = _note_tags(meta, keys)
    cadence = parse("cadence", parse_cadence, "use e.g. 3m, 6w, 90d, monthly or 'alle 3 Monate'")
    cadence_source = "field"
    if cadence is None:
        cadence_source = "default"
        cadence = config.default_cadence
        lowered = {t.casefold() for t in tags}
        for tag, tag_cadence in config.cadence_by_tag.items():
            if tag in lowered:
                cadence, cadence_source = tag_cadence, f"tag:{tag}"
                break
    last_contact = parse("last_contact", lambda v: parse_date(v, order), "use YYYY-MM-DD")
    snooze = parse("snooze_until", lambda v: parse_date(v, order), "use YYYY-MM-DD")
    birthday = parse("birthday", lambda v: parse_birthday(v, order),
                     "use YYYY-MM-DD, or --MM-DD without the year")

    def word(field_name: str, known: dict[str, str], default: str) -> str:
        # The known words as one shared string each (a large vault has one per contact).
        value = str(get(field_name) or default).strip().lower()
        if value in known:
            return known[value]
        bad(field_name, f"{value!r} is not a {field_name} (counted as {default})",
            f"use {', '.join(list(known)[:-1])} or {list(known)[-1]}")
        return default

    status = word("status", _STATUSES, "active")
    priority = word("priority", _PRIORITIES, "normal")

    name_value = get("name")
    name = str(name_value).strip() if name_value not in (None, "") else note.stem
    aliases = _strings(get("aliases"))
    interactions = list(note.log)
    if last_contact is not None:
        line = note.meta_lines.get(keys["last_contact"])
        interactions.append(Interaction(last_contact, "contact", "", "field", note.path, line))

    def text(field_name: str) -> str:
        value = get(field_name)
        if value is None:
            return ""
        return value.strip() if isinstance(value, str) else ", ".join(_strings(value))

    contact = Contact(
        path=note.path,
        name=_nfc(name),
        aliases=tuple([_nfc(a) for a in aliases]),
        cadence=cadence,
        cadence_source=cadence_source,
        last_contact_field=last_contact,
        snooze_until=snooze,
        status=status,
        priority=priority,
        birthday=birthday,
        met_via=text("met_via"),
        city=text("city"),
        company=text("company"),
        role=text("role"),
        email=_strings(get("email")),
        phone=_strings(get("phone")),
        linkedin=text("linkedin"),
        tags=tags,
        interactions=tuple(interactions),
        department=text("department"),
        website=_strings(get("website")),
    )
    return contact, problems


def mention_day(note: Note, config: Config) -> date | None:
    """The day on which a note's links are mentions of the contacts they link: a dated
    note's date. None: its links mention nobody (no links, no date, or a note skipped)."""
    return note_date(note, config) if note.ok and note.links else None


def note_date(note: Note, config: Config) -> date | None:
    """The date of a daily note (stem is a date) or of a note with front-matter `date`."""
    if ISO_DATE.match(note.stem):
        try:
            return in_range(date.fromisoformat(note.stem))
        except ValueError:
            return None
    key = field_keys(note.meta, config).get("date") if note.meta else None
    raw = None if key is None else note.meta[key]
    if raw is None:
        return None
    try:
        return parse_date(raw, config.order)
    except ValueError:
        return None


class ContactLookup:
    """Resolve link targets to contacts: note path, then file name, then name, then alias."""

    def __init__(self, contacts: tuple[Contact, ...]) -> None:
        # key → the contact's index, or a list of them when several share the key (rare:
        # a list per key would double the build's peak memory on a large vault).
        self.levels: list[dict[str, int | list[int]]] = [{}, {}, {}, {}]
        self._keys: dict[str, str] = {}  # link target → its key (as many as targets)
        for index, contact in enumerate(contacts):
            stem = contact.path.rsplit("/", 1)[-1]
            path_key, stem_key, name_key = (link_key(contact.path), link_key(stem),
                                            link_key(contact.name))
            # A key the contact has at a level before is never looked up at a later one
            # (that level already answers for it): kept once, at the first (most names are
            # their note's file name — a fifth less memory for a watcher's lookup).
            keys = (
                (path_key,),
                (stem_key,) if stem_key != path_key else (),
                (name_key,) if name_key not in (path_key, stem_key) else (),
                {link_key(a) for a in contact.aliases} - {path_key, stem_key, name_key},
            )
            for level, level_keys in zip(self.levels, keys, strict=True):
                for key in level_keys:
                    known = level.get(key)
                    if known is None:
                        level[key] = index
                    elif isinstance(known, int):
                        level[key] = [known, index]
                    else:
                        known.append(index)

    def resolve(self, target: str) -> list[int]:
        key = self._keys.get(target)
        if key is None:  # the same few targets are linked again and again
            key = self._keys[target] = link_key(target)
        for level in self.levels:
            found = level.get(key)
            if found is not None:
                return [found] if isinstance(found, int) else found
        if "/" in key:  # [[Some/Folder/Name]] where the folder differs: the file name
            return self.resolve(key.rsplit("/", 1)[-1])
        return []


@dataclass
class BuildMemo:
    """What the last build worked out per note, for the watcher's rebuilds.

    Keyed by note path and valid while the note is the same object (the index
    keeps unchanged notes): one changed note re-builds one contact, and its
    mentions are resolved again only when the contacts' names changed.
    """

    contacts: dict[str, tuple[Note, Contact | None, list[Problem]]] = field(default_factory=dict)
    mentions: dict[str, tuple[Note, int, date, list[tuple[str, Interaction]]]] = field(
        default_factory=dict)
    names: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    names_version: int = 0
    # path → (contact without mentions, its mentions, the contact with them)
    merged: dict[str, tuple[Contact, tuple[Interaction, ...], Contact]] = field(
        default_factory=dict)
    # path → (note, what it is: "contact", "trip" or "", its date if dated and linking)
    kinds: dict[str, tuple[Note, str, date | None]] = field(default_factory=dict)
    duplicates: tuple[int, list[Problem]] = (-1, [])  # (names_version, their problems)
    lookup: tuple[int, ContactLookup | None] = (-1, None)  # (names_version, the lookup)

    def current_lookup(self) -> ContactLookup | None:
        """The lookup of the last build's names, if one was made for them."""
        return self.lookup[1] if self.lookup[0] == self.names_version else None


def mentions_in(note: Note, day: date, contacts: tuple[Contact, ...], lookup: ContactLookup
                ) -> list[tuple[str, Interaction]]:
    """(contact path, mention) for each contact the dated ``note`` links, once each."""
    mentions = []
    seen: set[int] = set()
    for link in note.links:
        for index in lookup.resolve(link.target):
            if index in seen or contacts[index].path == note.path:
                continue
            seen.add(index)
            # The sentence that links them; a meeting note's title before it (a daily
            # note's title is its date, shown anyway); for a front-matter link, the title.
            text = link.context or note.stem
            if link.context and not ISO_DATE.match(note.stem):
                text = f"{note.stem}: {link.context}"
            mentions.append((contacts[index].path, Interaction(
                day, "contact", text, "mention", note.path, link.line)))
    return mentions


def attach_mentions(
    contacts: tuple[Contact, ...], dated_notes: list[tuple[Note, date]],
    memo: BuildMemo | None = None,
) -> tuple[Contact, ...]:
    """Add a mention interaction for each dated note linking a contact (once per note)."""
    if memo is not None:
        names = tuple((c.path, c.name, c.aliases) for c in contacts)
        if names != memo.names:
            memo.names, memo.names_version = names, memo.names_version + 1
    lookup = memo.current_lookup() if memo is not None else None
    found: dict[str, list[Interaction]] = {}
    for note, day in dated_notes:
        cached = memo.mentions.get(note.path) if memo is not None else None
        if memo is not None and cached is not None and cached[0] is note \
                and cached[1] == memo.names_version and cached[2] == day:
            mentions = cached[3]
        else:
            if lookup is None:
                lookup = ContactLookup(contacts)
                if memo is not None:
                    memo.lookup = (memo.names_version, lookup)
            mentions = mentions_in(note, day, contacts, lookup)
            if memo is not None:
                memo.mentions[note.path] = (note, memo.names_version, day, mentions)
        for path, interaction in mentions:
            found.setdefault(path, []).append(interaction)
    if not found:
        return contacts
    out = []
    for contact in contacts:
        if contact.path not in found:
            out.append(contact)
            continue
        added = tuple(found[contact.path])
        known = memo.merged.get(contact.path) if memo is not None else None
        if known is not None and known[0] is contact and known[1] == added:
            out.append(known[2])  # the same object as last time: later steps can memoise
            continue
        merged = replace(contact, interactions=contact.interactions + added)
        if memo is not None:
            memo.merged[contact.path] = (contact, added, merged)
        out.append(merged)
    return tuple(out)


def duplicate_problems(contacts: tuple[Contact, ...]) -> list[Problem]:
    """Two contacts answering to the same name or alias: a warning naming both paths."""
    first: dict[str, int] = {}  # name key → the first contact using it
    owners: dict[str, set[str]] = {}  # only the names used by more than one contact
    shown: dict[str, str] = {}  # … and how the first one spells it
    for index, contact in enumerate(contacts):
        for name in (contact.name, *contact.aliases):
            key = link_key(name)
            earlier = contacts[first.setdefault(key, index)]
            if earlier.path != contact.path:
                owners.setdefault(key, {earlier.path}).add(contact.path)
                shown.setdefault(key, next(n for n in (earlier.name, *earlier.aliases)
                                           if link_key(n) == key))
    problems = []
    for key, paths in sorted(owners.items()):
        if len(paths) > 1:
            ordered = sorted(paths)
            for path in ordered:
                # At most five others by name: a group of hundreds sharing an alias would
                # otherwise make messages quadratic in its size.
                others = [p for p in ordered[:6] if p != path][:5]
                rest = len(ordered) - 1 - len(others)
                listed = ", ".join(others) + (f" and {rest:,} more" if rest else "")
                problems.append(Problem(path, None, "warning", "duplicate-name",
                                        f"the name {shown[key]!r} is also used by {listed}",
                                        "rename one of them or remove the alias"))
    return problems


def build_vault(root: Path, config: Config, notes: Iterable[Note], extra: list[Problem],
                memo: BuildMemo | None = None) -> Vault:
    """Turn parsed notes (in any order) into a Vault. Pure: no file access.

    ``notes`` is read once, so it may hand each note over and forget it.
    ``memo`` (kept by the watcher between builds) skips the work for unchanged notes.
    """
    problems = list(extra)
    contacts: list[Contact] = []
    broken: list[str] = []
    dated: list[tuple[Note, date]] = []
    trips: list[Trip] = []
    live: set[str] = set()
    count = 0
    for note in notes:
        count += 1
        if memo is not None:
            live.add(note.path)
        problems.extend(note.problems)
        if not note.ok:
            if note.path.casefold().endswith(".md") and in_people_folder(
                note.path, config.people_folders
            ):
                broken.append(note.path)
            continue
        classified = memo.kinds.get(note.path) if memo is not None else None
        if classified is not None and classified[0] is note:
            kind, day = classified[1], classified[2]
        else:
            kind = ("contact" if is_contact_note(note, config)
                    else "trip" if in_trip_folder(note.path, config) else "")
            day = mention_day(note, config)
            if memo is not None:
                memo.kinds[note.path] = (note, kind, day)
        if kind == "contact":
            known = memo.contacts.get(note.path) if memo is not None else None
            if known is not None and known[0] is note:
                contact, field_problems = known[1], known[2]
            else:
                contact, field_problems = contact_from_note(note, config)
                if memo is not None:
                    memo.contacts[note.path] = (note, contact, field_problems)
            problems.extend(field_problems)
            if contact is None:
                broken.append(note.path)
            else:
                contacts.append(contact)
        elif kind == "trip":
            trip, trip_problems = trip_from_note(note, config)
            problems.extend(trip_problems)
            if trip is not None:
                trips.append(trip)
        if day is not None:
            dated.append((note, day))
    if memo is not None:  # forget notes that are gone
        for table in (memo.contacts, memo.mentions, memo.merged, memo.kinds):
            for path in table.keys() - live:
                del table[path]
    # In the order of the notes' paths, whatever order they came in (a cold read takes
    # them as they are read); already in that order, a sort only looks.
    contacts.sort(key=attrgetter("path"))
    dated.sort(key=lambda item: item[0].path)
    trips.sort(key=attrgetter("path"))
    broken.sort()
    final = attach_mentions(tuple(contacts), dated, memo)
    if memo is not None:
        if memo.duplicates[0] != memo.names_version:  # the names changed since
            memo.duplicates = (memo.names_version, duplicate_problems(final))
        problems.extend(memo.duplicates[1])
    else:
        problems.extend(duplicate_problems(final))
    problems.sort(key=lambda p: (p.path, p.line or 0, p.code))
    return Vault(root, config, final, tuple(problems), count, tuple(broken), tuple(trips))
