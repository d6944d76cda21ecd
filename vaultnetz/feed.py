"""Check-ins and birthdays → iCalendar bytes, deterministically (CONTRACT §6).

Nothing here reads the clock: DTSTAMP, LAST-MODIFIED and SEQUENCE come from the dates
in the notes and from ``today``, so rebuilding an unchanged vault on the same day gives
the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import chain
from operator import itemgetter
from pathlib import Path
from urllib.parse import quote

from .config import CONFIG_NAME, Config, load_config
from .contacts import Vault
from .drafts import dates_phrase, draft_for_check_in, trip_draft
from .errors import ConfigError
from .index import Progress, open_cache
from .load import OneShotIndex
from .model import Birthday, CheckIn, Contact, Schedule
from .report import interaction_text, strip_controls, text, why_now, work_text
from .schedule import changed_contacts, gets_birthday
from .snapshot import plan_of
from .trips import Trip, near
from .version import __version__

PRODID = f"-//vaultnetz//vaultnetz {__version__}//EN"


def uid_for(contact: Contact, kind: str) -> str:
    """Stable across rebuilds and date changes, opaque: no name, no path in the clear."""
    return _uid(kind, contact.path)


def _uid(kind: str, path: str) -> str:
    digest = hashlib.sha256(f"vaultnetz\0{kind}\0{path}".encode()).hexdigest()
    return f"{digest[:32]}@vaultnetz"


def obsidian_url(vault_name: str, path: str) -> str:
    file = path[:-3] if path.lower().endswith(".md") else path
    return f"obsidian://open?vault={quote(vault_name, safe='')}&file={quote(file, safe='')}"


_NO_DATE = date(2000, 1, 1)


def _categories(contact: Contact) -> list[str]:
    return [t for t in contact.tags if t.casefold() != "person"]


def escape_text(value: str) -> str:
    """A TEXT value escaped as RFC 5545 3.3.11 says (and icalendar 7 writes it).

    Unlike icalendar, a literal backslash followed by N stays what the user wrote, and
    control characters other than tab are dropped. Like icalendar, a byte-order mark at
    the start of a value is dropped.
    """
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = strip_controls(value)  # RFC 5545 allows none but tab in TEXT
    value = value.removeprefix("\ufeff")  # a byte-order mark leading a value: as icalendar
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def _ical_date(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _ical_stamp(day: date) -> str:
    """Midnight UTC of ``day`` as a DATE-TIME."""
    return f"{_ical_date(day)}T000000Z"


def _trigger(alarm: str) -> str:
    """ "HH:MM" as the DURATION after the start of the (all-day) event."""
    hours, minutes = (int(x) for x in alarm.split(":"))
    if not hours and not minutes:
        return "P0D"
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")


def event_bytes(*, uid: str, summary: str, start: date, stamp: date, description: str,
                url: str, categories: Iterable[str] = (), rrule: str = "",
                alarm: str = "") -> bytes:
    """One all-day, transparent VEVENT, its content lines folded (``fold_line``).

    Written directly rather than through icalendar's component classes, which
    cost more than reading the whole vault; the properties, their order and
    their escaping are icalendar 7's, which a property test holds this to.
    """
    stamp_text = _ical_stamp(stamp)
    lines = [
        "BEGIN:VEVENT",
        f"SUMMARY:{escape_text(summary)}",
        f"DTSTART;VALUE=DATE:{_ical_date(start)}",
        f"DTEND;VALUE=DATE:{_ical_date(start + _ONE_DAY)}",
        f"DTSTAMP:{stamp_text}",
        f"UID:{escape_text(uid)}",
        f"SEQUENCE:{sequence_of(stamp)}",
    ]
    if rrule:
        lines.append(f"RRULE:{rrule}")
    categories = [escape_text(c) for c in categories]
    if categories:
        lines.append(f"CATEGORIES:{','.join(categories)}")
    lines += [f"DESCRIPTION:{escape_text(description)}", f"LAST-MODIFIED:{stamp_text}",
              "TRANSP:TRANSPARENT", f"URL:{url}"]
    if alarm:
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", f"DESCRIPTION:{escape_text(summary)}",
                  f"TRIGGER:{_trigger(alarm)}", "END:VALARM"]
    lines.append("END:VEVENT")
    return b"".join([fold_line(line.encode("utf-8")) + b"\r\n" for line in lines])


_ONE_DAY = timedelta(days=1)
_SEQUENCE_EPOCH = date(1900, 1, 1)  # no usable date is older


def sequence_of(stamp: date) -> int:
    """An event's SEQUENCE: the days from 1900 to its DTSTAMP. It grows whenever the
    stamp does, so clients that keep an event unless it says it changed take the new one,
    and it is still derived from the vault alone."""
    return max(0, (stamp - _SEQUENCE_EPOCH).days)


def check_in_stamp(check_in: CheckIn, today: date) -> date:
    """DTSTAMP and LAST-MODIFIED of a check-in: the newest date in the contact's notes, or
    today when today placed the event — overdue, never contacted, or moved by
    ``max_per_day``/``max_per_week`` — since its date then moves from day to day."""
    newest = _newest_day(check_in.contact)
    if (check_in.reason == "never" or check_in.due != check_in.original_due
            or check_in.original_due < today):
        return max(newest, today)
    return newest


def _newest_day(contact: Contact) -> date:
    """DTSTAMP and LAST-MODIFIED: the newest date in the contact's notes, never the clock.

    Taken from the content, not file times, so a fresh clone, a `git checkout` or
    a touch gives the same bytes, and the ETag changes only when the content does.
    """
    return max((i.day for i in contact.interactions), default=_NO_DATE)


def action_id(path: str) -> str:
    """The opaque, stable id of a contact's action page (``/<token>/c/<id>``)."""
    return hashlib.sha256(f"vaultnetz\0action\0{path}".encode()).hexdigest()[:24]


