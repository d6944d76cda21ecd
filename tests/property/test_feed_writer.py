"""Hypothesis: the feed's own event writer gives icalendar 7's content lines, and every
text it writes reads back unchanged in icalendar, whatever the characters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from icalendar import Alarm, Calendar, Event, vRecur

from vaultnetz.feed import _calendar_head, _unfold, event_bytes, fold_line

TRICKY = st.sampled_from(["\\", ";", ",", "\n", "\r", "\r\n", ":", '"', "ü", "€", "👩‍🔬",
                          "\x1b", "\x07", "\x85", "\\n", " ", "\t", "=", "^"])
texts = st.lists(st.text(max_size=30) | TRICKY, max_size=6).map("".join)
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 30))
urls = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789%?&=/:._-"), max_size=140)
alarms = st.sampled_from(["", "00:00", "00:30", "09:00", "09:30", "23:59"])
rrules = st.sampled_from(["", "FREQ=YEARLY", "FREQ=YEARLY;BYMONTHDAY=-1;BYMONTH=2"])


def without_controls(text: str) -> str:
    """What the writer keeps of a text: line breaks as LF, no other control character."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text if c in "\t\n" or not (ord(c) < 32 or 127 <= ord(c) < 160))


def reference(*, uid: str, summary: str, start: date, stamp: date, description: str, url: str,
              categories: list[str], rrule: str, alarm: str) -> list[str]:
    """The same event built with icalendar's component classes: its content lines."""
    event = Event()
    moment = datetime(stamp.year, stamp.month, stamp.day, tzinfo=UTC)
    event.add("uid", uid)
    event.add("sequence", (stamp - date(1900, 1, 1)).days)
    event.add("dtstamp", moment)
    event.add("last-modified", moment)
    event.add("summary", summary)
    event.add("transp", "TRANSPARENT")
    event.add("url", url)
    if categories:
        event.add("categories", categories)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(days=1))
    if rrule:
        event.add("rrule", vRecur.from_ical(rrule))
    event.add("description", description)
    if alarm:
        hours, minutes = (int(x) for x in alarm.split(":"))
        component = Alarm()
        component.add("action", "DISPLAY")
        component.add("description", summary)
        component.add("trigger", timedelta(hours=hours, minutes=minutes))
        event.add_component(component)
    return [str(line) for line in event.content_lines() if line]


@settings(max_examples=400, deadline=None)
@given(uid=st.text(st.sampled_from("0123456789abcdef"), min_size=1, max_size=32),
       summary=texts, description=texts, categories=st.lists(texts.filter(bool), max_size=3),
       start=days, stamp=days, url=urls, rrule=rrules, alarm=alarms)
@example(uid="0", summary="", description="\\\x1fN", categories=[],
         start=date(2000, 1, 1), stamp=date(2000, 1, 1), url="", rrule="", alarm="")
@example(uid="0", summary="\ufeffAnna", description="\ufeff", categories=["\ufeffa"],
         start=date(2000, 1, 1), stamp=date(2000, 1, 1), url="", rrule="", alarm="")
@example(uid="a", summary="Anna; Ben, \\ \n x", description="a\r\nb\rc\nd",
         categories=["a,b", "c;d"], start=date(2000, 2, 29), stamp=date(2026, 1, 1),
         url="obsidian://open?vault=V&file=People%2FAnna", rrule="", alarm="09:30")
def test_writer_gives_icalendar_content_lines(**fields: object) -> None:
    # Control characters other than tab are dropped (RFC 5545); icalendar would keep them.
    clean = {k: [without_controls(x) for x in v] if isinstance(v, list) else
             without_controls(v) if isinstance(v, str) else v for k, v in fields.items()}
    # icalendar turns \N into a break: also one that dropping a control character makes.
    assume(not any("\\N" in str(v) for v in clean.values()))
    ours = event_bytes(**fields)  # type: ignore[arg-type]
    lines = [line.decode("utf-8") for line in _unfold(ours)]
    assert lines == reference(**clean)  # type: ignore[arg-type]
    assert all(len(line) <= 75 for line in ours.split(b"\r\n"))


@settings(max_examples=300, deadline=None)
@given(summary=texts, description=texts, categories=st.lists(texts.filter(bool), max_size=3))
def test_every_text_reads_back_unchanged(summary: str, description: str,
                                         categories: list[str]) -> None:
    data = (_calendar_head("Mein Kalender") + event_bytes(
        uid="u@vaultnetz", summary=summary, start=date(2026, 11, 23), stamp=date(2026, 1, 1),
        description=description, url="https://example.org/", categories=categories)
        + b"END:VCALENDAR\r\n")
    [event] = Calendar.from_ical(data).walk("VEVENT")

    def normal(text: str) -> str:
        return without_controls(text.replace("\r\n", "\n").replace("\r", "\n"))

    assert str(event["SUMMARY"]) == normal(summary)
    assert str(event["DESCRIPTION"]) == normal(description)
    if categories:
        assert [str(c) for c in event["CATEGORIES"].cats] == [normal(c) for c in categories]


def test_calendar_head_is_icalendars() -> None:
    from icalendar import vDuration

    from vaultnetz.feed import PRODID

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Netz – Kontakte")
    calendar.add("name", "Netz – Kontakte")
    calendar.add("refresh-interval", vDuration(timedelta(hours=12)),
                 parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(timedelta(hours=12)))
    expected = b"".join(fold_line(str(line).encode()) + b"\r\n"
                        for line in calendar.content_lines() if line)
    assert _calendar_head("Netz – Kontakte") + b"END:VCALENDAR\r\n" == expected


def test_calendar_name_stays_one_line() -> None:
    name = "Netz; Kontakte,\n\r\tweitere \x00 alle"
    head = _calendar_head(name)
    calendar = Calendar.from_ical(head + b"END:VCALENDAR\r\n")
    assert str(calendar["X-WR-CALNAME"]) == "Netz; Kontakte, weitere alle"
    assert b"\x00" not in head
    assert head.count(b"\r\n") == head.count(b":") == 8  # one property per line
