"""The watcher with real files: edits, bursts, broken notes, renames and midnight."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import contact_note
from vaultnetz.watch import FeedService, Snapshot, Watcher, agenda_text

TZ = timezone(timedelta(hours=1))


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


@pytest.fixture
def vault(make_vault) -> Path:
    return make_vault({
        "People/Anna.md": contact_note("last_contact: 2026-10-01\ncadence: 3m"),
        "People/Bo.md": contact_note("last_contact: 2026-01-01"),
        "Daily/2026-11-01.md": "Nothing yet.",
    })


@pytest.fixture
def running(vault: Path) -> Iterator[tuple[FeedService, Watcher, list[Snapshot]]]:
    clock = FakeClock(datetime(2026, 11, 23, 12, 0, tzinfo=TZ))
    service = FeedService(vault, clock, output=vault.parent / "feed.ics")
    service.rebuild()
    published: list[Snapshot] = []
    watcher = Watcher(service, time.monotonic, on_rebuild=published.append)
    watcher.start()
    time.sleep(0.2)  # let the observer settle
    try:
        yield service, watcher, published
    finally:
        watcher.stop()


def summaries(service: FeedService) -> list[str]:
    assert service.snapshot is not None
    return [line for line in service.snapshot.feed.decode().split("\r\n")
            if line.startswith("SUMMARY:")]


def test_edit_shows_within_a_second(vault: Path, running) -> None:
    service, _, _ = running
    before = service.snapshot.etag
    note = vault / "People" / "Anna.md"
    note.write_text(note.read_text().replace("2026-10-01", "2026-11-20"))
    elapsed = wait_for(lambda: service.snapshot.etag != before)
    assert elapsed < 1.0
    assert b"DTSTART;VALUE=DATE:20270220" in service.snapshot.feed
    assert (vault.parent / "feed.ics").read_bytes() == service.snapshot.feed


def test_create_delete_rename(vault: Path, running) -> None:
    service, _, _ = running
    (vault / "People" / "Cem.md").write_text("new person")
    wait_for(lambda: "SUMMARY:Check in with Cem" in summaries(service))
    (vault / "People" / "Cem.md").rename(vault / "People" / "Cem Demir.md")
    wait_for(lambda: "SUMMARY:Check in with Cem Demir" in summaries(service))
    assert "SUMMARY:Check in with Cem" not in summaries(service)
    (vault / "People" / "Cem Demir.md").unlink()
    wait_for(lambda: not any("Cem" in s for s in summaries(service)))


def test_atomic_saves_and_folders_moved_in_and_out(vault: Path, running, tmp_path: Path
                                                   ) -> None:
    """What editors and git do: replace a note by renaming a temp file over it, and move
    whole folders in and out (no event for the notes inside them)."""
    service, _, _ = running
    temp = vault / "People" / ".Anna.md.tmp"
    temp.write_text(contact_note("last_contact: 2026-11-20\ncadence: 3m"))
    os.replace(temp, vault / "People" / "Anna.md")
    wait_for(lambda: b"DTSTART;VALUE=DATE:20270220" in service.snapshot.feed)
    outside = tmp_path / "Team"
    outside.mkdir()
    (outside / "Dana.md").write_text(contact_note("tags: [person]"))
    os.rename(outside, vault / "Team")
    wait_for(lambda: "SUMMARY:Check in with Dana" in summaries(service))
    os.rename(vault / "Team", tmp_path / "Team again")
    wait_for(lambda: "SUMMARY:Check in with Dana" not in summaries(service))
    assert (vault.parent / "feed.ics").read_bytes() == service.snapshot.feed


def test_a_burst_is_coalesced(vault: Path, running) -> None:
    service, _, published = running
    count = len(published)
    for i in range(1000):
        (vault / "People" / f"P{i:04d}.md").write_text(f"person {i}")
    wait_for(lambda: len(service.snapshot.vault.contacts) == 1002, timeout=20)
    time.sleep(0.5)
    assert len(published) - count <= 3


def test_a_broken_note_keeps_its_last_good_state(vault: Path, running, caplog) -> None:
    service, _, published = running
    count = len(published)
    anna = vault / "People" / "Anna.md"
    anna.write_text("---\nlast_contact: [2026\n---\n")
    wait_for(lambda: len(published) > count)
    assert "SUMMARY:Check in with Anna" in summaries(service)
    assert any(p.path == "People/Anna.md" for p in service.snapshot.vault.errors())
    assert "keeping its last good state" in caplog.text
    anna.write_text(contact_note("last_contact: 2026-11-22"))
    wait_for(lambda: not service.snapshot.vault.errors())
    assert "SUMMARY:Check in with Anna" in summaries(service)


def test_midnight_moves_reminders_without_a_file_change(vault: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 23, 59, 59, 700_000, tzinfo=TZ))
    service = FeedService(vault, clock)
    first = service.rebuild()
    assert first.today.isoformat() == "2026-11-23"
    watcher = Watcher(service, time.monotonic)
    watcher.start()
    try:
        clock.now = datetime(2026, 11, 24, 0, 0, 1, tzinfo=TZ)
        wait_for(lambda: service.snapshot.today.isoformat() == "2026-11-24", timeout=5)
        assert service.snapshot.etag != first.etag  # overdue reminders moved to the new day
    finally:
        watcher.stop()


def test_output_is_written_only_when_it_changes(vault: Path) -> None:
    out = vault.parent / "feed.ics"
    clock = FakeClock(datetime(2026, 11, 23, 12, 0, tzinfo=TZ))
    service = FeedService(vault, clock, output=out)
    service.rebuild()
    mtime = out.stat().st_mtime_ns
    service.rebuild({"Daily/2026-11-01.md"})
    assert out.stat().st_mtime_ns == mtime


def test_agenda_note(vault: Path) -> None:
    (vault / "vaultnetz.toml").write_text('agenda_note = "Check-ins.md"\nmax_per_day = 1\n')
    clock = FakeClock(datetime(2026, 11, 23, 12, 0, tzinfo=TZ))
    service = FeedService(vault, clock)
    snapshot = service.rebuild()
    agenda = vault / "Check-ins.md"
    text = agenda.read_text()
    assert "## Today" in text and "[[People/Bo|Bo]]" in text
    assert "## This week" in text
    assert text == agenda_text(snapshot.vault, snapshot.plan)
    mtime = agenda.stat().st_mtime_ns
    service.rebuild()
    assert agenda.stat().st_mtime_ns == mtime  # unchanged content: not rewritten
    # Never read as input: a link to a contact in it is not a mention, nor is it a contact.
    agenda.write_text("---\ndate: 2026-11-23\ntags: [person]\n---\n[[Anna]]\n")
    snapshot = service.rebuild({"Check-ins.md"})
    assert [c.name for c in snapshot.vault.contacts] == ["Anna", "Bo"]
    anna = next(c for c in snapshot.vault.contacts if c.name == "Anna")
    assert all(i.source != "mention" for i in anna.interactions)


def test_config_change_is_picked_up(vault: Path, running) -> None:
    service, _, _ = running
    (vault / "vaultnetz.toml").write_text('calendar_name = "Renamed"\n')
    wait_for(lambda: b"X-WR-CALNAME:Renamed" in service.snapshot.feed)


def test_the_agenda_note_is_never_input_for_other_commands(vault: Path) -> None:
    from conftest import run_cli

    (vault / "vaultnetz.toml").write_text('agenda_note = "Check-ins.md"\n')
    (vault / "Check-ins.md").write_text("---\ndate: 2026-11-23\ntags: [person]\n---\n[[Bo]]\n")
    data = json.loads(run_cli(["due", "--all", "--json"], vault).stdout)
    assert sorted(i["name"] for i in data) == ["Anna", "Bo"]
    assert next(i for i in data if i["name"] == "Bo")["last_contact"] == "2026-01-01"


def fresh_feed(root: Path, today: datetime) -> bytes:
    from vaultnetz.feed import build_calendar
    from vaultnetz.load import load_vault
    from vaultnetz.schedule import schedule

    vault = load_vault(root)
    return build_calendar(vault, schedule(vault.contacts, today.date(), vault.config))


def test_incremental_rebuilds_equal_a_full_build(vault: Path) -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=TZ)
    service = FeedService(vault, FakeClock(now))
    service.rebuild()
    daily = vault / "Daily" / "2026-11-01.md"
    anna = vault / "People" / "Anna.md"
    steps = [
        lambda: daily.write_text("Met [[Anna]] and [[B]]."),  # B is nobody yet
        lambda: (vault / "People" / "Bo.md").write_text(contact_note("aliases: [B]")),
        lambda: anna.write_text(contact_note("last_contact: 2026-10-01\npriority: high")),
        lambda: anna.write_text(anna.read_text() + "## Log\n- 2026-11-10 Call #attempt\n"),
        lambda: (vault / "People" / "Bo.md").rename(vault / "People" / "Bodo.md"),
        lambda: daily.unlink(),
        lambda: (vault / "vaultnetz.toml").write_text("max_per_day = 1\n"),
    ]
    for i, step in enumerate(steps):
        step()
        changed = {"vaultnetz.toml"} if i == len(steps) - 1 else set()  # the memos are used
        snapshot = service.rebuild(changed)
        assert snapshot.feed == fresh_feed(vault, now), i


def test_a_new_day_rescans_every_note_and_repairs_a_missed_change(vault: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 23, 59, 59, 700_000, tzinfo=TZ))
    service = FeedService(vault, clock)
    service.rebuild()
    note = vault / "People" / "Anna.md"
    st = note.stat()
    # A change no event and no stat shows: same size, same mtime (as some sync tools do).
    note.write_text(note.read_text().replace("2026-10-01", "2026-10-02"))
    os.utime(note, ns=(st.st_atime_ns, st.st_mtime_ns))
    service.rebuild()  # a walk compares sizes and mtimes: it cannot see this change
    anna = next(c for c in service.snapshot.vault.contacts if c.path == "People/Anna.md")
    assert anna.last_contact_field is not None and anna.last_contact_field.day == 1  # missed
    watcher = Watcher(service, time.monotonic)
    watcher.start()
    try:
        clock.now = datetime(2026, 11, 24, 0, 0, 1, tzinfo=TZ)
        wait_for(lambda: service.snapshot.today.isoformat() == "2026-11-24", timeout=5)
        anna = next(c for c in service.snapshot.vault.contacts if c.path == "People/Anna.md")
        assert anna.last_contact_field is not None and anna.last_contact_field.day == 2
    finally:
        watcher.stop()
