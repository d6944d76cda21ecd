"""Vaults as people already have them: other tools' keys, Dataview inline fields, other date
forms, body tags, templates folders; and saying plainly what was not understood."""

from __future__ import annotations

import json
from pathlib import Path

import icalendar
import pytest

from conftest import run_cli

TODAY = ["--today", "2026-11-23"]


def contacts(root: Path) -> dict[str, dict[str, object]]:
    result = run_cli([*TODAY, "list", "--json"], root)
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)}


def shown(root: Path, name: str, today: str = TODAY[1]) -> dict[str, object]:
    result = run_cli(["--today", today, "show", name, "--json"], root)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


# Each note is written as another tool or another person writes it; each was last met on
# 2026-05-01 and was born on 1990-03-14.
OTHER_CONVENTIONS = {
    "People/Spaced.md": "---\nLast Contact: 2026-05-01\nBirthday: 03/14/1990\n---\n",
    "People/Camel.md": "---\nlastContact: 2026-05-01\nbday: 14.03.1990\n---\n",
    "People/Dashed.md": "---\nlast-contacted: 2026-05-01\nbirthdate: March 14, 1990\n---\n",
    "People/Snake.md": "---\nlast_met: \"[[2026-05-01]]\"\nborn: 14. März 1990\n---\n",
    "People/DateTime.md": "---\nlast_contact: 2026-05-01T14:30\nbirthday: 1990-03-14\n---\n",
    "People/Spaced Time.md": "---\nlast_contact: 2026-05-01 14:30\nbirthday: 1990-03-14\n---\n",
    "People/Inline.md": "# Inline\nlast_contact:: 2026-05-01\nbirthday:: 1990-03-14\n",
    "People/Bold Inline.md": "# Bold\n**Last contact::** 2026-05-01\n- Birthday:: 1990-03-14\n",
    "People/Bracketed.md": "We met at the fair [last_contact:: 2026-05-01] (bday:: 1990-03-14).\n",
    "Notes/Tagged In Body.md": "Met at the fair. #person\nlast_contact:: 2026-05-01\n"
                               "birthday:: 1990-03-14\n",
    "Notes/Nested Tag.md": "---\nTags: [person/family]\nLast Contact: 2026-05-01\n"
                           "Birthday: 1990-03-14\n---\n",
    "Notes/Family Body Tag.md": "Cousin. #person/family\n\nlast_contact:: 2026-05-01\n"
                                "Birthday:: 1990-03-14\n",
}


@pytest.fixture
def other(make_vault) -> Path:
    return make_vault({".obsidian/app.json": "{}", **OTHER_CONVENTIONS})


def test_every_person_in_other_conventions_is_a_contact_with_the_right_fields(other: Path
                                                                               ) -> None:
    found = contacts(other)
    expected = {Path(p).stem for p in OTHER_CONVENTIONS}
    assert set(found) == expected
    for name in expected:
        data = shown(other, name)
        assert data["last_contact"] == "2026-05-01", name
        assert data["birthday"] == "1990-03-14", name
    check = run_cli([*TODAY, "check", "--json"], other)
    assert check.exit_code == 0 and json.loads(check.stdout) == []


def test_front_matter_wins_over_an_inline_field_and_other_fields_are_read(make_vault) -> None:
    root = make_vault({"People/Ann.md": (
        "---\nlast_contact: 2026-06-01\nCompany: ACME\nE-mail: ann@example.org\n"
        "LinkedIn: https://www.linkedin.com/in/ann\nLocation: Köln\nPosition: CTO\n"
        "Mobile: +49 170 1\n---\nlast_contact:: 2026-01-01\n")})
    ann = shown(root, "Ann")
    assert ann["last_contact"] == "2026-06-01"
    assert (ann["company"], ann["email"], ann["linkedin"], ann["city"], ann["role"],
            ann["phone"]) == ("ACME", ["ann@example.org"], "https://www.linkedin.com/in/ann",
                              "Köln", "CTO", ["+49 170 1"])


def test_fields_may_map_several_keys(make_vault) -> None:
    root = make_vault({
        "vaultnetz.toml": '[fields]\nlast_contact = ["zuletzt gesehen", "Kontakt"]\n',
        "People/A.md": "---\nZuletzt Gesehen: 2026-05-01\n---\n",
        "People/B.md": "---\nkontakt: 2026-05-02\n---\n"})
    assert shown(root, "A")["last_contact"] == "2026-05-01"
    assert shown(root, "B")["last_contact"] == "2026-05-02"


def test_log_moves_the_key_the_note_uses_forward(make_vault) -> None:
    root = make_vault({"People/A.md": "---\nLast Contact: 2026-05-01\n---\n"})
    assert run_cli([*TODAY, "log", "a", "Tea"], root).exit_code == 0
    text = (root / "People" / "A.md").read_text()
    assert text.startswith("---\nLast Contact: 2026-11-23\n---\n")
    assert "last_contact" not in text


