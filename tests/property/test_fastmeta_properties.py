"""Hypothesis: the fast front-matter path and PyYAML agree whenever the fast path answers."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from vaultnetz.fastmeta import NoteLoader, _Fallback, fast_front_matter, load_front_matter
from vaultnetz.notes import key_lines_of

SCALARS = [
    "Berlin", "München", "Frankfurt am Main", "2026-01-01", "2026-02-30", "2026-1-1",
    "2026-01-01 10:00:00", "2026-01-01T10:00:00Z", "yes", "No", "on", "OFF", "true", "null", "~",
    "12", "012", "0x1F", "1_000", "1:30", "3.5", ".inf", "-.5", "+1", "1e3", "3m", "6w",
    "every 3 months", "alle 3 Monate", "--07-14", "-5", "- 5", "a: b", "a:b", "url: x",
    "https://example.org/a?b=c#d", "C#", "x #comment", "#x", "@handle", "`x`", "%x", "!tag",
    "&anchor", "*alias", "|", ">", "?", ":", ",", "[", "]", "{a: 1}", "[a, b]", "[]",
    "[[2026-01-01]]", "[[Anna Berger]]", "[[a, b]]", "[a, [b]]", "[a, 'b, c']", "[a,]",
    "'quoted'", '"double"', "'it''s'", '"esc\\"aped"', '"tab\\t"', "''", '""', '"a" "b"',
    "'a' # c", '"[[2026-01-01]]"', "Ünal Çelik", "a\tb", "x  ", "  y", "a # b # c", "<<",
    "=", "\xa0", "a\xa0#b", "x\u3000", "\u00e9t\u00e9",
    "0o17", "0b101", "190:20:30", "1.0e+3", "NaN", "Null", "NULL", "y", "n", "Y", "N",
]
keys = st.sampled_from(["name", "city", "tags", "yes", "2026", "a-b", "a b", "_x", "ä", "k"])
scalars = st.sampled_from(SCALARS) | st.text(max_size=12)
comments = st.sampled_from(["", " # c", "  #c", "#c"])


@st.composite
def blocks(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        key = draw(keys)
        kind = draw(st.integers(0, 4))
        if kind == 0:
            lines.append(f"{key}: {draw(scalars)}{draw(comments)}")
        elif kind == 1:
            lines.append(f"{key}:{draw(comments)}")
            indent = draw(st.sampled_from(["", "  ", "    "]))
            for _ in range(draw(st.integers(0, 3))):
                lines.append(f"{indent}- {draw(scalars)}")
        elif kind == 2:
            items = draw(st.lists(scalars, max_size=3))
            lines.append(f"{key}: [{', '.join(items)}]")
        elif kind == 3:
            lines.append(draw(st.sampled_from(["", "# comment", "  # indented", "  nested: 1",
                                               "key:value", "- top item"])))
        else:
            lines.append(f"{key}:  {draw(scalars)}")
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines)


def reference(block: str) -> Any:
    return yaml.load(block, Loader=NoteLoader)


@settings(max_examples=2000, deadline=None)
@given(blocks())
@example("name: Anna\ntags: [person, press]\nlast_contact: 2026-01-01  # met\n")
@example("aliases:\n  - Anna\n  - A. B.\ncity: München")
@example("last_contact: [[2026-01-01]]\nbirthday: --07-14\nphone: 0170123")
def test_fast_path_agrees_with_pyyaml(block: str) -> None:
    try:
        fast = fast_front_matter(block)
    except _Fallback:
        return
    try:
        expected = reference(block)
    except yaml.YAMLError as exc:  # the fast path must not accept what YAML rejects
        pytest.fail(f"fast path accepted invalid YAML {block!r}: {fast!r} ({exc})")
    assert fast == (expected if expected is not None else {})
    assert [type(v) for v in fast.values()] == [type(v) for v in (expected or {}).values()]


@settings(max_examples=1000, deadline=None)
@given(blocks())
@example("name: Anna\n# c\ntags:\n  - a\nname: again\ncity: X")
def test_fast_path_key_lines_are_the_scanned_ones(block: str) -> None:
    """The key lines the fast path records are those a line scan of the note finds."""
    key_lines: dict[str, int] = {}
    try:
        fast_front_matter(block, key_lines)
    except _Fallback:
        return
    lines = ["---", *block.split("\n"), "---"]
    assert {k: v + 1 for k, v in key_lines.items()} == key_lines_of(lines, len(lines) - 1)


def test_common_front_matter_takes_the_fast_path() -> None:
    block = ("name: Anna Berger\naliases: [Anna]\ntags:\n  - person\n  - press\ncadence: 3m\n"
             "last_contact: \"[[2026-07-02]]\"\npriority: high\nbirthday: 1984-03-14\n"
             "met_via: Volontariat at the Tagblatt  # she edited my first piece\n"
             "email: [a@example.org, b@example.org]\nphone: '+49 170 0000000'\n"
             "linkedin: https://www.linkedin.com/in/x\n")
    assert fast_front_matter(block) == reference(block)


def test_load_falls_back_for_everything_else() -> None:
    block = "name: Anna\naddress:\n  city: Berlin\nnote: |\n  two\n  lines\n"
    assert load_front_matter(block) == reference(block)
    with pytest.raises(yaml.YAMLError):
        load_front_matter("name: [unclosed\n")
