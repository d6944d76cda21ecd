"""Snapshots of built vaults: a command on an unchanged vault reads the contacts back
instead of decoding every note and building them again — and never gives another answer."""

from __future__ import annotations

import dataclasses
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from conftest import (
    DATA,
    FIXED_MTIME,
    SAMPLE,
    TODAY,
    VAULT_CHANGES,
    change_vault,
    freeze_mtimes,
)
from vaultnetz.cache import cache_file
from vaultnetz.contacts import Vault
from vaultnetz.feed import vault_feed
from vaultnetz.index import NoteIndex, open_cache
from vaultnetz.load import OneShotIndex, load_vault
from vaultnetz.model import Birthday, Cadence, Contact, Interaction, Problem
from vaultnetz.patch import MAX_PATCHED
from vaultnetz.schedule import schedule
from vaultnetz.snapshot import (
    CONTACT_FIELDS,
    decode_links,
    decode_plan,
    decode_snapshot,
    encode_plan,
    encode_snapshot,
    open_snapshot,
)
from vaultnetz.trips import Trip


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """The sample vault (trips, birthdays, every field) and every odd note."""
    root = tmp_path / "vault"
    shutil.copytree(SAMPLE, root)
    shutil.copytree(DATA / "odd-notes", root / "People" / "odd")
    freeze_mtimes(root)
    return root


def parts(vault: Vault) -> tuple[object, ...]:
    return (vault.contacts, vault.problems, vault.note_count, vault.broken_contacts,
            vault.trips)


def read(root: Path, cache_dir: Path | None) -> tuple[Vault, NoteIndex]:
    config = load_vault(root).config
    cache = open_cache(cache_dir, root, config) if cache_dir is not None else None
    index = OneShotIndex(root, None, cache)
    try:
        return index.load()[0], index
    finally:
        if cache is not None:
            cache.close()


def stored(root: Path, cache_dir: Path) -> int:
    with sqlite3.connect(cache_file(cache_dir, root)) as db:
        return db.execute("SELECT count(DISTINCT key) FROM snapshots").fetchone()[0]


def test_the_snapshot_format_knows_every_field() -> None:
    """A field added to a dataclass must be added to the snapshot, or it would be lost."""
    assert tuple(f.name for f in dataclasses.fields(Contact)) == CONTACT_FIELDS
    # A stored contact is made by setting its slots, not by __init__: nothing may be
    # worked out there.
    assert not hasattr(Contact, "__post_init__")
    assert list(Interaction._fields) == [
        "day", "kind", "text", "source", "path", "line"]
    assert [f.name for f in dataclasses.fields(Cadence)] == ["amount", "unit", "text"]
    assert [f.name for f in dataclasses.fields(Birthday)] == ["month", "day", "year"]
    assert [f.name for f in dataclasses.fields(Problem)] == [
        "path", "line", "severity", "code", "message", "hint"]
    assert [f.name for f in dataclasses.fields(Trip)] == ["path", "city", "start", "end"]


def test_a_built_vault_round_trips(vault: Path) -> None:
    built = load_vault(vault)
    assert built.trips and built.broken_contacts and built.problems
    assert any(c.birthday and c.birthday.year for c in built.contacts)
    assert any(c.snooze_until for c in built.contacts)
    assert any(i.source == "mention" for c in built.contacts for i in c.interactions)
    stats = [("People/A.md", 12, 34, 1, ()),
             ("Daily/2026-01-01.md", 5, 6, 3, ("People/A.md", "People/B.md"))]
    links = {"Daily/2026-01-01.md": ("A", "People/B", "Nobody")}
    walk = [Problem("x.md", None, "warning", "symlink-outside", "m", "h")]
    encoded = list(encode_snapshot(parts(built), stats, links, walk, "state"))  # type: ignore[arg-type]
    decoded = decode_snapshot(encoded)
    assert decoded == (parts(built), {p: (s, m, f, w) for p, s, m, f, w in stats}, walk,
                       "state")
    opened = open_snapshot(encoded)
    assert opened is not None and decode_links(opened[4]) == links
    # Stored again as they were read (not decoded), the links are the same.
    again = list(encode_snapshot(parts(built), stats, opened[4], walk, "state"))  # type: ignore[arg-type]
    reopened = open_snapshot(again)
    assert reopened is not None and reopened[4] == opened[4]
    assert decode_snapshot(again) == decoded


