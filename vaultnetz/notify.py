"""The daily digest: today's check-ins and upcoming trips, each with its action link,
sent through the notification URLs of ``[notify] urls`` with apprise (mail, ntfy,
Telegram, Matrix, Gotify and many more), at most once a day.

Subscribed calendars refresh slowly and often drop alarms; a message that arrives by
itself is the nudge. The day it was last sent is kept next to the server's token (never
in the vault), so a restart never sends it twice.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from .contacts import Vault
from .drafts import dates_phrase
from .feed import action_id
from .model import Schedule
from .report import strip_controls, why_now
from .trips import near
from .watch import FeedService

log = logging.getLogger("vaultnetz")


@dataclass(frozen=True)
class Digest:
    title: str
    body: str
    check_ins: int
    trips: int


def digest(vault: Vault, plan: Schedule, link_base: str = "") -> Digest:
    """Today's check-ins (after smoothing) and the trips whose reminder day has come, each
    check-in with its action link when ``link_base`` (ending in ``/c/``) is known."""
    config = vault.config
    today = plan.today
    lines: list[str] = []
    todays = [c for c in plan.check_ins if c.due == today]
    for check_in in todays:
        lines.append(f"• {check_in.contact.name}: {why_now(check_in, config)}")
        if link_base:
            lines.append(f"  {link_base}{action_id(check_in.contact.path)}")
    trips = [t for t in vault.trips
             if t.start - timedelta(days=config.trip_lead_days) <= today <= t.end]
    for trip in trips:
        people = near(vault.contacts, plan, trip.city, config)
        if not people:
            continue
        when = dates_phrase(trip.start, trip.end, config.language)
        lines.append(f"✈ {trip.city} {when}: " + ", ".join(c.name for c, _ in people[:8])
                     + (" …" if len(people) > 8 else ""))
        if link_base:
            lines += [f"  {c.name}: {link_base}{action_id(c.path)}" for c, _ in people[:8]]
    n = len(todays)
    title = (f"vaultnetz {today.isoformat()}: {n} check-in{'s' if n != 1 else ''} today"
             if n else f"vaultnetz {today.isoformat()}: no check-ins today")
    if lines and not link_base:
        lines.append("")
        lines.append("(Set public_url in vaultnetz.toml to get a link to each check-in.)")
    if not lines:
        lines.append("Nothing due today.")
    return Digest(title, strip_controls("\n".join(lines)), n, len(trips))


def send(urls: tuple[str, ...], message: Digest) -> tuple[int, list[str]]:
    """Send to every URL; (how many took it, problems). Never raises for a bad URL."""
    import apprise

    problems: list[str] = []
    sent = 0
    for url in urls:
        service = apprise.Apprise()
        if not service.add(url):
            problems.append(f"not a notification URL apprise knows: {_shown(url)}")
            continue
        # Plain text: line breaks and links as they are (the default would treat it as HTML).
        if service.notify(title=message.title, body=message.body,
                          body_format=apprise.NotifyFormat.TEXT):
            sent += 1
        else:
            problems.append(f"sending failed: {_shown(url)}")
    return sent, problems


def _shown(url: str) -> str:
    """A URL for messages, without its password."""
    scheme, _, rest = url.partition("://")
    if "@" in rest.split("/", 1)[0]:
        rest = "…@" + rest.split("@", 1)[1]
    return f"{scheme}://{rest}"


class SentLog:
    """The day the digest was last sent for a vault, in the user config folder."""

    def __init__(self, config_dir: Path, root: Path) -> None:
        key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
        self.path = config_dir / f"digest-sent-{key}"

    def last(self) -> date | None:
        try:
            return date.fromisoformat(self.path.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return None

    def record(self, day: date) -> None:
        last = self.last()
        if last is not None and last > day:  # a run for an earlier day (--today): keep
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = self.path.with_suffix(".tmp")
        temp.write_text(day.isoformat() + "\n", encoding="utf-8")
        os.replace(temp, self.path)


def next_send(now: datetime, at: str, last: date | None) -> datetime | None:
    """When the digest is due next: today at ``at`` (local time) if it was not sent today —
    at once when that time has passed — else tomorrow at ``at``; None when ``at`` is ''."""
    if not at:
        return None
    hours, minutes = (int(x) for x in at.split(":"))
    today_at = datetime.combine(now.date(), time(hours, minutes), tzinfo=now.tzinfo)
    if last != now.date():
        return max(today_at, now)
    return today_at + timedelta(days=1)


RETRY = timedelta(minutes=15)  # after a digest no service took


class DailyDigest:
    """`serve`'s daily digest: a background thread that sends it at ``notify_at``, once a
    day, also across restarts (``SentLog``)."""

    def __init__(self, service: FeedService, urls: tuple[str, ...], at: str, sent: SentLog,
                 link_base: Callable[[], str]) -> None:
        self.service = service
        self.urls = urls
        self.at = at
        self.sent = sent
        self.link_base = link_base
        self._stop = threading.Event()
        self._retry_after: datetime | None = None
        self._thread = threading.Thread(target=self._loop, name="vaultnetz-digest",
                                        daemon=True)

    def start(self) -> None:
        if self.urls and self.at:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = self.service.clock()
            when = next_send(now, self.at, self.sent.last())
            if when is None:
                return
            if self._retry_after is not None and when < self._retry_after:
                when = self._retry_after
            wait = (when - now).total_seconds()
            if wait > 0:
                self._stop.wait(min(wait, 600.0))  # and look at the clock again
                continue
            self.run_once(now)

    def run_once(self, now: datetime) -> None:
        snapshot = self.service.snapshot
        if snapshot is None or snapshot.today != now.date():
            snapshot = self.service.rebuild()
        message = digest(snapshot.vault, snapshot.plan, self.link_base())
        if not (message.check_ins or message.trips):
            log.info("daily digest: nothing due today; nothing sent")
            self.sent.record(now.date())
            return
        sent, problems = send(self.urls, message)
        for problem in problems:
            log.warning("daily digest: %s", problem)
        if sent:
            log.info("daily digest sent to %d of %d services", sent, len(self.urls))
            self.sent.record(now.date())
            self._retry_after = None
        else:
            self._retry_after = now + RETRY
