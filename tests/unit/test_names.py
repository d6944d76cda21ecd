"""Names: their parts, greetings in every language, and NAME lookup by any part."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conftest import TODAY, plan_for
from vaultnetz.config import Config
from vaultnetz.drafts import DEFAULTS, render
from vaultnetz.errors import AmbiguousContact, ContactNotFound
from vaultnetz.load import load_vault
from vaultnetz.model import Contact
from vaultnetz.names import find_contact, greeting_name, identity_key, parse_name


@pytest.mark.parametrize(("name", "greeting"), [
    ("Dr. Eva Klein", "Eva"), ("Prof. Dr. Hans Richter", "Hans"),
    ("Mr. Michael Angstadt Jr.", "Michael"), ("Frau Anna Berger", "Anna"),
    ("Mr. John Richter, James Doe Sr.", "John"), ("Berger, Anna", "Anna"),
    ("Field", "Field"), ("Özlem Yıldız", "Özlem"),
    ("Dr.", ""), ("Prof.", ""), ("Mr.", ""), ("+918686235803", ""), ("+49 171 1234567", ""),
    ("anna@example.org", ""), ("J. R. R. Tolkien", ""),
])
def test_greeting_name_is_never_a_title_a_number_or_an_email(name: str, greeting: str) -> None:
    assert greeting_name(name) == greeting


@pytest.mark.parametrize("name", ["Dr.", "Prof. Dr.", "+918686235803", "anna@example.org",
                                  "Mr.", "Herr Dr."])
@pytest.mark.parametrize("language", ["en", "de"])
def test_no_draft_greets_a_title_a_number_or_an_email(name: str, language: str) -> None:
    config = Config(language=language)
    contact = Contact("People/x.md", name, city="Köln", met_via="the seminar")
    for template in DEFAULTS[language]:
        text = render(template, contact, config, last_topic="x", dates="next week",
                      city="Köln")
        greeting = text.split(",", 1)[0]
        assert greeting in ("Hi", "Hallo"), (template, text)


def test_german_drafts_greet_with_the_full_name() -> None:
    config = Config(language="de")
    text = render("checkin_plain", Contact("People/x.md", "Dr. Eva Klein"), config)
    assert text.startswith("Hallo Dr. Eva Klein, ")


@pytest.mark.parametrize(("a", "b", "same"), [
    ("Dr. Anna Berger", "Anna Berger", True), ("Anna Berger, PhD", "anna berger", True),
    ("Jason RM Smith", "Jason Smith", False), ("Lea Maria Wagner", "Lea Wagner", False),
    ("Özlem Yıldız", "Ozlem Yildiz", True),
])
def test_identity_keys(a: str, b: str, same: bool) -> None:
    assert (identity_key(a) == identity_key(b)) is same


@pytest.fixture
def people(make_vault):
    return load_vault(make_vault({
        "People/Dr. Eva Klein.md": "---\naliases: [Evi]\n---\n",
        "People/Özlem Yıldız.md": "x",
        "People/Anna Berger.md": "---\naliases: [Klara]\n---\n",
        "People/Anna Klara Schmidt.md": "x",
        "People/Klara.md": "x",
        "People/Jonas Weber.md": "x",
        "People/Jonas Wolf.md": "x",
    }))


@pytest.mark.parametrize(("query", "found"), [
    ("eva", "Dr. Eva Klein"), ("klein", "Dr. Eva Klein"), ("EVA KLEIN", "Dr. Eva Klein"),
    ("evi", "Dr. Eva Klein"), ("ozlem", "Özlem Yıldız"), ("oezlem", "Özlem Yıldız"),
    ("yildiz", "Özlem Yıldız"), ("Özlem Yıldız", "Özlem Yıldız"),
    ("klara", "Klara"),  # the exact name beats Anna Berger's alias and Anna Klara Schmidt
    ("weber", "Jonas Weber"), ("schmidt", "Anna Klara Schmidt"),
])
def test_any_name_part_finds_a_contact(people, query: str, found: str) -> None:
    assert find_contact(people, query).name == found


def test_an_alias_beats_a_name_part(make_vault) -> None:
    vault = load_vault(make_vault({"People/Anna Berger.md": "---\naliases: [Klara]\n---\n",
                                   "People/Anna Klara Schmidt.md": "x"}))
    assert find_contact(vault, "klara").name == "Anna Berger"


def test_two_matches_at_one_level_are_listed(people) -> None:
    with pytest.raises(AmbiguousContact) as raised:
        find_contact(people, "jonas")
    assert "People/Jonas Weber.md" in str(raised.value)
    assert "People/Jonas Wolf.md" in str(raised.value)
    with pytest.raises(AmbiguousContact):
        find_contact(people, "anna")
    with pytest.raises(ContactNotFound):
        find_contact(people, "zeta")


def test_the_sample_drafts_greet_no_titles(sample_copy) -> None:
    vault, plan = plan_for(sample_copy, TODAY)
    for config in (vault.config, replace(vault.config, language="de")):
        from vaultnetz.drafts import draft_for_check_in

        for check_in in plan.check_ins:
            draft = draft_for_check_in(check_in, config)
            assert not draft.split(",", 1)[0].rstrip().endswith("."), draft
    assert parse_name("Prof. Dr. Hans Richter").first == "Hans"


def test_a_name_with_title_and_suffix_is_found_by_its_first_name(make_vault) -> None:
    vault = load_vault(make_vault({"People/Mr. Michael Angstadt Jr..md": "x",
                                   "People/Anna.md": "x"}))
    assert find_contact(vault, "michael").name == "Mr. Michael Angstadt Jr."
    assert find_contact(vault, "angstadt").name == "Mr. Michael Angstadt Jr."
