import functools
import random
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DATA, SAMPLE, contact_note, plan_for
from vaultnetz.config import load_config
from vaultnetz.contacts import build_vault
from vaultnetz.errors import AmbiguousContact, ContactNotFound
from vaultnetz.index import NoteIndex, find_vault
from vaultnetz.load import load_vault
from vaultnetz.names import find_contact
from vaultnetz.notes import Note


def test_contacts_by_folder_or_tag(make_vault) -> None:
    root = make_vault({
        "People/A.md": "plain note in the people folder",
        "People/Sub/B.md": contact_note("name: Bea B"),
        "Elsewhere/C.md": contact_note("tags: [person]"),
        "Elsewhere/D.md": contact_note("tags: person, friend"),
        "Elsewhere/E.md": contact_note("tags: [meeting]"),
        "Elsewhere/F.md": contact_note("tags: '#person'"),
    })
    vault = load_vault(root)
    assert sorted(c.name for c in vault.contacts) == ["A", "Bea B", "C", "D", "F"]


def test_people_folders_from_config(make_vault) -> None:
    root = make_vault({
        "vaultnetz.toml": 'people_folders = ["Kontakte", "Team/People"]\n',
        "Kontakte/A.md": "x",
        "Team/People/B.md": "x",
        "People/C.md": "x",
    })
    assert sorted(c.name for c in load_vault(root).contacts) == ["A", "B"]


def test_fields_are_read(make_vault) -> None:
    root = make_vault({"People/anna.md": contact_note(
        "name: Anna Berger\naliases: Anna B\ncadence: 6w\nlast_contact: 2026-01-02\n"
        "snooze_until: '2026-03-01'\nstatus: Paused\npriority: HIGH\nbirthday: --03-14\n"
        "met_via: Seminar\ncity: München\ncompany: Zeitung\nrole: Redakteurin\n"
        "email: [a@example.org, b@example.org]\nphone: 491700000\nlinkedin: https://x\n"
        "tags: [person, press]"
    )})
    [c] = load_vault(root).contacts
    assert c.name == "Anna Berger"
    assert c.aliases == ("Anna B",)
    assert (c.cadence.amount, c.cadence.unit, c.cadence_source) == (42, "days", "field")
    assert c.last_contact_field == date(2026, 1, 2)
    assert c.snooze_until == date(2026, 3, 1)
    assert (c.status, c.priority) == ("paused", "high")
    assert c.birthday is not None and c.birthday.text() == "--03-14"
    assert (c.met_via, c.city) == ("Seminar", "München")
    assert (c.company, c.role) == ("Zeitung", "Redakteurin")
    assert c.email == ("a@example.org", "b@example.org")
    assert c.phone == ("491700000",)
    assert c.tags == ("person", "press")


def test_cadence_by_tag_and_default(make_vault) -> None:
    root = make_vault({
        "vaultnetz.toml": 'default_cadence = "2m"\n[cadence_by_tag]\nmentor = "6w"\n',
        "People/A.md": contact_note("tags: [person, mentor]"),
        "People/B.md": contact_note("tags: [person]"),
        "People/C.md": contact_note("tags: [mentor]\ncadence: 1y"),
    })
    by_name = {c.name: c for c in load_vault(root).contacts}
    assert by_name["A"].cadence.amount == 42 and by_name["A"].cadence_source == "tag:mentor"
    assert by_name["B"].cadence.text == "2m" and by_name["B"].cadence_source == "default"
    assert by_name["C"].cadence.amount == 12 and by_name["C"].cadence_source == "field"


def test_renamed_fields(make_vault) -> None:
    root = make_vault({
        "vaultnetz.toml": '[fields]\nlast_contact = "zuletzt"\ncity = "stadt"\n',
        "People/A.md": contact_note("zuletzt: 2026-01-02\nstadt: Köln"),
    })
    [c] = load_vault(root).contacts
    assert (c.last_contact_field, c.city) == (date(2026, 1, 2), "Köln")


