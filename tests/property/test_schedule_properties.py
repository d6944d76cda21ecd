"""Hypothesis: the scheduler's promises hold for any set of contacts."""

from collections import Counter
from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from vaultnetz.config import Config
from vaultnetz.model import Cadence, Contact, Interaction
from vaultnetz.schedule import Memo, schedule, standing_of

TODAY = date(2026, 11, 23)

days = st.integers(min_value=-900, max_value=200).map(lambda n: TODAY + timedelta(days=n))
interaction = st.builds(
    lambda day, kind, source: Interaction(day, kind, "", source, "x.md", None),
    days,
    st.sampled_from(["contact", "contact", "attempt", "declined"]),
    st.sampled_from(["log", "mention", "field"]),
)
cadence = st.one_of(
    st.integers(1, 400).map(lambda n: Cadence(n, "days")),
    st.integers(1, 24).map(lambda n: Cadence(n, "months")),
)


@st.composite
def contacts(draw: st.DrawFn) -> list[Contact]:
    n = draw(st.integers(0, 40))
    out = []
    for i in range(n):
        out.append(Contact(
            path=f"People/{i}.md",
            name=draw(st.sampled_from(["Anna", "Bo", "Cem", "Dana", f"P{i}"])),
            cadence=draw(cadence),
            status=draw(st.sampled_from(["active", "active", "active", "paused", "archived"])),
            priority=draw(st.sampled_from(["high", "normal", "low"])),
            snooze_until=draw(st.none() | days),
            interactions=tuple(draw(st.lists(interaction, max_size=6))),
        ))
    return out


configs = st.builds(
    lambda per_day, attempts, per_week: Config(max_per_day=per_day, max_attempts=attempts,
                                               max_per_week=per_week),
    st.integers(1, 4), st.integers(1, 4), st.sampled_from([0, 0, 1, 2, 5, 9]))


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@settings(max_examples=200, deadline=None)
@given(contacts(), configs)
def test_smoothing_caps_each_day_and_never_moves_earlier(people: list[Contact], config: Config
                                                         ) -> None:
    plan = schedule(people, TODAY, config)
    per_day = Counter(c.due for c in plan.check_ins)
    assert all(n <= config.max_per_day for n in per_day.values())
    if config.max_per_week:
        per_week = Counter(monday(c.due) for c in plan.check_ins)
        assert all(n <= config.max_per_week for n in per_week.values())
    for check_in in plan.check_ins:
        assert check_in.due >= max(check_in.original_due, TODAY)
        assert check_in.overdue_days == max(0, (TODAY - check_in.original_due).days)


@settings(max_examples=200, deadline=None)
@given(contacts(), configs)
def test_exactly_the_active_not_one_sided_contacts_get_one_check_in(
    people: list[Contact], config: Config
) -> None:
    plan = schedule(people, TODAY, config)
    placed = Counter(c.contact.path for c in plan.check_ins)
    for person in people:
        one_sided = standing_of(person, TODAY, config.max_attempts).one_sided
        expected = 1 if person.status == "active" and not one_sided else 0
        assert placed[person.path] == expected


@settings(max_examples=200, deadline=None)
@given(contacts(), configs)
def test_no_day_is_left_idle_while_check_ins_wait(people: list[Contact], config: Config) -> None:
    """A check-in is only pushed past its date when every day in between is full."""
    plan = schedule(people, TODAY, config)
    per_day = Counter(c.due for c in plan.check_ins)
    per_week = Counter(monday(c.due) for c in plan.check_ins)
    for check_in in plan.check_ins:
        start = max(check_in.original_due, TODAY)
        day = start
        while day < check_in.due:
            week_full = bool(config.max_per_week) and per_week[monday(day)] >= config.max_per_week
            assert per_day[day] == config.max_per_day or week_full
            day += timedelta(days=1)


@settings(max_examples=200, deadline=None)
@given(contacts(), configs)
def test_the_most_urgent_ready_check_ins_go_first(people: list[Contact], config: Config) -> None:
    """Nobody who was ready on a day is placed later than a less urgent one placed that day."""
    from vaultnetz.schedule import urgency

    plan = schedule(people, TODAY, config)
    keyed = [(c, urgency(c.contact, c.original_due, c.standing)) for c in plan.check_ins]
    for placed, placed_key in keyed:
        for other, other_key in keyed:
            ready = max(other.original_due, TODAY)
            if ready <= placed.due < other.due:
                assert placed_key < other_key


