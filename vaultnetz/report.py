"""What the commands say: "why now" texts in English and German, and the JSON objects.

Shared by the CLI and the feed so both explain a check-in the same way.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from .config import Config
from .model import CheckIn, Contact, Interaction, Problem, Standing
from .schedule import ReviewItem, next_birthday

_TEXTS = {
    "en": {
        "summary": "Check in with {name}",
        "birthday": "Birthday: {name}",
        "cadence": "Due {cadence}; the last contact was on {last}.",
        "never": "Never contacted yet: a good time to reactivate this contact.",
        "attempt": "No answer yet to your attempt on {day} ({n} of {max}). A gentle try once "
                   "more; a no is fine.",
        "declined": "They said no on {day}. That is fine: try again now, politely and openly.",
        "snooze": "Snoozed until {day}.",
        "planned": "Contact planned on {day}; the next check-in follows {cadence}.",
        "overdue": "Due since {day} ({n} days).",
        "last": "Last contact: {day}{what}",
        "met": "How you know them: {text}",
        "city": "City: {text}",
        "work": "Work: {text}",
        "attempts": "Open attempts: {n}",
        "note": "Note: {url}",
        "act": "Done? Record it: {url}",
        "mail_subject": "Hello",
        "draft": "Draft: {text}",
        "trip_summary": "{city} trip: {n} people to ask",
        "trip_intro": "You will be in {city} {dates}. Whom to ask for a coffee, most due "
                      "first; a no is always fine:",
        "trip_line": "Trip: {city} {dates}",
    },
    "de": {
        "summary": "Melde dich bei {name}",
        "birthday": "Geburtstag: {name}",
        "cadence": "Fällig {cadence}; der letzte Kontakt war am {last}.",
        "never": "Noch nie kontaktiert: ein guter Moment, den Kontakt wieder aufzunehmen.",
        "attempt": "Noch keine Antwort auf deinen Versuch am {day} ({n} von {max}). Ein "
                   "freundlicher neuer Versuch; ein Nein ist in Ordnung.",
        "declined": "Am {day} kam eine Absage. Das ist in Ordnung: frag jetzt wieder, höflich "
                    "und offen.",
        "snooze": "Zurückgestellt bis {day}.",
        "planned": "Kontakt geplant am {day}; danach {cadence}.",
        "overdue": "Fällig seit {day} ({n} Tage).",
        "last": "Letzter Kontakt: {day}{what}",
        "met": "Woher ihr euch kennt: {text}",
        "city": "Stadt: {text}",
        "work": "Arbeit: {text}",
        "attempts": "Offene Versuche: {n}",
        "note": "Notiz: {url}",
        "act": "Erledigt? Hier eintragen: {url}",
        "mail_subject": "Hallo",
        "draft": "Entwurf: {text}",
        "trip_summary": "Reise nach {city}: {n} Personen fragen",
        "trip_intro": "Du bist {dates} in {city}. Wen du auf einen Kaffee fragen kannst, die "
                      "Fälligsten zuerst; ein Nein ist immer in Ordnung:",
        "trip_line": "Reise: {city} {dates}",
    },
}

def text(language: str, key: str, **values: Any) -> str:
    table = _TEXTS.get(language, _TEXTS["en"])
    return table[key].format(**values)


def cadence_words(contact: Contact, language: str) -> str:
    """'every 3 months' / 'alle 3 Monate'."""
    if language != "de":
        return contact.cadence.describe()
    amount, unit = contact.cadence.amount, contact.cadence.unit
    if unit == "months" and amount % 12 == 0:
        amount, one, many = amount // 12, "jedes Jahr", "Jahre"
    elif unit == "months":
        one, many = "jeden Monat", "Monate"
    elif amount % 7 == 0:
        amount, one, many = amount // 7, "jede Woche", "Wochen"
    else:
        one, many = "jeden Tag", "Tage"
    return one if amount == 1 else f"alle {amount} {many}"


def why_now(check_in: CheckIn, config: Config) -> str:
    """One sentence: why this check-in is on its date."""
    lang = config.language
    standing = check_in.standing
    contact = check_in.contact
    if check_in.reason == "cadence":
        assert standing.last_contact is not None
        return text(lang, "cadence", cadence=cadence_words(contact, lang),
                    last=standing.last_contact.day.isoformat())
    if check_in.reason == "never":
        return text(lang, "never")
    if check_in.reason == "attempt":
        return text(lang, "attempt", day=standing.open_attempts[-1].day.isoformat(),
                    n=len(standing.open_attempts), max=config.max_attempts)
    if check_in.reason == "declined":
        assert standing.last_decline is not None
        return text(lang, "declined", day=standing.last_decline.day.isoformat())
    if check_in.reason == "planned":
        assert standing.planned is not None
        return text(lang, "planned", day=standing.planned.day.isoformat(),
                    cadence=cadence_words(contact, lang))
    return text(lang, "snooze", day=check_in.original_due.isoformat())


def interaction_text(item: Interaction | None) -> str:
    if item is None:
        return ""
    if item.text:
        return item.text
    return "(last_contact in the front-matter)" if item.source == "field" else ""


def work_text(contact: Contact) -> str:
    company = " / ".join(x for x in (contact.company, contact.department) if x)
    return ", ".join(x for x in (contact.role, company) if x)


def check_in_json(check_in: CheckIn) -> dict[str, Any]:
    contact = check_in.contact
    standing = check_in.standing
    last = standing.last_contact
    return {
        "name": contact.name,
        "path": contact.path,
        "due": check_in.due.isoformat(),
        "original_due": check_in.original_due.isoformat(),
        "overdue_days": check_in.overdue_days,
        "last_contact": last.day.isoformat() if last else None,
        "last_contact_text": interaction_text(last) or None,
        "cadence": contact.cadence.text,
        "cadence_days": contact.cadence.approx_days,
        "reason": check_in.reason,
        "priority": contact.priority,
        "open_attempts": len(standing.open_attempts),
        "city": contact.city or None,
        "met_via": contact.met_via or None,
        "tags": list(contact.tags),
    }


def _interaction_json(item: Interaction) -> dict[str, Any]:
    return {
        "date": item.day.isoformat(),
        "kind": item.kind,
        "source": item.source,
        "text": item.text,
        "path": item.path,
        "line": item.line,
    }


def contact_json(
    contact: Contact, standing: Standing, check_in: CheckIn | None, today: date, config: Config
) -> dict[str, Any]:
    """Everything known about one contact (``show --json``)."""
    birthday = next_birthday(contact, today)
    last = standing.last_contact
    return {
        "name": contact.name,
        "path": contact.path,
        "aliases": list(contact.aliases),
        "status": contact.status,
        "priority": contact.priority,
        "cadence": contact.cadence.text,
        "cadence_days": contact.cadence.approx_days,
        "cadence_source": contact.cadence_source,
        "last_contact": last.day.isoformat() if last else None,
        "last_contact_text": interaction_text(last) or None,
        "planned": standing.planned.day.isoformat() if standing.planned else None,
        "snooze_until": contact.snooze_until.isoformat() if contact.snooze_until else None,
        "open_attempts": len(standing.open_attempts),
        "last_declined": standing.last_decline.day.isoformat() if standing.last_decline else None,
        "one_sided": standing.one_sided,
        "birthday": contact.birthday.text() if contact.birthday else None,
        "next_birthday": birthday.isoformat() if birthday else None,
        "met_via": contact.met_via or None,
        "city": contact.city or None,
        "company": contact.company or None,
        "role": contact.role or None,
        "email": list(contact.email),
        "phone": list(contact.phone),
        "linkedin": contact.linkedin or None,
        "department": contact.department or None,
        "website": list(contact.website),
        "tags": list(contact.tags),
        "check_in": check_in_json(check_in) if check_in else None,
        "why": why_now(check_in, config) if check_in else None,
        "interactions": [
            _interaction_json(i)
            for i in sorted(contact.interactions, key=lambda i: (i.day, i.path, i.line or 0))
        ],
    }


def review_json(item: ReviewItem) -> dict[str, Any]:
    last = item.standing.last_contact
    return {
        "name": item.contact.name,
        "path": item.contact.path,
        "category": item.category,
        "detail": item.detail,
        "last_contact": last.day.isoformat() if last else None,
        "open_attempts": len(item.standing.open_attempts),
        "status": item.contact.status,
        "suggestion": item.suggestion,
    }


def problem_json(problem: Problem) -> dict[str, Any]:
    return problem.as_json()


def printable(text: str) -> str:
    """``text`` for a log line or a terminal: control characters (a forged line break, a
    terminal escape) and backslashes escaped."""
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(c if c.isprintable() and c != "\\" else
                   ("\\\\" if c == "\\" else f"\\x{ord(c):02x}" if ord(c) < 256
                    else f"\\u{ord(c):04x}") for c in text)


# C0 and C1 control characters and DEL, except tab and line feed: what a terminal acts on
# (ESC sequences, BEL, a carriage return that overwrites a line) and RFC 5545 forbids.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """``text`` for the terminal: control characters shown as ``\\x1b``, never sent raw."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def strip_controls(text: str) -> str:
    """``text`` without control characters (tab and line feed stay): for the feed, the
    page and the agenda note."""
    return _CONTROL.sub("", text)


def control_in(text: str) -> str | None:
    """The first control character in ``text`` other than tab, as ``U+001B``, or None."""
    match = _CONTROL.search(text.replace("\n", " "))
    return f"U+{ord(match.group()):04X}" if match else None
