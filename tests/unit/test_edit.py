"""Byte-level tests: each write changes exactly the intended line(s), nothing else."""

from __future__ import annotations

import difflib

import pytest

from vaultnetz.edit import append_log, log_line, set_front_matter, yaml_scalar
from vaultnetz.errors import NoteNotWritable


def changes(before: bytes, after: bytes) -> list[tuple[str, list[bytes], list[bytes]]]:
    """The non-equal opcodes between the two files' lines (endings included)."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [(tag, a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes()
            if tag != "equal"]


FIXTURES = {
    "lf": b"---\nname: Anna\nlast_contact: 2026-01-01\nstatus: active\n---\n# Anna\n\n## Log\n"
          b"- 2026-01-01 Coffee\n",
    "crlf": b"---\r\nname: Anna\r\nlast_contact: 2026-01-01\r\nstatus: active\r\n---\r\n"
            b"## Log\r\n- 2026-01-01 Coffee\r\n",
    "bom": b"\xef\xbb\xbf---\nname: Anna\nlast_contact: 2026-01-01\nstatus: active\n---\n"
           b"## Log\n- 2026-01-01 Coffee\n",
    "comments": b"---\n# who\nname: Anna   # the name\nlast_contact: 2026-01-01 # seen\n"
                b"status: active  # on\n---\n## Log\n- 2026-01-01 Coffee\n",
    "odd-order": b"---\nstatus: active\nzeta: 1\nlast_contact: 2026-01-01\nalpha: [b, a]\n"
                 b"name: Anna\n---\n## Log\n- 2026-01-01 Coffee\n",
    "quoted-dates": b"---\nname: 'Anna'\nlast_contact: \"2026-01-01\"\nstatus: 'active'\n"
                    b"snooze_until: '2026-02-01'\n---\n## Log\n- 2026-01-01 Coffee\n",
    "wiki-date": b"---\nname: Anna\nlast_contact: [[2026-01-01]]\nstatus: active\n---\n"
                 b"## Log\n- [[2026-01-01]] Coffee\n",
    "no-log": b"---\nname: Anna\nlast_contact: 2026-01-01\nstatus: active\n---\n# Anna\n\n"
              b"Some notes.\n",
    "log-then-section": b"---\nname: Anna\nlast_contact: 2026-01-01\nstatus: active\n---\n"
                        b"## Log\n- 2026-01-01 Coffee\n\n## Ideas\n- not a log entry\n",
    "no-final-newline": b"---\nname: Anna\nlast_contact: 2026-01-01\nstatus: active\n---\n"
                        b"## Log\n- 2026-01-01 Coffee",
    "flow-lists": b"---\nname: Anna\ntags: [person, press]\nemail: [a@x.org, b@x.org]\n"
                  b"last_contact: 2026-01-01\nstatus: active\n---\n## Log\n- 2026-01-01 Coffee\n",
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_append_log_inserts_exactly_one_line(name: str) -> None:
    before = FIXTURES[name]
    nl = b"\r\n" if b"\r\n" in before else b"\n"
    after = append_log(before, "- 2026-11-23 Lunch")
    [(tag, _, new)] = changes(before, after) or [("", [], [])]
    if name == "no-log":
        assert after == before + nl + b"## Log" + nl + b"- 2026-11-23 Lunch" + nl
        return
    if name == "no-final-newline":
        assert after == before + b"\n- 2026-11-23 Lunch"
        return
    assert tag == "insert"
    assert new == [b"- 2026-11-23 Lunch" + nl]
    if name == "log-then-section":
        assert after.index(b"- 2026-11-23 Lunch") < after.index(b"## Ideas")
    assert after.startswith(before[:3])  # the BOM, if any, stays


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_set_existing_key_changes_one_line_in_its_style(name: str) -> None:
    before = FIXTURES[name]
    after = set_front_matter(before, "last_contact", "2026-11-23")
    [(tag, old, new)] = changes(before, after)
    assert tag == "replace"
    assert len(old) == len(new) == 1
    assert old[0].replace(b"2026-01-01", b"2026-11-23") == new[0]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_status_is_set_in_place(name: str) -> None:
    before = FIXTURES[name]
    after = set_front_matter(before, "status", "paused")
    [(tag, old, new)] = changes(before, after)
    assert (tag, len(old), len(new)) == ("replace", 1, 1)
    assert b"paused" in new[0]
    assert old[0].replace(b"active", b"paused") == new[0]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_new_key_is_one_inserted_line_before_the_closing_dashes(name: str) -> None:
    before = FIXTURES[name].replace(b"snooze_until: '2026-02-01'\n", b"")
    nl = b"\r\n" if b"\r\n" in before else b"\n"
    after = set_front_matter(before, "snooze_until", "2026-12-24")
    [(tag, old, new)] = changes(before, after)
    assert (tag, old, new) == ("insert", [], [b"snooze_until: 2026-12-24" + nl])
    lines = after.splitlines()
    assert lines[lines.index(b"snooze_until: 2026-12-24") + 1] == b"---"


def test_note_without_front_matter_gets_one() -> None:
    after = set_front_matter(b"# Anna\n", "status", "paused")
    assert after == b"---\nstatus: paused\n---\n# Anna\n"


def test_an_indented_comment_after_a_one_line_value_is_kept() -> None:
    before = b"---\nstatus: active\n  # why: she asked for a break\nname: A\n---\n"
    after = set_front_matter(before, "status", "paused")
    assert after == before.replace(b"status: active", b"status: paused")


def test_block_value_is_replaced_whole() -> None:
    before = b"---\nname: A\nstatus:\n  active\nb: 1\n---\n"
    after = set_front_matter(before, "status", "paused")
    assert after == b"---\nname: A\nstatus: paused\nb: 1\n---\n"


@pytest.mark.parametrize(
    "broken",
    [
        b"---\nname: [A\n---\n",
        b"---\nname: A\n",
        b"---\n- a list\n---\n",
        b"---\nname: A\n---\nbad \xff\n",
    ],
)
def test_malformed_notes_are_never_written(broken: bytes) -> None:
    with pytest.raises(NoteNotWritable, match="never written"):
        set_front_matter(broken, "status", "paused")
    with pytest.raises(NoteNotWritable):
        append_log(broken, "- 2026-11-23 x")


def test_unusual_layout_is_refused_rather_than_guessed() -> None:
    with pytest.raises(NoteNotWritable, match="safely"):
        set_front_matter(b"---\n{name: A, status: active}\n---\n", "status", "paused")


def test_log_entry_after_item_continuation_lines_and_not_inside_code() -> None:
    before = (b"## Log\n- 2026-01-01 a\n  continued\n```\n## Not a heading\n```\n"
              b"- 2026-01-02 b\n    more\n\nA closing remark.\n")
    after = append_log(before, "- 2026-11-23 c")
    assert after == (b"## Log\n- 2026-01-01 a\n  continued\n```\n## Not a heading\n```\n"
                     b"- 2026-01-02 b\n    more\n- 2026-11-23 c\n\nA closing remark.\n")


def test_log_line_and_yaml_scalar() -> None:
    day = "2026-11-23"
    assert log_line(day, "  Mail\n about it ", "attempt") == "- 2026-11-23 Mail about it #attempt"
    assert log_line(day, "said no #declined", "declined") == "- 2026-11-23 said no #declined"
    assert log_line("2026-11-23", "", None) == "- 2026-11-23"
    assert yaml_scalar("München") == "München"
    assert yaml_scalar("a: b") == '"a: b"'
    assert yaml_scalar("#x") == '"#x"'
    assert yaml_scalar("yes") == '"yes"'
    assert yaml_scalar('say "hi": now') == '"say \\"hi\\": now"'
