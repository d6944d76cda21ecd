"""The scheduler: pure functions from (contacts, today, config) to check-ins.

The rules are CONTRACT §4; each serves an idea of the seeds: back off after an
unanswered attempt, stop after ``max_attempts`` (never be pushy), try again
after a "no", and start with the best and most recent contacts.
"""

from __future__ import annotations

import functools
import heapq
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import compress, count
from operator import attrgetter, is_not, itemgetter

from .config import Config
from .model import CheckIn, Contact, Interaction, Reason, Schedule, Standing

_PRIORITY_RANK = {"high": 0, "normal": 1, "low": 2}
_SOURCE_RANK = {"field": 0, "mention": 1, "log": 2}  # on the same day, prefer the richer text


def standing_of(contact: Contact, today: date, max_attempts: int) -> Standing:
    """Last real contact, planned contact, open attempts and last decline on ``today``."""
    last: Interaction | None = None
    planned: Interaction | None = None
    for item in contact.interactions:
        if item.kind != "contact":
            continue
        if item.day <= today:
            # On one day, the richer source; among equals, the last in note order.
            if last is None or (item.day, _SOURCE_RANK[item.source]) >= (
                last.day, _SOURCE_RANK[last.source]
            ):
                last = item
        elif planned is None or item.day > planned.day:
            planned = item
    answers = sorted(
        (
            i
            for i in contact.interactions
            if i.kind != "contact" and i.day <= today and (last is None or i.day > last.day)
        ),
        key=lambda i: (i.day, i.line or 0),
    )
    open_attempts: list[Interaction] = []
    last_decline: Interaction | None = None
    for item in answers:
        if item.kind == "declined":
            last_decline = item  # an answer: the attempts before it are no longer open
            open_attempts = []
        else:
            open_attempts.append(item)
    if planned is not None:
        open_attempts = []  # a contact is planned: they answered
    one_sided = len(open_attempts) >= max_attempts
    return Standing(last, planned, tuple(open_attempts), last_decline, one_sided)


def original_due(
    contact: Contact, standing: Standing, today: date, config: Config
) -> tuple[date, Reason] | None:
    """The check-in date after rules 1–4 (before smoothing), or None for no reminder."""
    if contact.status != "active" or standing.one_sided:
        return None
    due: date
    reason: Reason
    if standing.planned is not None:
        due, reason = contact.cadence.after(standing.planned.day), "planned"
    elif standing.open_attempts:
        due, reason = config.attempt_backoff.after(standing.open_attempts[-1].day), "attempt"
    elif standing.last_decline is not None:
        due, reason = config.declined_backoff.after(standing.last_decline.day), "declined"
    elif standing.last_contact is not None:
        due, reason = contact.cadence.after(standing.last_contact.day), "cadence"
    else:
        due, reason = today, "never"
    if contact.snooze_until is not None and contact.snooze_until > due:
        due, reason = contact.snooze_until, "snooze"
    return due, reason


def urgency(contact: Contact, original: date, standing: Standing,
            known: bool | None = None) -> tuple[object, ...]:
    """Most urgent first: people you know before strangers (any history at all: a last
    contact, a Log entry of any kind, a mention, a plan), then priority, earlier original
    due, more recent last contact, name. An import's backlog of strangers thus only fills
    the slots known people leave free (CONTRACT §4 rule 5).

    ``known``: whether the contact has any interaction, when the caller knows (else it is
    looked at)."""
    last = standing.last_contact
    recency = -last.day.toordinal() if last is not None else 1  # never contacted: least recent
    if known is None:
        known = bool(contact.interactions)
    return (
        0 if known else 1,
        _PRIORITY_RANK.get(contact.priority, 1),
        original.toordinal(),
        recency,
        contact.name.casefold(),
        contact.path,
    )


@dataclass(frozen=True, slots=True)
class _Pending:
    ready: date
    key: tuple[object, ...]
    contact: Contact
    original: date
    reason: Reason
    standing: Standing
    # Worked out once (the watcher keeps a contact's _Pending while it is unchanged):
    # ``key`` with its three numbers packed into one int, in the same order, so that the
    # smoothing compares one int instead of a tuple; and ``ready`` as a day number.
    heap_key: tuple[int, object, object] = field(init=False, repr=False, compare=False)
    ready_day: int = field(init=False, repr=False, compare=False)
    # (day ordinal, check-in): the check-in last made from it, which the watcher's next
    # schedule reuses while its day is the same (set by ``schedule``, not part of the value).
    made: tuple[int, CheckIn] | None = field(init=False, repr=False, compare=False,
                                             default=None)

    def __post_init__(self) -> None:
        stranger, rank, ordinal, recency, name, path = self.key
        # stranger 0-1, rank 0-2; ordinal and -recency below 2**22 (date.max is 3,652,059)
        numbers: tuple[int, int, int, int] = (stranger, rank, ordinal, recency)  # type: ignore[assignment]
        packed = ((numbers[0] << 47) | (numbers[1] << 45) | (numbers[2] << 23)
                  | (numbers[3] + (1 << 22)))
        object.__setattr__(self, "heap_key", (packed, name, path))
        object.__setattr__(self, "ready_day", self.ready.toordinal())