def check_in_event(check_in: CheckIn, vault_name: str, config: Config, stamp: date,
                   action_base: str = "") -> bytes:
    """A check-in's event; with ``action_base`` (the served page's address, ending in
    ``/c/``), its URL and description carry the action page's link."""
    contact = check_in.contact
    lang = config.language
    note_url = obsidian_url(vault_name, contact.path)
    url = f"{action_base}{action_id(contact.path)}" if action_base else note_url
    summary = text(lang, "summary", name=contact.name)
    lines = [why_now(check_in, config)]
    if check_in.overdue_days:
        lines.append(text(lang, "overdue", day=check_in.original_due.isoformat(),
                          n=check_in.overdue_days))
    last = check_in.standing.last_contact
    if last is not None:
        what = interaction_text(last) if last.source != "field" else ""
        lines.append(text(lang, "last", day=last.day.isoformat(),
                          what=f" — {what}" if what else ""))
    if contact.met_via:
        lines.append(text(lang, "met", text=contact.met_via))
    if contact.city:
        lines.append(text(lang, "city", text=contact.city))
    work = work_text(contact)
    if work:
        lines.append(text(lang, "work", text=work))
    if check_in.standing.open_attempts:
        lines.append(text(lang, "attempts", n=len(check_in.standing.open_attempts)))
    lines.append(text(lang, "draft", text=draft_for_check_in(check_in, config)))
    if action_base:
        lines.append(text(lang, "act", url=url))
    lines.append(text(lang, "note", url=note_url))
    return event_bytes(uid=uid_for(contact, "check-in"), summary=summary, start=check_in.due,
                       stamp=stamp, description="\n".join(lines), url=url,
                       categories=_categories(contact), alarm=config.alarm)


def trip_event(trip: Trip, day: date, people: list[tuple[Contact, CheckIn]], vault_name: str,
               config: Config) -> bytes:
    """A reminder before a trip: whom to ask for a coffee there, each with a draft."""
    lang = config.language
    url = obsidian_url(vault_name, trip.path)
    dates = dates_phrase(trip.start, trip.end, lang)
    summary = text(lang, "trip_summary", city=trip.city, n=len(people))
    stamp = max((c.last_contact or _NO_DATE for _, c in people), default=_NO_DATE)
    lines = [text(lang, "trip_intro", city=trip.city, dates=dates)]
    for contact, _ in people:
        lines.append("")
        lines.append(f"{contact.name} ({obsidian_url(vault_name, contact.path)})")
        lines.append(trip_draft(contact, trip.city, trip.start, trip.end, config))
    lines += ["", text(lang, "note", url=url)]
    return event_bytes(uid=_uid("trip", trip.path), summary=summary, start=day, stamp=stamp,
                       description="\n".join(lines), url=url)