@pytest.mark.parametrize(
    ("front", "line", "code", "unset"),
    [
        ("name: A\ncadence: sometimes", 3, "bad-cadence", "cadence_source"),
        ("last_contact: 2026-13-01", 2, "bad-last_contact", "last_contact_field"),
        ("name: A\n\nbirthday: 31.02.1984", 4, "bad-birthday", "birthday"),
        ("snooze_until: tomorrow", 2, "bad-snooze_until", "snooze_until"),
        ("status: gone", 2, "bad-status", "status"),
        ("priority: urgent", 2, "bad-priority", "priority"),
        ("last_contact: 9999-12-31", 2, "bad-last_contact", "last_contact_field"),
        ("last_contact: 1066-10-14", 2, "bad-last_contact", "last_contact_field"),
        ("snooze_until: 3001-01-01", 2, "bad-snooze_until", "snooze_until"),
        ("cadence: 99999y", 2, "bad-cadence", "cadence_source"),
    ],
)
def test_a_bad_value_is_a_warning_with_line_and_the_contact_stays_without_it(
    make_vault, front: str, line: int, code: str, unset: str
) -> None:
    root = make_vault({"People/Bad.md": contact_note(front + "\ncity: Köln"),
                       "People/Good.md": "x"})
    vault = load_vault(root)
    assert sorted(c.path for c in vault.contacts) == ["People/Bad.md", "People/Good.md"]
    assert vault.errors() == []
    [problem] = vault.problems
    assert (problem.path, problem.line, problem.code, problem.severity) == (
        "People/Bad.md", line, code, "warning")
    assert "ignored" in problem.message and problem.hint
    bad = next(c for c in vault.contacts if c.path == "People/Bad.md")
    defaults = {"cadence_source": "default", "last_contact_field": None, "birthday": None,
                "snooze_until": None, "status": "active", "priority": "normal"}
    assert getattr(bad, unset) == defaults[unset]
    assert bad.city == "Köln"  # the rest of the contact is there
    assert vault.broken_contacts == ()


def test_mentions_in_daily_and_dated_notes_in_every_link_form(make_vault) -> None:
    root = make_vault({
        "People/Anna Berger.md": contact_note("aliases: [Anni]"),
        "People/Bo.md": "x",
        "People/Cy.md": "x",
        "People/Di.md": "x",
        "People/Ed.md": "x",
        "Daily/2026-01-01.md": "Met [[Anna Berger]].",
        "Daily/2026/2026-01-02.md": "Lunch with [[Bo|Bobby]] and [[Cy#Projects]].",
        "2026-01-03.md": "Call with [[People/Di]] and [[anni]].",
        "Meetings/Kickoff.md": "---\ndate: 2026-01-04\n---\nWith [[Ed|Eddie]] and [[Nobody]].",
        "Ideas.md": "Undated note: [[Ed]] does not count.",
        "Daily/2026-02-30.md": "Not a date: [[Ed]] does not count.",
    })
    vault = load_vault(root)
    mentions = {c.name: sorted(i.day for i in c.interactions if i.source == "mention")
                for c in vault.contacts}
    assert mentions == {
        "Anna Berger": [date(2026, 1, 1), date(2026, 1, 3)],
        "Bo": [date(2026, 1, 2)],
        "Cy": [date(2026, 1, 2)],
        "Di": [date(2026, 1, 3)],
        "Ed": [date(2026, 1, 4)],
    }
    anna = next(c for c in vault.contacts if c.name == "Anna Berger")
    first = min(anna.interactions, key=lambda i: i.day)
    assert first.path == "Daily/2026-01-01.md"
    assert first.line == 1
    assert first.text == "Met Anna Berger."  # plain: no [[…]], no date, no bullet


def test_one_mention_per_note_and_no_self_mention(make_vault) -> None:
    root = make_vault({
        "People/A.md": "---\ndate: 2026-01-01\n---\nMe: [[A]]",
        "People/B.md": "x",
        "Daily/2026-01-05.md": "[[B]] and again [[B|bee]]",
    })
    by_name = {c.name: c for c in load_vault(root).contacts}
    assert by_name["A"].interactions == ()
    assert len(by_name["B"].interactions) == 1


def test_duplicate_names_are_warnings_naming_both_paths(make_vault) -> None:
    root = make_vault({
        "People/Anna.md": contact_note("aliases: [AB]"),
        "Work/Anna.md": contact_note("tags: [person]"),
        "People/Ab.md": contact_note("name: AB"),
    })
    vault = load_vault(root)
    warnings = [p for p in vault.problems if p.code == "duplicate-name"]
    assert {p.path for p in warnings} == {"People/Anna.md", "Work/Anna.md", "People/Ab.md"}
    anna = next(p for p in warnings if p.path == "People/Anna.md" and "Anna" in p.message)
    assert "Work/Anna.md" in anna.message


