"""Polite, open message drafts, in English and German, from templates.

In the spirit of the seeds: a concrete, small ask (a coffee, a short call),
where and when when you travel, and an explicit easy way to say no. A draft
never guilt-trips ("you haven't answered…"); after a "no" it acknowledges it
and keeps the door open. Every text can be replaced in ``[templates]``.
"""

from __future__ import annotations

import re
from datetime import date

from .config import Config, fill_template
from .model import CheckIn, Contact, Standing
from .names import formal_name, greeting_name

DEFAULTS: dict[str, dict[str, str]] = {
    "en": {
        "checkin": "Hi {first_name}, I was just thinking of our last conversation "
                   "({last_topic}). How are you? Would you like to catch up over a coffee or "
                   "a short call in the next few weeks? If it's a busy time, no worries at all.",
        "checkin_plain": "Hi {first_name}, how are you? Would you like to catch up over a "
                         "coffee or a short call in the next few weeks? If it's a busy time, "
                         "no worries at all.",
        "never": "Hi {first_name}, we know each other from {met_via}, and I'd be glad to hear "
                 "how you are. Would you have time for a coffee or a short call in the coming "
                 "weeks? If it doesn't suit you, that's absolutely fine.",
        "never_linkedin": "Hi {first_name}, we're connected on LinkedIn, and I'd be glad to "
                          "hear how you are. Would you have time for a coffee or a short call "
                          "in the coming weeks? If it doesn't suit you, that's absolutely "
                          "fine.",
        "never_plain": "Hi {first_name}, it's been a while, and I'd be glad to hear how you "
                       "are. Would you have time for a coffee or a short call in the coming "
                       "weeks? If it doesn't suit you, that's absolutely fine.",
        "attempt": "Hi {first_name}, I'd still be glad to catch up over a coffee or a short "
                   "call whenever it suits you. If now isn't a good time, no need to reply.",
        "declined": "Hi {first_name}, I hope all is well with you. If you feel like a coffee "
                    "or a call at some point, I'd be glad; and if the timing still isn't "
                    "right, that's completely fine.",
        "trip": "Hi {first_name}, I'll be in {city} {dates}. Would you have time for a "
                "coffee? If it doesn't fit this time, no problem at all: just let me know.",
    },
    "de": {
        "checkin": "Hallo {name}, ich habe neulich an unser letztes Gespräch gedacht "
                   "({last_topic}). Wie geht es Ihnen? Hätten Sie in den nächsten Wochen Zeit "
                   "für einen Kaffee oder ein kurzes Telefonat? Wenn es gerade nicht passt, "
                   "ist das überhaupt kein Problem.",
        "checkin_plain": "Hallo {name}, wie geht es Ihnen? Hätten Sie in den nächsten Wochen "
                         "Zeit für einen Kaffee oder ein kurzes Telefonat? Wenn es gerade "
                         "nicht passt, ist das überhaupt kein Problem.",
        "never": "Hallo {name}, wir kennen uns über {met_via}, und ich würde mich freuen zu "
                 "hören, wie es Ihnen geht. Hätten Sie in den nächsten Wochen Zeit für einen "
                 "Kaffee oder ein kurzes Telefonat? Wenn es nicht passt, ist das völlig in "
                 "Ordnung.",
        "never_linkedin": "Hallo {name}, wir sind auf LinkedIn vernetzt, und ich würde mich "
                          "freuen zu hören, wie es Ihnen geht. Hätten Sie in den nächsten "
                          "Wochen Zeit für einen Kaffee oder ein kurzes Telefonat? Wenn es "
                          "nicht passt, ist das völlig in Ordnung.",
        "never_plain": "Hallo {name}, es ist eine Weile her, und ich würde mich freuen zu "
                       "hören, wie es Ihnen geht. Hätten Sie in den nächsten Wochen Zeit für "
                       "einen Kaffee oder ein kurzes Telefonat? Wenn es nicht passt, ist das "
                       "völlig in Ordnung.",
        "attempt": "Hallo {name}, ich würde mich nach wie vor über einen Kaffee oder ein "
                   "kurzes Telefonat freuen, wann immer es Ihnen passt. Wenn es gerade "
                   "ungünstig ist, brauchen Sie nicht zu antworten.",
        "declined": "Hallo {name}, ich hoffe, es geht Ihnen gut. Wenn Sie irgendwann Lust auf "
                    "einen Kaffee oder ein Telefonat haben, freue ich mich; und wenn es noch "
                    "nicht passt, ist das völlig in Ordnung.",
        "trip": "Hallo {name}, ich bin {dates} in {city}. Wie sieht es bei Ihnen aus: hätten "
                "Sie Zeit für einen Kaffee? Wenn es diesmal nicht klappt, ist das überhaupt "
                "kein Problem.",
    },
}

_MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
           "September", "Oktober", "November", "Dezember"],
}
_TAGS = re.compile(r"(?<![\w/])#[\w/-]+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?])")


def dates_phrase(start: date | None, end: date | None, language: str) -> str:
    """'from 3 to 5 December' / 'vom 3. bis 5. Dezember'; 'soon' / 'demnächst' without dates."""
    de = language == "de"
    months = _MONTHS["de" if de else "en"]
    if start is None:
        return "demnächst" if de else "soon"
    end = end or start
    if de:
        def day(d: date) -> str:
            return f"{d.day}. {months[d.month - 1]}"
        if start == end:
            return f"am {day(start)}"
        if (start.year, start.month) == (end.year, end.month):
            return f"vom {start.day}. bis {day(end)}"
        return f"vom {day(start)} bis {day(end)}"

    def en_day(d: date) -> str:
        return f"{d.day} {months[d.month - 1]}"
    if start == end:
        return f"on {en_day(start)}"
    if (start.year, start.month) == (end.year, end.month):
        return f"from {start.day} to {en_day(end)}"
    return f"from {en_day(start)} to {en_day(end)}"


def last_topic(standing: Standing) -> str:
    """What the last real contact was about, from its text, shortened; '' when unknown."""
    last = standing.last_contact
    # Only the user's own log line says what it was about; a daily note's line does not.
    if last is None or last.source != "log" or not last.text:
        return ""
    text = _TAGS.sub("", last.text).strip(" -*\t")
    text = " ".join(text.split())
    if len(text) > 80:
        text = text[:79].rsplit(" ", 1)[0] + "…"
    return text


def render(name: str, contact: Contact, config: Config, **values: str) -> str:
    """Fill in a template; the user's own from [templates] wins over the default."""
    language = config.language if config.language in DEFAULTS else "en"
    template = config.templates.get(name) or DEFAULTS[language][name]
    fields = {
        # Never a title, a phone number or an email: "Hi Anna," or just "Hi,".
        "first_name": greeting_name(contact.name),
        "name": formal_name(contact.name),
        "city": contact.city,
        "dates": "",
        "last_topic": "",
        "met_via": contact.met_via,
        **values,
    }
    text = " ".join(fill_template(template, fields).split())
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)  # an empty {dates}: "in Köln ." → "."


def draft_for_check_in(check_in: CheckIn, config: Config) -> str:
    """The draft that fits why the check-in is due."""
    contact, standing = check_in.contact, check_in.standing
    reason = check_in.reason
    if reason == "attempt" or (standing.open_attempts and reason == "snooze"):
        return render("attempt", contact, config)
    if reason == "declined" or (standing.last_decline is not None and reason == "snooze"):
        return render("declined", contact, config)
    if standing.last_contact is None:
        if contact.met_via.strip().casefold() == "linkedin":  # as `import linkedin` writes it
            return render("never_linkedin", contact, config)
        return render("never" if contact.met_via else "never_plain", contact, config)
    topic = last_topic(standing)
    if topic:
        return render("checkin", contact, config, last_topic=topic)
    return render("checkin_plain", contact, config)


def trip_draft(contact: Contact, city: str, start: date | None, end: date | None,
               config: Config) -> str:
    """The trip draft; the city as the contact's note spells it ("München", not "munich")."""
    single = contact.city and not any(sep in contact.city for sep in ",;/")
    return render("trip", contact, config, city=contact.city if single else city,
                  dates=dates_phrase(start, end, config.language))