def test_a_stored_contact_is_the_contact_and_decodes_its_interactions_once() -> None:
    import pickle

    from vaultnetz.snapshot import _INTERACTIONS, StoredContact

    made = Contact("People/A.md", "A", ("Al",), tags=("x",), interactions=(
        Interaction(TODAY, "contact", "Coffee", "log", "People/A.md", 7),
        Interaction(TODAY, "attempt", "Call", "mention", "Daily/d.md", None)))
    built = decode_snapshot(encode_snapshot(((made,), (), 1, (), ()), [], {}, [], "s"))
    assert built is not None
    (back,), *_ = built[0]
    assert isinstance(back, StoredContact)
    assert type(_INTERACTIONS.__get__(back)) is bytes  # not decoded by reading the vault
    # Stored again as it was read (a patched snapshot), without being decoded:
    stored_again = list(encode_snapshot(((back,), (), 1, (), ()), [], {}, [], "s"))
    assert type(_INTERACTIONS.__get__(back)) is bytes
    assert decode_snapshot(stored_again) == decode_snapshot(
        encode_snapshot(((made,), (), 1, (), ()), [], {}, [], "s"))
    assert back == made and made == back and hash(back) == hash(made)
    assert (back != made) is False and back != dataclasses.replace(made, name="B")
    assert type(_INTERACTIONS.__get__(back)) is tuple  # decoded by comparing
    first = back.interactions
    assert first == made.interactions and back.interactions is first  # decoded once
    assert dataclasses.replace(back, city="Köln") == dataclasses.replace(made, city="Köln")
    assert pickle.loads(pickle.dumps(back)) == made
    assert repr(back).endswith(repr(made)[len("Contact"):])
    from vaultnetz.snapshot import has_interactions

    nobody = Contact("People/B.md", "B")
    stored = decode_snapshot(encode_snapshot(((made, nobody), (), 2, (), ()), [], {}, [], "s"))
    assert stored is not None
    assert [has_interactions(c) for c in stored[0][0]] == [True, False]  # still undecoded
    assert all(type(_INTERACTIONS.__get__(c)) is bytes for c in stored[0][0])
    assert [has_interactions(c) for c in (made, nobody)] == [True, False]
    with pytest.raises(dataclasses.FrozenInstanceError):
        back.interactions = ()  # type: ignore[misc]


@pytest.mark.parametrize("size", [0, 1, 1999, 2000, 2001, 4500])
def test_contacts_in_several_parts(size: int) -> None:
    contacts = tuple(Contact(f"People/{i}.md", f"N {i}", interactions=(
        Interaction(TODAY, "attempt", "x", "log", f"People/{i}.md", 3),)) for i in range(size))
    built = (contacts, (), size, (), ())
    assert decode_snapshot(encode_snapshot(built, [], {}, [], "s")) == (built, {}, [], "s")
    lost = list(encode_snapshot(built, [], {}, [], "s"))[:-1]  # a part lost
    assert decode_snapshot(lost) is None or size == 0
    assert decode_snapshot([]) is None


def test_a_cold_run_stores_a_snapshot_the_next_uses(vault: Path, cache_dir: Path) -> None:
    """Every command is fast after any other: a cold `ics` leaves the built vault for the
    `due` that follows (issue "One simple, linear read path")."""
    fresh, _ = read(vault, None)
    cold, index = read(vault, cache_dir)
    assert index.parsed > 0 and stored(vault, cache_dir) == 1
    warm, index = read(vault, cache_dir)
    assert index.parsed == 0 and index.from_snapshot  # not a note read or decoded
    again, index = read(vault, cache_dir)
    assert index.parsed == 0 and index.from_snapshot
    for result in (cold, warm, again):
        assert parts(result) == parts(fresh)


