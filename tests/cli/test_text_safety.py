"""Control characters and templates: nothing raw reaches a note, a terminal or the feed."""

from __future__ import annotations

import json

import icalendar
import pytest

from conftest import run_cli

ESC_NOTE = ("---\ncity: \"K\\u00f6ln\\e[31m\"\nmet_via: \"Bell\\a here\"\n---\n## Log\n"
            "- 2026-09-01 Coffee \x1b[2J\x07 talk\n")


@pytest.fixture
def vault(make_vault):
    return make_vault({"People/Anna.md": ESC_NOTE, "People/Bo.md": "x"})


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["log", "anna", "Hello \x1b[31mred\x07"], "the log text contains a control character"),
        (["add", "Bell\x07Esc"], "the name contains a control character"),
        (["add", "Lea", "--city", "Köln\x1b"], "--city contains a control character"),
        (["add", "Lea", "--tag", "ok", "--tag", "b\x00d"], "--tag contains a control character"),
    ],
)
def test_control_characters_are_never_written(vault, args: list[str], what: str) -> None:
    before = {p: p.read_bytes() for p in vault.rglob("*") if p.is_file()}
    result = run_cli(args, vault)
    assert result.exit_code == 1
    assert what in result.stderr and "nothing was written" in result.stderr
    assert {p: p.read_bytes() for p in vault.rglob("*") if p.is_file()} == before


def test_a_tab_and_ordinary_text_are_fine(vault) -> None:
    result = run_cli(["log", "bo", "Lunch\twith the team — ☕"], vault)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", [["show", "anna"], ["due", "--all"], ["review"],
                                     ["near", "Köln"], ["check"]])
def test_the_terminal_never_gets_a_raw_control_character(vault, command: list[str]) -> None:
    result = run_cli(command, vault)
    assert "Traceback" not in result.output
    assert not any(c in result.output for c in "\x1b\x07\x00")
    if command == ["show", "anna"]:
        assert "\\x1b[2J\\x07 talk" in result.stdout  # shown, escaped


def test_json_escapes_control_characters(vault) -> None:
    result = run_cli(["show", "anna", "--json"], vault)
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    data = json.loads(result.stdout)
    assert data["city"] == "Köln\x1b[31m"  # the value itself, escaped as JSON does


def test_the_feed_has_no_control_characters(vault) -> None:
    data = run_cli(["ics"], vault).stdout_bytes
    assert not any(byte in data for byte in (0x1B, 0x07, 0x00))
    calendar = icalendar.Calendar.from_ical(data)
    assert calendar.walk("VEVENT")


@pytest.mark.parametrize(
    "template",
    ["Hi {name.__class__.__mro__}", "Hi {first_name:>100000000}", "Hi {name[0]}",
     "Hi {name!r}", "Hi {unknown}", "Hi \x1b{name}"],
)
def test_templates_take_only_the_documented_placeholders(make_vault, template: str) -> None:
    toml = f"[templates]\ncheckin_plain = {json.dumps(template)}\n"
    root = make_vault({"vaultnetz.toml": toml, "People/Anna.md": "x"})
    result = run_cli(["due"], root)
    assert result.exit_code == 1
    assert "invalid configuration" in result.stderr
    assert "mro" not in result.stdout and len(result.output) < 2000


def test_templates_with_braces_and_placeholders(make_vault) -> None:
    toml = ('[templates]\nnever_plain = "Hi {first_name} {{not a field}} { and } ok"\n')
    root = make_vault({"vaultnetz.toml": toml, "People/Anna Berger.md": "x"})
    data = json.loads(run_cli(["due", "--json"], root).stdout)
    assert data[0]["draft"] == "Hi Anna {not a field} { and } ok"
