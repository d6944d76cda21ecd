"""Snapshots of built vaults, and their plans, in the cache's format (marshal), in parts.

A snapshot is the vault built from the notes — contacts with their interactions,
problems, trips — with the size and mtime of every note it was built from, so that
the index can tell what changed since (see ``NoteIndex.load``). Its plan is the schedule
worked out from it on one day: every command on that day reads it back.
"""

from __future__ import annotations

import contextlib
import functools
import marshal
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from .cache import KINDS, Cache, day_of
from .contacts import Vault
from .model import Birthday, Cadence, CheckIn, Contact, Interaction, Problem, Schedule, Standing
from .schedule import Memo, memo_of, schedule
from .trips import Trip

# A built vault's contacts, problems, note count, skipped contacts and trips. The field
# list is checked against the dataclass by a test: a new field must be added here and to
# the coders below, or the snapshot would lose it.
CONTACT_FIELDS = ("path", "name", "aliases", "cadence", "cadence_source", "last_contact_field",
                  "snooze_until", "status", "priority", "birthday", "met_via", "city",
                  "company", "role", "email", "phone", "linkedin", "tags", "interactions",
                  "department", "website")
Built = tuple[tuple[Contact, ...], tuple[Problem, ...], int, tuple[str, ...], tuple[Trip, ...]]


def _ordinal(day: date | None) -> int | None:
    return None if day is None else day.toordinal()


_PART = 2000  # contacts per stored part: a large vault's snapshot is never all in memory


# Each note's (size, mtime, what a change to it can touch, the paths of the contacts it
# mentions) by its path.
NoteStats = dict[str, tuple[int, int, int, tuple[str, ...]]]
# The targets of the links of each note whose links are mentions (``link_targets``), by its
# path: read only to patch in a contact that came, went or was renamed.
Links = dict[str, tuple[str, ...]]
# A snapshot: the built vault, its notes' stats, the walk's problems and the digest of the
# notes' state.
Snapshot = tuple[Built, NoteStats, list[Problem], str]
# The same, opened: the vault is decoded by the function, only when it is wanted; the
# links are as stored (``decode_links``).
Opened = tuple[NoteStats, list[Problem], str, Callable[[], Built | None], bytes]
# A note's stats as stored: (path, size, mtime, reach, the contacts it mentions).
NoteRow = tuple[str, int, int, int, tuple[str, ...]]


def encode_snapshot(built: Built, stats: list[NoteRow], links: Links | bytes,
                    walk_problems: list[Problem], state: str) -> Iterator[bytes]:
    """A snapshot in marshal's format, in parts: read back much faster than built.
    ``links``: as a dict, or as they were stored (``Opened``)."""
    yield _head(built, walk_problems, state)
    yield _stats(stats, links)
    for start in range(0, len(built[0]), _PART):
        yield _contact_part(built[0], start)


def _stats(stats: list[NoteRow], links: Links | bytes) -> bytes:
    return marshal.dumps((stats, links if type(links) is bytes else marshal.dumps(links)))


def decode_links(data: bytes) -> Links:
    links: Links = marshal.loads(data)
    return links


