"""The feed: content, determinism, and independent parsers (icalendar, vobject, ical.js)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import icalendar
import pytest
import vobject
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DATA, REPO, TODAY, contact_note, freeze_mtimes, plan_for
from vaultnetz.feed import build_calendar, fold_utf8_safe, uid_for
from vaultnetz.model import Contact

GOLDEN = DATA / "golden"


def feed_for(root: Path, today: date = TODAY, **kw: object) -> bytes:
    vault, plan = plan_for(root, today)
    return build_calendar(vault, plan, **kw)  # type: ignore[arg-type]


def events(data: bytes) -> list[icalendar.Event]:
    return icalendar.Calendar.from_ical(data).walk("VEVENT")


def assert_golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_bytes(data)
    assert path.read_bytes() == data, f"{name} differs; UPDATE_GOLDEN=1 rewrites it"


def check_with_every_parser(data: bytes, tmp_path: Path) -> dict[str, object]:
    """icalendar, vobject (validate=True) and ical.js must all accept the feed."""
    calendar = icalendar.Calendar.from_ical(data)
    for event in calendar.walk("VEVENT"):
        assert not getattr(event, "errors", None), event.errors
    parsed = vobject.readOne(data.decode("utf-8"), validate=True)
    assert parsed.name == "VCALENDAR"
    return icaljs(data, tmp_path)


def icaljs(data: bytes, tmp_path: Path) -> dict[str, object]:
    node = shutil.which("node")
    if node is None or not (REPO / "node_modules" / "ical.js").is_dir():
        pytest.skip("ical.js not installed: run `npm ci` (the CI does)")
    path = tmp_path / "feed.ics"
    path.write_bytes(data)
    script = REPO / "tests" / "integration" / "icaljs_check.mjs"
    result = subprocess.run([node, str(script), str(path)], capture_output=True, text=True,
                            cwd=REPO, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_sample_feed_matches_golden_and_parses_everywhere(sample_copy: Path, tmp_path: Path
                                                          ) -> None:
    data = feed_for(sample_copy)
    assert_golden("sample-vault.ics", data)
    js = check_with_every_parser(data, tmp_path)
    _, plan = plan_for(sample_copy)
    check_ins = [e for e in js["events"] if e["summary"].startswith("Check in")]  # type: ignore[index, union-attr]
    assert len(check_ins) == len(plan.check_ins)
    assert all(e["isDate"] for e in js["events"])  # type: ignore[union-attr]
    assert js["name"] == "Kontakte pflegen"
    assert js["refresh"] == "PT12H"


def test_one_event_per_check_in_on_the_smoothed_date(sample_copy: Path) -> None:
    vault, plan = plan_for(sample_copy)
    by_uid = {str(e["uid"]): e for e in events(build_calendar(vault, plan))}
    for check_in in plan.check_ins:
        event = by_uid.pop(uid_for(check_in.contact, "check-in"))
        assert event.decoded("dtstart") == check_in.due
        assert event.decoded("dtend") == date.fromordinal(check_in.due.toordinal() + 1)
        assert str(event["transp"]) == "TRANSPARENT"
        assert check_in.contact.name in str(event["summary"])
        assert str(event["url"]).startswith("obsidian://open?vault=sample-vault&file=")
    # What is left are the trip and the birthdays; none for paused, archived or one-sided.
    names = sorted(str(e["summary"]) for e in by_uid.values())
    assert names == ["Birthday: Anna Berger", "Birthday: Elif Yılmaz", "Birthday: Lea Wagner",
                     "Munich trip: 3 people to ask"]


def test_calendar_properties(sample_copy: Path) -> None:
    data = feed_for(sample_copy)
    text = data.decode()
    assert "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT12H\r\n" in text
    assert "\r\nX-PUBLISHED-TTL:PT12H\r\n" in text
    assert "\r\nX-WR-CALNAME:Kontakte pflegen\r\n" in text
    assert "\r\nNAME:Kontakte pflegen\r\n" in text
    header = text.split("BEGIN:VEVENT")[0]
    assert "UID" not in header and "METHOD" not in header
    assert "VTODO" not in text and "VALARM" not in text
    assert data.count(b"\n") == data.count(b"\r\n")


def test_description_explains_why_now(sample_copy: Path) -> None:
    by_summary = {str(e["summary"]): str(e["description"]) for e in events(feed_for(sample_copy))}
    anna = by_summary["Check in with Anna Berger"]
    assert "every 3 months" in anna and "2026-07-02" in anna
    assert "Coffee at the Viktualienmarkt" in anna
    assert "Volontariat" in anna and "München" in anna and "Münchner Tagblatt" in anna
    assert "obsidian://open?vault=sample-vault&file=People%2FAnna%20Berger" in anna
    jonas = by_summary["Check in with Jonas Weber"]
    assert "No answer yet" in jonas and "Open attempts: 2" in jonas
    assert "said no" in by_summary["Check in with Sophie Martin"]
    assert "Never contacted" in by_summary["Check in with Lea Wagner"]


def test_rebuild_is_byte_identical_and_a_change_touches_one_event(sample_copy: Path) -> None:
    first = feed_for(sample_copy)
    assert feed_for(sample_copy) == first
    note = sample_copy / "People" / "Nina Lehmann.md"
    note.write_text(note.read_text().replace("cadence: alle 2 Monate", "cadence: 1m"))
    os.utime(note, (1_795_000_000, 1_795_000_000))
    second = feed_for(sample_copy)
    before = {str(e["uid"]): e.to_ical() for e in events(first)}
    after = {str(e["uid"]): e.to_ical() for e in events(second)}
    assert before.keys() == after.keys()  # the UID stays when the date moves
    changed = [uid for uid in before if before[uid] != after[uid]]
    assert len(changed) == 1
    assert b"20261125" in after[changed[0]]


def test_dtstamp_comes_from_the_notes_not_the_clock_or_file_times(sample_copy: Path) -> None:
    by_summary = {str(e["summary"]): e for e in events(feed_for(sample_copy))}
    _, plan = plan_for(sample_copy)
    on_their_own_date = [c for c in plan.check_ins
                         if c.due == c.original_due > TODAY and c.reason != "never"]
    assert on_their_own_date
    for check_in in on_their_own_date:  # the newest date in the contact's notes
        event = by_summary[f"Check in with {check_in.contact.name}"]
        newest = max(i.day for i in check_in.contact.interactions)
        assert event.decoded("dtstamp").date() == newest
        assert event.decoded("last-modified") == event.decoded("dtstamp")
    # Placed by today (overdue, never contacted): today, so that clients take the new date.
    anna = by_summary["Check in with Anna Berger"]
    assert anna.decoded("dtstamp").isoformat() == "2026-11-23T00:00:00+00:00"
    lea = by_summary["Check in with Lea Wagner"]  # no dated entry at all
    assert lea.decoded("dtstamp").isoformat() == "2026-11-23T00:00:00+00:00"
    before = feed_for(sample_copy)
    freeze_mtimes(sample_copy, 1_800_000_000)  # touching every file changes nothing
    assert feed_for(sample_copy) == before


def test_horizon_and_tag(sample_copy: Path) -> None:
    near = events(feed_for(sample_copy, horizon_days=7))
    check_ins = [e for e in near if str(e["summary"]).startswith("Check in")]
    assert all(e.decoded("dtstart") <= date(2026, 11, 30) for e in check_ins)
    assert len(check_ins) == 8
    science = events(feed_for(sample_copy, tag="science"))
    assert sorted(str(e["summary"]) for e in science) == [
        "Birthday: Elif Yılmaz", "Check in with Dr. Miriam Kühn", "Check in with Elif Yılmaz",
        "Check in with Prof. Hans Richter"]


def test_edge_cases_golden(make_vault, tmp_path: Path) -> None:
    root = make_vault({
        "vaultnetz.toml": 'language = "de"\nalarm = "09:30"\ncalendar_name = "Netzwerk"\n'
                          'obsidian_vault = "Mein Vault"\n',
        "People/Lea.md": contact_note("birthday: --02-29\nlast_contact: 2026-10-01"),
        "People/Elif.md": contact_note("birthday: 1992-02-29\ncadence: wöchentlich"),
        "People/Ünal Çelik-Größenwahn mit einem sehr langen Namen.md": contact_note(
            "met_via: " + "Über die Straßenbahn-Haltestelle Ölmühle " * 4 + "\nbirthday: --12-31"),
        "People/Wolf.md": contact_note("tags: [person, presse]") +
                          "\n## Log\n- 2026-11-01 Mail #attempt\n",
        "People/Nein.md": "## Log\n- 2026-11-01 Kein Interesse gerade #declined\n",
    })
    freeze_mtimes(root)
    data = feed_for(root)
    assert_golden("edge-cases.ics", data)
    check_with_every_parser(data, tmp_path)
    text = data.decode()
    assert "RRULE:FREQ=YEARLY;BYMONTHDAY=-1;BYMONTH=2" in text or \
        "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1" in text
    assert text.count("BEGIN:VALARM") == text.count("BEGIN:VEVENT")
    assert "TRIGGER:PT9H30M" in text
    assert "Melde dich bei Wolf" in text
    assert "X-WR-CALNAME:Netzwerk" in text
    assert "vault=Mein%20Vault" in text


def test_leap_day_birthday_recurs_on_the_last_day_of_february(make_vault, tmp_path: Path
                                                              ) -> None:
    root = make_vault({"People/Lea.md": contact_note("birthday: --02-29")})
    js = icaljs(feed_for(root), tmp_path)
    [birthday] = [e for e in js["events"] if e["summary"].startswith("Birthday")]  # type: ignore[index, union-attr]
    assert birthday["occurrences"] == ["2000-02-29", "2001-02-28", "2002-02-28"]


def test_birthdays_can_be_turned_off(make_vault) -> None:
    root = make_vault({"vaultnetz.toml": "birthdays = false\n",
                       "People/Lea.md": contact_note("birthday: --02-29")})
    assert [str(e["summary"]) for e in events(feed_for(root))] == ["Check in with Lea"]


def test_uid_is_opaque_and_stable() -> None:
    contact = Contact(path="People/Anna Berger.md", name="Anna Berger")
    uid = uid_for(contact, "check-in")
    assert uid == uid_for(Contact(path="People/Anna Berger.md", name="Other"), "check-in")
    assert uid != uid_for(contact, "birthday")
    assert "Anna" not in uid and "People" not in uid


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
               min_size=0, max_size=400))
def test_folding_never_splits_a_character(value: str) -> None:
    raw = ("DESCRIPTION:" + value.replace("\r", "").replace("\n", " ")).encode()
    folded = fold_utf8_safe(b"BEGIN:VEVENT\r\n" + raw + b"\r\nEND:VEVENT\r\n")  # unfolded
    for line in folded.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # every physical line is whole UTF-8
    unfolded = folded.replace(b"\r\n ", b"")
    assert raw in unfolded
    # Badly folded input (inside a character, or too long) is folded again, correctly.
    bad = b"BEGIN:VEVENT\r\n" + raw[:40] + b"\r\n " + raw[40:] + b"\r\nEND:VEVENT\r\n"
    folded = fold_utf8_safe(bad)
    for line in folded.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # every physical line is whole UTF-8
    unfolded = folded.replace(b"\r\n ", b"")
    assert raw in unfolded


def test_a_birthday_event_depends_only_on_its_key_inputs() -> None:
    """The event cache keys a birthday by ``birthday_inputs``: nothing else may show in it."""
    from dataclasses import fields, replace

    from vaultnetz.config import Config
    from vaultnetz.feed import birthday_event, birthday_inputs
    from vaultnetz.model import Birthday, Cadence, Interaction

    config = Config(alarm="09:30", language="de")
    base = Contact("People/Anna.md", "Anna", birthday=Birthday(2, 29), tags=("press",),
                   interactions=(Interaction(date(2026, 1, 2), "contact", "Coffee", "log",
                                             "People/Anna.md", 9),))
    others = {
        "aliases": ("A",), "cadence": Cadence(6, "weeks", "6w"), "cadence_source": "field",
        "last_contact_field": date(2025, 1, 1), "snooze_until": date(2027, 1, 1),
        "status": "paused", "priority": "high", "met_via": "Uni", "city": "Köln",
        "company": "Zeitung", "role": "Editor", "email": ("a@example.org",),
        "phone": ("+49",), "linkedin": "x", "department": "Politik",
        "website": ("https://example.org",),
        "interactions": (*base.interactions, Interaction(
            date(2025, 5, 5), "attempt", "Mail", "mention", "Daily/2025-05-05.md", 1)),
    }
    assert set(others) | {"path", "name", "birthday", "tags"} == {f.name for f in
                                                                   fields(Contact)}
    expected = birthday_event(base, "Vault", config)
    for name, value in others.items():
        changed = replace(base, **{name: value})
        assert birthday_inputs(changed) == birthday_inputs(base), name
        assert birthday_event(changed, "Vault", config) == expected, name


def _event_of(data: bytes, summary_part: str) -> icalendar.Event:
    return next(e for e in events(data) if summary_part in str(e["SUMMARY"]))


def test_a_moved_event_says_it_changed_and_an_unchanged_vault_gives_the_same_bytes(
    make_vault, tmp_path: Path
) -> None:
    root = make_vault({
        "vaultnetz.toml": "max_per_day = 1\n",
        "People/Anna.md": "---\nlast_contact: 2026-06-01\npriority: high\n---\n",
        "People/Bo.md": "---\nlast_contact: 2026-06-02\n---\n",
        "People/Cy.md": "---\nlast_contact: 2026-10-01\ncadence: 6m\n---\n",
    })
    day1, day2 = date(2026, 11, 23), date(2026, 11, 24)
    first, again = feed_for(root, day1), feed_for(root, day1)
    assert first == again  # deterministic
    second = feed_for(root, day2)
    # Bo is overdue: placed on day 1's tomorrow, then on day 2 itself (it moved with today).
    bo1, bo2 = _event_of(first, "Bo"), _event_of(second, "Bo")
    assert bo1["DTSTART"].dt != bo2["DTSTART"].dt or bo1["DTSTAMP"].dt != bo2["DTSTAMP"].dt
    assert bo2["DTSTAMP"].dt > bo1["DTSTAMP"].dt
    assert bo2["LAST-MODIFIED"].dt == bo2["DTSTAMP"].dt
    assert int(bo2["SEQUENCE"]) > int(bo1["SEQUENCE"])
    # Cy is due on its own date, not placed by today: the same bytes on both days.
    assert _event_of(first, "Cy").to_ical() == _event_of(second, "Cy").to_ical()
    assert int(_event_of(first, "Cy")["SEQUENCE"]) == (date(2026, 10, 1) - date(1900, 1, 1)).days
    check_with_every_parser(second, tmp_path)


def test_a_vault_without_dates_still_stamps_moving_events_with_today(make_vault) -> None:
    root = make_vault({"People/Anna.md": "x", "People/Bo.md": "y"})
    data = feed_for(root, date(2026, 11, 23))
    for event in events(data):
        assert event["DTSTAMP"].dt.date() == date(2026, 11, 23)
    assert b"20000101T000000Z" not in data


def test_an_empty_vault_gives_a_valid_calendar(make_vault, tmp_path: Path) -> None:
    root = make_vault({"Notes/Idea.md": "nothing about people"})
    data = feed_for(root)
    calendar = icalendar.Calendar.from_ical(data)
    assert calendar.subcomponents and not calendar.walk("VEVENT")
    assert data.count(b"BEGIN:VTIMEZONE") == 1
    parsed = check_with_every_parser(data, tmp_path)
    assert parsed["events"] == []