def birthday_event(contact: Contact, vault_name: str, config: Config) -> bytes:
    assert contact.birthday is not None
    birthday = contact.birthday
    url = obsidian_url(vault_name, contact.path)
    leap_day = (birthday.month, birthday.day) == (2, 29)
    return event_bytes(
        uid=uid_for(contact, "birthday"), summary=text(config.language, "birthday",
                                                       name=contact.name),
        start=_birthday_start(birthday), stamp=_newest_day(contact),
        description=text(config.language, "note", url=url), url=url,
        categories=_categories(contact), alarm=config.alarm,
        rrule="FREQ=YEARLY;BYMONTHDAY=-1;BYMONTH=2" if leap_day else "FREQ=YEARLY")


def _has_tag(contact: Contact, tag: str | None) -> bool:
    if not tag:
        return True
    wanted = tag.lstrip("#").casefold()
    return any(t.casefold() == wanted for t in contact.tags)


EventStore = MutableMapping[str, bytes]
# (kind, path) → (the event's inputs, its uid, its key): the watcher's, between rebuilds
KeyMemo = dict[tuple[str, str], tuple[tuple[object, ...], str, str]]


def _with_stamp(check_in: CheckIn, today: date) -> tuple[object, ...]:
    return (check_in, check_in_stamp(check_in, today))


def _check_in_bytes(check_in: CheckIn, vault_name: str, config: Config, today: date,
                    action_base: str) -> bytes:
    return check_in_event(check_in, vault_name, config, check_in_stamp(check_in, today),
                          action_base)


def _event_key(kind: str, item: object, context: str) -> str:
    """Everything an event's bytes depend on, hashed: same inputs, same bytes.

    ``context``: the vault's name, the config and the version, as text (once per feed).
    """
    text = repr((kind, item, context))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=20).hexdigest()


def birthday_inputs(contact: Contact) -> tuple[object, ...]:
    """What of a contact its birthday event shows (see ``birthday_event``): a much smaller
    key than the whole contact with every interaction."""
    return (contact.path, contact.name, contact.birthday, contact.tags, _newest_day(contact))


_Event = tuple[date, str, bytes]  # (start, uid, bytes): the feed's order


@dataclass
class BirthdayMemo:
    """The watcher's birthday events between rebuilds, in the feed's order: only those of
    the contacts that are not the objects they were made from are made again."""

    made_for: tuple[object, ...] = ()  # (today, config, vault name)
    contacts: tuple[Contact, ...] = ()
    by_path: dict[str, _Event] = field(default_factory=dict)
    ordered: list[_Event] = field(default_factory=list)

    def events(self, vault: Vault, plan: Schedule) -> list[_Event]:
        contacts = vault.contacts
        made_for = (plan.today, vault.config, vault.name)
        found = changed_contacts(self.contacts, contacts) if made_for == self.made_for \
            else None
        if found is None:
            self.by_path = {c.path: _birthday(c, vault.name, vault.config)
                            for c in _birthday_contacts(contacts, plan, None)}
            self.ordered = sorted(self.by_path.values(), key=itemgetter(0, 1))
        else:
            ordered = list(self.ordered)
            changed, gone, _ = found
            for path in chain((self.contacts[i].path for i in gone),
                              (contacts[i].path for i in changed)):
                old = self.by_path.pop(path, None)
                if old is not None:
                    del ordered[bisect_left(ordered, old[:2], key=itemgetter(0, 1))]
            for i in changed:
                contact = contacts[i]
                if contact.birthday is not None and gets_birthday(
                        contact, plan.standings.get(contact.path)):
                    new = self.by_path[contact.path] = _birthday(contact, vault.name,
                                                                 vault.config)
                    insort(ordered, new, key=itemgetter(0, 1))
            self.ordered = ordered
        self.made_for, self.contacts = made_for, contacts
        return self.ordered


def _birthday(contact: Contact, vault_name: str, config: Config) -> _Event:
    assert contact.birthday is not None
    return (_birthday_start(contact.birthday), _uid("birthday", contact.path),
            birthday_event(contact, vault_name, config))


