from datetime import date

import pytest

from vaultnetz.model import Birthday, Cadence
from vaultnetz.values import parse_birthday, parse_cadence, parse_date, parse_date_or_duration


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("90d", 90, "days"),
        ("6w", 42, "days"),
        ("3m", 3, "months"),
        ("1y", 12, "months"),
        ("every 3 months", 3, "months"),
        ("every month", 1, "months"),
        ("every 2 weeks", 14, "days"),
        ("weekly", 7, "days"),
        ("biweekly", 14, "days"),
        ("monthly", 1, "months"),
        ("quarterly", 3, "months"),
        ("half-yearly", 6, "months"),
        ("yearly", 12, "months"),
        ("P3M", 3, "months"),
        ("P1Y", 12, "months"),
        ("P2W", 14, "days"),
        ("P10D", 10, "days"),
        (30, 30, "days"),
        ("30", 30, "days"),
        ("wöchentlich", 7, "days"),
        ("monatlich", 1, "months"),
        ("vierteljährlich", 3, "months"),
        ("halbjährlich", 6, "months"),
        ("jährlich", 12, "months"),
        ("alle 3 Monate", 3, "months"),
        ("alle 2 Wochen", 14, "days"),
        ("Alle 2 Jahre", 24, "months"),
        ("jaehrlich", 12, "months"),
        (" Quarterly ", 3, "months"),
    ],
)
def test_every_cadence_form(text: object, amount: int, unit: str) -> None:
    cadence = parse_cadence(text)
    assert (cadence.amount, cadence.unit) == (amount, unit)


@pytest.mark.parametrize("bad", ["", "3x", "month", "every", "0d", -5, 0, True, "P1M2D", [3], 1.5])
def test_bad_cadence_says_what_is_accepted(bad: object) -> None:
    with pytest.raises(ValueError, match="cadence"):
        parse_cadence(bad)


def test_months_are_calendar_months() -> None:
    assert Cadence(1, "months").after(date(2026, 1, 31)) == date(2026, 2, 28)
    assert Cadence(3, "months").after(date(2026, 11, 30)) == date(2027, 2, 28)
    assert Cadence(12, "months").after(date(2024, 2, 29)) == date(2025, 2, 28)
    assert Cadence(90, "days").after(date(2026, 1, 1)) == date(2026, 4, 1)


@pytest.mark.parametrize(
    "value",
    [date(2026, 5, 1), "2026-05-01", "[[2026-05-01]]", [[date(2026, 5, 1)]], [["2026-05-01"]],
     "2026-05-01T14:30", "2026-05-01 14:30", "2026-05-01T14:30:00+02:00", "01.05.2026",
     "1.5.2026", "May 1, 2026", "1 May 2026", "1. Mai 2026", "2026/05/01",
     "1 May, 2026"],
)
def test_date_forms(value: object) -> None:
    assert parse_date(value) == date(2026, 5, 1)


@pytest.mark.parametrize("bad", ["2026-02-30", "31.02.2026", "yesterday", 20260501, [], None,
                                 "05/06/2026"])
def test_bad_dates(bad: object) -> None:
    with pytest.raises(ValueError, match="date"):
        parse_date(bad)


def test_birthdays() -> None:
    assert parse_birthday("1984-03-14") == Birthday(3, 14, 1984)
    assert parse_birthday(date(1984, 3, 14)) == Birthday(3, 14, 1984)
    assert parse_birthday("--07-14") == Birthday(7, 14)
    assert parse_birthday("--0714") == Birthday(7, 14)
    assert parse_birthday("--02-29") == Birthday(2, 29)
    with pytest.raises(ValueError, match="birthday"):
        parse_birthday("--02-30")
    with pytest.raises(ValueError, match="birthday"):
        parse_birthday("March 14")


def test_leap_day_birthday_falls_on_feb_28_in_common_years() -> None:
    assert Birthday(2, 29).next_on_or_after(date(2026, 1, 1)) == date(2026, 2, 28)
    assert Birthday(2, 29).next_on_or_after(date(2027, 3, 1)) == date(2028, 2, 29)


def test_snooze_until_date_or_duration() -> None:
    today = date(2026, 11, 23)
    assert parse_date_or_duration("2026-12-24", today) == date(2026, 12, 24)
    assert parse_date_or_duration("2w", today) == date(2026, 12, 7)
    assert parse_date_or_duration("1m", today) == date(2026, 12, 23)
    with pytest.raises(ValueError, match="neither a date"):
        parse_date_or_duration("soon", today)


@pytest.mark.parametrize(("text", "order", "expected"), [
    ("03/14/1990", "", date(1990, 3, 14)), ("14/03/1990", "", date(1990, 3, 14)),
    ("03/04/1990", "DMY", date(1990, 4, 3)), ("03/04/1990", "MDY", date(1990, 3, 4)),
    ("04/04/1990", "", date(1990, 4, 4)),
])
def test_date_order_settles_ambiguous_dates(text: str, order: str, expected: date) -> None:
    assert parse_date(text, order) == expected


def test_an_ambiguous_date_says_how_to_settle_it() -> None:
    with pytest.raises(ValueError, match="set date_order"):
        parse_date("03/04/1990")
