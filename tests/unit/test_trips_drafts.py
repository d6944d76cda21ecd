"""Trips, drafts and letting go: the honest-networking rules, scenario by scenario."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from conftest import TODAY, contact_note, plan_for, run_cli
from vaultnetz.config import Config, parse_config
from vaultnetz.drafts import DEFAULTS, dates_phrase, draft_for_check_in, render, trip_draft
from vaultnetz.feed import build_calendar
from vaultnetz.model import Contact
from vaultnetz.trips import city_keys, city_matches

ALIASES = parse_config('[city_aliases]\n"München" = ["Munich", "Monaco di Baviera"]\n')[0]


@pytest.mark.parametrize(
    ("contact_city", "query", "expected"),
    [
        ("München", "münchen", True),
        ("München", "MUENCHEN", True),
        ("München", "Munchen", True),
        ("München", "Munich", True),  # alias
        ("Munich", "München", True),
        ("Monaco di Baviera", "Muenchen", True),
        ("Köln", "Koeln", True),
        ("Zürich", "zurich", True),
        ("São Paulo", "sao paulo", True),
        ("Frankfurt am Main", "Frankfurt", True),
        ("Berlin, Hamburg", "hamburg", True),
        ("Berlin", "Bern", False),
        ("Frankfurt (Oder)", "Frankfurt am Main", False),
        ("München", "Münster", False),
    ],
)
def test_city_matching(contact_city: str, query: str, expected: bool) -> None:
    assert city_matches(contact_city, query, ALIASES) is expected


def test_city_keys() -> None:
    assert city_keys("München") == {"muenchen", "munchen"}
    assert city_keys("  Straße ") == {"strasse"}


def test_dates_phrase() -> None:
    d = date.fromisoformat
    assert dates_phrase(d("2026-12-03"), d("2026-12-05"), "en") == "from 3 to 5 December"
    assert dates_phrase(d("2026-12-30"), d("2027-01-02"), "en") == \
        "from 30 December to 2 January"
    assert dates_phrase(d("2026-12-03"), d("2026-12-03"), "en") == "on 3 December"
    assert dates_phrase(d("2026-12-03"), d("2026-12-05"), "de") == "vom 3. bis 5. Dezember"
    assert dates_phrase(d("2026-03-03"), None, "de") == "am 3. März"
    assert dates_phrase(None, None, "en") == "soon"
    assert dates_phrase(None, None, "de") == "demnächst"


GUILT = ["haven't answered", "haven't replied", "no reply", "still waiting", "ignored",
         "why didn't", "you never", "nicht geantwortet", "warte immer noch", "keine antwort"]
EASY_NO = ["no worries", "fine", "no problem", "no need to reply", "kein problem",
           "in ordnung", "nicht zu antworten"]


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("name", sorted(DEFAULTS["en"]))
def test_every_default_draft_is_polite_open_and_never_guilt_trips(language: str, name: str
                                                                  ) -> None:
    contact = Contact(path="People/A.md", name="Anna Berger", city="München",
                      met_via="the Volontariat")
    text = render(name, contact, Config(language=language), last_topic="the election",
                  dates="from 3 to 5 December").lower()
    assert not any(phrase in text for phrase in GUILT)
    assert any(phrase in text for phrase in EASY_NO), text  # an easy way to say no
    assert "kaffee" in text or "coffee" in text  # a concrete, small ask
    assert "{" not in text
    if name == "trip":
        assert "münchen" in text and "3" in text


def scenario(make_vault, notes: dict[str, str], config: str = "") -> Path:
    return make_vault({"vaultnetz.toml": config, **notes})


def test_draft_fits_the_reason(make_vault) -> None:
    root = scenario(make_vault, {
        "People/Cadence.md": contact_note("met_via: school") +
        "## Log\n- 2026-01-05 Talked about the #press election coverage\n",
        "People/Field.md": contact_note("last_contact: 2026-01-05"),
        "People/Never.md": contact_note("met_via: the seminar in Leipzig"),
        "People/NeverPlain.md": "x",
        "People/Attempt.md": "## Log\n- 2026-01-01 Lunch\n- 2026-11-01 Mail #attempt\n",
        "People/Declined.md": "## Log\n- 2026-01-01 Lunch\n- 2026-08-01 No time #declined\n",
    })
    vault, plan = plan_for(root)
    drafts = {c.contact.name: draft_for_check_in(c, vault.config) for c in plan.check_ins}
    assert "(Talked about the election coverage)" in drafts["Cadence"]
    assert drafts["Field"].startswith("Hi Field, how are you?")
    assert "we know each other from the seminar in Leipzig" in drafts["Never"]
    assert "it's been a while" in drafts["NeverPlain"]
    assert "no need to reply" in drafts["Attempt"]
    assert "if the timing still isn't right, that's completely fine" in drafts["Declined"]


def test_custom_and_german_templates(make_vault) -> None:
    root = scenario(make_vault, {"People/Anna Berger.md": contact_note("city: Köln")},
                    'language = "de"\n[templates]\n'
                    'never_plain = "Liebe {first_name}, lange nicht gesehen! Kaffee in {city}?"\n')
    vault, plan = plan_for(root)
    assert draft_for_check_in(plan.check_ins[0], vault.config) == \
        "Liebe Anna, lange nicht gesehen! Kaffee in Köln?"
    feed = build_calendar(vault, plan).decode()
    assert "Entwurf: Liebe Anna" in feed.replace("\r\n ", "")


TRIP_VAULT = {
    "People/Anna.md": contact_note("city: München\nlast_contact: 2026-06-01"),
    "People/Bea.md": contact_note("city: Munich\nlast_contact: 2026-10-01\npriority: high"),
    "People/Cem.md": contact_note("city: Muenchen") + "## Log\n- 2026-01-01 x #attempt\n"
                     "- 2026-02-01 y #attempt\n- 2026-03-01 z #attempt\n",  # one-sided
    "People/Dora.md": contact_note("city: München\nstatus: paused"),
    "People/Emil.md": contact_note("city: Berlin"),
    "Trips/Munich in December.md": "---\ncity: München\nfrom: 2026-12-10\nto: 2026-12-12\n---\n",
    "Trips/Past.md": "---\ncity: München\nfrom: 2026-01-10\nto: 2026-01-12\n---\n",
    "Trips/Bad.md": "---\ncity: Rom\nfrom: 2026-12-40\n---\n",
}


def test_near_lists_active_contacts_most_due_first(make_vault) -> None:
    root = scenario(make_vault, TRIP_VAULT, '[city_aliases]\n"München" = ["Munich"]\n')
    data = json.loads(run_cli(["near", "munich", "--json"], root).stdout)
    assert [row["name"] for row in data] == ["Anna", "Bea"]  # no one-sided, paused, Berlin
    assert data[0]["original_due"] == "2026-09-01"
    assert "I'll be in München from 10 to 12 December" in data[0]["draft"]
    own = json.loads(run_cli(["near", "München", "--from", "2027-01-05", "--json"],
                             root).stdout)
    assert "on 5 January" in own[0]["draft"]
    text = run_cli(["near", "Berlin"], root).stdout
    assert text.startswith("Berlin (soon): 1 person to ask")
    assert run_cli(["near", "Rom"], root).stdout.startswith("Nobody to ask in Rom")
    bad = run_cli(["near", "x", "--from", "2026-12-05", "--to", "2026-12-01"], root)
    assert bad.exit_code == 1


def test_trip_event_lead_days_before_and_trip_in_due_and_show(make_vault) -> None:
    root = scenario(make_vault, TRIP_VAULT, 'trip_lead_days = 5\n[city_aliases]\n'
                                            '"München" = ["Munich"]\n')
    vault, plan = plan_for(root)
    problems = [(p.path, p.line, p.code) for p in vault.problems]
    assert ("Trips/Bad.md", 3, "bad-trip-date") in problems
    import icalendar

    events = icalendar.Calendar.from_ical(build_calendar(vault, plan)).walk("VEVENT")
    [trip] = [e for e in events if "trip" in str(e["summary"])]
    assert str(trip["summary"]) == "München trip: 2 people to ask"
    assert trip.decoded("dtstart") == date(2026, 12, 5)
    description = str(trip["description"])
    assert description.index("Anna") < description.index("Bea")
    assert "Cem" not in description and "Dora" not in description
    due = json.loads(run_cli(["due", "--all", "--json"], root).stdout)
    anna = next(d for d in due if d["name"] == "Anna")
    assert anna["trip"] == {"city": "München", "from": "2026-12-10", "to": "2026-12-12",
                            "path": "Trips/Munich in December.md"}
    assert next(d for d in due if d["name"] == "Emil")["trip"] is None
    assert "Trip: München from 10 to 12 December" in run_cli(["show", "anna"], root).stdout
    # A trip whose reminder date has passed reminds today; a past trip not at all.
    late = plan_for(root, today=date(2026, 12, 9))
    events = icalendar.Calendar.from_ical(build_calendar(*late)).walk("VEVENT")
    [trip] = [e for e in events if "trip" in str(e["summary"])]
    assert trip.decoded("dtstart") == date(2026, 12, 9)


def test_max_per_week_makes_a_backlog_a_gentle_drip(make_vault) -> None:
    notes = {f"People/P{i:02d}.md": contact_note(f"last_contact: 2026-0{1 + i % 9}-01")
             for i in range(12)}
    root = scenario(make_vault, notes, "max_per_day = 3\nmax_per_week = 5\n")
    _, plan = plan_for(root)
    by_week: dict[date, list[str]] = {}
    for c in plan.check_ins:
        monday = date.fromordinal(c.due.toordinal() - c.due.weekday())
        by_week.setdefault(monday, []).append(c.contact.name)
    # 2026-11-23 is a Monday: 5 this week (3 + 2), 5 the next, 2 the one after.
    assert [len(v) for _, v in sorted(by_week.items())] == [5, 5, 2]
    assert [c.due.isoformat() for c in plan.check_ins[:6]] == [
        "2026-11-23", "2026-11-23", "2026-11-23", "2026-11-24", "2026-11-24", "2026-11-30"]
    # best and most recent first: the earliest due (oldest contact) goes first, then recency
    assert plan.check_ins[0].original_due <= plan.check_ins[-1].original_due
    weeks = json.loads(run_cli(["due", "--plan", "3", "--json"], root).stdout)
    assert [w["count"] for w in weeks] == [5, 5, 2]
    assert weeks[0]["week"] == "2026-11-23"
    text = run_cli(["due", "--plan", "2"], root).stdout
    assert text.splitlines()[-1] == "later: 2"


def test_review_reasons(make_vault) -> None:
    root = scenario(make_vault, {
        "People/OneSided.md": "## Log\n- 2026-01-01 x #attempt\n- 2026-02-01 x #attempt\n"
                              "- 2026-03-01 x #attempt\n",
        "People/TwiceNo.md": "## Log\n- 2025-01-01 Lunch\n- 2026-02-01 busy #declined\n"
                             "- 2026-06-01 still busy #declined\n",
        "People/Silent.md": contact_note("last_contact: 2023-05-01"),
        "People/SilentPlanned.md": contact_note("last_contact: 2023-05-01") +
                                   "## Log\n- 2027-01-10 Dinner\n",
        "People/Paused.md": contact_note("status: paused"),
        "People/Fine.md": contact_note("last_contact: 2026-11-01"),
    })
    data = json.loads(run_cli(["review", "--json"], root).stdout)
    assert [(i["name"], i["category"]) for i in data] == [
        ("OneSided", "one-sided"), ("TwiceNo", "declined"), ("Silent", "long-silent"),
        ("Paused", "paused")]
    assert all("archive" in i["suggestion"] or "resume" in i["suggestion"] for i in data)
    text = run_cli(["review"], root).stdout
    assert "Said no more than once" in text and "2 polite no's" in text
    # review never archives anything
    assert "status: archived" not in (root / "People" / "OneSided.md").read_text()


def test_config_rejects_unknown_template_fields() -> None:
    _, problems = parse_config('[templates]\ntrip = "Hi {nickname}"\n')
    assert problems[0].severity == "error" and "{nickname}" in problems[0].message
    _, problems = parse_config('[templates]\nhello = "x"\n')
    assert "unknown draft 'hello'" in problems[0].message


def test_contact_city_spelling_in_drafts() -> None:
    contact = Contact(path="P.md", name="Anna", city="München")
    assert "I'll be in München soon." in trip_draft(contact, "munich", None, None, Config())
    several = replace(contact, city="Berlin, Hamburg")
    assert "I'll be in hamburg on 23 November." in trip_draft(several, "hamburg", TODAY, None,
                                                               Config())