_Entry = tuple[tuple[int, object, object], _Pending]  # (heap_key, pending): keys are unique


@dataclass
class FirstDay:
    """The first day's check-ins of the last smoothing, sorted, and what changed since:
    a backlog of tens of thousands (an import, a vault coming back after years) is then
    patched rather than sorted again."""

    day: int = 0
    entries: list[_Entry] = field(default_factory=list)
    removed: list[_Pending] = field(default_factory=list)
    added: list[_Pending] = field(default_factory=list)

    def sorted_batch(self, day: int, batch: Callable[[], list[_Entry]], patchable: bool
                     ) -> list[_Entry]:
        """The ``batch`` sorted, patched from the last one when it is the same day's."""
        entries = self._patched(day) if patchable and day == self.day else None
        if entries is None:
            entries = sorted(batch(), key=itemgetter(0))
        self.day, self.entries, self.removed, self.added = day, entries, [], []
        return list(entries)

    def _patched(self, day: int) -> list[_Entry] | None:
        entries = list(self.entries)
        for p in self.removed:
            if p.ready_day <= day:
                at = bisect_left(entries, p.heap_key, key=itemgetter(0))
                if at == len(entries) or entries[at][1] is not p:
                    return None  # not where it should be: sort afresh
                del entries[at]
        for p in self.added:
            if p.ready_day <= day:
                insort(entries, (p.heap_key, p), key=itemgetter(0))
        return entries


def _entries(pending: list[_Pending]) -> list[_Entry]:
    return [(p.heap_key, p) for p in pending]


