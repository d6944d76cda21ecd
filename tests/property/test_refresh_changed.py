"""Hypothesis: the watcher's refresh of only what changed gives the same vault — and the
same feed — as reading the whole vault afresh, whatever happens to files and folders, and
with the events the watcher sees for it (a file's own event, or only its folder's)."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultnetz.config import load_config
from vaultnetz.feed import build_calendar
from vaultnetz.index import NoteIndex
from vaultnetz.schedule import schedule
from vaultnetz.watch import FeedService

NAMES = ["Anna", "Bo", "Cem", "Zoë", "Anna Berger"]
FOLDERS = ["People", "People/Work", "Daily", "Notes", ".obsidian", "Trips"]
BODIES = [
    "---\nlast_contact: 2026-10-01\ncadence: 3m\n---\n",
    "---\naliases: [Bo B]\ntags: [person]\n---\n## Log\n- 2026-06-01 Call\n",
    "---\nname: [\n---\n",  # broken
    "---\ndate: 2026-11-01\n---\nMet [[Anna]] and [[Bo B|Bo]].\n",
    "---\ncity: Köln\nfrom: 2026-12-01\nto: 2026-12-03\n---\n",
    "Daily text about [[Cem]].\n",
]

operations = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(FOLDERS), st.sampled_from(NAMES),
              st.sampled_from(BODIES), st.booleans()),
    st.tuples(st.just("delete"), st.sampled_from(FOLDERS), st.sampled_from(NAMES)),
    st.tuples(st.just("rename"), st.sampled_from(FOLDERS), st.sampled_from(NAMES),
              st.sampled_from(FOLDERS), st.sampled_from(NAMES)),
    st.tuples(st.just("rmdir"), st.sampled_from(FOLDERS)),
    st.tuples(st.just("movedir"), st.sampled_from(FOLDERS), st.sampled_from(["Moved", "Old"])),
    st.tuples(st.just("symlink"), st.sampled_from(FOLDERS), st.sampled_from(NAMES),
              st.booleans()),
    *([st.tuples(st.just("fifo"), st.sampled_from(FOLDERS), st.sampled_from(NAMES))]
      if hasattr(os, "mkfifo") else []),
)


def state(index: NoteIndex) -> tuple[object, ...]:
    vault = index.vault()
    return vault.contacts, vault.problems, vault.trips, vault.broken_contacts, vault.note_count


def apply(root: Path, op: tuple[object, ...]) -> tuple[set[str], set[str]]:
    """Do ``op``; return the (paths, folders) the watcher's events would report."""
    kind = op[0]
    if kind == "write":
        _, folder, name, body, folder_event_only = op
        rel = f"{folder}/{name}.md"
        (root / str(folder)).mkdir(parents=True, exist_ok=True)
        new = not (root / rel).exists()
        if not new and not (root / rel).is_file():
            (root / rel).unlink()  # a pipe: replaced, as an editor saving over it would
        (root / rel).write_text(str(body), encoding="utf-8")
        if folder_event_only and new:  # only the folder's event: its listing changed
            return set(), {str(folder)}
        return {rel, str(folder)}, set()
    if kind == "delete":
        _, folder, name = op
        rel = f"{folder}/{name}.md"
        if (root / rel).exists() or (root / rel).is_symlink():
            (root / rel).unlink()
        return {rel}, {str(folder)}
    if kind == "rename":
        _, folder, name, to_folder, to_name = op
        src, dest = f"{folder}/{name}.md", f"{to_folder}/{to_name}.md"
        if (root / src).is_file() and not (root / dest).exists():
            (root / str(to_folder)).mkdir(parents=True, exist_ok=True)
            os.rename(root / src, root / dest)
        return {src, dest}, {str(folder), str(to_folder)}
    if kind == "rmdir":
        _, folder = op
        shutil.rmtree(root / str(folder), ignore_errors=True)
        return {str(folder)}, set()
    if kind == "movedir":
        _, folder, to = op
        if (root / str(folder)).is_dir() and not (root / str(to)).exists():
            os.rename(root / str(folder), root / str(to))
        return {str(folder), str(to)}, set()
    if kind == "fifo":
        _, folder, name = op
        rel = f"{folder}/{name}.md"
        (root / str(folder)).mkdir(parents=True, exist_ok=True)
        if not (root / rel).exists() and not (root / rel).is_symlink():
            os.mkfifo(root / rel)
        return {rel, str(folder)}, set()
    _, folder, name, inside = op
    (root / str(folder)).mkdir(parents=True, exist_ok=True)
    link = root / f"{folder}/{name} link.md"
    if not link.is_symlink():
        target = root / "People" / "Anna.md" if inside else root.parent / "outside.md"
        link.symlink_to(target)
    return {f"{folder}/{name} link.md"}, set()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, min_size=1, max_size=8))
