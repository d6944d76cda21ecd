"""The write commands end to end: minimal diffs, refusals, concurrency and real git."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

import vaultnetz.actions
from conftest import TODAY, contact_note, run_cli

ANNA = (b"---\r\nname: Anna Berger\r\nlast_contact: 2026-01-01  # keep me\r\nstatus: active\r\n"
        b"---\r\n# Anna\r\n\r\n## Log\r\n- 2026-01-01 Coffee\r\n\r\n## Ideas\r\n- later\r\n")


@pytest.fixture
def vault(make_vault) -> Path:
    root = make_vault({"People/Anna Berger.md": ANNA,
                       "People/Bo.md": contact_note("city: Köln") + "Notes.\n"})
    (root / "People" / "Anna Berger.md").chmod(0o640)
    return root


def note(root: Path, name: str = "Anna Berger") -> bytes:
    return (root / "People" / f"{name}.md").read_bytes()


def show(root: Path, name: str) -> dict[str, object]:
    result = run_cli(["show", name, "--json"], root)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_log_appends_and_moves_last_contact(vault: Path) -> None:
    result = run_cli(["log", "anna", "Lunch at the canteen"], vault)
    assert result.exit_code == 0, result.output
    assert note(vault) == ANNA.replace(b"2026-01-01  # keep", b"2026-11-23  # keep").replace(
        b"- 2026-01-01 Coffee\r\n", b"- 2026-01-01 Coffee\r\n- 2026-11-23 Lunch at the canteen\r\n")
    assert stat.S_IMODE((vault / "People" / "Anna Berger.md").stat().st_mode) == 0o640
    assert sorted(p.name for p in (vault / "People").iterdir()) == ["Anna Berger.md", "Bo.md"]
    state = show(vault, "anna")
    assert state["last_contact"] == "2026-11-23"
    assert state["last_contact_text"] == "Lunch at the canteen"


def test_log_without_the_field_adds_only_the_entry(vault: Path) -> None:
    before = note(vault, "Bo")
    assert run_cli(["log", "bo", "Call"], vault).exit_code == 0
    assert note(vault, "Bo") == before + b"\n## Log\n- 2026-11-23 Call\n"
    assert show(vault, "bo")["last_contact"] == "2026-11-23"


def test_last_contact_only_moves_forward_and_plans_do_not_move_it(vault: Path) -> None:
    assert run_cli(["log", "anna", "Old memory", "--date", "2025-05-05"], vault).exit_code == 0
    assert b"last_contact: 2026-01-01  # keep me" in note(vault)
    assert run_cli(["log", "anna", "Dinner", "--date", "2026-12-12"], vault).exit_code == 0
    assert b"last_contact: 2026-01-01  # keep me" in note(vault)
    state = show(vault, "anna")
    assert state["planned"] == "2026-12-12"
    assert state["check_in"]["reason"] == "planned"  # type: ignore[index]


def test_attempts_and_declines(vault: Path) -> None:
    for day in ("2026-09-01", "2026-10-01"):
        assert run_cli(["log", "bo", "Mail", "--attempt", "--date", day], vault).exit_code == 0
    state = show(vault, "bo")
    assert state["open_attempts"] == 2
    assert state["check_in"]["reason"] == "attempt"  # type: ignore[index]
    assert run_cli(["log", "bo", "--declined"], vault).exit_code == 0
    assert note(vault, "Bo").endswith(b"- 2026-10-01 Mail #attempt\n- 2026-11-23 #declined\n")
    state = show(vault, "bo")
    assert (state["open_attempts"], state["last_declined"]) == (0, "2026-11-23")
    assert state["check_in"]["original_due"] == "2027-02-23"  # type: ignore[index]
    usage = run_cli(["log", "bo", "--attempt", "--date", "someday"], vault)
    assert usage.exit_code == 1
    assert "invalid date 'someday'" in usage.stderr


def test_snooze_with_date_and_duration(vault: Path) -> None:
    assert run_cli(["snooze", "anna", "2w"], vault).exit_code == 0
    assert note(vault).count(b"\r\n") == ANNA.count(b"\r\n") + 1
    assert b"status: active\r\nsnooze_until: 2026-12-07\r\n---" in note(vault)
    assert run_cli(["snooze", "anna", "2027-01-15"], vault).exit_code == 0
    assert b"snooze_until: 2027-01-15\r\n" in note(vault)
    assert b"2026-12-07" not in note(vault)
    assert show(vault, "anna")["check_in"]["due"] == "2027-01-15"  # type: ignore[index]
    bad = run_cli(["snooze", "anna", "later"], vault)
    assert bad.exit_code == 1
    assert "neither a date" in bad.stderr


def test_pause_archive_resume(vault: Path) -> None:
    assert run_cli(["pause", "anna"], vault).exit_code == 0
    assert note(vault) == ANNA.replace(b"status: active", b"status: paused")
    assert show(vault, "anna")["check_in"] is None
    assert run_cli(["archive", "anna"], vault).exit_code == 0
    assert show(vault, "anna")["status"] == "archived"
    assert run_cli(["resume", "anna"], vault).exit_code == 0
    assert note(vault) == ANNA
    again = run_cli(["resume", "anna"], vault)
    assert "already active" in again.stdout
    assert run_cli(["pause", "bo"], vault).exit_code == 0
    assert note(vault, "Bo").startswith(b"---\ncity: K\xc3\xb6ln\nstatus: paused\n---\n")


def test_add_creates_a_valid_contact_and_never_overwrites(vault: Path) -> None:
    result = run_cli(["add", "Dr. Lea: Wagner", "--city", "Berlin", "--met-via",
                      "Seminar: Medienrecht", "--cadence", "6w", "--tag", "studium",
                      "--email", "lea@example.org", "--company", "Tagesspiegel", "--role",
                      "Redakteurin"], vault)
    assert result.exit_code == 0, result.output
    path = vault / "People" / "Dr. Lea- Wagner.md"
    assert path.is_file()
    state = show(vault, "Dr. Lea: Wagner")
    assert state["city"] == "Berlin"
    assert state["met_via"] == "Seminar: Medienrecht"
    assert state["cadence"] == "6w"
    assert state["tags"] == ["person", "studium"]
    assert state["email"] == ["lea@example.org"]
    assert state["check_in"]["reason"] == "never"  # type: ignore[index]
    assert run_cli(["check"], vault).exit_code == 0
    before = path.read_bytes()
    twice = run_cli(["add", "Dr. Lea: Wagner"], vault)
    assert twice.exit_code == 1
    assert "exists" in twice.stderr
    assert path.read_bytes() == before
    bad = run_cli(["add", "X", "--cadence", "sometimes"], vault)
    assert bad.exit_code == 1
    assert not (vault / "People" / "X.md").exists()


def test_add_makes_windows_safe_file_names(vault: Path) -> None:
    assert run_cli(["add", "CON"], vault).exit_code == 0
    assert (vault / "People" / "CON_.md").is_file()
    assert show(vault, "CON")["path"] == "People/CON_.md"


def test_a_note_that_does_not_parse_is_never_written(make_vault) -> None:
    root = make_vault({"People/Zoe.md": "---\nname: [Zoe\n---\n## Log\n"})
    before = (root / "People" / "Zoe.md").read_bytes()
    result = run_cli(["log", "zoe", "hi"], root)
    assert result.exit_code == 1
    assert "has errors" in result.stderr
    assert (root / "People" / "Zoe.md").read_bytes() == before


def test_concurrent_edit_is_refused(vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = vaultnetz.actions.append_log

    def racing(data: bytes, entry: str, **kw: str) -> bytes:
        (vault / "People" / "Anna Berger.md").write_bytes(ANNA + b"typed in Obsidian\r\n")
        return real(data, entry, **kw)

    monkeypatch.setattr(vaultnetz.actions, "append_log", racing)
    result = run_cli(["log", "anna", "Lunch"], vault)
    assert result.exit_code == 1
    assert "changed while vaultnetz was writing it; nothing was written" in result.stderr
    assert note(vault) == ANNA + b"typed in Obsidian\r\n"
    assert sorted(p.name for p in (vault / "People").iterdir()) == ["Anna Berger.md", "Bo.md"]


def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=True, env=env).stdout


@pytest.fixture
def repo(vault: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.org",
                        "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.org",
                        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}.items():
        monkeypatch.setenv(name, value)
    git(vault, "init", "-q")
    git(vault, "add", "-A")
    git(vault, "commit", "-qm", "init")
    return vault


def test_commit_makes_one_commit_with_exactly_the_written_file(repo: Path) -> None:
    (repo / "People" / "Bo.md").write_text("changed by the user\n")
    git(repo, "add", "People/Bo.md")  # staged by the user: must stay out of our commit
    result = run_cli(["log", "anna", "Lunch", "--commit"], repo)
    assert result.exit_code == 0, result.output
    assert git(repo, "log", "--format=%s").splitlines() == [
        "vaultnetz: log contact with Anna Berger", "init"]
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [
        "People/Anna", "Berger.md"]
    assert git(repo, "diff", "--cached", "--name-only").strip() == "People/Bo.md"
    history = run_cli(["history", "anna"], repo)
    assert history.exit_code == 0
    lines = history.stdout.splitlines()
    assert lines[0].endswith("vaultnetz: log contact with Anna Berger")
    assert lines[1] == "    + - 2026-11-23 Lunch"
    assert lines[2].endswith("init")


def test_git_commit_from_config_and_add(repo: Path) -> None:
    (repo / "vaultnetz.toml").write_text("git_commit = true\n")
    assert run_cli(["add", "Cem"], repo).exit_code == 0
    assert run_cli(["snooze", "cem", "3m"], repo).exit_code == 0
    assert git(repo, "log", "--format=%s").splitlines()[:2] == [
        "vaultnetz: snooze until 2027-02-23 Cem", "vaultnetz: add Cem"]
    assert git(repo, "status", "--porcelain").strip() == "?? vaultnetz.toml"
    assert run_cli(["pause", "cem", "--no-commit"], repo).exit_code == 0
    assert "People/Cem.md" in git(repo, "status", "--porcelain")


def test_commit_without_a_repository_writes_nothing(vault: Path, monkeypatch: pytest.MonkeyPatch
                                                    ) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(vault.parent))
    result = run_cli(["log", "anna", "Lunch", "--commit"], vault)
    assert result.exit_code == 1
    assert "is not in a git repository; nothing was written" in result.stderr
    assert note(vault) == ANNA
    assert run_cli(["add", "Neu", "--commit"], vault).exit_code == 1
    assert not (vault / "People" / "Neu.md").exists()
    history = run_cli(["history", "anna"], vault)
    assert history.exit_code == 1
    assert "Traceback" not in history.output


def test_today_is_the_default_date(vault: Path) -> None:
    assert run_cli(["log", "bo", "x"], vault, today=TODAY.replace(day=1)).exit_code == 0
    assert b"- 2026-11-01 x" in note(vault, "Bo")
