from dataclasses import replace
from datetime import date, timedelta

from vaultnetz.config import Config
from vaultnetz.model import Cadence, Contact, Interaction
from vaultnetz.schedule import review, schedule, standing_of

TODAY = date(2026, 11, 23)
CONFIG = Config()


def d(text: str) -> date:
    return date.fromisoformat(text)


def contact(name: str = "A", *entries: tuple[str, str], **fields: object) -> Contact:
    """entries: (date, kind) with kind contact/attempt/declined/mention/field."""
    interactions = []
    for i, (day, kind) in enumerate(entries):
        source = "log"
        if kind in ("mention", "field"):
            source, kind = kind, "contact"
        interactions.append(Interaction(d(day), kind, f"entry {i}", source, f"{name}.md", i + 1))  # type: ignore[arg-type]
    return Contact(path=f"People/{name}.md", name=name, interactions=tuple(interactions),
                   **fields)  # type: ignore[arg-type]


def one(c: Contact, today: date = TODAY, config: Config = CONFIG):
    plan = schedule([c], today, config)
    return plan.check_ins[0] if plan.check_ins else None


def test_cadence_from_last_real_contact() -> None:
    c = contact("A", ("2026-06-01", "contact"), ("2026-09-10", "mention"), ("2026-08-01", "field"))
    check_in = one(c)
    assert (check_in.original_due, check_in.reason) == (d("2026-12-10"), "cadence")
    assert check_in.last_contact == d("2026-09-10")
    assert check_in.due == d("2026-12-10")
    assert check_in.overdue_days == 0


def test_overdue_lands_on_today() -> None:
    check_in = one(contact("A", ("2026-01-15", "contact")))
    assert check_in.original_due == d("2026-04-15")
    assert check_in.due == TODAY
    assert check_in.overdue_days == (TODAY - d("2026-04-15")).days


def test_never_contacted_is_due_today() -> None:
    check_in = one(contact("A"))
    assert (check_in.due, check_in.original_due, check_in.reason) == (TODAY, TODAY, "never")
    assert check_in.last_contact is None


def test_calendar_month_cadence() -> None:
    c = contact("A", ("2026-08-31", "contact"), cadence=Cadence(3, "months"))
    assert one(c).original_due == d("2026-11-30")


def test_attempt_backoff_replaces_the_cadence_date() -> None:
    c = contact("A", ("2026-01-01", "contact"), ("2026-11-01", "attempt"))
    check_in = one(c)
    assert (check_in.original_due, check_in.reason) == (d("2026-11-29"), "attempt")
    assert check_in.last_contact == d("2026-01-01")  # an attempt is not a contact
    assert len(check_in.standing.open_attempts) == 1


def test_reminders_stop_after_max_attempts_in_a_row() -> None:
    c = contact("A", ("2026-01-01", "contact"), ("2026-05-01", "attempt"),
                ("2026-06-01", "attempt"), ("2026-07-01", "attempt"))
    assert one(c) is None
    assert standing_of(c, TODAY, 3).one_sided
    items = review([c], TODAY, CONFIG, {})
    assert [(i.category, i.contact.name) for i in items] == [("one-sided", "A")]
    assert "archive" in items[0].suggestion and "snooze" in items[0].suggestion
    config = replace(CONFIG, max_attempts=4)
    assert one(c, config=config).original_due == d("2026-07-29")


def test_a_real_contact_answers_the_attempts() -> None:
    c = contact("A", ("2026-05-01", "attempt"), ("2026-06-01", "attempt"),
                ("2026-07-01", "attempt"), ("2026-08-01", "contact"))
    check_in = one(c)
    assert (check_in.reason, check_in.original_due) == ("cadence", d("2026-11-01"))
    assert check_in.standing.open_attempts == ()


def test_decline_resets_attempts_and_backs_off() -> None:
    c = contact("A", ("2026-01-01", "contact"), ("2026-05-01", "attempt"),
                ("2026-06-01", "attempt"), ("2026-10-01", "declined"))
    check_in = one(c)
    assert (check_in.reason, check_in.original_due) == ("declined", d("2027-01-01"))
    assert check_in.last_contact == d("2026-01-01")  # a no is not a contact
    assert check_in.standing.open_attempts == ()
    # Attempts after the decline count from zero again.
    c2 = replace(c, interactions=c.interactions + contact(
        "A", ("2026-10-10", "attempt"), ("2026-10-20", "attempt")).interactions)
    check_in = one(c2)
    assert (check_in.reason, len(check_in.standing.open_attempts)) == ("attempt", 2)
    assert check_in.original_due == d("2026-11-17")


def test_snooze_moves_the_reminder_at_the_earliest() -> None:
    c = contact("A", ("2026-10-01", "contact"), snooze_until=d("2027-02-01"))
    assert (one(c).original_due, one(c).reason) == (d("2027-02-01"), "snooze")
    earlier = replace(c, snooze_until=d("2026-12-01"))
    assert (one(earlier).original_due, one(earlier).reason) == (d("2027-01-01"), "cadence")
    # A past snooze date: overdue since the snooze date.
    past = contact("A", ("2025-01-01", "contact"), snooze_until=d("2026-11-01"))
    check_in = one(past)
    assert (check_in.original_due, check_in.reason, check_in.overdue_days) == (
        d("2026-11-01"), "snooze", 22)
    never = contact("A", snooze_until=d("2026-12-24"))
    assert (one(never).original_due, one(never).reason) == (d("2026-12-24"), "snooze")