@pytest.mark.parametrize("change", [*VAULT_CHANGES, "config-warning"])
def test_any_change_means_no_stale_snapshot(vault: Path, cache_dir: Path, change: str) -> None:
    for _ in range(3):
        before = parts(read(vault, cache_dir)[0])
    assert stored(vault, cache_dir) == 1
    if change == "config-warning":  # the same settings, one more warning
        config = vault / "vaultnetz.toml"
        config.write_text("no_such_key = 1\n" + config.read_text(encoding="utf-8"),
                          encoding="utf-8")
    else:
        change_vault(vault, vault / "People" / "Anna Berger.md", change)
    expected, _ = read(vault, None)
    assert (parts(expected) == before) == (change == "touch")
    for _ in range(3):  # builds, stores a snapshot, uses it
        result, _ = read(vault, cache_dir)
        assert parts(result) == parts(expected)


def test_a_damaged_snapshot_is_built_again(vault: Path, cache_dir: Path) -> None:
    for _ in range(2):
        read(vault, cache_dir)
    expected, _ = read(vault, None)
    with sqlite3.connect(cache_file(cache_dir, vault)) as db:
        db.execute("UPDATE snapshots SET data = x'00ff' WHERE part = 1")
    result, _ = read(vault, cache_dir)
    assert parts(result) == parts(expected)
    with sqlite3.connect(cache_file(cache_dir, vault)) as db:
        db.execute("DELETE FROM snapshots WHERE part = 1")  # a part missing
    result, _ = read(vault, cache_dir)
    assert parts(result) == parts(expected)


def test_snapshots_are_bounded(vault: Path, cache_dir: Path) -> None:
    config = vault / "vaultnetz.toml"
    original = config.read_text(encoding="utf-8")
    for days in range(1, 6):  # another config: another snapshot
        config.write_text(f"max_per_week = {days}\n" + original, encoding="utf-8")
        for _ in range(2):
            read(vault, cache_dir)
    assert stored(vault, cache_dir) == 2


def test_the_feed_of_another_day_is_made_from_the_snapshot(vault: Path,
                                                          cache_dir: Path) -> None:
    for _ in range(2):
        load_vault(vault, cache_dir=cache_dir)
    tomorrow = TODAY.replace(day=TODAY.day + 1)
    expected = vault_feed(vault, tomorrow, cache_dir=None)
    result = vault_feed(vault, tomorrow, cache_dir=cache_dir)
    assert (result.data, result.errors) == (expected.data, expected.errors)
    assert result.vault is not None and parts(result.vault) == parts(expected.vault)
    # And the feed itself is stored, though odd/nested.md's front-matter is not.
    assert vault_feed(vault, tomorrow, cache_dir=cache_dir).vault is None