def test_refresh_changed_equals_a_full_read(ops: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "vault"
        (root / "People").mkdir(parents=True)
        (root / "People" / "Anna.md").write_text(BODIES[0])
        (root / "Daily").mkdir()
        (root / "Daily" / "2026-11-01.md").write_text("Met [[Anna]] and [[Bo B]].\n")
        (Path(tmp) / "outside.md").write_text(BODIES[0])
        watched = NoteIndex(root, memoize=True)  # as the watcher: the vault is patched
        watched.refresh()
        for op in ops:
            paths, folders = apply(root, op)
            watched.refresh_changed(paths, folders)
            fresh = NoteIndex(root)
            fresh.refresh()
            assert state(watched) == state(fresh), op


TODAY = date(2026, 11, 23)
EVERY_DAY = [TODAY, TODAY + timedelta(days=1)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations.filter(lambda op: BODIES[2] not in op), min_size=1, max_size=8),
       st.lists(st.sampled_from(EVERY_DAY), min_size=8, max_size=8),
       st.integers(1, 3))
def test_the_watchers_feed_is_the_feed_built_afresh(ops: list[tuple[object, ...]],
                                                    days: list[date], per_day: int) -> None:
    """The vault, the schedule (patched for the contacts that changed) and the feed (only
    the events that changed made again, birthdays patched) of the watcher are those of a
    fresh build, edit after edit, also when the day turns — except while a note cannot be
    read, whose last good state the watcher keeps on purpose."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "vault"
        (root / "People").mkdir(parents=True)
        (root / "vaultnetz.toml").write_text(f"max_per_day = {per_day}\n")
        (root / "People" / "Anna.md").write_text(BODIES[0] + "birthday: 1980-03-14\n")
        (root / "People" / "Cem.md").write_text("---\nbirthday: --02-29\n---\n")
        (root / "Daily").mkdir()
        (root / "Daily" / "2026-11-01.md").write_text("Met [[Anna]] and [[Bo B]].\n")
        (Path(tmp) / "outside.md").write_text(BODIES[0])
        today = [TODAY]
        service = FeedService(root, lambda: datetime.combine(today[0], datetime.min.time()))
        service.rebuild()
        for op, day in zip(ops, days, strict=False):
            paths, folders = apply(root, op)
            today[0] = day
            service.rebuild(paths, folders)
            if service.index.stale:
                continue  # a note it cannot read now (a dangling link): kept on purpose
            fresh = NoteIndex(root, load_config(root)[0])
            fresh.refresh()
            vault = fresh.vault()
            expected = build_calendar(vault, schedule(vault.contacts, day, vault.config))
            assert service.snapshot is not None
            assert service.snapshot.feed == expected, op


def test_the_lookup_of_names_is_kept_between_patches(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """At 50,000 contacts, making the lookup of names was most of a daily note's patch: the
    watcher keeps the one its build made, and makes another only when a name comes, goes
    or changes."""
    import vaultnetz.contacts as contacts_module

    made: list[int] = []
    original = contacts_module.ContactLookup.__init__

    def counted(self, contacts):  # type: ignore[no-untyped-def]
        made.append(len(contacts))
        original(self, contacts)

    monkeypatch.setattr(contacts_module.ContactLookup, "__init__", counted)
    root = tmp_path / "vault"
    (root / "People").mkdir(parents=True)
    (root / "People" / "Anna.md").write_text(BODIES[0])
    (root / "People" / "Bo.md").write_text(BODIES[0])
    (root / "Daily").mkdir()
    daily = root / "Daily" / "2026-11-01.md"
    daily.write_text("Met [[Anna]].\n")
    watched = NoteIndex(root, memoize=True)
    watched.refresh()
    watched.vault()
    steps = [({"Daily/2026-11-01.md"}, {"Daily/2026-11-01.md": "Met [[Anna]] and [[Bo]].\n"}),
             ({"Daily/2026-11-01.md"}, {"Daily/2026-11-01.md": "Met [[Bo]].\n"}),
             # Bo has an alias now, which the daily note links.
             ({"People/Bo.md", "Daily/2026-11-01.md"},
              {"People/Bo.md": BODIES[1], "Daily/2026-11-01.md": "Met [[Bo B]].\n"}),
             ({"Daily/2026-11-01.md"}, {"Daily/2026-11-01.md": "Met [[Bo B]] again.\n"})]
    counts = []
    for paths, texts in steps:
        for rel, text in texts.items():
            (root / rel).write_text(text)
        watched.refresh_changed(paths)
        before = len(made)
        watched.vault()
        counts.append(len(made) - before)
        fresh = NoteIndex(root)
        fresh.refresh()
        assert state(watched) == state(fresh)
    assert counts == [0, 0, 1, 0]  # the first: the one the build made