def test_paused_and_archived_get_no_reminders() -> None:
    assert one(contact("A", status="paused")) is None
    assert one(contact("A", status="archived")) is None
    items = review([contact("P", status="paused"), contact("X", status="archived")],
                   TODAY, CONFIG, {})
    assert [(i.category, i.contact.name) for i in items] == [("paused", "P")]


def test_planned_entries_hold_the_reminder_until_plan_plus_cadence() -> None:
    c = contact("A", ("2026-01-01", "contact"), ("2026-12-05", "contact"))
    check_in = one(c)
    assert (check_in.reason, check_in.original_due) == ("planned", d("2027-03-05"))
    assert check_in.last_contact == d("2026-01-01")  # the future does not count yet
    # Once the day has come it is simply the last contact.
    later = one(c, today=d("2026-12-06"))
    assert (later.reason, later.original_due, later.last_contact) == (
        "cadence", d("2027-03-05"), d("2026-12-05"))


def test_future_front_matter_date_is_a_plan() -> None:
    c = contact("A", ("2027-01-10", "field"))
    assert (one(c).reason, one(c).original_due) == ("planned", d("2027-04-10"))


def test_smoothing_order_priority_due_recency_name() -> None:
    config = replace(CONFIG, max_per_day=2)
    contacts = [
        contact("Low", ("2026-01-01", "contact"), priority="low"),
        contact("High", ("2026-08-22", "contact"), priority="high"),  # due 2026-11-22
        contact("Old", ("2026-01-01", "contact")),                     # due 2026-04-01
        contact("Zed", ("2026-06-01", "contact"), cadence=Cadence(6, "days")),  # 2026-06-07
        contact("Amy", ("2026-05-01", "contact"), cadence=Cadence(37, "days")),  # 2026-06-07
        contact("Never"),
    ]
    plan = schedule(contacts, TODAY, config)
    placed = [(c.contact.name, c.due) for c in plan.check_ins]
    assert placed == [
        ("High", TODAY),
        ("Old", TODAY),
        ("Zed", TODAY + timedelta(days=1)),  # same original due as Amy, more recent contact
        ("Amy", TODAY + timedelta(days=1)),
        ("Low", TODAY + timedelta(days=2)),
        ("Never", TODAY + timedelta(days=2)),  # no history at all: after everyone known
    ]
    for check_in in plan.check_ins:
        assert check_in.due >= max(check_in.original_due, TODAY)


def test_never_contacted_counts_as_least_recent() -> None:
    config = replace(CONFIG, max_per_day=1)
    plan = schedule([contact("B"), contact("A", ("2026-08-23", "contact"))], TODAY, config)
    assert [c.contact.name for c in plan.check_ins] == ["A", "B"]


def test_future_reminders_wait_for_their_day() -> None:
    config = replace(CONFIG, max_per_day=1)
    contacts = [contact(n, ("2026-09-01", "contact")) for n in "ABC"]
    plan = schedule(contacts, TODAY, config)
    assert [(c.contact.name, c.due) for c in plan.check_ins] == [
        ("A", d("2026-12-01")), ("B", d("2026-12-02")), ("C", d("2026-12-03"))]


def test_long_silent_review() -> None:
    c = contact("Old", ("2024-06-01", "contact"))
    recent = contact("New", ("2026-06-01", "contact"))
    planned = contact("Plan", ("2024-06-01", "contact"), ("2027-01-01", "contact"))
    items = review([c, recent, planned], TODAY, CONFIG, {})
    assert [(i.category, i.contact.name) for i in items] == [("long-silent", "Old")]
    assert "2024-06-01" in items[0].detail


def test_an_import_backlog_never_moves_people_you_know() -> None:
    """CONTRACT §4 rule 5: 1,500 strangers fill only the slots known people leave free."""
    config = replace(CONFIG, max_per_day=3)
    known = [contact(f"Known {i:02d}", (f"2026-0{1 + i % 9}-1{i % 10}", "contact"))
             for i in range(40)]
    before = {c.contact.name: c.due for c in schedule(known, TODAY, config).check_ins}
    strangers = [contact(f"Imported {i:04d}") for i in range(1500)]
    plan = schedule(known + strangers, TODAY, config)
    after = {c.contact.name: c.due for c in plan.check_ins}
    assert {name: after[name] for name in before} == before
    per_day: dict[date, int] = {}
    for check_in in plan.check_ins:
        per_day[check_in.due] = per_day.get(check_in.due, 0) + 1
    assert max(per_day.values()) == 3  # a gentle drip
    assert len(plan.check_ins) == 1540  # every stranger placed, after the known ones
