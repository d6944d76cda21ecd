"""Every command through click's CliRunner, with its error paths and exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO, SAMPLE, TODAY, contact_note, run_cli
from vaultnetz.cli import main
from vaultnetz.config import KEYS

COMMANDS = sorted(main.commands)


def test_due_on_the_sample_vault() -> None:
    result = run_cli(["due"], SAMPLE)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert lines == [
        "2026-11-23  Anna Berger (high, 52 days overdue)",
        "2026-11-23  Julia Fischer (high, 3 days overdue)",
        "2026-11-23  Prof. Hans Richter (156 days overdue)",
    ]


def test_due_json_fields() -> None:
    result = run_cli(["due", "--all", "--json"], SAMPLE)
    data = json.loads(result.stdout)
    assert len(data) == 15
    required = {"name", "path", "due", "original_due", "overdue_days", "last_contact",
                "cadence_days", "reason", "priority"}
    assert all(required <= item.keys() for item in data)
    anna = data[0]
    assert anna == {**anna, "name": "Anna Berger", "path": "People/Anna Berger.md",
                    "due": "2026-11-23", "original_due": "2026-10-02", "overdue_days": 52,
                    "last_contact": "2026-07-02", "cadence_days": 91, "reason": "cadence",
                    "priority": "high"}
    reasons = {item["name"]: item["reason"] for item in data}
    assert reasons["Jonas Weber"] == "attempt"
    assert reasons["Sophie Martin"] == "declined"
    assert reasons["Katrin Schulz"] == "snooze"
    assert reasons["Martin Krüger"] == "planned"
    assert reasons["Lea Wagner"] == "never"
    assert "Tobias Schröder" not in reasons and "Clara Neumann" not in reasons
    lea = next(i for i in data if i["name"] == "Lea Wagner")
    assert lea["last_contact"] is None


def test_due_within_tag_limit() -> None:
    within = json.loads(run_cli(["due", "--within", "2", "--json"], SAMPLE).stdout)
    assert len(within) == 8
    assert all(item["due"] <= "2026-11-25" for item in within)
    tagged = json.loads(run_cli(["due", "--all", "--tag", "#volontariat", "--json"],
                                SAMPLE).stdout)
    assert [i["name"] for i in tagged] == ["Anna Berger", "Julia Fischer", "Katrin Schulz",
                                           "Martin Krüger"]
    limited = json.loads(run_cli(["due", "--all", "--limit", "2", "--json"], SAMPLE).stdout)
    assert len(limited) == 2


def test_due_with_nothing_due_says_what_comes_next(make_vault) -> None:
    root = make_vault({"People/A.md": contact_note("last_contact: 2026-11-01")})
    result = run_cli(["due"], root)
    assert result.stdout.strip() == "Nothing due. Next: A on 2027-02-01."


def test_today_from_env_and_default_vault_from_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULTNETZ_TODAY", "2026-11-24")
    monkeypatch.chdir(SAMPLE / "People" / "Studium")  # the vault is found upwards
    result = CliRunner().invoke(main, ["due", "--json"])
    assert result.exit_code == 0, result.output
    assert {i["due"] for i in json.loads(result.stdout)} == {"2026-11-24"}


def test_show_text_and_json() -> None:
    result = run_cli(["show", "jonas"], SAMPLE)
    assert result.exit_code == 0
    assert "Jonas Weber  (People/Jonas Weber.md)" in result.stdout
    assert "open attempts:  2 of 3" in result.stdout
    assert "No answer yet to your attempt on 2026-10-05" in result.stdout
    data = json.loads(run_cli(["show", "Miriam", "--json"], SAMPLE).stdout)
    assert data["name"] == "Dr. Miriam Kühn"  # found by alias
    assert data["cadence"] == "jährlich" and data["cadence_days"] == 365
    assert data["check_in"]["original_due"] == "2026-10-10"
    assert data["interactions"][0]["date"] == "2025-10-10"
    one_sided = json.loads(run_cli(["show", "Tobias", "--json"], SAMPLE).stdout)
    assert one_sided["one_sided"] is True and one_sided["check_in"] is None
    text = run_cli(["show", "Tobias"], SAMPLE).stdout
    assert "No check-ins: 3 unanswered attempts" in text
    assert "paused" in run_cli(["show", "Clara"], SAMPLE).stdout
    elif_ = json.loads(run_cli(["show", "elif", "--json"], SAMPLE).stdout)
    assert elif_["next_birthday"] == "2027-02-28"
    assert elif_["last_contact"] == "2026-11-03"
    assert elif_["last_contact_text"] == "Read Elif's new paper."  # plain, no date


def test_unknown_and_ambiguous_names_exit_1_with_paths(make_vault) -> None:
    root = make_vault({"People/Anna A.md": "x", "People/Anna B.md": "x"})
    unknown = run_cli(["show", "zed"], root)
    assert unknown.exit_code == 1
    assert unknown.stderr.startswith("Error: no contact matches 'zed'")
    ambiguous = run_cli(["show", "anna"], root)
    assert ambiguous.exit_code == 1
    assert "People/Anna A.md" in ambiguous.stderr and "People/Anna B.md" in ambiguous.stderr
    assert "Traceback" not in ambiguous.output


def test_check_clean_and_with_problems(make_vault) -> None:
    clean = run_cli(["check"], SAMPLE)
    assert clean.exit_code == 0
    assert clean.stdout == ""
    root = make_vault({
        "vaultnetz.toml": "max_per_dya = 2\n",
        "People/Good.md": "x",
        "People/Bad.md": "---\nname: Bad\ncadence: sometimes\n---\n",
        "People/Broken.md": "---\nname: [\n---\n",
        "People/Empty.md": "",
    })
    result = run_cli(["check"], root)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("People/Bad.md:3: warning: cadence: 'sometimes' is not understood")
    assert lines[1].startswith("People/Broken.md:3: error: front-matter is not valid YAML")
    assert lines[2].startswith("People/Empty.md: warning: empty note")
    assert lines[3].startswith("vaultnetz.toml:1: warning: unknown key 'max_per_dya'")
    data = json.loads(run_cli(["check", "--json"], root).stdout)
    assert {tuple(sorted(p)) for p in data} == {
        ("code", "hint", "line", "message", "path", "severity")}
    assert [p["path"] for p in data if p["severity"] == "error"] == ["People/Broken.md"]
    # The rest of the vault still works (Bad without its cadence), and says that a note
    # was skipped.
    due = run_cli(["due", "--all", "--json"], root)
    assert due.exit_code == 0
    assert [i["name"] for i in json.loads(due.stdout)] == ["Bad", "Good"]
    assert "1 problem in the vault" in due.stderr


def test_invalid_config_is_exit_1_for_commands(make_vault) -> None:
    root = make_vault({"vaultnetz.toml": 'max_per_day = "many"\n', "People/A.md": "x"})
    result = run_cli(["due"], root)
    assert result.exit_code == 1
    assert "Error: invalid configuration" in result.stderr
    assert "vaultnetz.toml:1: error: max_per_day = 'many' is not valid" in result.stderr
    assert run_cli(["check"], root).exit_code == 1


def test_invalid_today_is_exit_1_and_usage_errors_exit_2() -> None:
    bad_day = run_cli(["due"], SAMPLE, today=None)
    assert bad_day.exit_code == 0
    result = CliRunner().invoke(main, ["--today", "2026-02-30", "due"])
    assert result.exit_code == 1
    assert "Error: invalid date '2026-02-30' for --today" in result.stderr
    assert CliRunner().invoke(main, ["due", "--within", "soon"]).exit_code == 2
    assert CliRunner().invoke(main, ["nonsense"]).exit_code == 2
    assert CliRunner().invoke(main, ["show"]).exit_code == 2


def test_missing_vault_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli(["due"], tmp_path / "nope")
    assert result.exit_code == 1
    assert "is not a folder" in result.stderr


def test_review_text_and_json() -> None:
    data = json.loads(run_cli(["review", "--json"], SAMPLE).stdout)
    assert [(i["name"], i["category"]) for i in data] == [
        ("Tobias Schröder", "one-sided"), ("Clara Neumann", "paused")]
    assert data[0]["open_attempts"] == 3
    text = run_cli(["review"], SAMPLE, today=TODAY.replace(year=2028)).stdout
    assert "Long silent" in text and "Prof. Hans Richter" in text
    assert 'vaultnetz archive "Tobias Schröder"' in text


def test_stats() -> None:
    data = json.loads(run_cli(["stats", "--json"], SAMPLE).stdout)
    assert data["contacts"] == 18
    assert data["by_status"] == {"active": 16, "paused": 1, "archived": 1}
    assert (data["due_today"], data["due_this_week"], data["one_sided"]) == (3, 15 - 7, 1)
    assert data["errors"] == 0
    assert "contacts:        18" in run_cli(["stats"], SAMPLE).stdout


def test_ics_to_stdout_and_file(tmp_path: Path) -> None:
    out = run_cli(["ics"], SAMPLE)
    assert out.exit_code == 0
    assert out.stdout_bytes.startswith(b"BEGIN:VCALENDAR\r\n")
    target = tmp_path / "feed.ics"
    first = run_cli(["ics", "-o", str(target), "--horizon", "30", "--tag", "science"], SAMPLE)
    assert first.exit_code == 0
    assert "wrote" in first.stderr
    assert target.read_bytes().count(b"BEGIN:VEVENT") == 3  # 2 check-ins, 1 birthday
    again = run_cli(["ics", "-o", str(target), "--horizon", "30", "--tag", "science"], SAMPLE)
    assert "unchanged" in again.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["feed.ics"]  # no temp file left


def test_init_creates_and_never_overwrites(tmp_path: Path) -> None:
    root = tmp_path / "new"
    result = run_cli(["init", str(root)])
    assert result.exit_code == 0
    config = root / "vaultnetz.toml"
    example = root / "People" / "Example Contact.md"
    assert config.is_file() and example.is_file()
    assert "2026-11-23 Created this note" in example.read_text()
    config.write_text("max_per_day = 5\n")
    again = run_cli(["init", str(root)])
    assert "kept" in again.stdout
    assert config.read_text() == "max_per_day = 5\n"
    assert run_cli(["check"], root).exit_code == 0
    assert json.loads(run_cli(["due", "--json"], root).stdout) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout
    assert f"vaultnetz {command}" in result.stdout or "vaultnetz --vault" in result.stdout


def test_every_command_and_config_key_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert re.search(rf"`vaultnetz[^`]* {command}\b", readme), command
    for key in KEYS:
        assert f"| `{key.name}` |" in readme, key.name


def test_python_dash_m_and_version() -> None:
    result = subprocess.run([sys.executable, "-m", "vaultnetz", "--version"],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0
    assert result.stdout.startswith("vaultnetz, version ")


def test_the_console_command_exits_quickly_with_all_its_output(tmp_path: Path) -> None:
    """`vaultnetz` ends a one-shot command with os._exit once the output is flushed: every
    line and the exit code must still arrive, also when the reader goes away early."""
    env = {"PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "HOME": str(tmp_path)}
    command = [sys.executable, "-m", "vaultnetz", "--vault", str(SAMPLE),
               "--today", TODAY.isoformat()]
    in_process = run_cli(["due", "--all"], SAMPLE).stdout
    done = subprocess.run([*command, "due", "--all"], capture_output=True, text=True,
                          env=env, check=False, timeout=60)
    assert done.returncode == 0
    assert done.stdout == in_process and len(done.stdout.splitlines()) > 10
    missing = subprocess.run([*command, "show", "Nobody At All"], capture_output=True,
                             text=True, env=env, check=False, timeout=60)
    assert missing.returncode != 0 and "Nobody At All" in missing.stderr
    assert missing.stdout == ""
    closed = subprocess.Popen([*command, "due", "--all"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env)
    assert closed.stdout is not None and closed.stderr is not None
    closed.stdout.readline()
    closed.stdout.close()  # like `vaultnetz due | head -1`
    assert "Traceback" not in closed.stderr.read().decode()
    closed.wait(timeout=60)


class FakeTerminal:
    def __init__(self, tty: bool = True) -> None:
        self.tty = tty
        self.text = ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_read_progress_shows_only_on_a_terminal_after_a_second() -> None:
    from vaultnetz.cli import ReadProgress

    now = [0.0]
    terminal = FakeTerminal()
    progress = ReadProgress(terminal, clock=lambda: now[0])
    progress(250, 1000)
    assert terminal.text == ""  # fast: nothing shown
    now[0] = 1.5
    progress(500, 1000)
    assert terminal.text == "\rreading notes: 500 of 1,000"
    progress(1000, 1000)
    assert terminal.text.endswith("\r" + " " * len("reading notes: 1,000 of 1,000") + "\r")
    piped = FakeTerminal(tty=False)
    late = ReadProgress(piped, clock=lambda: now[0])
    now[0] = 9.0
    late(10, 20)
    assert piped.text == ""


def test_the_index_reports_progress_while_reading(make_vault) -> None:
    from vaultnetz.load import load_vault

    root = make_vault({f"People/P{i:03d}.md": f"person {i}" for i in range(600)})
    calls: list[tuple[int, int]] = []
    vault = load_vault(root, progress=lambda done, total: calls.append((done, total)))
    assert len(vault.contacts) == 600
    assert calls == [(250, 600), (500, 600), (600, 600)]


def test_a_command_leaves_the_garbage_collector_as_it_found_it() -> None:
    import gc

    assert gc.isenabled()
    result = run_cli(["--no-cache", "due", "--all"], SAMPLE, today=TODAY)
    assert result.exit_code == 0
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--today", "9999-12-31", "due"], 1, "out of range"),
        (["--today", "0001-01-01", "due"], 1, "out of range"),
        (["ics", "--horizon", "3000000"], 2, "--horizon"),
        (["due", "--within", "10000000"], 2, "--within"),
        (["due", "--plan", "100000"], 2, "--plan"),
        (["log", "anna", "typo", "--date", "9999-12-31"], 1, "out of range"),
        (["log", "anna", "typo", "--date", "2040-01-01"], 1, "more than 5 years ahead"),
        (["snooze", "anna", "9999-12-31"], 1, "neither a date"),
        (["snooze", "anna", "99999y"], 1, "neither a date"),
        (["near", "Köln", "--from", "9999-01-01"], 1, "out of range"),
    ],
)
def test_out_of_range_options_are_clear_errors(make_vault, args: list[str], code: int,
                                               says: str) -> None:
    root = make_vault({"People/Anna.md": "---\ncity: Köln\n---\n"})
    before = (root / "People" / "Anna.md").read_bytes()
    result = run_cli(args, root)
    assert result.exit_code == code, result.output
    assert says in result.stderr
    assert "bug" not in result.output and "Traceback" not in result.output
    assert (root / "People" / "Anna.md").read_bytes() == before


@pytest.mark.parametrize(
    "line",
    ['horizon_days = 99999999', 'trip_lead_days = 99999999', 'default_cadence = "99999y"',
     'attempt_backoff = "P9999Y"', '[cadence_by_tag]\nfar = 99999999'],
)
def test_out_of_range_config_values_are_config_errors(make_vault, line: str) -> None:
    root = make_vault({"vaultnetz.toml": line + "\n", "People/Anna.md": "x"})
    for command in (["due"], ["ics"], ["stats"]):
        result = run_cli(command, root)
        assert result.exit_code == 1
        assert "invalid configuration" in result.stderr and "bug" not in result.stderr


def test_a_year_9999_in_one_note_leaves_the_rest_working(make_vault) -> None:
    root = make_vault({
        "People/Jonas.md": "---\nlast_contact: 9999-12-31\n---\n## Log\n- 9999-12-31 typo\n",
        "People/Anna.md": "---\nlast_contact: 2026-10-01\n---\n",
        "Daily/9999-01-01.md": "Met [[Anna]].",
    })
    check = run_cli(["check", "--json"], root)
    assert check.exit_code == 0  # warnings only
    found = {(p["path"], p["line"], p["code"]) for p in json.loads(check.stdout)}
    assert found == {("People/Jonas.md", 2, "bad-last_contact"),
                     ("People/Jonas.md", 5, "log-bad-date")}
    for command in (["due", "--all"], ["ics"], ["stats"], ["review"], ["show", "jonas"]):
        result = run_cli(command, root)
        assert result.exit_code == 0, (command, result.output)
    due = json.loads(run_cli(["due", "--all", "--json"], root).stdout)
    assert {d["name"]: d["last_contact"] for d in due} == {"Anna": "2026-10-01", "Jonas": None}


@pytest.mark.parametrize("folders", ['["../.."]', '["People/../.."]', '["~/x"]',
                                     '["C:/Users"]'])
def test_people_folders_stay_inside_the_vault(make_vault, folders: str) -> None:
    root = make_vault({"vaultnetz.toml": f"people_folders = {folders}\n", "People/A.md": "x"})
    result = run_cli(["add", "Lea"], root)
    assert result.exit_code == 1 and "not a folder inside the vault" in result.stderr
    assert not list(root.parent.glob("Lea.md")) and not list(root.rglob("Lea.md"))


def test_add_and_import_without_people_folders_say_what_to_do(make_vault, tmp_path) -> None:
    root = make_vault({"vaultnetz.toml": "people_folders = []\n",
                       "Notes/A.md": "---\ntags: [person]\n---\n"})
    result = run_cli(["add", "Lea"], root)
    assert result.exit_code == 1 and "people_folders is empty" in result.stderr
    assert "bug" not in result.stderr
    assert run_cli(["due", "--all"], root).exit_code == 0