def build_calendar(
    vault: Vault,
    plan: Schedule,
    *,
    horizon_days: int | None = None,
    tag: str | None = None,
    events: EventStore | None = None,
    used: set[str] | None = None,
    keys: KeyMemo | None = None,
    action_base: str = "",
    birthdays: BirthdayMemo | None = None,
) -> bytes:
    """The whole feed as bytes: one event per check-in within the horizon, plus birthdays.

    ``events`` (the watcher's, between rebuilds) caches each event's bytes by its
    inputs, so a rebuild after one changed note serializes one or a few events; the
    output is the same either way. The keys used are added to ``used`` (to prune it).
    ``keys`` remembers each event's key while its inputs are the same objects, so that
    unchanged events are not even hashed again; ``birthdays`` keeps the birthday events.
    """
    config = vault.config
    horizon = plan.today + timedelta(days=horizon_days or config.horizon_days)
    chosen: list[tuple[date, str, bytes]] = []
    context = repr((vault.name, config, PRODID, action_base))

    def add(kind: str, about: str, item: Callable[[], object], start: date,
            make: Callable[[], bytes], same: tuple[object, ...] = ()) -> None:
        # ``about``: the path the event is of. ``same``: its inputs, compared by identity
        # first: an unchanged check-in is the same object as last time (the watcher's
        # schedule memo), so its uid and key are neither hashed nor worked out again.
        if events is None:  # nothing to reuse: no key to work out either
            chosen.append((start, _uid(kind, about), make()))
            return
        known = keys.get((kind, about)) if keys is not None and same else None
        if known is not None and known[0] == same:  # each item: `is` first, then ==
            uid, key = known[1], known[2]
        else:
            uid, key = _uid(kind, about), _event_key(kind, item(), context)
            if keys is not None and same:
                keys[(kind, about)] = (same, uid, key)
        data = events.get(key)
        if data is None:
            data = make()
            events[key] = data
        if used is not None:
            used.add(key)
        chosen.append((start, uid, data))

    for check_in in plan.check_ins:  # in the order of their dates
        if check_in.due > horizon:
            break
        if _has_tag(check_in.contact, tag):
            add("check-in", check_in.contact.path,
                functools.partial(_with_stamp, check_in, plan.today), check_in.due,
                functools.partial(_check_in_bytes, check_in, vault.name, config, plan.today,
                                  action_base),
                (check_in, plan.today, config, vault.name, action_base))
    if config.birthdays and birthdays is not None and tag is None:
        chosen.extend(birthdays.events(vault, plan))
    elif config.birthdays:
        for contact in _birthday_contacts(vault.contacts, plan, tag):
            assert contact.birthday is not None
            add("birthday", contact.path, functools.partial(birthday_inputs, contact),
                _birthday_start(contact.birthday),
                functools.partial(birthday_event, contact, vault.name, config),
                (contact, config, vault.name))
    for trip in vault.trips:
        day = max(trip.start - timedelta(days=config.trip_lead_days), plan.today)
        if trip.end < plan.today or day > horizon:
            continue
        people = [(c, ci) for c, ci in near(vault.contacts, plan, trip.city, config)
                  if _has_tag(c, tag)]
        if people:
            add("trip", trip.path, functools.partial(tuple, (trip, day, people)), day,
                functools.partial(trip_event, trip, day, people, vault.name, config))
    name = config.calendar_name if not tag else f"{config.calendar_name} ({tag})"
    chosen.sort(key=itemgetter(0, 1))
    body = b"".join(data for _, _, data in chosen) or _NO_EVENTS
    return _calendar_head(name) + body + _CALENDAR_END


# A calendar holds at least one component (RFC 5545 3.6): with nothing scheduled, the
# feed carries this UTC time zone, which every client reads and none shows.
_NO_EVENTS = b"".join(line + b"\r\n" for line in (
    b"BEGIN:VTIMEZONE", b"TZID:UTC", b"BEGIN:STANDARD", b"DTSTART:19700101T000000",
    b"TZOFFSETFROM:+0000", b"TZOFFSETTO:+0000", b"TZNAME:UTC", b"END:STANDARD",
    b"END:VTIMEZONE"))


_CALENDAR_END = b"END:VCALENDAR\r\n"


