"""Trips: who lives where you are going, and notes in Trips/ that say when you go.

City names match whatever their case, accents or umlauts ("München", "MUENCHEN",
"Munchen"), and through ``[city_aliases]`` ("Munich").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .config import Config
from .model import CheckIn, Contact, Problem, Schedule
from .notes import Note
from .values import parse_date

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


@dataclass(frozen=True, slots=True)
class Trip:
    path: str
    city: str
    start: date
    end: date


def _plain(text: str) -> str:
    """Casefolded, accents removed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def city_keys(text: str) -> set[str]:
    """Spellings a city name matches: with umlauts as ae/oe/ue and as plain vowels."""
    lowered = unicodedata.normalize("NFC", text.strip().casefold())
    return {_plain(lowered.translate(_UMLAUTS)), _plain(lowered)} - {""}


def _aliases(city: str, config: Config) -> set[str]:
    keys = city_keys(city)
    for canonical, others in config.city_aliases.items():
        group = [canonical, *others]
        if any(city_keys(name) & keys for name in group):
            for name in group:
                keys |= city_keys(name)
    return keys


def city_matches(contact_city: str, query: str, config: Config) -> bool:
    """A contact's city (maybe "Berlin, Hamburg") against the city asked for.

    "Frankfurt" matches "Frankfurt am Main": a query matches a city that starts with it.
    """
    wanted = _aliases(query, config)
    for part in contact_city.replace("/", ",").replace(";", ",").split(","):
        if not part.strip():
            continue
        have = _aliases(part, config)
        if wanted & have:
            return True
        if any(h.startswith(w + " ") for h in have for w in wanted):
            return True
    return False


def near(contacts: Iterable[Contact], plan: Schedule, city: str, config: Config
         ) -> list[tuple[Contact, CheckIn]]:
    """Active contacts in ``city`` who get reminders, most due first."""
    by_path = {c.contact.path: c for c in plan.check_ins}
    found = [(contact, by_path[contact.path]) for contact in contacts
             if contact.path in by_path and contact.city and city_matches(contact.city, city,
                                                                            config)]
    found.sort(key=lambda pair: (pair[1].original_due, pair[1].due, pair[0].name.casefold()))
    return found


def in_trip_folder(path: str, config: Config) -> bool:
    lowered = path.casefold()
    return any(lowered.startswith(f.casefold() + "/") for f in config.trip_folders)


def trip_from_note(note: Note, config: Config) -> tuple[Trip | None, list[Problem]]:
    """A trip from a note with front-matter `city` and `from` (and `to`, else one day)."""
    meta = note.meta
    if not meta.get("city") or meta.get("from") is None:
        return None, []
    problems = []
    days: dict[str, date] = {}
    for key in ("from", "to"):
        if meta.get(key) is None:
            continue
        try:
            days[key] = parse_date(meta[key])
        except ValueError as exc:
            problems.append(Problem(note.path, note.meta_lines.get(key), "error", "bad-trip-date",
                                    f"{key}: {exc}", "use YYYY-MM-DD"))
    if problems:
        return None, problems
    start = days["from"]
    end = days.get("to", start)
    if end < start:
        return None, [Problem(note.path, note.meta_lines.get("to"), "error", "bad-trip-date",
                              f"to: {end.isoformat()} is before from: {start.isoformat()}",
                              "swap the dates")]
    return Trip(note.path, str(meta["city"]).strip(), start, end), []


def upcoming_trip(contact: Contact, trips: Iterable[Trip], today: date, config: Config
                  ) -> Trip | None:
    """The next trip (not over yet) to the contact's city."""
    if not contact.city:
        return None
    for trip in sorted(trips, key=lambda t: (t.start, t.path)):
        if trip.end >= today and city_matches(contact.city, trip.city, config):
            return trip
    return None