def test_unusable_values_are_warnings_with_lines_and_the_contact_stays(make_vault) -> None:
    root = make_vault({"People/Cold.md": (
        "---\nstatus: cold\ncadence: sometimes\nbirthday: 31/02/1990\n---\n## Log\n"
        "- 12/03/2026 Lunch at the canteen\n- 2026-13-01 typo\n- 2026-10-01 Coffee\n")})
    result = run_cli([*TODAY, "check", "--json"], root)
    assert result.exit_code == 0
    problems = {(p["line"], p["code"]): p for p in json.loads(result.stdout)}
    assert set(problems) == {(2, "bad-status"), (3, "bad-cadence"), (4, "bad-birthday"),
                             (7, "log-date-form"), (8, "log-bad-date")}
    assert "not a real date" in problems[(4, "bad-birthday")]["message"]
    assert "YYYY-MM-DD" in problems[(7, "log-date-form")]["hint"]
    cold = shown(root, "Cold")
    assert (cold["status"], cold["last_contact"]) == ("active", "2026-10-01")


def test_date_order_settles_ambiguous_dates(make_vault) -> None:
    root = make_vault({"vaultnetz.toml": 'date_order = "DMY"\n',
                       "People/A.md": "---\nbirthday: 03/04/1990\n---\n"})
    assert shown(root, "A")["birthday"] == "1990-04-03"
    root2 = make_vault({"vaultnetz.toml": 'language = "de"\n',
                        "People/A.md": "---\nbirthday: 03/04/1990\n---\n"}, name="de")
    assert shown(root2, "A")["birthday"] == "1990-04-03"  # German: day first


def test_templates_folders_and_exclude_are_not_notes(make_vault) -> None:
    template = "---\ntags: [person]\nlast_contact: {{date}}\ncadence: {{cadence}}\n---\n"
    root = make_vault({
        ".obsidian/templates.json": '{"folder": "Templates"}',
        ".obsidian/plugins/templater-obsidian/data.json": '{"templates_folder": "_tpl/"}',
        "vaultnetz.toml": 'exclude = ["Archive/**", "**/*.excalidraw.md"]\n',
        **{f"Templates/T{i}.md": template for i in range(28)},
        "_tpl/Person.md": template, "Archive/People/Old.md": template,
        "People/Drawing.excalidraw.md": template, "Drawing.excalidraw.md": template,
        "People/Real.md": "---\nlast_contact: 2026-05-01\n---\n",
    })
    result = run_cli([*TODAY, "check"], root)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "skipped 28 notes: the templates folder Templates/ (.obsidian/templates.json)" \
        in result.stderr
    assert "skipped 1 note: the templates folder _tpl/" in result.stderr
    assert "skipped 1 note: exclude 'Archive/**'" in result.stderr
    assert "skipped 2 notes: exclude '**/*.excalidraw.md'" in result.stderr
    due = run_cli([*TODAY, "due", "--all"], root)
    assert "warning" not in due.stderr
    assert set(contacts(root)) == {"Real"}


@pytest.mark.parametrize("command", [["due"], ["ics"], ["stats"], ["list"]])
def test_a_config_typo_is_shown_by_every_command(make_vault, command: list[str]) -> None:
    root = make_vault({"vaultnetz.toml": "max_per_dya = 2\n", "People/A.md": "x"})
    result = run_cli([*TODAY, *command], root)
    assert result.exit_code == 0
    assert ("vaultnetz.toml:1: warning: unknown key 'max_per_dya' is ignored (did you mean "
            "'max_per_day'?)") in result.stderr


def test_contradictory_flags_are_a_usage_error(make_vault) -> None:
    root = make_vault({"People/A.md": "x"})
    result = run_cli([*TODAY, "log", "a", "hi", "--attempt", "--declined"], root)
    assert result.exit_code == 2 and "contradict" in result.stderr
    assert (root / "People" / "A.md").read_text() == "x"


@pytest.mark.parametrize("command", [["due"], ["add", "Lea"], ["ics", "-o", "feed.ics"],
                                     ["check"], ["list"], ["import", "vcard", "x.vcf"]])
def test_outside_a_vault_every_command_says_where_it_looked(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           command: list[str]) -> None:
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    (empty / "x.vcf").write_text("BEGIN:VCARD\nFN:A\nEND:VCARD\n")
    monkeypatch.chdir(empty)
    result = run_cli([*TODAY, *command], None)
    assert result.exit_code == 1, result.output
    assert "no vault here: looked for vaultnetz.toml or .obsidian/" in result.stderr
    assert "vaultnetz init" in result.stderr and "--vault" in result.stderr
    assert sorted(p.name for p in empty.iterdir()) == ["x.vcf"]  # nothing written


