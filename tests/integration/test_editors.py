"""`log` against editors that are saving the same note at the same time (CONTRACT §7).

Two kinds of editor run in their own processes, saving the note in a loop:

- in place: open with truncation, write the first half, pause, write the rest (the
  note is empty or half-written for a moment, as with many editors and sync tools);
- atomically: write a temp file and rename it over the note (Obsidian, vim, …).

The editor never reloads the note, so its save overwrites what `log` added — that is
the editor's right. What must never happen: an editor's save replaced by an older
version, or a note that is empty, half-written or without its front-matter. After
each save the editor checks that its save is still in the note.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import run_cli

FILLER = "".join(f"Line {i} of notes about Anna, kept whole by every save.\n" for i in range(80))

EDITOR = textwrap.dedent("""
    import json, os, random, sys, time
    path, mode, saves, report = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    filler = open(sys.argv[5], encoding="utf-8").read()
    rng = random.Random(mode)
    lost = []

    def content(n):
        return ("---\\nname: Anna\\ntags: [person]\\nsaved: %d\\n---\\n# Anna\\n" % n
                + filler + "## Log\\n- 2026-01-01 First coffee\\n").encode()

    def whole(data, n):
        return (data.startswith(b"---\\nname: Anna\\n") and (b"saved: %d\\n" % n) in data
                and filler.encode() in data and b"- 2026-01-01 First coffee\\n" in data)

    for n in range(1, saves + 1):
        data = content(n)
        if mode == "in-place":
            with open(path, "wb") as handle:  # truncates: the note is empty now
                handle.write(data[: len(data) // 2])
                handle.flush()
                time.sleep(rng.uniform(0.001, 0.008))  # half-written for a moment
                handle.write(data[len(data) // 2:])
        else:
            temp = os.path.join(os.path.dirname(path), ".anna.swp")
            with open(temp, "wb") as handle:
                handle.write(data)
            os.replace(temp, path)
        time.sleep(rng.uniform(0.0, 0.06))
        # The save must still be there, whole. A moment's retry: `log` swaps a note back
        # within microseconds when a save slipped in.
        for _ in range(50):
            with open(path, "rb") as handle:
                now = handle.read()
            if whole(now, n):
                break
            time.sleep(0.002)
        else:
            lost.append({"save": n, "found": now.decode("utf-8", "replace")[:200]})
        time.sleep(rng.uniform(0.0, 0.15))
    with open(report, "w") as handle:
        json.dump({"saves": saves, "lost": lost}, handle)
""")


@pytest.fixture
def anna(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    (root / "People").mkdir(parents=True)
    (root / ".obsidian").mkdir()
    note = root / "People" / "Anna.md"
    note.write_text("---\nname: Anna\ntags: [person]\nsaved: 0\n---\n# Anna\n" + FILLER
                    + "## Log\n- 2026-01-01 First coffee\n")
    (tmp_path / "filler.txt").write_text(FILLER)
    return root


@pytest.mark.parametrize("mode", ["in-place", "atomic"])
def test_no_editor_save_and_no_note_is_lost_while_log_runs(
    anna: Path, tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An in-place save here takes at most ~10 ms: a note quiet for 40 ms is not mid-save.
    # (The real default is a second, for editors and sync tools that take longer.)
    monkeypatch.setattr("vaultnetz.atomic.QUIET_NS", 40_000_000)
    note = anna / "People" / "Anna.md"
    report = tmp_path / f"{mode}.json"
    editor = subprocess.Popen([sys.executable, "-c", EDITOR, str(note), mode, "60",
                               str(report), str(tmp_path / "filler.txt")])
    outcomes: dict[int, int] = {}
    runs = 0
    try:
        while editor.poll() is None and runs < 400:
            runs += 1
            result = run_cli(["--no-cache", "--today", "2026-11-23", "log", "anna",
                              f"Call {runs}"], anna)
            outcomes[result.exit_code] = outcomes.get(result.exit_code, 0) + 1
            assert "Traceback" not in result.output, result.output
            if result.exit_code:
                assert result.stderr.startswith("Error: "), result.stderr
                # Refused (busy, changed, half-written), or the index read it half-written.
                assert any(word in result.stderr for word in (
                    "nothing was written", "is not in the note", "is skipped",
                    "no contact")), result.stderr
    finally:
        editor.wait(timeout=120)
    assert editor.returncode == 0
    outcome = json.loads(report.read_text())
    assert outcome["lost"] == [], outcome["lost"][:3]
    assert runs >= 20, runs  # about 75 on an idle 2-core machine
    assert outcomes.get(0, 0) >= 3, outcomes  # `log` did write, between the saves
    final = note.read_text()
    assert final.startswith("---\nname: Anna\n") and "saved: 60\n" in final
    assert FILLER in final


def test_log_waits_for_an_editor_that_is_saving(anna: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A note modified a moment ago is written only once it is quiet: its whole text."""
    monkeypatch.setattr("vaultnetz.atomic.QUIET_NS", 300_000_000)
    note = anna / "People" / "Anna.md"
    original = note.read_bytes()
    slow = textwrap.dedent("""
        import sys, time
        data = open(sys.argv[1], "rb").read()
        with open(sys.argv[1], "wb") as handle:
            handle.write(data[:40]); handle.flush(); time.sleep(0.25)
            handle.write(data[40:])
    """)
    editor = subprocess.Popen([sys.executable, "-c", slow, str(note)])
    try:
        for _ in range(400):  # until the editor has truncated the note
            if note.stat().st_size < len(original):
                break
            time.sleep(0.005)
        result = run_cli(["--no-cache", "--today", "2026-11-23", "log", "anna", "Tea"], anna)
    finally:
        editor.wait(timeout=30)
    if result.exit_code == 0:
        assert note.read_bytes() == original + b"- 2026-11-23 Tea\n"
    else:  # the editor was too quick to be caught half-way: then the note was whole
        assert note.read_bytes() == original


def test_log_refuses_an_empty_note_and_writes_nothing(anna: Path) -> None:
    note = anna / "People" / "Anna.md"
    load = run_cli(["--no-cache", "show", "anna"], anna)
    assert load.exit_code == 0
    from vaultnetz import actions
    from vaultnetz.load import load_vault
    from vaultnetz.names import find_contact

    vault = load_vault(anna)
    contact = find_contact(vault, "anna")
    note.write_bytes(b"")  # an editor truncated it and has not written yet
    with pytest.raises(actions.NoteNotWritable, match="empty right now"):
        actions.log_interaction(vault, contact, day=contact.interactions[0].day, text="x",
                                kind="contact", today=contact.interactions[0].day)
    assert note.read_bytes() == b""


def test_log_refuses_a_note_shorter_than_it_was_read(anna: Path) -> None:
    from vaultnetz import actions
    from vaultnetz.load import load_vault
    from vaultnetz.names import find_contact

    note = anna / "People" / "Anna.md"
    vault = load_vault(anna)
    contact = find_contact(vault, "anna")
    half = note.read_bytes()[:300]  # front-matter whole, the rest not yet written
    note.write_bytes(half)
    day = contact.interactions[0].day
    with pytest.raises(actions.NoteNotWritable, match="shorter than when vaultnetz read it"):
        actions.log_interaction(vault, contact, day=day, text="x", kind="contact", today=day)
    assert note.read_bytes() == half


def test_log_refuses_a_note_that_lost_its_front_matter(anna: Path) -> None:
    from vaultnetz import actions
    from vaultnetz.load import load_vault
    from vaultnetz.names import find_contact

    note = anna / "People" / "Anna.md"
    vault = load_vault(anna)
    contact = find_contact(vault, "anna")
    body = b"# Anna\n" + FILLER.encode() * 2 + b"## Log\n"  # longer, but no front-matter
    note.write_bytes(body)
    day = contact.interactions[0].day
    with pytest.raises(actions.NoteNotWritable, match="no front-matter now"):
        actions.log_interaction(vault, contact, day=day, text="x", kind="contact", today=day)
    assert note.read_bytes() == body


def test_log_writes_to_a_contact_that_never_had_front_matter(make_vault) -> None:
    """Dataview fields and a #person tag in the text: no front-matter to lose."""
    from conftest import run_cli

    root = make_vault({".obsidian/app.json": "{}",
                       "Notes/Ann.md": "Met at the fair. #person\nlast_contact:: 2026-05-01\n"
                                       "city:: Köln\n"})
    result = run_cli(["log", "ann", "Tea"], root)
    assert result.exit_code == 0, result.output
    assert (root / "Notes" / "Ann.md").read_text().endswith("## Log\n- 2026-11-23 Tea\n")