@functools.lru_cache(maxsize=16)
def _calendar_head(name: str) -> bytes:
    """The calendar's own properties, as icalendar 7 writes them, without the closing line.

    Like icalendar, the name is not TEXT-escaped (clients show NAME and
    X-WR-CALNAME as written); line breaks and other control characters in it
    become spaces, so that it stays one content line.
    """
    name = " ".join("".join(c if c.isprintable() else " " for c in name).split())
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{escape_text(PRODID)}",
             "CALSCALE:GREGORIAN", f"NAME:{name}", f"X-WR-CALNAME:{name}",
             "REFRESH-INTERVAL;VALUE=DURATION:PT12H", "X-PUBLISHED-TTL:PT12H"]
    return b"".join([fold_line(line.encode("utf-8")) + b"\r\n" for line in lines])


def _birthday_start(birthday: Birthday) -> date:
    # Year unknown: start in 2000, a leap year, so that Feb 29 is a valid start.
    return date(birthday.year or 2000, birthday.month, birthday.day)


def _birthday_contacts(contacts: Iterable[Contact], plan: Schedule, tag: str | None
                       ) -> list[Contact]:
    standings = plan.standings
    return [c for c in contacts if c.birthday is not None  # few have one: look at them only
            and gets_birthday(c, standings.get(c.path)) and _has_tag(c, tag)]


def fold_line(line: bytes) -> bytes:
    """One content line folded at 75 octets, never inside a UTF-8 character (RFC 5545 3.1)."""
    if len(line) <= 75:
        return line
    parts = []
    limit = 75  # the first line; continuation lines start with a space: 74 more octets
    while len(line) > limit:
        cut = limit
        while cut > 0 and (line[cut] & 0xC0) == 0x80:  # never inside a character
            cut -= 1
        parts.append(line[:cut])
        line = line[cut:]
        limit = 74
    parts.append(line)
    return b"\r\n ".join(parts)


def fold_utf8_safe(data: bytes) -> bytes:
    """Re-fold all content lines of iCalendar data (see ``fold_line``)."""
    return b"".join(fold_line(line) + b"\r\n" for line in _unfold(data))


def _unfold(data: bytes) -> list[bytes]:
    lines: list[bytes] = []
    for raw in data.replace(b"\r\n", b"\n").split(b"\n"):
        if raw.startswith((b" ", b"\t")) and lines:
            lines[-1] += raw[1:]
        elif raw:
            lines.append(raw)
    return lines


@dataclass(frozen=True)
class Feed:
    """A vault's feed, and how many errors made notes be skipped while building it."""

    data: bytes
    errors: int
    vault: Vault | None  # None when the feed came whole from the cache


def vault_feed(root: Path, today: date, *, cache_dir: Path | None = None,
               horizon_days: int | None = None, tag: str | None = None,
               progress: Progress | None = None, jobs: int | None = None,
               action_base: str = "") -> Feed:
    """The feed of the vault at ``root``, through the cache in ``cache_dir`` (if any).

    With a cache, the feed is stored under a digest of everything it is made
    from — every note's path, size and mtime, the config, ``today``, the options
    and the version — so that a run on an unchanged vault only walks it. Any
    doubt (a note missing from the cache, or too recent to be trusted by its
    mtime) means a full build, whose result is the same either way.
    ``progress(done, total)`` is called now and then while notes are read; ``jobs``
    is how many processes read them on a cold start (None: as the cores allow).
    """
    config, config_problems = load_config(root)
    errors = [p for p in config_problems if p.severity == "error" and p.path == CONFIG_NAME]
    if errors:
        raise ConfigError([p.format() for p in errors])
    cache = open_cache(cache_dir, root, config) if cache_dir is not None else None
    try:
        index = OneShotIndex(root, config, cache, jobs=jobs)
        index.config_problems = config_problems
        scanned = index.scan()
        state = index.cached_state(scanned)
        name = config.obsidian_vault or root.resolve().name

        def key(state: str) -> str:
            text = repr(("ics", state, today, horizon_days, tag, name, config, PRODID,
                         action_base))
            return hashlib.blake2b(text.encode("utf-8", "surrogateescape"),
                                   digest_size=20).hexdigest()

        hit = cache.result(key(state)) if cache is not None and state is not None else None
        if hit is not None:
            return Feed(hit[0], hit[1], None)
        vault, state = index.load(scanned, progress)
        data = build_calendar(vault, plan_of(vault, today, cache), horizon_days=horizon_days,
                              tag=tag, action_base=action_base)
        feed = Feed(data, len(vault.errors()), vault)
        if cache is not None and state is not None:
            cache.store_result(key(state), data, feed.errors)
        return feed
    finally:
        if cache is not None:
            cache.close()