# A daily note that links people in every way people write them.
MENTIONS = {
    "People/Tom Becker.md": "x", "People/Ann.md": "x", "People/Bo.md": "x",
    "Daily/2026-11-27.md": ("- 2026-11-27: Ran into [[Tom Becker]] at the station. He "
                            "moves to Leipzig.\n"),
    "Daily/2026-11-20.md": ("# Friday\n* [ ] Call [[People/Ann|Annie]] about the book\n"
                            "> Lunch with [[Bo#Work]], long overdue.\n"),
    "Meetings/Kickoff.md": "---\ndate: 2026-11-21\nattendees: [\"[[Ann]]\"]\n---\nAgenda.\n",
    "Daily/2026-11-22.md": ("- First coffee with [[Bo]].\n- Then lunch with [[Bo]] again.\n"),
}


def test_mentions_read_as_plain_text_everywhere(make_vault, tmp_path: Path) -> None:
    root = make_vault(MENTIONS)
    day = "2026-11-30"
    tom = shown(root, "Tom Becker", day)
    assert tom["last_contact_text"] == "Ran into Tom Becker at the station."
    ann = shown(root, "Ann", day)
    assert ann["last_contact"] == "2026-11-21"
    assert ann["last_contact_text"] == "Kickoff"  # a front-matter link: the note's title
    texts = {i["text"] for i in ann["interactions"]}  # type: ignore[union-attr]
    assert "Call Annie about the book" in texts
    bo = shown(root, "Bo", day)
    assert bo["last_contact_text"] == "First coffee with Bo."  # one mention per note
    at = ["--today", day]
    outputs = [run_cli([*at, "show", name], root).stdout for name in ("Tom", "Ann", "Bo")]
    outputs += [run_cli([*at, "due", "--all", "--json"], root).stdout]
    feed = run_cli([*at, "ics"], root).stdout_bytes
    for event in icalendar.Calendar.from_ical(feed).walk("VEVENT"):
        outputs.append(str(event["DESCRIPTION"]))
    for text in outputs:
        assert "[[" not in text and "attendees" not in text
        assert "2026-11-27 2026-11-27" not in text and ": - " not in text and "* [ ]" not in text


def test_on_a_day_with_several_entries_the_last_is_the_last_contact(make_vault) -> None:
    root = make_vault({"People/Ann.md": "## Log\n- 2026-11-20 Breakfast\n- 2026-11-20 Lunch\n"
                                        "- 2026-11-20 Dinner\n"})
    assert shown(root, "Ann")["last_contact_text"] == "Dinner"


def test_list_shows_every_contact_with_filters(sample_copy: Path) -> None:
    everyone = contacts(sample_copy)
    assert {"Clara Neumann", "Felix Braun", "Tobias Schröder"} <= set(everyone)
    assert everyone["Clara Neumann"]["no_check_in_because"] == "paused"
    assert everyone["Tobias Schröder"]["no_check_in_because"] == "one-sided"
    assert everyone["Felix Braun"]["status"] == "archived"
    paused = json.loads(run_cli([*TODAY, "list", "--status", "paused", "--json"],
                                sample_copy).stdout)
    assert [p["name"] for p in paused] == ["Clara Neumann"]
    text = run_cli([*TODAY, "list"], sample_copy).stdout
    assert text.splitlines()[0].split() == ["name", "status", "last", "contact", "next",
                                            "check-in"]
    missing = run_cli([*TODAY, "show", "nobody-at-all"], sample_copy)
    assert "vaultnetz list" in missing.stderr


def test_the_init_example_is_neither_scheduled_nor_exported(tmp_path: Path) -> None:
    root = tmp_path / "new"
    assert run_cli(["init", str(root)], None).exit_code == 0
    assert json.loads(run_cli([*TODAY, "due", "--all", "--json"], root).stdout) == []
    assert "Example" not in run_cli([*TODAY, "export", "vcard"], root).stdout
    assert json.loads(run_cli([*TODAY, "near", "Berlin", "--json"], root).stdout) == []
    assert b"Example" not in run_cli([*TODAY, "ics"], root).stdout_bytes
    assert "Example Contact" in contacts(root)  # listed, as an example


def test_near_json_has_the_trip(sample_copy: Path) -> None:
    rows = json.loads(run_cli([*TODAY, "near", "München", "--json"], sample_copy).stdout)
    assert rows and all("trip" in row for row in rows)


def test_log_entries_with_links_read_as_plain_text(make_vault) -> None:
    root = make_vault({"People/Ann.md": "## Log\n- 2026-11-20 Lunch with [[Bo|Bobby]] and "
                                        "[[People/Cy]]\n", "People/Bo.md": "x",
                       "People/Cy.md": "x"})
    ann = shown(root, "Ann")
    assert ann["last_contact_text"] == "Lunch with Bobby and Cy"
    assert "[[" not in run_cli([*TODAY, "show", "ann"], root).stdout
