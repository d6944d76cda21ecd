"""An adversarial vault: every bad note is reported, everything else works, nothing changes."""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import DATA, run_cli

NFD_NAME = "Ju\u0308rgen.md"


def fingerprint(root: Path) -> dict[str, str]:
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            if path.is_symlink():
                out[str(path)] = "link:" + os.readlink(path)
            elif path.is_file():
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest() + \
                    oct(path.stat().st_mode)
    return out


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    people = root / "People"
    shutil.copytree(DATA / "odd-notes", people)
    (root / ".obsidian").mkdir()
    (people / "Good Person.md").write_text("---\ntags: [person]\ncity: Köln\n---\n## Log\n"
                                           "- 2026-09-01 Coffee\n")
    (people / "Good Person.sync-conflict-20260101-101010-ABC.md").write_text("copy")
    (people / "Good Person (Jane's conflicted copy 2026-01-01).md").write_text("copy")
    (people / NFD_NAME).write_text("---\ncity: München\n---\n")
    (people / "Twin.md").write_text("---\naliases: [Good Person]\n---\n")
    (people / "Huge.md").write_text("x" * 5000)
    (root / "vaultnetz.toml").write_text("max_note_size = 4000\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Secret.md").write_text("---\ntags: [person]\n---\n")
    os.symlink(outside, people / "Outside")
    os.symlink(outside / "Secret.md", people / "Secret.md")
    os.symlink(root, people / "Loop")
    os.symlink(people / "missing.md", people / "Dangling.md")
    (root / "Daily").mkdir()
    (root / "Daily" / "2026-11-01.md").write_text("Lunch with [[Jürgen]] and [[Good Person|GP]].")
    (people / ".vaultnetz-123.tmp").write_text("a stale temp file from a crash")
    return root


EXPECTED_ERRORS = {
    "People/bad-yaml-quote.md": 3,
    "People/image-named-md.md": None,
    "People/latin1.md": 1,
    "People/list-front-matter.md": 2,
    "People/scalar-front-matter.md": 2,
    "People/unsafe-tag.md": 3,
    "People/unterminated.md": 1,
}
# One unusable value is a warning on its line; the contact stays without it (CONTRACT §8).
EXPECTED_VALUE_WARNINGS = {
    "People/bad-birthday.md": 3,
    "People/bad-cadence.md": 3,
    "People/bad-log-date.md": 5,
    "People/impossible-date.md": 3,
}
EXPECTED_WARNINGS = {
    *EXPECTED_VALUE_WARNINGS,
    "People/empty.md", "People/Huge.md", "People/Outside", "People/Secret.md",
    "People/Good Person.sync-conflict-20260101-101010-ABC.md",
    "People/Good Person (Jane's conflicted copy 2026-01-01).md",
    "People/Good Person.md", "People/Twin.md", "People/Dangling.md",
    "People/.vaultnetz-123.tmp",
}


def test_check_names_every_bad_file(hostile: Path) -> None:
    before = fingerprint(hostile)
    result = run_cli(["--no-cache", "check", "--json"], hostile)
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    errors = {p["path"]: p["line"] for p in problems if p["severity"] == "error"}
    assert errors == EXPECTED_ERRORS
    warnings = {p["path"] for p in problems if p["severity"] == "warning"}
    assert warnings == EXPECTED_WARNINGS
    lines = {p["path"]: p["line"] for p in problems if p["path"] in EXPECTED_VALUE_WARNINGS}
    assert lines == EXPECTED_VALUE_WARNINGS
    assert all(p["hint"] and p["code"] and p["message"] for p in problems)
    text = run_cli(["--no-cache", "check"], hostile)
    assert all(":" in line for line in text.stdout.splitlines())
    assert fingerprint(hostile) == before


@pytest.mark.parametrize(
    "args",
    [["due", "--all", "--json"], ["due"], ["review", "--json"], ["stats"], ["ics"],
     ["show", "Good Person"], ["show", "jürgen", "--json"], ["review"]],
)
def test_every_other_command_works_with_the_good_contacts(hostile: Path, args: list[str]
                                                          ) -> None:
    before = fingerprint(hostile)
    result = run_cli(["--no-cache", *args], hostile)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    if args[:2] == ["due", "--all"]:
        names = {item["name"] for item in json.loads(result.stdout)}
        assert {"Good Person", "Jürgen", "nested", "crlf", "BOM Person"} <= names | {"crlf"}
        assert {"bad-cadence", "bad-birthday", "bad-log-date", "impossible-date"} <= names
        assert not names & {"unterminated", "Secret", "Good Person (Jane's "}
    assert fingerprint(hostile) == before


