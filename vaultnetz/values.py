"""Parsing the user's words for dates, cadences and durations.

Each parser raises ``ValueError`` with a message that says what is accepted.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from typing import Any

from .model import Birthday, Cadence

ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
WIKI_DATE = re.compile(r"^\[\[(\d{4}-\d{2}-\d{2})\]\]$")

CADENCE_ACCEPTED = (
    "90d, 6w, 3m, 1y, 'every 3 months', weekly, biweekly, monthly, quarterly, "
    "half-yearly, yearly, ISO P3M, a whole number of days, or wöchentlich, monatlich, "
    "vierteljährlich, halbjährlich, jährlich, 'alle 3 Monate'"
)
DATE_ACCEPTED = ("YYYY-MM-DD or [[YYYY-MM-DD]] (also 14.03.1990, 03/14/1990, "
                 "March 14, 1990, 14. März 1990)")
# Dates outside these years are typos (9999, 0202): unusable, so that one of them cannot
# push any computation past the calendar's end.
MIN_YEAR, MAX_YEAR = 1900, 2999
MAX_CADENCE_DAYS = 36_525  # a hundred years: longer durations are typos too

_WORDS: dict[str, tuple[int, str]] = {
    "daily": (1, "days"),
    "weekly": (7, "days"),
    "biweekly": (14, "days"),
    "fortnightly": (14, "days"),
    "monthly": (1, "months"),
    "bimonthly": (2, "months"),
    "quarterly": (3, "months"),
    "half-yearly": (6, "months"),
    "halfyearly": (6, "months"),
    "semiannually": (6, "months"),
    "semi-annually": (6, "months"),
    "yearly": (12, "months"),
    "annually": (12, "months"),
    "täglich": (1, "days"),
    "wöchentlich": (7, "days"),
    "zweiwöchentlich": (14, "days"),
    "monatlich": (1, "months"),
    "zweimonatlich": (2, "months"),
    "vierteljährlich": (3, "months"),
    "quartalsweise": (3, "months"),
    "halbjährlich": (6, "months"),
    "jährlich": (12, "months"),
}

_UNITS: dict[str, tuple[int, str]] = {
    "d": (1, "days"),
    "day": (1, "days"),
    "days": (1, "days"),
    "tag": (1, "days"),
    "tage": (1, "days"),
    "tagen": (1, "days"),
    "w": (7, "days"),
    "week": (7, "days"),
    "weeks": (7, "days"),
    "woche": (7, "days"),
    "wochen": (7, "days"),
    "m": (1, "months"),
    "mo": (1, "months"),
    "month": (1, "months"),
    "months": (1, "months"),
    "monat": (1, "months"),
    "monate": (1, "months"),
    "monaten": (1, "months"),
    "y": (12, "months"),
    "year": (12, "months"),
    "years": (12, "months"),
    "jahr": (12, "months"),
    "jahre": (12, "months"),
    "jahren": (12, "months"),
}

_AMOUNT_UNIT = re.compile(r"^(?:every|alle)?\s*(\d+)?\s*([a-zäöü]+)$")
_ISO_DURATION = re.compile(r"^p(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)w)?(?:(\d+)d)?$")


def _ascii_umlauts(text: str) -> str:
    return text.replace("ae", "ä").replace("oe", "ö").replace("ue", "ü")


def parse_cadence(value: Any) -> Cadence:
    """Parse every cadence form of the contract; raise ValueError otherwise."""
    if isinstance(value, str | int) and not isinstance(value, bool):  # True == 1 as a key
        return _parse_cadence_cached(value)
    return _parse_cadence(value)


@functools.lru_cache(maxsize=1024)  # the same few cadences stand in thousands of notes
def _parse_cadence_cached(value: str | int) -> Cadence:
    return _parse_cadence(value)


def _parse_cadence(value: Any) -> Cadence:
    if isinstance(value, bool):
        raise ValueError(f"cadence {value!r} is not a duration; use {CADENCE_ACCEPTED}")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"cadence {value} must be a positive number of days")
        return _positive(Cadence(value, "days", str(value)))
    if not isinstance(value, str):
        raise ValueError(f"cadence {value!r} is not a duration; use {CADENCE_ACCEPTED}")
    text = value.strip()
    key = " ".join(text.lower().split())
    if key.isdigit():
        return _parse_cadence(int(key))
    for candidate in (key, _ascii_umlauts(key)):
        if candidate in _WORDS:
            amount, unit = _WORDS[candidate]
            return Cadence(amount, unit, text)  # type: ignore[arg-type]
    iso = _ISO_DURATION.match(key)
    if iso and any(iso.groups()):
        years, months, weeks, days = (int(g) if g else 0 for g in iso.groups())
        if (years or months) and (weeks or days):
            raise ValueError(f"cadence {text!r} mixes months and days; use one of them")
        if years or months:
            return _positive(Cadence(years * 12 + months, "months", text))
        return _positive(Cadence(weeks * 7 + days, "days", text))
    for candidate in (key, _ascii_umlauts(key)):
        match = _AMOUNT_UNIT.match(candidate)
        if not match or match.group(2) not in _UNITS:
            continue
        # A bare unit ("month") is too vague; "every month" and "3m" are not.
        if match.group(1) is None and not candidate.startswith(("every", "alle")):
            continue
        count = int(match.group(1)) if match.group(1) else 1
        factor, unit = _UNITS[match.group(2)]
        return _positive(Cadence(count * factor, unit, text))  # type: ignore[arg-type]
    raise ValueError(f"cadence {text!r} is not understood; use {CADENCE_ACCEPTED}")


def _positive(cadence: Cadence) -> Cadence:
    if cadence.amount <= 0:
        raise ValueError(f"cadence {cadence.text!r} must be longer than zero")
    if cadence.approx_days > MAX_CADENCE_DAYS:
        raise ValueError(f"cadence {cadence.text!r} is longer than 100 years; use at most 100y")
    return cadence


def in_range(day: date) -> date:
    """``day`` when its year is within MIN_YEAR..MAX_YEAR; else ValueError."""
    if MIN_YEAR <= day.year <= MAX_YEAR:
        return day
    raise ValueError(f"{day.isoformat()} is out of range; use a date between "
                     f"{MIN_YEAR}-01-01 and {MAX_YEAR}-12-31")


def parse_date(value: Any, order: str = "") -> date:
    """A date as people write it: a YAML date or date-time, 'YYYY-MM-DD', '[[YYYY-MM-DD]]'
    (also unquoted: a nested list in YAML), a date-time such as Obsidian's
    '2026-05-01T14:30', or '14.03.1990', '03/14/1990', 'March 14, 1990', '14. März 1990'.
    ``order`` ("DMY" or "MDY") settles a date like 03/04/1990; without it, that is an
    error that says so."""
    if isinstance(value, datetime):
        return in_range(value.date())
    if isinstance(value, date):
        return in_range(value)
    if isinstance(value, list) and len(value) == 1:
        inner = value[0]
        if isinstance(inner, list) and len(inner) == 1:
            return parse_date(inner[0], order)
    if isinstance(value, str):
        text = value.strip()
        wiki = WIKI_DATE.match(text)
        if wiki:
            text = wiki.group(1)
        if ISO_DATE.match(text):
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{text!r} is not a real date") from None
            return in_range(day)
        found = _other_forms(text, order)
        if found is not None:
            return in_range(found)
    raise ValueError(f"{value!r} is not a date; use {DATE_ACCEPTED}")


_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
                       r"(?:Z|[+-]\d{2}:?\d{2})?$")
_DOTTED = re.compile(r"^(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})$")
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_YMD_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_DAY_MONTH = re.compile(r"^(\d{1,2})\.?\s+([^\W\d_]+)\.?,?\s+(\d{4})$")
_MONTH_DAY = re.compile(r"^([^\W\d_]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")
MONTHS = {
    name: number
    for number, names in enumerate((
        ("january", "jan", "januar", "jänner", "jaenner"), ("february", "feb", "februar"),
        ("march", "mar", "märz", "maerz", "mrz"), ("april", "apr"), ("may", "mai"),
        ("june", "jun", "juni"), ("july", "jul", "juli"), ("august", "aug"),
        ("september", "sep", "sept"), ("october", "oct", "oktober", "okt"),
        ("november", "nov"), ("december", "dec", "dezember", "dez")), start=1)
    for name in names
}


def _other_forms(text: str, order: str) -> date | None:
    """The date of the other forms ``parse_date`` reads; None when it is none of them."""
    match = _DATETIME.match(text)
    if match:
        return _real(*reversed([int(x) for x in match.group(1).split("-")]), text=text)
    match = _DOTTED.match(text)
    if match:  # 14.03.1990: day first, always
        return _real(int(match.group(1)), int(match.group(2)), int(match.group(3)), text=text)
    match = _YMD_SLASHED.match(text)
    if match:
        return _real(int(match.group(3)), int(match.group(2)), int(match.group(1)), text=text)
    match = _SLASHED.match(text)
    if match:
        a, b, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if a > 12 or (a != b and b <= 12 and order == "DMY"):
            return _real(a, b, year, text=text)
        if b > 12 or a == b or order == "MDY":
            return _real(b, a, year, text=text)
        raise ValueError(f"{text!r} could be {year}-{b:02d}-{a:02d} or {year}-{a:02d}-{b:02d}; "
                         "use YYYY-MM-DD, or set date_order = \"DMY\" or \"MDY\"")
    match = _DAY_MONTH.match(text)
    if match and match.group(2).casefold() in MONTHS:
        return _real(int(match.group(1)), MONTHS[match.group(2).casefold()],
                     int(match.group(3)), text=text)
    match = _MONTH_DAY.match(text)
    if match and match.group(1).casefold() in MONTHS:
        return _real(int(match.group(2)), MONTHS[match.group(1).casefold()],
                     int(match.group(3)), text=text)
    return None


def _real(day: int, month: int, year: int, *, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a real date") from None


def parse_birthday(value: Any, order: str = "") -> Birthday:
    """A birthday: a date (in any form ``parse_date`` reads), or '--MM-DD' (also '--MMDD')
    when the year is unknown."""
    if isinstance(value, str):
        text = value.strip()
        match = re.match(r"^--(\d{2})-?(\d{2})$", text)
        if match:
            month, day = int(match.group(1)), int(match.group(2))
            try:
                date(2000, month, day)  # a leap year, so Feb 29 passes
            except ValueError:
                raise ValueError(f"birthday {text!r} is not a real day") from None
            return Birthday(month, day)
    try:
        day_ = parse_date(value, order)
    except ValueError as exc:
        reason = "is not understood" if "is not a date" in str(exc) else str(exc).split(
            "; ", 1)[0].split(" ", 1)[1]
        raise ValueError(
            f"birthday {value!r} {reason}; use YYYY-MM-DD or --MM-DD"
        ) from None
    return Birthday(day_.month, day_.day, day_.year)


def parse_duration(value: Any) -> Cadence:
    """A duration such as ``4w`` or ``3m`` (the same forms as a cadence)."""
    return parse_cadence(value)


def parse_date_or_duration(text: str, today: date) -> date:
    """UNTIL for snooze: a date, or a duration from today (``2w``, ``3m``)."""
    try:
        return parse_date(text)
    except ValueError:
        pass
    try:
        return parse_duration(text).after(today)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a date (YYYY-MM-DD) nor a duration (2w, 10d, 3m, 1y)"
        ) from None
