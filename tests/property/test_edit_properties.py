"""Hypothesis: whatever the note looks like, an edit changes only its own line."""

from __future__ import annotations

import difflib

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vaultnetz.edit import append_log, set_front_matter
from vaultnetz.errors import NoteNotWritable
from vaultnetz.notes import parse_note

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüß ÄÖÜ-_.,!?()", min_size=1, max_size=20)
keys = st.sampled_from(["name", "city", "met_via", "company", "role", "cadence", "aliases",
                        "zeta", "alpha", "last_contact", "status", "email"])
values = st.one_of(
    words.map(lambda w: w.strip() or "x"),
    words.map(lambda w: f'"{w}"'),
    words.map(lambda w: f"'{w}'"),
    st.just("2026-01-01"),
    st.just("[[2026-02-03]]"),
    st.just('"[[2026-02-03]]"'),
    st.just("[a, b]"),
    st.just("active"),
    st.just("paused"),
)
comments = st.sampled_from(["", "  # note", " # x"])
body_lines = st.one_of(
    words,
    st.just(""),
    st.just("## Log"),
    st.just("## Ideas"),
    st.just("### Sub"),
    st.builds(lambda w: f"- 2026-03-0{len(w) % 9 + 1} {w}", words),
    st.builds(lambda w: f"  continued {w}", words),
    st.just("```"),
)


@st.composite
def notes(draw: st.DrawFn) -> bytes:
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    lines: list[str] = []
    if draw(st.booleans()):
        pairs = draw(st.dictionaries(keys, st.tuples(values, comments), max_size=6))
        lines += ["---"]
        lines += [f"{k}: {v}{c}" for k, (v, c) in pairs.items()]
        lines += ["---"]
    lines += draw(st.lists(body_lines, max_size=12))
    text = nl.join(lines)
    if draw(st.booleans()):
        text += nl
    bom = "\ufeff" if draw(st.booleans()) else ""
    return (bom + text).encode("utf-8")


def only_change(before: bytes, after: bytes) -> list[tuple[str, list[bytes], list[bytes]]]:
    bom = b"\xef\xbb\xbf"
    assert before.startswith(bom) == after.startswith(bom)
    before, after = before.removeprefix(bom), after.removeprefix(bom)
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [(tag, a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes()
            if tag != "equal"]


@settings(max_examples=300, deadline=None)
@given(notes())
def test_append_log_keeps_every_other_byte(note: bytes) -> None:
    parsed = parse_note("A.md", note)
    assume(not any(p.severity == "error" for p in parsed.problems))
    try:
        after = append_log(note, "- 2026-11-23 Lunch")
    except NoteNotWritable:
        return
    # Removing the new line (and the heading/newline added with it) gives the original back.
    entry = after.find(b"- 2026-11-23 Lunch")
    assert entry >= 0
    changed = only_change(note, after)
    added = b"".join(b"".join(new) for _, _, new in changed)
    removed = b"".join(b"".join(old) for _, old, _ in changed)
    assert b"- 2026-11-23 Lunch" in added
    # Only a missing final newline may be completed; nothing else of the original is lost.
    assert removed.rstrip(b"\r\n") in added or removed == b""
    reparsed = parse_note("A.md", after)
    assert reparsed.meta == parsed.meta
    assert len(reparsed.log) == len(parsed.log) + 1


@settings(max_examples=300, deadline=None)
@given(notes(), st.sampled_from(["status", "snooze_until", "last_contact"]))
def test_set_front_matter_touches_one_key(note: bytes, key: str) -> None:
    parsed = parse_note("A.md", note)
    assume(not any(p.severity == "error" for p in parsed.problems))
    value = "paused" if key == "status" else "2026-12-24"
    try:
        after = set_front_matter(note, key, value)
    except NoteNotWritable:
        return
    reparsed = parse_note("A.md", after)
    expected = dict(parsed.meta)
    expected[key] = reparsed.meta[key]
    assert reparsed.meta == expected
    assert [(e.day, e.kind, e.text) for e in reparsed.log] == [
        (e.day, e.kind, e.text) for e in parsed.log]
    changed = only_change(note, after)
    if not changed:  # it had that value already
        assert str(parsed.meta.get(key)).strip("[]") == value
        return
    assert len(changed) == 1
    tag, _, new = changed[0]
    if parsed.meta and key in parsed.meta:
        assert tag == "replace"
        assert len(new) == 1
    else:
        assert tag == "insert"