def test_mentions_reach_nfd_names(hostile: Path) -> None:
    data = json.loads(run_cli(["--no-cache", "show", "jürgen", "--json"], hostile).stdout)
    assert data["last_contact"] == "2026-11-01"
    assert data["path"].endswith(".md")


def test_writes_refuse_broken_notes_and_keep_bytes(hostile: Path) -> None:
    before = fingerprint(hostile)
    for name in ("bad-yaml-quote", "unterminated", "latin1"):
        result = run_cli(["--no-cache", "log", name, "hi"], hostile)
        assert result.exit_code == 1
        assert "Traceback" not in result.output
    assert fingerprint(hostile) == before


def test_cache_gives_the_same_answers(hostile: Path, tmp_path: Path) -> None:
    fresh = run_cli(["--no-cache", "check", "--json"], hostile).stdout
    assert run_cli(["check", "--json"], hostile).stdout == fresh
    assert run_cli(["check", "--json"], hostile).stdout == fresh


KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import vaultnetz.atomic as atomic
    real_replace = os.replace
    def die(src, dst):
        os.kill(os.getpid(), signal.SIGKILL)  # killed between the temp write and the rename
    os.replace = die
    atomic._exchange = die
    snapshot = atomic.read_snapshot(Path(sys.argv[1]))
    atomic.replace_checked(snapshot, b"new content that must not appear")
""")


def test_a_kill_during_a_write_loses_nothing(tmp_path: Path) -> None:
    note = tmp_path / "People" / "Anna.md"
    note.parent.mkdir()
    note.write_bytes(b"---\nname: Anna\n---\nprecious\n")
    result = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(note)], check=False,
                            timeout=60)
    assert result.returncode == -signal.SIGKILL
    assert note.read_bytes() == b"---\nname: Anna\n---\nprecious\n"
    leftovers = [p.name for p in note.parent.iterdir() if p.name != "Anna.md"]
    assert all(name.startswith(".vaultnetz-") for name in leftovers)
    # The stale temp file is never read as a note; `check` reports it.
    listed = run_cli(["--no-cache", "check", "--json"], tmp_path)
    assert listed.exit_code == 0
    [(path, code)] = [(p["path"], p["code"]) for p in json.loads(listed.stdout)]
    assert path.startswith("People/.vaultnetz-") and code == "stale-temp"
    assert json.loads(run_cli(["--no-cache", "due", "--all", "--json"], tmp_path).stdout)[0][
        "name"] == "Anna"
    # The next write in that folder removes it once it is over a minute old.
    old = note.parent / path.split("/")[-1]
    os.utime(old, (1_700_000_000, 1_700_000_000))
    assert run_cli(["--no-cache", "log", "anna", "Tea"], tmp_path).exit_code == 0
    assert [p.name for p in note.parent.iterdir()] == ["Anna.md"]
    assert json.loads(run_cli(["--no-cache", "check", "--json"], tmp_path).stdout) == []


def test_an_unreadable_note_is_an_error_and_the_rest_works(
    make_vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_vault({"People/Locked.md": "x", "People/Open.md": "y"})
    real = builtins.open

    def locked_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file).endswith("Locked.md"):  # as if chmod 000 (the tests may run as root)
            raise PermissionError(13, "Permission denied", str(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", locked_open)
    result = run_cli(["--no-cache", "check", "--json"], root)
    problems = json.loads(result.stdout)
    assert [(p["path"], p["code"]) for p in problems] == [("People/Locked.md", "unreadable")]
    assert "Permission denied" in problems[0]["message"]
    due = json.loads(run_cli(["--no-cache", "due", "--all", "--json"], root).stdout)
    assert [d["name"] for d in due] == ["Open"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_named_like_a_note_is_skipped_not_waited_on(make_vault) -> None:
    root = make_vault({"People/Open.md": "y"})
    os.mkfifo(root / "People" / "Pipe.md")  # opening it to read would wait for a writer
    result = run_cli(["--no-cache", "check", "--json"], root)
    problems = json.loads(result.stdout)
    assert [(p["path"], p["code"], p["severity"]) for p in problems] == [
        ("People/Pipe.md", "not-a-file", "warning")]
    due = json.loads(run_cli(["--no-cache", "due", "--all", "--json"], root).stdout)
    assert [d["name"] for d in due] == ["Open"]
