"""The cache is an accelerator only: every path gives the same vault as reading afresh."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from conftest import TODAY, VAULT_CHANGES, change_vault, contact_note, freeze_mtimes
from vaultnetz.cache import cache_file, clear
from vaultnetz.feed import build_calendar, vault_feed
from vaultnetz.index import NoteIndex, open_cache
from vaultnetz.load import load_vault
from vaultnetz.schedule import schedule


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def snapshot(root: Path, cache_dir: Path | None) -> tuple[object, ...]:
    vault = load_vault(root, cache_dir=cache_dir)
    plan = schedule(vault.contacts, TODAY, vault.config)
    return vault.contacts, vault.problems, build_calendar(vault, plan)


def parsed_count(root: Path, cache_dir: Path) -> int:
    from vaultnetz.config import load_config

    config = load_config(root)[0]
    cache = open_cache(cache_dir, root, config)
    index = NoteIndex(root, config, cache)
    index.refresh()
    cache.close()
    return index.parsed


@pytest.fixture
def vault(make_vault) -> Path:
    root = make_vault({
        "People/Anna.md": contact_note("cadence: 3m\nlast_contact: 2026-05-01"),
        "People/Bo.md": contact_note("birthday: --02-29") + "## Log\n- 2026-06-01 Call\n",
        "People/Broken.md": "---\nname: [\n---\n",
        "Daily/2026-10-01.md": "Met [[Anna]].",
    })
    os.utime(root / "People" / "Anna.md", (1_700_000_000, 1_700_000_000))
    freeze_mtimes(root, 1_700_000_000)
    return root


def test_cold_warm_and_uncached_agree(vault: Path, cache_dir: Path) -> None:
    fresh = snapshot(vault, None)
    assert snapshot(vault, cache_dir) == fresh  # cold: fills the cache
    assert cache_file(cache_dir, vault).is_file()
    assert parsed_count(vault, cache_dir) == 0  # warm: nothing parsed again
    assert snapshot(vault, cache_dir) == fresh


def test_edit_touch_delete_rename(vault: Path, cache_dir: Path) -> None:
    snapshot(vault, cache_dir)
    anna = vault / "People" / "Anna.md"
    anna.write_text(anna.read_text().replace("3m", "6w"))
    assert parsed_count(vault, cache_dir) == 1
    assert snapshot(vault, cache_dir) == snapshot(vault, None)
    os.utime(anna, (1_700_000_500, 1_700_000_500))  # touched, content unchanged
    assert snapshot(vault, cache_dir) == snapshot(vault, None)
    (vault / "People" / "Bo.md").unlink()
    assert snapshot(vault, cache_dir) == snapshot(vault, None)
    assert "Bo" not in [c.name for c in load_vault(vault, cache_dir=cache_dir).contacts]
    anna.rename(vault / "People" / "Anna Berger.md")
    names = [c.name for c in load_vault(vault, cache_dir=cache_dir).contacts]
    assert names == ["Anna Berger"]
    assert snapshot(vault, cache_dir) == snapshot(vault, None)


def edit_within_one_mtime_tick(vault: Path, cache_dir: Path, read: Callable[..., object]
                               ) -> None:
    """Read the vault while Anna's note has a "now" mtime (the file system's now, from a
    marker file), so that the cache records it while a same-tick edit is still possible (a
    racy entry); then edit it keeping its size and mtime."""
    anna = vault / "People" / "Anna.md"
    cache_dir.mkdir()
    marker = cache_dir / "marker"
    marker.write_text("x")
    recent = marker.stat().st_mtime_ns
    os.utime(anna, ns=(recent, recent))
    read(vault, cache_dir)
    anna.write_text(anna.read_text().replace("3m", "9m"))  # same size …
    os.utime(anna, ns=(recent, recent))  # … and the same mtime


def test_same_size_edit_within_one_mtime_tick_is_seen(vault: Path, cache_dir: Path) -> None:
    edit_within_one_mtime_tick(vault, cache_dir, snapshot)
    contacts = load_vault(vault, cache_dir=cache_dir).contacts
    assert next(c for c in contacts if c.name == "Anna").cadence.amount == 9


def test_cache_from_another_version_is_replaced(vault: Path, cache_dir: Path) -> None:
    snapshot(vault, cache_dir)
    path = cache_file(cache_dir, vault)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = 'old' WHERE key = 'fingerprint'")
        db.execute("UPDATE notes SET data = '[\"bogus\"]'")
    assert snapshot(vault, cache_dir) == snapshot(vault, None)
    assert parsed_count(vault, cache_dir) == 0


@pytest.mark.parametrize("garbage", [b"not a database at all" * 100, b"", b"SQLite format 3\0xx"])
def test_corrupt_cache_file_is_rebuilt(vault: Path, cache_dir: Path, garbage: bytes) -> None:
    path = cache_file(cache_dir, vault)
    path.parent.mkdir(parents=True)
    path.write_bytes(garbage)
    assert snapshot(vault, cache_dir) == snapshot(vault, None)
    assert parsed_count(vault, cache_dir) == 0


def test_damaged_entries_are_parsed_again(vault: Path, cache_dir: Path) -> None:
    snapshot(vault, cache_dir)
    with sqlite3.connect(cache_file(cache_dir, vault)) as db:
        db.execute("UPDATE notes SET data = '[\"bogus\"]', recorded_ns = 0")
    assert snapshot(vault, cache_dir) == snapshot(vault, None)


def test_unwritable_cache_dir_is_not_fatal(vault: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    assert snapshot(vault, blocked / "cache") == snapshot(vault, None)


def test_locked_cache_is_not_fatal(vault: Path, cache_dir: Path) -> None:
    snapshot(vault, cache_dir)
    db = sqlite3.connect(cache_file(cache_dir, vault), isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    try:
        (vault / "People" / "Cem.md").write_text("x")
        assert snapshot(vault, cache_dir) == snapshot(vault, None)
    finally:
        db.execute("ROLLBACK")
        db.close()


def test_clear(vault: Path, cache_dir: Path) -> None:
    snapshot(vault, cache_dir)
    assert clear(cache_dir) >= 1
    assert not cache_file(cache_dir, vault).exists()
    assert clear(cache_dir / "missing") == 0


def test_cache_lives_outside_the_vault(vault: Path, cache_dir: Path) -> None:
    before = sorted(p.relative_to(vault) for p in vault.rglob("*"))
    snapshot(vault, cache_dir)
    assert sorted(p.relative_to(vault) for p in vault.rglob("*")) == before


# The whole feed, stored under a digest of everything it is made from.

def feed(root: Path, cache_dir: Path | None, **options: object) -> tuple[bytes, int, bool]:
    """(feed bytes, errors, whether it came whole from the cache)."""
    result = vault_feed(root, TODAY, cache_dir=cache_dir, **options)  # type: ignore[arg-type]
    return result.data, result.errors, result.vault is None


def test_unchanged_vault_gives_the_stored_feed(vault: Path, cache_dir: Path) -> None:
    data, errors, cached = feed(vault, None)
    assert errors == 1 and not cached
    assert feed(vault, cache_dir) == (data, 1, False)  # cold: builds and stores
    assert feed(vault, cache_dir) == (data, 1, True)  # warm: only walks the vault
    assert data == snapshot(vault, None)[2]


@pytest.mark.parametrize("change", [*VAULT_CHANGES, "today", "options"])
def test_any_change_makes_a_new_feed(vault: Path, cache_dir: Path, change: str) -> None:
    feed(vault, cache_dir)
    assert feed(vault, cache_dir)[2]
    today = TODAY
    options: dict[str, object] = {}
    if change == "today":
        today = TODAY.replace(day=TODAY.day + 1)
    elif change == "options":
        options = {"horizon_days": 30, "tag": "person"}
    else:
        change_vault(vault, vault / "People" / "Anna.md", change)
    expected = vault_feed(vault, today, cache_dir=None, **options)  # type: ignore[arg-type]
    result = vault_feed(vault, today, cache_dir=cache_dir, **options)  # type: ignore[arg-type]
    assert result.vault is not None  # built, not taken from the cache
    assert (result.data, result.errors) == (expected.data, expected.errors)
    if change == "touch":
        assert result.data == feed(vault, None)[0]


def test_recent_notes_are_never_trusted_for_the_whole_feed(vault: Path, cache_dir: Path) -> None:
    """A note changed within one mtime tick of being read: the stored feed is not used."""
    edit_within_one_mtime_tick(vault, cache_dir, feed)
    data, _, cached = feed(vault, cache_dir)
    assert not cached
    assert data == feed(vault, None)[0]


def test_a_note_readable_again_is_read_although_its_mtime_is_the_same(
        vault: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A note that could not be read (its permissions) and is made readable again keeps
    its size and mtime: neither the stored feed nor the snapshot may stand for it."""
    import builtins

    from vaultnetz import notes

    real_open = builtins.open

    def denied(path: str, *args: object, **kwargs: object) -> object:
        if str(path).endswith("Anna.md"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(notes, "open", denied, raising=False)
    unreadable, errors, _ = feed(vault, cache_dir)
    assert errors == 2 and b"Anna" not in unreadable
    monkeypatch.undo()
    for _ in range(2):
        assert feed(vault, cache_dir)[:2] == feed(vault, None)[:2]
        assert snapshot(vault, cache_dir) == snapshot(vault, None)


def test_stored_feeds_are_bounded(vault: Path, cache_dir: Path) -> None:
    for days in range(1, 20):
        feed(vault, cache_dir, horizon_days=days)
    with sqlite3.connect(cache_file(cache_dir, vault)) as db:
        assert db.execute("SELECT count(*) FROM results").fetchone()[0] == 4


def test_every_fixture_note_round_trips_through_the_cache_format() -> None:
    """encode_note/decode_note give back the same note, or decline (nested mappings…)."""
    from conftest import DATA, SAMPLE
    from vaultnetz.cache import decode_note, encode_note
    from vaultnetz.notes import parse_note

    declined = 0
    paths = [*SAMPLE.rglob("*.md"), *(DATA / "odd-notes").rglob("*.md")]
    assert len(paths) > 30
    for path in paths:
        note = parse_note(path.name, path.read_bytes(), mtime_ns=123)
        data = encode_note(note)
        if data is None:
            declined += 1
            continue
        decoded = decode_note(data)
        assert decoded == note, path
        assert [type(v) for v in decoded.meta.values()] == [type(v) for v in note.meta.values()]
    assert declined <= 2


@pytest.mark.parametrize("meta", [
    {"a": [[1, "x"], date(2026, 1, 2)], "b": datetime(2026, 1, 2, 3, 4, tzinfo=UTC)},
    {"n": None, "f": 1.5, "t": True, "s": "München", "l": []},
])
def test_front_matter_values_round_trip(meta: dict[str, object]) -> None:
    from vaultnetz.cache import decode_note, encode_note
    from vaultnetz.notes import Note

    note = Note("People/A.md", 1, 2, meta, {k: i + 2 for i, k in enumerate(meta)}, (), (), (),
                ok=True)
    data = encode_note(note)
    assert data is not None
    assert decode_note(data) == note


@pytest.mark.parametrize("value", [{"nested": 1}, {1, 2}, b"binary", (1, 2)])
def test_values_the_cache_would_change_are_not_cached(value: object) -> None:
    from vaultnetz.cache import encode_note
    from vaultnetz.notes import Note

    assert encode_note(Note("A.md", 1, 2, {"x": value}, {}, (), (), (), ok=True)) is None


def test_changed_code_starts_the_cache_afresh(vault: Path, cache_dir: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A development install changes code without a new version: nothing stored is reused."""
    import vaultnetz.cache

    assert feed(vault, cache_dir)[2] is False
    assert feed(vault, cache_dir)[2] is True
    assert parsed_count(vault, cache_dir) == 0
    monkeypatch.setattr(vaultnetz.cache, "code_stamp", lambda: "other code")
    assert feed(vault, cache_dir)[2] is False
    assert parsed_count(vault, cache_dir) == 0  # the fresh build stored the notes again