def encode_changes(built: Built, stats: list[NoteRow], links: Links | bytes,
                   walk_problems: list[Problem], state: str, changed: Iterable[int]
                   ) -> dict[int, bytes]:
    """The parts of ``encode_snapshot`` (by their number) that differ from those of the
    snapshot ``built`` was patched from, when only the contacts at the places ``changed``
    are other contacts: the head, the notes' stats and the parts holding those contacts."""
    parts = {0: _head(built, walk_problems, state), 1: _stats(stats, links)}
    for start in sorted({i - i % _PART for i in changed}):
        parts[2 + start // _PART] = _contact_part(built[0], start)
    return parts


def built_of(vault: Vault) -> Built:
    """What of ``vault`` a snapshot keeps."""
    return (vault.contacts, vault.problems, vault.note_count, vault.broken_contacts,
            vault.trips)


def snapshot_state(head: bytes) -> str:
    """The state of the notes a snapshot was built from, from its first part."""
    state: str = marshal.loads(head)[5]
    return state


def _head(built: Built, walk_problems: list[Problem], state: str) -> bytes:
    contacts, problems, count, broken, trips = built
    return marshal.dumps((
        [(p.path, p.line, p.severity, p.code, p.message, p.hint) for p in problems],
        count, broken,
        [(t.path, t.city, t.start.toordinal(), t.end.toordinal()) for t in trips],
        len(contacts), state,
        [(p.path, p.line, p.severity, p.code, p.message, p.hint) for p in walk_problems],
    ))


def _contact_part(contacts: tuple[Contact, ...], start: int) -> bytes:
    return marshal.dumps([
            (c.path, c.name, c.aliases, (c.cadence.amount, c.cadence.unit, c.cadence.text),
             c.cadence_source, _ordinal(c.last_contact_field), _ordinal(c.snooze_until),
             c.status, c.priority,
             None if c.birthday is None else (c.birthday.month, c.birthday.day,
                                              c.birthday.year),
             c.met_via, c.city, c.company, c.role, c.email, c.phone, c.linkedin, c.tags,
             _stored_interactions(c), c.department, c.website)
            for c in contacts[start:start + _PART]])


def _stored_interactions(contact: Contact) -> bytes:
    """A contact's interactions as a snapshot stores them: those of a contact read back
    from one and never decoded since are stored as they were read."""
    if type(contact) is StoredContact:
        value = _INTERACTIONS.__get__(contact)
        if type(value) is bytes:
            return value
    return marshal.dumps(_interaction_rows(contact.interactions))


def _interaction_rows(interactions: Iterable[Interaction]
                      ) -> list[tuple[int, str, str, str, str, int | None]]:
    return [(i.day.toordinal(), i.kind, i.text, i.source, i.path, i.line) for i in interactions]


def _interactions(rows: Iterable[tuple[int, str, str, str, str, int | None]]
                  ) -> tuple[Interaction, ...]:
    day, make = day_of, tuple.__new__  # a named tuple's own __new__ is a Python function
    return tuple([make(Interaction, (day(d), KINDS[k], t, s, p, ln))
                  for d, k, t, s, p, ln in rows])


_INTERACTIONS = Contact.__dict__["interactions"]  # the slot of the dataclass's field
_SETTERS = [Contact.__dict__[name].__set__ for name in CONTACT_FIELDS]  # every field's slot


class StoredContact(Contact):
    """A contact read back from a snapshot. Its interactions — most of a snapshot — are
    decoded when first wanted: `due` and `show` want those of a few contacts only.

    Until then the field's slot holds them as stored (bytes). It equals, and hashes as,
    the same contact built from the notes."""

    __slots__ = ()

    @property
    def interactions(self) -> tuple[Interaction, ...]:
        value = _INTERACTIONS.__get__(self)
        if type(value) is bytes:
            value = _interactions(marshal.loads(value))
            _INTERACTIONS.__set__(self, value)
        return value  # type: ignore[no-any-return]

    @interactions.setter
    def interactions(self, value: tuple[Interaction, ...] | bytes) -> None:
        _INTERACTIONS.__set__(self, value)  # only ever by __init__ (the class is frozen)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Contact):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in CONTACT_FIELDS)

    __hash__ = Contact.__hash__


@functools.lru_cache(maxsize=256)
def _cadence(amount: int, unit: Any, text: str) -> Cadence:
    return Cadence(amount, unit, text)  # a few cadences stand for thousands of contacts


def open_snapshot(parts: Iterable[bytes]) -> Opened | None:
    """The notes' stats, the walk's problems and the state of a snapshot, and a function
    that decodes the rest — the vault — only if it is wanted (None: no snapshot)."""
    parts = iter(parts)
    head, stats = next(parts, None), next(parts, None)
    if head is None or stats is None:
        return None
    problems, count, broken, trips, expected, state, walk_problems = marshal.loads(head)
    rows, links = marshal.loads(stats)

    def built() -> Built | None:
        """The vault's parts (None when a part is missing)."""
        day, new, setters = day_of, object.__new__, _SETTERS
        out: list[Contact] = []
        for part in parts:
            for row in marshal.loads(part):
                values = list(row)
                _, _, _, cadence, _, last, snooze, _, _, birthday = row[:10]
                values[3] = _cadence(*cadence)
                values[5] = None if last is None else day(last)
                values[6] = None if snooze is None else day(snooze)
                values[9] = None if birthday is None else Birthday(*birthday)
                # Each field's slot set directly: the frozen dataclass's __init__ takes
                # half as long again (10,000 contacts, every command).
                contact = new(StoredContact)
                for set_field, value in zip(setters, values, strict=True):
                    set_field(contact, value)
                out.append(contact)
        if len(out) != expected:
            return None
        return (tuple(out), tuple(Problem(*p) for p in problems), count, tuple(broken),
                tuple(Trip(p, c, day(s), day(e)) for p, c, s, e in trips))

    return ({path: (size, mtime_ns, reach, mentions)
             for path, size, mtime_ns, reach, mentions in rows},
            [Problem(*p) for p in walk_problems], state, built, links)


def decode_snapshot(parts: Iterable[bytes]) -> Snapshot | None:
    """``encode_snapshot`` undone (None when there are no parts, or not all of them)."""
    opened = open_snapshot(parts)
    if opened is None:
        return None
    stats, walk_problems, state, rest, _ = opened
    built = rest()
    return None if built is None else (built, stats, walk_problems, state)


# The stored plan of a built vault on one day: its schedule, each standing with the
# interactions it names (not their places: those of a contact are decoded only if wanted).
def encode_plan(plan: Schedule, contacts: tuple[Contact, ...], state: str) -> bytes:
    """``plan`` (made from ``contacts``, the vault stored with ``state``) in marshal's format."""
    where = {c.path: i for i, c in enumerate(contacts)}
    standings = []
    for contact in contacts:
        s = plan.standings[contact.path]
        standings.append((_row(s.last_contact), _row(s.planned), _row(s.last_decline),
                          _interaction_rows(s.open_attempts), s.one_sided))
    return marshal.dumps((state, plan.today.toordinal(), standings, [
        (where[c.contact.path], c.original_due.toordinal(), c.due.toordinal(), c.reason,
         c.overdue_days) for c in plan.check_ins]))


def _row(item: Interaction | None) -> tuple[int, str, str, str, str, int | None] | None:
    return None if item is None else _interaction_rows((item,))[0]


def decode_plan(data: bytes, contacts: tuple[Contact, ...], state: str, today: date,
                only: int | None = None) -> Schedule | None:
    """``encode_plan`` undone, when it is the plan of ``today`` for the vault stored with
    ``state`` (else None: it is made afresh). With ``only``, the plan of the contact at that
    place alone: its standing, and its check-in if it has one (`show` wants no more)."""
    stored, day, standings, check_ins = marshal.loads(data)
    if stored != state or day != today.toordinal() or len(standings) != len(contacts):
        return None
    make, day = tuple.__new__, day_of  # named tuples made directly (see Interaction)

    def one(row: tuple[int, str, str, str, str, int | None]) -> Interaction:
        d, k, t, s, p, ln = row
        return make(Interaction, (day(d), KINDS[k], t, s, p, ln))

    by_path: dict[str, Standing] = {}
    for i in range(len(contacts)) if only is None else (only,):
        last, planned, decline, attempts, one_sided = standings[i]
        by_path[contacts[i].path] = make(Standing, (
            None if last is None else one(last), None if planned is None else one(planned),
            tuple([one(row) for row in attempts]) if attempts else (),
            None if decline is None else one(decline), one_sided))
    return Schedule(today, tuple([
        make(CheckIn, (contacts[i], day(original), day(due), reason,
                       by_path[contacts[i].path], overdue))
        for i, original, due, reason, overdue in check_ins
        if only is None or i == only]), by_path)


def plan_of(vault: Vault, today: date, cache: Cache | None) -> Schedule:
    """The schedule of ``vault`` on ``today``: the one stored with its snapshot, or made
    afresh (and stored, when the vault is a stored snapshot's) — from the plan of the vault
    it was patched from, when there is one, for the contacts that did not change."""
    if cache is None or vault.stored is None:
        return schedule(vault.contacts, today, vault.config, _earlier(vault, today))
    key, state = vault.stored
    data = cache.plan(key)
    plan = None
    if data is not None:
        with contextlib.suppress(Exception):  # damaged: made afresh
            plan = decode_plan(data, vault.contacts, state, today)
    if plan is None:
        plan = schedule(vault.contacts, today, vault.config, _earlier(vault, today))
        cache.store_plan(key, encode_plan(plan, vault.contacts, state))
    return plan


def _earlier(vault: Vault, today: date) -> Memo | None:
    """The schedule memo of the stored vault ``vault`` was patched from, if its plan is
    today's (see ``memo_of``)."""
    if vault.patched_from is None:
        return None
    contacts, state, data = vault.patched_from
    with contextlib.suppress(Exception):  # damaged: everyone is scheduled afresh
        plan = decode_plan(data, contacts, state, today)
        if plan is not None:
            return memo_of(plan, contacts, vault.config, has_interactions)
    return None


def has_interactions(contact: Contact) -> bool:
    """Whether ``contact`` has any interaction, without decoding those of a stored one
    (stored, an empty list is 5 bytes: its type and its length)."""
    if type(contact) is StoredContact:
        value = _INTERACTIONS.__get__(contact)
        if type(value) is bytes:
            return len(value) > 5
    return bool(contact.interactions)


def contact_plan(vault: Vault, today: date, cache: Cache | None, contact: Contact
                 ) -> Schedule | None:
    """The stored plan of ``vault`` on ``today`` for ``contact`` (one of its contacts)
    alone, without decoding the rest; None when there is no such plan."""
    if cache is None or vault.stored is None:
        return None
    key, state = vault.stored
    data = cache.plan(key)
    place = next((i for i, c in enumerate(vault.contacts) if c is contact), None)
    if data is None or place is None:
        return None
    with contextlib.suppress(Exception):  # damaged: the whole plan is made afresh
        return decode_plan(data, vault.contacts, state, today, only=place)
    return None
