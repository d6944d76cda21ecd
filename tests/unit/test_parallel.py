"""Helper processes read notes exactly as the index does, and any failure of theirs is
only slower: the notes they do not deliver are read by the index itself."""

from __future__ import annotations

import io
import marshal
import os
import shutil
import sqlite3
import stat
import sys
from pathlib import Path

import pytest

from conftest import DATA, SAMPLE, TODAY, freeze_mtimes
from vaultnetz import parallel
from vaultnetz.cache import code_stamp, decode_note
from vaultnetz.feed import vault_feed
from vaultnetz.index import NoteIndex, open_cache, parse_settings
from vaultnetz.load import load_vault
from vaultnetz.notes import ParseSettings, parse_note

MEASURED_START = parallel.START_S


@pytest.fixture(autouse=True)
def _even_shares(monkeypatch: pytest.MonkeyPatch) -> None:
    """A helper's start-up weighs so much on a small vault that the index would keep
    nearly every note; without it, the helpers get a good share to read here too."""
    monkeypatch.setattr(parallel, "START_S", 0.0)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """The sample vault, every odd note (broken YAML, Latin-1, nested mappings…), a note
    over max_note_size and a sync-conflict copy: every way a note can read."""
    root = tmp_path / "vault"
    shutil.copytree(SAMPLE, root)
    shutil.copytree(DATA / "odd-notes", root / "People" / "odd")
    config = root / "vaultnetz.toml"  # a top-level key goes before the tables
    config.write_text("max_note_size = 3000\n" + config.read_text(encoding="utf-8"),
                      encoding="utf-8")
    (root / "People" / "Huge.md").write_text("---\nname: Huge\n---\n" + "x" * 4000)
    (root / "People" / "Ada (conflicted copy).md").write_text("---\nname: Ada\n---\n")
    freeze_mtimes(root)
    return root


def read(root: Path, jobs: int | None, cache_dir: Path | None = None
         ) -> tuple[NoteIndex, dict[str, object]]:
    config = load_vault(root).config
    cache = open_cache(cache_dir, root, config) if cache_dir is not None else None
    index = NoteIndex(root, config, cache, jobs=jobs)
    index.refresh()
    if cache is not None:
        cache.close()
    return index, dict(index._notes)


def test_helpers_read_notes_as_the_index_does(vault: Path) -> None:
    serial, notes = read(vault, jobs=1)
    assert len(notes) > 40
    for jobs in (2, 3, 5):
        index, shared = read(vault, jobs=jobs)
        assert shared == notes
        assert index.parsed == serial.parsed
        assert index.delivered > index.parsed * (jobs - 1) / jobs / 2  # helpers did their share


def test_the_feed_is_the_same_with_helpers(vault: Path, tmp_path: Path) -> None:
    alone = vault_feed(vault, TODAY, jobs=1)
    shared = vault_feed(vault, TODAY, jobs=3)
    assert (shared.data, shared.errors) == (alone.data, alone.errors)
    assert alone.vault is not None and shared.vault is not None
    assert shared.vault.contacts == alone.vault.contacts
    assert shared.vault.problems == alone.vault.problems
    assert shared.vault.trips == alone.vault.trips
    assert shared.vault.broken_contacts == alone.vault.broken_contacts
    cached = vault_feed(vault, TODAY, cache_dir=tmp_path / "cache", jobs=3)
    assert cached.data == alone.data
    assert cached.errors == alone.errors


def test_helpers_fill_the_cache_as_the_index_does(vault: Path, tmp_path: Path) -> None:
    def rows(cache_dir: Path) -> list[tuple[object, ...]]:
        config = load_vault(vault).config
        cache = open_cache(cache_dir, vault, config)
        assert cache.db is not None
        found = cache.db.execute(
            "SELECT path, size, mtime_ns, digest, data FROM notes ORDER BY path").fetchall()
        cache.close()
        return found

    read(vault, jobs=1, cache_dir=tmp_path / "one")
    read(vault, jobs=3, cache_dir=tmp_path / "three")
    assert rows(tmp_path / "three") == rows(tmp_path / "one")
    warm, _ = read(vault, jobs=3, cache_dir=tmp_path / "three")
    assert warm.parsed == 1  # only nested.md, whose front-matter the cache does not hold


def test_racy_cache_entries_are_verified_by_helpers(vault: Path, tmp_path: Path) -> None:
    """Entries too recent to trust are read again; a helper finds their content unchanged."""
    cache_dir = tmp_path / "cache"
    _, notes = read(vault, jobs=1, cache_dir=cache_dir)
    db = sqlite3.connect(next(cache_dir.glob("vault-*.sqlite")))
    db.execute("UPDATE notes SET recorded_ns = mtime_ns")  # all racy now
    db.commit()
    db.close()
    index, again = read(vault, jobs=3, cache_dir=cache_dir)
    assert again == notes
    assert index.parsed == 1  # each content matched its digest (nested.md is never cached)
    warm, _ = read(vault, jobs=1, cache_dir=cache_dir)
    assert warm.parsed == 1  # and the entries were re-recorded as verified


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for Python")
@pytest.mark.parametrize("helper", [
    "exit 1",  # dies at once
    "head -c 1 >/dev/null; printf 'garbage that is no frame at all'",
    "head -c 1 >/dev/null; printf '\\005\\000\\000\\000\\000\\000\\000\\000abcde'",  # bad marshal
    "exec {python} -c \"$@\" | head -c 3000",  # cut off half-way
    "sleep 0.2; exec {python} -c \"$@\"",  # slow to start: the index does not wait
])
def test_a_failing_helper_only_means_the_index_reads_its_notes(
        vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helper: str) -> None:
    _, notes = read(vault, jobs=1)
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\n{helper.format(python=sys.executable)}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(sys, "executable", str(script))
    index, shared = read(vault, jobs=3)
    assert shared == notes
    assert index.delivered < index.parsed


