"""Keep the feed current: a watchdog observer that only signals, and a rebuild loop.

The observer's handler records that something changed and wakes the loop. The
loop waits for quiet (debounce), refreshes the in-memory index (re-parsing only
notes whose size or mtime changed), recomputes the schedule, and publishes a new
snapshot; when a rebuild fails the last good snapshot stays. It also wakes at
local midnight, so reminders move with the date without any file change.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .config import CONFIG_NAME, load_config
from .contacts import Vault
from .errors import VaultnetzError
from .feed import BirthdayMemo, EventStore, KeyMemo, build_calendar
from .index import NoteIndex
from .model import Problem, Schedule
from .notes import is_ignored_name
from .report import strip_controls, why_now
from .schedule import Memo as ScheduleMemo
from .schedule import schedule

log = logging.getLogger("vaultnetz")

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Snapshot:
    """One published state: the feed bytes and what the page shows."""

    feed: bytes
    etag: str
    last_modified: datetime
    today: date
    vault: Vault
    plan: Schedule
    tag_feeds: dict[str, tuple[bytes, str]] = field(default_factory=dict)


def etag_of(data: bytes) -> str:
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


def agenda_text(vault: Vault, plan: Schedule) -> str:
    """The agenda note: today's and this week's check-ins and one-sided contacts, as links."""
    today = plan.today
    week_end = today + timedelta(days=6)
    config = vault.config

    def link(path: str, name: str) -> str:
        target = path[:-3] if path.lower().endswith(".md") else path
        return f"[[{target}|{name}]]"

    lines = ["# Check-ins", "",
             f"Written by vaultnetz for {today.isoformat()}; it is rewritten when the schedule "
             "changes, so edits here are lost.", "", "## Today", ""]
    todays = [c for c in plan.check_ins if c.due == today]
    lines += [f"- {link(c.contact.path, c.contact.name)}: {why_now(c, config)}" for c in todays]
    lines += ["- nothing due"] if not todays else []
    lines += ["", "## This week", ""]
    week = [c for c in plan.check_ins if today < c.due <= week_end]
    lines += [f"- {c.due.isoformat()} {link(c.contact.path, c.contact.name)}: "
              f"{why_now(c, config)}" for c in week]
    lines += ["- nothing else this week"] if not week else []
    one_sided = [c for c in vault.contacts
                 if c.status == "active" and plan.standings.get(c.path)
                 and plan.standings[c.path].one_sided]
    if one_sided:
        lines += ["", "## One-sided (reminders stopped)", ""]
        lines += [f"- {link(c.path, c.name)}: {len(plan.standings[c.path].open_attempts)} "
                  "unanswered attempts; let go, or try once more later" for c in one_sided]
    return strip_controls("\n".join(lines)) + "\n"  # a note: no control characters


class FeedService:
    """The vault kept in memory, and the latest published snapshot of its feed."""

    def __init__(self, root: Path, clock: Clock, *, output: Path | None = None,
                 freeze_gc: bool = False, jobs: int | None = None) -> None:
        # freeze_gc: for a process that only serves this vault (`watch`, `serve`), see rebuild.
        # jobs: processes reading the whole vault (None: as the cores allow).
        self.root = root
        self.freeze_gc = freeze_gc
        self.jobs = jobs
        self.clock = clock
        self.output = output
        self._lock = threading.Lock()
        self.snapshot: Snapshot | None = None
        self.events: EventStore = {}
        self.schedule_memo = ScheduleMemo()
        self.key_memo: KeyMemo = {}
        self.birthdays = BirthdayMemo()
        self.rebuilds = 0
        self._reported: set[Problem] = set()
        self.root_missing = False  # the vault's folder is gone or unreadable: feed kept
        self.action_base = ""  # `serve`: where check-ins' action pages are, ending in /c/
        self._new_index()

    def _new_index(self) -> None:
        config, _ = load_config(self.root)
        self.agenda = config.agenda_note or None
        ignore = [self.agenda] if self.agenda else []
        if self.output is not None:
            with contextlib.suppress(ValueError):  # an output file inside the vault is no input
                ignore.append(self.output.resolve().relative_to(self.root.resolve()).as_posix())
        self.ignored = set(ignore)
        self.index = NoteIndex(self.root, keep_last_good=True, ignore=ignore, memoize=True,
                               jobs=self.jobs)

    def root_readable(self) -> bool:
        """Whether the vault's folder is there and can be listed."""
        return self.root_identity() is not None

    def root_identity(self) -> tuple[int, int] | None:
        """The vault folder's (device, inode) when it is there and can be listed, else None:
        another folder moved into its place has another identity."""
        try:
            with os.scandir(self.root):
                pass
            st = os.stat(self.root)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _vault_gone(self) -> Snapshot:
        """The vault's folder went away (moved, deleted, unmounted, unreadable): keep the
        last good feed — an empty one would make every subscribed calendar delete its
        reminders — and say so once. The watcher looks for its return."""
        if not self.root_missing:
            self.root_missing = True
            kept = self.snapshot.feed.count(b"BEGIN:VEVENT") if self.snapshot else 0
            log.warning("the vault %s is gone or cannot be read; keeping the last good feed "
                        "(%d events) until it is back", self.root, kept)
        if self.snapshot is None:
            raise VaultnetzError(f"the vault {str(self.root)!r} is gone or cannot be read",
                                 "check that the folder is there and readable")
        return self.snapshot

    def rebuild(self, changed: set[str] | None = None, folders: set[str] | None = None,
                *, rescan: bool = False) -> Snapshot:
        """Refresh what changed, reschedule for today, publish when anything differs.

        ``changed``: the paths the watcher saw change (files, or folders created, moved
        or deleted); ``folders``: folders whose entries changed. With neither, the
        whole vault is walked (at start, and at midnight). ``rescan``: read every note
        afresh (at midnight, and when the vault's folder is back after going away).
        """
        if not (self.freeze_gc and gc.isenabled()):
            return self._rebuild(changed, folders, rescan)
        # A rebuild makes and drops some 100,000 short-lived tuples at 50,000 contacts
        # (the smoothing's queue), freed by their reference counts. Their number alone
        # would set off the cycle collector, which then walks every long-lived object
        # that is not frozen: most of a rebuild's time. It runs again afterwards.
        gc.disable()
        try:
            return self._rebuild(changed, folders, rescan)
        finally:
            gc.enable()

    def _rebuild(self, changed: set[str] | None, folders: set[str] | None, rescan: bool
                 ) -> Snapshot:
        with self._lock:
            if not self.root_readable():
                return self._vault_gone()
            changed = changed or set()
            if self.root_missing:
                log.info("the vault %s is back; reading it again", self.root)
                self.root_missing = False
                rescan = True
            if rescan:
                changed = {CONFIG_NAME}  # a new index: everything is read again
                folders = set()
            if CONFIG_NAME in changed:
                self._new_index()
                self.events = {}
                self.schedule_memo = ScheduleMemo()
                self.key_memo = {}
                self.birthdays = BirthdayMemo()
                self.index.refresh()
            elif changed or folders:
                self.index.refresh_changed(changed, folders or ())
            else:
                self.index.refresh()
            full = not (changed or folders) or CONFIG_NAME in changed
            if not self.root_readable():  # it went away while being read: a partial read
                return self._vault_gone()
            vault = self.index.vault()
            now = self.clock()
            plan = schedule(vault.contacts, now.date(), vault.config, self.schedule_memo)
            used: set[str] = set()
            feed = build_calendar(vault, plan, events=self.events, used=used,
                                  keys=self.key_memo, action_base=self.action_base,
                                  birthdays=self.birthdays)
            if len(self.events) > 2 * len(used) + 64:  # drop events nobody asks for any more
                self.events = {k: v for k, v in self.events.items() if k in used}
            old = self.snapshot
            if old is not None and old.feed == feed:
                etag, modified = old.etag, old.last_modified
            else:
                etag, modified = etag_of(feed), now
            # Files first, then the snapshot: whoever sees the new snapshot sees the files.
            if self.output is not None and write_atomic(self.output, feed):
                log.info("wrote %s (%d events)", self.output, feed.count(b"BEGIN:VEVENT"))
            if self.agenda:
                target = self.root / self.agenda
                target.parent.mkdir(parents=True, exist_ok=True)
                if write_atomic(target, agenda_text(vault, plan).encode("utf-8")):
                    log.info("wrote agenda note %s", self.agenda)
            stale = {p for ps in self.index.stale.values() for p in ps}
            for problem in sorted(stale - self._reported, key=lambda p: (p.path, p.code)):
                log.warning("%s (keeping its last good state)", problem.format())
            self._reported = stale
            self.snapshot = Snapshot(feed, etag, modified, plan.today, vault, plan)
            self.rebuilds += 1
            if full and self.freeze_gc:
                # The whole vault was read: move it out of the garbage collector's sight, so
                # that later rebuilds do not walk a million long-lived objects each time.
                # They hold no reference cycles: what a change replaces is freed as usual.
                gc.collect()
                gc.freeze()
            return self.snapshot

    def tag_feed(self, tag: str) -> tuple[bytes, str] | None:
        """The feed of one tag for the current snapshot.

        A tag no contact has (yet, or any more) is an empty feed, not an error, so that a
        subscription survives; only the tags in use are kept between requests.
        """
        snapshot = self.snapshot
        if snapshot is None:
            return None
        wanted = tag.casefold()
        if wanted in snapshot.tag_feeds:
            return snapshot.tag_feeds[wanted]
        with self._lock:
            data = build_calendar(snapshot.vault, snapshot.plan, tag=tag, events=self.events,
                                  action_base=self.action_base)
        found = (data, etag_of(data))
        if any(wanted == t.casefold() for c in snapshot.vault.contacts for t in c.tags):
            snapshot.tag_feeds[wanted] = found
        return found

    def is_relevant(self, rel: str) -> bool:
        """Whether a changed file (relative path) can change the feed: the handler's filter."""
        if rel in self.ignored:
            return False
        parts = rel.split("/")
        if any(is_ignored_name(part) for part in parts):
            return False
        return rel == CONFIG_NAME or rel.lower().endswith(".md") or "." not in parts[-1]