@settings(max_examples=300, deadline=None)
@given(st.lists(interaction, max_size=8), cadence, st.integers(0, 300), st.none() | days)
def test_a_later_real_contact_never_makes_a_contact_due_sooner(
    entries: list[Interaction], every: Cadence, offset: int, snooze: date | None
) -> None:
    config = Config(max_per_day=100)
    base = Contact(path="People/A.md", name="A", cadence=every, interactions=tuple(entries),
                   snooze_until=snooze)
    latest = max((i.day for i in entries), default=TODAY - timedelta(days=900))
    new_day = min(latest + timedelta(days=offset), TODAY)
    if new_day < latest:
        return
    more = replace(base, interactions=(*entries, Interaction(new_day, "contact", "", "log",
                                                              "A.md", None)))
    before = schedule([base], TODAY, config).check_ins
    after = schedule([more], TODAY, config).check_ins
    # A real contact ends an attempt or decline back-off (they answered), so the promise is
    # about reminders that follow the cadence: a newer contact never brings them forward.
    if before and after and before[0].reason in ("cadence", "never", "snooze"):
        assert max(after[0].original_due, TODAY) >= max(before[0].original_due, TODAY)
    if before:  # a real contact answers every attempt: never one-sided afterwards
        assert after


@settings(max_examples=200, deadline=None)
@given(contacts(), configs)
def test_one_sided_contacts_never_get_reminders(people: list[Contact], config: Config) -> None:
    plan = schedule(people, TODAY, config)
    for check_in in plan.check_ins:
        assert not check_in.standing.one_sided
        assert len(check_in.standing.open_attempts) < config.max_attempts


def _reference_smooth(pending: list, today: date, max_per_day: int) -> list:  # type: ignore[type-arg]
    """The smoothing rule at its plainest: day by day, the most urgent ready ones."""
    waiting = list(pending)
    placed = []
    day = today
    while waiting:
        ready = sorted((p for p in waiting if p.ready <= day), key=lambda p: p.heap_key)
        if not ready:
            day = min(p.ready for p in waiting)
            continue
        for p in ready[:max_per_day]:
            placed.append((p, day))
            waiting.remove(p)
        day += timedelta(days=1)
    return placed


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(-60, 60), st.integers(0, 2), st.integers(-30, 30),
                          st.sampled_from(["anna", "bo", "cem"]), st.integers(0, 1)),
                max_size=150),
       st.integers(1, 4))
def test_smoothing_a_backlog_in_one_sort_places_as_day_by_day(
    items: list[tuple[int, int, int, str, int]], per_day: int
) -> None:
    """Placing a backlog in one sort (no arrivals for a while) gives what the day-by-day
    rule gives, whatever the ready dates, ranks and ties."""
    from vaultnetz.schedule import _Pending, smooth

    contact = Contact(path="x.md", name="x")
    standing = standing_of(contact, TODAY, 3)
    pending = [
        _Pending(TODAY + timedelta(days=ready), (stranger, rank, (TODAY.toordinal() + ready),
                                                recency, name, f"People/{n}.md"),
                 contact, TODAY + timedelta(days=ready), "cadence", standing)
        for n, (ready, rank, recency, name, stranger) in enumerate(items)
    ]
    pending = [replace(p, ready=max(p.ready, TODAY)) for p in pending]
    expected = _reference_smooth(pending, TODAY, per_day)
    assert [(p.key, day) for p, day in smooth(pending, TODAY, per_day)] == [
        (p.key, day.toordinal()) for p, day in expected]


@settings(max_examples=300, deadline=None)
@given(contacts(), configs, st.lists(st.tuples(st.integers(0, 39), interaction), max_size=8),
       st.integers(1, 3))
def test_the_watchers_schedule_is_the_one_made_afresh(
        people: list[Contact], config: Config, edits: list[tuple[int, Interaction]],
        rounds: int) -> None:
    """Rebuilt with the memo after a few contacts changed (the watcher's way: the first
    day's backlog patched, not sorted again), the schedule is the one made from scratch."""
    memo = Memo()
    schedule(people, TODAY, config, memo)
    for n in range(rounds):
        for i, item in edits[n::rounds]:
            if i < len(people):
                person = people[i]
                people[i] = replace(person, interactions=(*person.interactions, item))
        again = schedule(people, TODAY, config, memo)
        fresh = schedule(people, TODAY, config)
        assert again.check_ins == fresh.check_ins
        assert again.standings == fresh.standings