def test_find_contact_levels(make_vault) -> None:
    root = make_vault({
        "People/Anna Berger.md": contact_note("aliases: [Ann]"),
        "People/Ann.md": "x",
        "People/Annika Roth.md": contact_note("aliases: [Nika]"),
        "People/Bernd.md": contact_note("aliases: [Anna Berger Fan]"),
    })
    vault = load_vault(root)
    assert find_contact(vault, "ann").path == "People/Ann.md"  # exact name beats alias
    assert find_contact(vault, "ANNA BERGER").name == "Anna Berger"
    assert find_contact(vault, "nika").name == "Annika Roth"  # alias
    assert find_contact(vault, "annik").name == "Annika Roth"  # unique prefix
    with pytest.raises(AmbiguousContact) as info:
        find_contact(vault, "anna b")
    assert "People/Anna Berger.md" in str(info.value) and "People/Bernd.md" in str(info.value)
    with pytest.raises(ContactNotFound):
        find_contact(vault, "zed")


def test_find_contact_points_at_a_broken_note(make_vault) -> None:
    root = make_vault({"People/Zoe.md": "---\nname: [\n---\n"})
    with pytest.raises(ContactNotFound, match="has errors"):
        find_contact(load_vault(root), "zoe")


def test_find_vault(tmp_path: Path) -> None:
    (tmp_path / "v" / ".obsidian").mkdir(parents=True)
    (tmp_path / "v" / "deep" / "er").mkdir(parents=True)
    assert find_vault(None, {}, tmp_path / "v" / "deep" / "er") == tmp_path / "v"
    assert find_vault("x", {"VAULTNETZ_VAULT": "y"}, tmp_path) == Path("x")
    assert find_vault(None, {"VAULTNETZ_VAULT": "y"}, tmp_path) == Path("y")
    assert find_vault(None, {}, tmp_path) == tmp_path


def test_sample_vault_is_clean() -> None:
    from conftest import SAMPLE

    vault, plan = plan_for(SAMPLE)
    assert vault.problems == ()
    assert 15 <= len(vault.contacts) <= 25
    assert {c.reason for c in plan.check_ins} >= {"cadence", "never", "attempt", "declined",
                                                  "snooze", "planned"}


def test_a_large_group_sharing_a_name_gives_short_messages(make_vault) -> None:
    files = {f"People/P{i:03d}.md": "---\naliases: [Team]\n---\n" for i in range(200)}
    vault = load_vault(make_vault(files))
    problems = [p for p in vault.problems if p.code == "duplicate-name"]
    assert len(problems) == 200  # every note of the group says so
    assert max(len(p.message) for p in problems) < 200  # not a list of 199 paths each
    assert problems[0].message.endswith("and 194 more")
    assert "People/P001.md" in problems[0].message


@functools.cache
def _sample_notes() -> tuple[Note, ...]:
    """The sample vault's notes and every odd note (as People/odd/…), in path order."""
    config = load_config(SAMPLE)[0]
    notes = []
    for base, prefix in ((SAMPLE, ""), (DATA / "odd-notes", "People/odd/")):
        index = NoteIndex(base, config)
        index.refresh()
        notes += [replace(note, path=prefix + note.path) if prefix else note
                  for note in index._notes.values()]
    assert len(notes) > 40
    return tuple(sorted(notes, key=lambda note: note.path))


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False))
def test_the_vault_is_the_same_whatever_order_its_notes_come_in(rng: random.Random) -> None:
    """A cold read builds each note as it comes (its own share, a helper's, the cache's):
    the vault is the one built from the notes in the order of their paths."""
    config = load_config(SAMPLE)[0]
    notes = list(_sample_notes())
    shuffled = list(notes)
    rng.shuffle(shuffled)
    ordered = build_vault(SAMPLE, config, notes, [])
    mixed = build_vault(SAMPLE, config, shuffled, [])
    for part in ("contacts", "problems", "note_count", "broken_contacts", "trips"):
        assert getattr(mixed, part) == getattr(ordered, part), part