def test_a_snapshot_that_cannot_serve_is_not_decoded(vault: Path, cache_dir: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Its notes' stats say at once that it cannot serve: its contacts are never decoded."""
    import vaultnetz.load as load_module

    for _ in range(2):
        read(vault, cache_dir)
    decoded: list[bool] = []

    def watched(parts):  # type: ignore[no-untyped-def]
        opened = open_snapshot(parts)
        assert opened is not None
        stats, walk, state, decode, links = opened
        return stats, walk, state, lambda: decoded.append(True) or decode(), links

    monkeypatch.setattr(load_module, "open_snapshot", watched)
    for n in range(MAX_PATCHED + 1):  # more new notes than are patched: built afresh
        (vault / f"Notes {n}.md").write_text("A new note.\n", encoding="utf-8")
    result, index = read(vault, cache_dir)
    assert not index.from_snapshot and decoded == []
    assert parts(result) == parts(read(vault, None)[0])


def test_a_plan_round_trips(vault: Path) -> None:
    built = load_vault(vault)
    plan = schedule(built.contacts, TODAY, built.config)
    data = encode_plan(plan, built.contacts, "state")
    again = decode_plan(data, built.contacts, "state", TODAY)
    assert again == plan and list(again.standings) == list(plan.standings)
    assert decode_plan(data, built.contacts, "another state", TODAY) is None
    assert decode_plan(data, built.contacts, "state", TODAY.replace(day=TODAY.day + 1)) is None
    assert decode_plan(data, built.contacts[1:], "state", TODAY) is None


def test_one_contacts_plan_is_read_alone_and_equals_the_whole_plans(vault: Path) -> None:
    """`show` reads one contact's standing and check-in from the stored plan."""
    built = load_vault(vault)
    plan = schedule(built.contacts, TODAY, built.config)
    data = encode_plan(plan, built.contacts, "state")
    by_contact = {c.contact.path: c for c in plan.check_ins}
    assert any(c.path not in by_contact for c in built.contacts)  # some have no check-in
    for place, contact in enumerate(built.contacts):
        one = decode_plan(data, built.contacts, "state", TODAY, only=place)
        assert one is not None and list(one.standings) == [contact.path]
        assert one.standings[contact.path] == plan.standings[contact.path]
        assert one.check_ins == ((by_contact[contact.path],) if contact.path in by_contact
                                 else ())
    assert decode_plan(data, built.contacts, "another state", TODAY, only=0) is None


def test_show_reads_one_contact_from_the_stored_plan(vault: Path, cache_dir: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import vaultnetz.snapshot as snapshot_module
    from conftest import run_cli

    monkeypatch.setenv("VAULTNETZ_CACHE_DIR", str(cache_dir))
    names = [c.name for c in load_vault(vault).contacts][:12]
    expected = {name: run_cli(["--no-cache", "show", name, "--json"], vault).output
                for name in names}
    assert run_cli(["due"], vault).exit_code == 0  # stores the snapshot and today's plan
    whole: list[bool] = []
    real = snapshot_module.decode_plan

    def watched(*args: object, only: int | None = None) -> object:
        whole.append(only is None)
        return real(*args, only=only)  # type: ignore[arg-type]

    monkeypatch.setattr(snapshot_module, "decode_plan", watched)
    for name in names:
        assert run_cli(["show", name, "--json"], vault).output == expected[name]
    assert whole and not any(whole)  # never the whole plan
    with sqlite3.connect(cache_file(cache_dir, vault)) as db:  # damaged: made afresh
        db.execute("UPDATE snapshots SET data = x'00ff' WHERE part = -1")
    assert run_cli(["show", names[0], "--json"], vault).output == expected[names[0]]


def test_a_patched_vault_schedules_only_its_changed_contact_again(
        vault: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-shot run after a note was edited makes the day's plan from the plan stored
    before, working out only the edited contact again (as the watcher does)."""
    import importlib

    from vaultnetz.snapshot import plan_of

    schedule_module = importlib.import_module("vaultnetz.schedule")  # not the function

    def plan(built: Vault) -> object:
        cache = open_cache(cache_dir, vault, built.config)
        try:
            return plan_of(built, TODAY, cache)
        finally:
            cache.close()

    for _ in range(2):
        before, _ = read(vault, cache_dir)
    plan(before)  # stored with the snapshot
    anna = vault / "People" / "Anna Berger.md"
    anna.write_text(anna.read_text(encoding="utf-8") + "\n- 2026-11-20 Coffee in Köln\n",
                    encoding="utf-8")
    os.utime(anna, (FIXED_MTIME + 10, FIXED_MTIME + 10))  # old enough to be trusted
    patched, index = read(vault, cache_dir)
    assert index.from_snapshot and patched.patched_from is not None
    worked_out: list[str] = []
    real = schedule_module._pending

    def counted(contact: Contact, *args: object) -> object:
        worked_out.append(contact.path)
        return real(contact, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(schedule_module, "_pending", counted)
    made = plan(patched)
    assert worked_out == ["People/Anna Berger.md"]
    fresh = load_vault(vault)
    monkeypatch.setattr(schedule_module, "_pending", real)
    assert made == schedule(fresh.contacts, TODAY, fresh.config)


def test_a_snapshots_parts_are_replaced_only_while_it_is_the_one_read(tmp_path: Path) -> None:
    from vaultnetz.cache import Cache

    cache = Cache(tmp_path / "c.sqlite", "f")
    cache.store_snapshot("k", [b"head", b"stats", b"p0", b"p1"])
    cache.store_plan("k", b"plan")
    assert not cache.update_snapshot("k", lambda head: head == b"another", {0: b"h2"})
    assert not cache.update_snapshot("k", lambda head: True, {0: b"h2", 7: b"none"})
    assert list(cache.snapshot("k")) == [b"head", b"stats", b"p0", b"p1"]  # untouched
    assert cache.plan("k") == b"plan"
    assert cache.update_snapshot("k", lambda head: head == b"head",
                                 {0: b"h2", 1: b"s2", 3: b"q1"})
    assert list(cache.snapshot("k")) == [b"h2", b"s2", b"p0", b"q1"]
    assert cache.plan("k") is None  # the plan was the old snapshot's
    assert not cache.update_snapshot("other", lambda head: True, {0: b"x"})
    cache.close()


def test_a_daily_notes_patch_decodes_only_the_contacts_it_mentions(vault: Path,
                                                                    cache_dir: Path) -> None:
    """The snapshot says whom each note mentions: a patched daily note does not look
    through (nor decode) every contact's interactions to find its mentions."""
    from vaultnetz.snapshot import _INTERACTIONS, StoredContact

    for _ in range(2):
        read(vault, cache_dir)
    daily = sorted((vault / "Daily").glob("*.md"))[-1]
    daily.write_text(daily.read_text(encoding="utf-8") + "\nLunch with [[Jonas Weber]].\n",
                     encoding="utf-8")
    os.utime(daily, (FIXED_MTIME + 10, FIXED_MTIME + 10))
    patched, index = read(vault, cache_dir)
    decoded = [c.path for c in patched.contacts
               if type(c) is StoredContact and type(_INTERACTIONS.__get__(c)) is not bytes]
    assert index.from_snapshot and len(decoded) <= 3 < len(patched.contacts), decoded
    assert parts(patched) == parts(load_vault(vault))  # (decodes them all)
    again, index = read(vault, cache_dir)  # and the stored whom-mentions-whom is right
    assert index.from_snapshot and parts(again) == parts(load_vault(vault))


@pytest.mark.parametrize("still_there", [True, False])
def test_a_patch_rewrites_only_the_parts_it_changed(vault: Path, cache_dir: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    still_there: bool) -> None:
    """After one edited contact, only the snapshot's head, stats and that contact's part
    are written — unless another run stored another snapshot since: then all of it."""
    import vaultnetz.load as load_module
    from vaultnetz.cache import Cache

    for _ in range(2):
        read(vault, cache_dir)
    if not still_there:
        monkeypatch.setattr(load_module, "snapshot_state", lambda head: "another run's")
    whole: list[bool] = []
    real = Cache.store_snapshot

    def counted(self: Cache, key: str, parts: object) -> None:
        whole.append(True)
        real(self, key, parts)  # type: ignore[arg-type]

    monkeypatch.setattr(Cache, "store_snapshot", counted)
    anna = vault / "People" / "Anna Berger.md"
    anna.write_text(anna.read_text(encoding="utf-8") + "\n- 2026-11-20 Coffee\n",
                    encoding="utf-8")
    os.utime(anna, (FIXED_MTIME + 10, FIXED_MTIME + 10))
    patched, index = read(vault, cache_dir)
    assert index.from_snapshot and whole == ([] if still_there else [True])
    again, index = read(vault, cache_dir)  # from the snapshot as written
    assert index.from_snapshot and index.parsed == 0
    assert parts(again) == parts(patched) == parts(load_vault(vault))


def test_every_command_of_a_day_reads_the_plan_back(vault: Path, cache_dir: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The schedule is worked out once a day for a vault as it is: `ics` stores it with
    the snapshot, and `due`, `show`, `stats` read it back — with the same answers."""
    import vaultnetz.snapshot as snapshot_module
    from conftest import run_cli

    monkeypatch.setenv("VAULTNETZ_CACHE_DIR", str(cache_dir))
    expected = {args[0]: run_cli(["--no-cache", *args], vault).output
                for args in (["due", "--all"], ["show", "Anna"], ["stats"], ["review"])}
    made: list[bool] = []
    real = snapshot_module.schedule

    def counted(*args: object) -> object:
        made.append(True)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(snapshot_module, "schedule", counted)
    assert run_cli(["ics", "-o", str(vault.parent / "feed.ics")], vault).exit_code == 0
    assert made == [True]
    for args in (["due", "--all"], ["show", "Anna"], ["stats"], ["review"]):
        assert run_cli(list(args), vault).output == expected[args[0]]
    assert made == [True]
    with sqlite3.connect(cache_file(cache_dir, vault)) as db:  # damaged: made afresh
        db.execute("UPDATE snapshots SET data = x'00ff' WHERE part = -1")
    assert run_cli(["due", "--all"], vault).output == expected["due"]
    assert made == [True, True]