def test_a_helper_that_cannot_start_is_no_error(vault: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _, notes = read(vault, jobs=1)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    assert read(vault, jobs=3)[1] == notes


def test_a_helper_refuses_another_versions_request() -> None:
    request = marshal.dumps(("another", "/", tuple(ParseSettings()), []))
    with pytest.raises(SystemExit) as exit_info:
        parallel.serve(io.BytesIO(request), io.BytesIO())
    assert exit_info.value.code == 3


def test_a_helper_delivers_framed_batches(vault: Path) -> None:
    settings = parse_settings(load_vault(vault).config)
    paths = sorted(p.relative_to(vault).as_posix() for p in vault.rglob("*.md"))
    wanted = [(rel, (vault / rel).stat().st_size, (vault / rel).stat().st_mtime_ns, "")
              for rel in paths]
    out = io.BytesIO()
    parallel.serve(io.BytesIO(marshal.dumps((code_stamp(), str(vault), tuple(settings),
                                             wanted))), out)
    data, delivered = out.getvalue(), {}
    while data:
        size = int.from_bytes(data[:8], "little")
        for rel, _content, encoded in marshal.loads(data[8:8 + size]):
            delivered[rel] = decode_note(encoded)
        data = data[8 + size:]
    # Every note is delivered except those the index must say something about itself:
    # too large (not read) and front-matter the cache's format cannot hold (nested).
    assert set(paths) - set(delivered) == {"People/Huge.md", "People/odd/nested.md"}
    for rel, note in delivered.items():
        st = (vault / rel).stat()
        assert note == parse_note(rel, (vault / rel).read_bytes(), mtime_ns=st.st_mtime_ns,
                                  log_heading=settings.log_heading,
                                  max_size=settings.max_size, date_key=settings.date_key)


def test_progress_counts_every_note_once(vault: Path) -> None:
    seen: list[tuple[int, int]] = []
    config = load_vault(vault).config
    index = NoteIndex(vault, config, jobs=3)
    index.refresh(progress=lambda done, total: seen.append((done, total)))
    total = len(index._notes)
    assert seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_how_many_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "available_cores", lambda: 8)
    assert parallel.processes_for(100, None) == 1  # too few notes to be worth a helper
    assert parallel.processes_for(3 * parallel.MIN_NOTES_PER_PROCESS, None) == 3
    assert parallel.processes_for(10**6, None) == parallel.MAX_PROCESSES
    assert parallel.processes_for(10**6, 1) == 1
    assert parallel.processes_for(2, 6) == 2  # never more than there are notes
    monkeypatch.setattr(parallel, "available_cores", lambda: 1)
    assert parallel.processes_for(10**6, None) == 1
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert parallel.processes_for(10**6, 4) == 1  # a bundled app cannot start a helper


@pytest.mark.parametrize("count", [2, 5, 1000, 13650])
def test_shares_cover_every_note_once_in_order(count: int) -> None:
    wanted = [(f"n{i:05}.md", i, i, "") for i in range(count)]
    for processes in range(1, min(count, 4) + 1):
        shares = parallel.share_out(wanted, processes)
        assert len(shares) == processes
        assert sorted(item for share in shares for item in share) == wanted
        for share in shares:
            assert share == sorted(share)
        if count >= 1000:
            own = parallel.own_share(count, processes)
            assert abs(len(shares[0]) / count - own) < 0.03
            assert all(shares)  # each process asked for gets notes


def test_the_index_takes_less_the_more_helpers_it_has(monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    monkeypatch.setattr(parallel, "START_S", MEASURED_START)
    shares = [parallel.own_share(13650, processes) for processes in (1, 2, 3, 4)]
    assert shares[0] == 1.0
    assert shares == sorted(shares, reverse=True)
    assert 0.25 < shares[1] < 0.35  # as measured on two cores (benchmarks/run.py)
    # A helper's start-up weighs less on more notes: the index keeps less for itself.
    assert parallel.own_share(53650, 2) < parallel.own_share(13650, 2)


def test_the_cli_takes_jobs(vault: Path) -> None:
    from click.testing import CliRunner

    from vaultnetz.cli import main

    runner = CliRunner()
    args = ["--vault", str(vault), "--today", TODAY.isoformat(), "--no-cache"]
    one = runner.invoke(main, [*args, "--jobs", "1", "ics"])
    three = runner.invoke(main, [*args, "--jobs", "3", "ics"])
    assert one.exit_code == three.exit_code
    assert one.stdout == three.stdout
    zero = runner.invoke(main, [*args, "--jobs", "0", "ics"])
    assert zero.exit_code == 2
    assert "--jobs" in zero.output