def smooth(pending: list[_Pending], today: date, max_per_day: int, max_per_week: int = 0,
           first: FirstDay | None = None, patchable: bool = False, *, ordered: bool = False
           ) -> list[tuple[_Pending, int]]:
    """Day by day from today, each day takes the most urgent of those whose date has come:
    (pending, its day's ordinal), in the order of the days.

    With ``max_per_week``, a calendar week (Monday to Sunday) takes no more than that;
    a full week sends the rest on to the next Monday. ``first`` (the watcher's) keeps
    the first day's sorted check-ins; ``patchable``: ``first.removed`` and ``first.added``
    say what changed in ``pending`` since; ``ordered``: ``pending`` is in the order of
    their ready days.
    """
    queue = pending if ordered else sorted(pending, key=attrgetter("ready_day"))
    ready = [p.ready_day for p in queue]
    heap: list[_Entry] = []
    placed: list[tuple[_Pending, int]] = []
    week_counts: dict[int, int] = {}
    day = today.toordinal()
    i = 0
    in_order = False  # the heap is sorted (as a sorted first day is)
    while i < len(queue) or heap:
        if not heap and ready[i] > day:
            day = ready[i]  # nothing waiting: jump to the next date
        start = i
        while i < len(queue) and ready[i] <= day:
            i += 1
        if start == 0 and first is not None and i:
            heap = first.sorted_batch(day, functools.partial(_entries, queue[:i]), patchable)
            in_order = True
        elif i - start > len(heap):  # many at once (a backlog): build the heap in one go
            heap.extend((p.heap_key, p) for p in queue[start:i])
            heapq.heapify(heap)
            in_order = False
        elif i > start:
            for j in range(start, i):
                heapq.heappush(heap, (queue[j].heap_key, queue[j]))
            in_order = False
        capacity = max_per_day
        coming = ready[i] if i < len(queue) else None  # the next day a check-in gets ready
        if not max_per_week and len(heap) > capacity and (
                coming is None or (coming - day) * capacity * 4 >= len(heap)):
            # Nothing gets ready for a while and the days until then take a good part of
            # those waiting (a backlog, or the end): they go in urgency order, so sort
            # them once rather than pop them one by one. What stays is sorted, so still a
            # heap. (47,000 pops at 50,000 contacts.)
            take = len(heap) if coming is None else min(len(heap), (coming - day) * capacity)
            if not in_order:
                heap.sort(key=itemgetter(0))
                in_order = True
            for n, (_, p) in enumerate(heap[:take]):
                placed.append((p, day + n // capacity))
            del heap[:take]
            day += -(-take // capacity)  # the days filled, the last one perhaps in part
            continue
        if max_per_week:
            monday = day - (day - 1) % 7  # ordinal 1 (0001-01-01) is a Monday
            left = max_per_week - week_counts.get(monday, 0)
            if left <= 0:
                day = monday + 7
                continue
            capacity = min(capacity, left)
            week_counts[monday] = week_counts.get(monday, 0) + min(capacity, len(heap))
        for _ in range(min(capacity, len(heap))):
            placed.append((heapq.heappop(heap)[1], day))
        in_order = in_order and not heap  # a pop keeps a heap, not a sorted list
        day += 1
    return placed


@dataclass
class Memo:
    """What the last schedule worked out, for the watcher's next one: when the contacts
    are the same objects but a few, only those are worked out again."""

    contacts: tuple[Contact, ...] = ()
    today: date | None = None
    config: Config | None = None
    standings: dict[str, Standing] = field(default_factory=dict)
    waiting: list[_Pending | None] = field(default_factory=list)  # by contact, as contacts
    queue: list[_Pending] = field(default_factory=list)  # the waiting ones, by ready day
    first: FirstDay = field(default_factory=FirstDay)


def memo_of(plan: Schedule, contacts: tuple[Contact, ...], config: Config,
            known: Callable[[Contact], bool]) -> Memo:
    """The memo ``schedule`` would have kept had it just made ``plan`` from ``contacts``
    with ``config``: a one-shot run that patched a few contacts of a stored vault works out
    only those again, as the watcher does. ``known(contact)``: whether it has any
    interaction (see ``urgency``)."""
    where = {c.path: i for i, c in enumerate(contacts)}
    waiting: list[_Pending | None] = [None] * len(contacts)
    for check_in in plan.check_ins:
        i = where[check_in.contact.path]
        contact, original, standing = contacts[i], check_in.original_due, check_in.standing
        pending = _Pending(max(original, plan.today),
                           urgency(contact, original, standing, known(contact)), contact,
                           original, check_in.reason, standing)
        object.__setattr__(pending, "made", (check_in.due.toordinal(), check_in))
        waiting[i] = pending
    queue = sorted([p for p in waiting if p is not None], key=attrgetter("ready_day"))
    return Memo(contacts, plan.today, config, dict(plan.standings), waiting, queue)


def _pending(contact: Contact, today: date, config: Config) -> tuple[Standing, _Pending | None]:
    standing = standing_of(contact, today, config.max_attempts)
    result = original_due(contact, standing, today, config)
    if result is None:
        return standing, None
    original, reason = result
    return standing, _Pending(max(original, today), urgency(contact, original, standing),
                              contact, original, reason, standing)


# What changed between the contacts a memo saw and those now: the positions of the contacts
# now that are not the objects seen, the positions of those seen that are gone, and each
# contact's position then (-1: new; None: every contact is where it was).
Changes = tuple[list[int], list[int], list[int] | None]


def changed_contacts(old: tuple[Contact, ...], new: tuple[Contact, ...]) -> Changes | None:
    """What changed from the ``old`` contacts to the ``new`` (the watcher, and a patched
    snapshot, keep unchanged contacts as they were); None when too many changed to pay
    patching."""
    if len(old) == len(new):
        changed = list(compress(count(), map(is_not, old, new)))  # in C: fast
        if len(changed) > 64:
            return None
        if all(old[i].path == new[i].path for i in changed):
            return changed, [], None
    where = {c.path: i for i, c in enumerate(old)}  # some came or went
    at = [where.pop(c.path, -1) for c in new]
    changed = [j for j, i in enumerate(at) if i < 0 or old[i] is not new[j]]
    if len(changed) + len(where) > 64:
        return None
    return changed, sorted(where.values()), at


def schedule(contacts: Iterable[Contact], today: date, config: Config,
             memo: Memo | None = None) -> Schedule:
    """Every check-in of every contact that gets reminders, smoothed by ``max_per_day``.

    ``memo`` (the watcher's, between rebuilds) works out again only the contacts that
    are not the objects it saw last time, or were not there, on the same day with the
    same config.
    """
    contacts = tuple(contacts)
    found = changed_contacts(memo.contacts, contacts) if memo is not None and (
        memo.today == today and memo.config is config) else None
    if memo is not None and found is not None:
        changed, gone, at = found
        queue = list(memo.queue)

        def unqueue(old: _Pending | None) -> None:
            if old is not None:
                memo.first.removed.append(old)
                place = bisect_left(queue, old.ready_day, key=attrgetter("ready_day"))
                while queue[place] is not old:
                    place += 1
                del queue[place]

        for i in gone:
            unqueue(memo.waiting[i])
        if at is None:
            standings = dict(memo.standings)
            waiting = list(memo.waiting)
        else:  # in the contacts' order, as made afresh
            standings = {c.path: memo.standings.get(c.path) for c in contacts}  # type: ignore[misc]
            waiting = [None if i < 0 else memo.waiting[i] for i in at]
        for i in changed:
            standings[contacts[i].path], new = _pending(contacts[i], today, config)
            unqueue(waiting[i])
            waiting[i] = new
            if new is not None:
                memo.first.added.append(new)
                insort(queue, new, key=attrgetter("ready_day"))
    else:
        standings = {}
        waiting = []
        for contact in contacts:
            standings[contact.path], new = _pending(contact, today, config)
            waiting.append(new)
        queue = sorted([p for p in waiting if p is not None], key=attrgetter("ready_day"))
    days: dict[int, date] = {}
    check_ins = []
    for p, day in smooth(queue, today, config.max_per_day, config.max_per_week,
                         memo.first if memo is not None else None, found is not None,
                         ordered=True):
        made = p.made
        if made is not None and made[0] == day:
            check_ins.append(made[1])  # the same object as last time: nothing changed
            continue
        due = days.get(day) or days.setdefault(day, date.fromordinal(day))
        check_in = CheckIn(p.contact, p.original, due, p.reason, p.standing,
                           max(0, (today - p.original).days))
        if memo is not None:
            object.__setattr__(p, "made", (day, check_in))
        check_ins.append(check_in)
    if memo is not None:
        memo.contacts, memo.today, memo.config = contacts, today, config
        memo.standings, memo.waiting, memo.queue = standings, waiting, queue
    return Schedule(today, tuple(check_ins), standings)


def next_birthday(contact: Contact, today: date) -> date | None:
    if contact.birthday is None:
        return None
    return contact.birthday.next_on_or_after(today)


def gets_birthday(contact: Contact, standing: Standing | None) -> bool:
    """Birthdays are reminders too: only for active contacts that are not one-sided."""
    return (
        contact.birthday is not None
        and contact.status == "active"
        and not (standing is not None and standing.one_sided)
    )


@dataclass(frozen=True)
class ReviewItem:
    """A contact to let go of or to revive, and why."""

    contact: Contact
    category: str  # "one-sided", "declined", "long-silent", "paused"
    detail: str
    standing: Standing
    suggestion: str


def review(
    contacts: Iterable[Contact], today: date, config: Config, standings: dict[str, Standing]
) -> list[ReviewItem]:
    """One-sided, repeatedly declined, long-silent and paused contacts: let go, or revive?

    Nothing is archived here: the user decides (the seeds: keep the good, let
    go of the rest, honestly).
    """
    items: list[ReviewItem] = []
    silent_before = config.let_go_after.before(today)
    for contact in contacts:
        if contact.status == "archived":
            continue
        standing = standings.get(contact.path) or standing_of(contact, today, config.max_attempts)
        quoted = _quote(contact.name)
        if contact.status == "paused":
            items.append(ReviewItem(contact, "paused", "paused: no reminders", standing,
                                    f"vaultnetz resume {quoted}  or  vaultnetz archive {quoted}"))
            continue
        if standing.one_sided:
            n = len(standing.open_attempts)
            items.append(ReviewItem(
                contact, "one-sided",
                f"{n} unanswered attempts in a row since "
                f"{standing.open_attempts[0].day.isoformat()}; reminders stopped",
                standing,
                f"vaultnetz archive {quoted}  or, to try once more later, "
                f"vaultnetz snooze {quoted} 6m"))
            continue
        last = standing.last_contact
        declines = [i for i in contact.interactions if i.kind == "declined"
                    and i.day <= today and (last is None or i.day > last.day)]
        if len(declines) >= 2:
            items.append(ReviewItem(
                contact, "declined",
                f"{len(declines)} polite no's in a row since "
                f"{min(i.day for i in declines).isoformat()}",
                standing,
                f"vaultnetz archive {quoted}  or give it time: vaultnetz snooze {quoted} 6m"))
            continue
        if last is not None and last.day < silent_before and standing.planned is None:
            items.append(ReviewItem(
                contact, "long-silent",
                f"no contact since {last.day.isoformat()} (over {config.let_go_after.text})",
                standing,
                f"vaultnetz archive {quoted}  or reach out: vaultnetz show {quoted}"))
    order = {"one-sided": 0, "declined": 1, "long-silent": 2, "paused": 3}
    items.sort(key=lambda r: (order[r.category], r.contact.name.casefold(), r.contact.path))
    return items


def _quote(name: str) -> str:
    return f'"{name}"' if any(c in name for c in " '\"$&;|()") else name