ROOT_POLL = 0.5  # seconds between looks at the vault's own folder (gone? back?)


def seconds_until_midnight(now: datetime) -> float:
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(),
                                tzinfo=now.tzinfo)
    return max((midnight - now).total_seconds(), 0.0) + 0.5


class Watcher:
    """Observer (signals only) plus the debounced rebuild loop, in a background thread."""

    def __init__(self, service: FeedService, timer: Callable[[], float], *,
                 debounce: float = 0.2, max_delay: float = 1.0,
                 on_rebuild: Callable[[Snapshot], None] | None = None) -> None:
        # timer: a monotonic clock for the debounce, passed in (the core reads no clock).
        self.service = service
        self.timer = timer
        self.debounce = debounce
        self.max_delay = max_delay
        self.on_rebuild = on_rebuild
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pending: set[str] = set()
        self._pending_folders: set[str] = set()
        self._pending_lock = threading.Lock()
        self._observer: Any = None
        self._root_identity: tuple[int, int] | None = None
        self._thread = threading.Thread(target=self._loop, name="vaultnetz-rebuild", daemon=True)

    def notify(self, rel_path: str, *, folder: bool = False) -> None:
        """Called from the observer's thread: remember the path, wake the loop. Nothing else.

        ``folder``: the entries of this folder changed (its own events say which).
        """
        with self._pending_lock:
            (self._pending_folders if folder else self._pending).add(rel_path)
        self._wake.set()

    def start(self) -> None:
        self._root_identity = self.service.root_identity()
        self._observer = self._new_observer()
        self._thread.start()

    def _restart_observer(self) -> None:
        old, self._observer = self._observer, None
        if old is not None:
            with contextlib.suppress(Exception):  # its folder went away under it
                old.stop()  # a daemon thread: it ends by itself, no need to wait for it
        with contextlib.suppress(OSError):
            self._observer = self._new_observer()

    def _new_observer(self) -> Any:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self
        root = os.path.realpath(self.service.root)
        prefix = root.rstrip(os.sep) + os.sep
        relevant = self.service.is_relevant

        class Handler(FileSystemEventHandler):
            # Runs on the observer's thread for every event: string checks only, then notify.
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return
                for raw in (event.src_path, getattr(event, "dest_path", "")):
                    path = os.fsdecode(raw) if raw else ""
                    if not path.startswith(prefix):
                        continue
                    rel = path[len(prefix):].replace(os.sep, "/")
                    if event.is_directory:
                        if not any(is_ignored_name(part) for part in rel.split("/")):
                            watcher.notify(rel, folder=event.event_type == "modified")
                    elif relevant(rel):
                        watcher.notify(rel)

        observer = Observer()
        observer.schedule(Handler(), root, recursive=True)
        observer.daemon = True
        observer.start()
        return observer

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _take_pending(self) -> tuple[set[str], set[str]]:
        with self._pending_lock:
            pending, self._pending = self._pending, set()
            folders, self._pending_folders = self._pending_folders, set()
        return pending, folders

    def _add_pending(self, changed: set[str], folders: set[str]) -> None:
        more, more_folders = self._take_pending()
        changed |= more
        folders |= more_folders

    def _loop(self) -> None:
        while not self._stop.is_set():
            until_midnight = seconds_until_midnight(self.service.clock())
            woke = self._wake.wait(min(until_midnight, ROOT_POLL))
            if self._stop.is_set():
                return
            changed: set[str] = set()
            folders: set[str] = set()
            rescan = False
            # No event says reliably that the vault's own folder was moved, deleted or made
            # unreadable: look at it on every wake-up, and every ROOT_POLL seconds.
            identity = self.service.root_identity()
            if identity != self._root_identity:
                self._root_identity = identity
                if identity is not None:
                    # Back (moved back, remounted, made readable), or another folder in its
                    # place: watch the folder that is there now, and read it all again.
                    self._restart_observer()
                    rescan = True
                # Gone: the rebuild keeps the last good feed and says so, once.
            elif not woke:
                snapshot = self.service.snapshot
                new_day = snapshot is None or self.service.clock().date() != snapshot.today
                if identity is None or not new_day:
                    continue  # still gone, or nothing happened
                rescan = True  # a new day: a full rescan repairs anything missed
            if woke:
                # Debounce: wait until the burst is quiet, but never longer than max_delay.
                deadline = self.timer() + self.max_delay
                while True:
                    self._wake.clear()
                    self._add_pending(changed, folders)
                    remaining = deadline - self.timer()
                    if remaining <= 0 or not self._wake.wait(min(self.debounce, remaining)):
                        break
                self._add_pending(changed, folders)
                self._wake.clear()
            try:
                snapshot = self.service.rebuild(changed, folders, rescan=rescan)
            except Exception:  # keep serving the last good snapshot
                log.exception("rebuild failed; keeping the last good feed")
                continue
            if self.on_rebuild is not None:
                self.on_rebuild(snapshot)
            with self._pending_lock:
                if self._pending or self._pending_folders:  # arrived while rebuilding
                    self._wake.set()
