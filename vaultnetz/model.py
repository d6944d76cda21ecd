"""The data of vaultnetz: frozen dataclasses that flow files → notes → contacts → check-ins."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, NamedTuple

Severity = Literal["error", "warning"]
InteractionKind = Literal["contact", "attempt", "declined"]
Reason = Literal["cadence", "never", "attempt", "declined", "snooze", "planned"]

PRIORITIES = ("high", "normal", "low")
STATUSES = ("active", "paused", "archived")


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in the vault or the config, reported by ``check``."""

    path: str
    line: int | None
    severity: Severity
    code: str
    message: str
    hint: str = ""

    def format(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        text = f"{where}: {self.severity}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass(frozen=True, slots=True)
class Cadence:
    """How often to check in: a number of days or of calendar months."""

    amount: int
    unit: Literal["days", "months"]
    text: str = ""

    def after(self, day: date) -> date:
        if self.unit == "months":
            return _add_months(day, self.amount)
        return date.fromordinal(day.toordinal() + self.amount)

    def before(self, day: date) -> date:
        if self.unit == "months":
            return _add_months(day, -self.amount)
        return date.fromordinal(day.toordinal() - self.amount)

    @property
    def approx_days(self) -> int:
        """Days for display and JSON; months count as 30.4375 days (a mean month)."""
        if self.unit == "months":
            return round(self.amount * 30.4375)
        return self.amount

    def describe(self) -> str:
        if self.unit == "months":
            if self.amount % 12 == 0:
                years = self.amount // 12
                return "every year" if years == 1 else f"every {years} years"
            return "every month" if self.amount == 1 else f"every {self.amount} months"
        if self.amount % 7 == 0:
            weeks = self.amount // 7
            return "every week" if weeks == 1 else f"every {weeks} weeks"
        return "every day" if self.amount == 1 else f"every {self.amount} days"


@functools.lru_cache(maxsize=65536)  # the same dates recur in every rebuild of the watcher
def _add_months(day: date, months: int) -> date:
    """Calendar months: Jan 31 + 1 month is Feb 28 (or 29)."""
    from dateutil.relativedelta import relativedelta  # once per distinct date (cached)

    return day + relativedelta(months=months)


@dataclass(frozen=True, slots=True)
class Birthday:
    month: int
    day: int
    year: int | None = None

    def text(self) -> str:
        if self.year is None:
            return f"--{self.month:02d}-{self.day:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def next_on_or_after(self, today: date) -> date:
        """The next birthday on or after ``today``; Feb 29 falls on Feb 28 in common years."""
        for year in (today.year, today.year + 1):
            candidate = self._in_year(year)
            if candidate >= today:
                return candidate
        raise AssertionError("unreachable")  # pragma: no cover

    def _in_year(self, year: int) -> date:
        if self.month == 2 and self.day == 29:
            try:
                return date(year, 2, 29)
            except ValueError:
                return date(year, 2, 28)
        return date(year, self.month, self.day)


class Interaction(NamedTuple):
    """A dated entry: a log bullet, a mention in a dated note, or the front-matter field.

    A named tuple, not a dataclass: a vault holds hundreds of thousands, and each run
    reads them back from the cache; a tuple is made in less than half the time."""

    day: date
    kind: InteractionKind
    text: str
    source: Literal["log", "mention", "field"]
    path: str
    line: int | None


@dataclass(frozen=True, slots=True)
class Contact:
    path: str  # relative to the vault, "/"-separated
    name: str
    aliases: tuple[str, ...] = ()
    cadence: Cadence = Cadence(3, "months", "3m")
    cadence_source: str = "default"  # "field", "tag:<tag>" or "default"
    last_contact_field: date | None = None
    snooze_until: date | None = None
    status: str = "active"
    priority: str = "normal"
    birthday: Birthday | None = None
    met_via: str = ""
    city: str = ""
    company: str = ""
    role: str = ""
    email: tuple[str, ...] = ()
    phone: tuple[str, ...] = ()
    linkedin: str = ""
    tags: tuple[str, ...] = ()
    interactions: tuple[Interaction, ...] = ()
    department: str = ""  # of the company (a vCard's ORG has both)
    website: tuple[str, ...] = ()


class Standing(NamedTuple):
    """What the interactions of one contact add up to on ``today``.

    This and ``CheckIn`` are named tuples: every command reads a plan of one each per
    contact back from the cache, and a tuple is made in a fraction of a dataclass's time."""

    last_contact: Interaction | None
    planned: Interaction | None
    open_attempts: tuple[Interaction, ...]
    last_decline: Interaction | None
    one_sided: bool


class CheckIn(NamedTuple):
    contact: Contact
    original_due: date
    due: date
    reason: Reason
    standing: Standing
    overdue_days: int

    @property
    def last_contact(self) -> date | None:
        lc = self.standing.last_contact
        return lc.day if lc else None


@dataclass(frozen=True, slots=True)
class Schedule:
    """Everything the scheduler worked out for a vault on one day."""

    today: date
    check_ins: tuple[CheckIn, ...]  # in the order of their dates (``due``)
    standings: dict[str, Standing] = field(default_factory=dict)  # by contact path
