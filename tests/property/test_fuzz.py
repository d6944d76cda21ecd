"""Fuzzing the readers: random bytes, random YAML, random Markdown with links.

Parsing never raises (every problem is a Problem), and reading a vault never
changes a byte of it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultnetz.load import load_vault
from vaultnetz.notes import parse_note, split_lines

yaml_lines = st.one_of(
    st.sampled_from(["name: A", "tags: [person", "tags: [person]", "cadence: 3x", "- item",
                     "key: 'unclosed", "&a x", "*a", "!!binary aGk=", "? complex", "a: {b: c}",
                     "last_contact: 2026-13-45", "birthday: --02-30", "status: weird", ":",
                     "---", "...", "\t- tab", "  indented: x", "date: 2026-01-01",
                     "aliases: [[Anna]]", "x: !!python/name:os.system", "y: *undefined"]),
    st.text(max_size=30),
)
markdown_lines = st.one_of(
    st.sampled_from(["## Log", "# Log", "### Log", "- 2026-01-01 ok", "- [[2026-02-30]] x",
                     "- 2026-1-1 short", "* 2026-01-01 #attempt", "- 2026-01-01 #declined",
                     "```", "~~~", "[[Anna]]", "[[Anna|A]]", "[[People/Anna#H|x]]", "[[",
                     "]]", "[[a]b]]", "![[img.png]]", "- 9999-99-99 y", ""]),
    st.text(max_size=40),
)


@st.composite
def notes(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return draw(st.binary(max_size=300))
    lines = []
    if draw(st.booleans()):
        lines += ["---", *draw(st.lists(yaml_lines, max_size=6))]
        if draw(st.booleans()):
            lines.append("---")
    lines += draw(st.lists(markdown_lines, max_size=10))
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)
    data = text.encode("utf-8", "surrogatepass")
    if kind == 2:
        data = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe"])) + data
    return data


@settings(max_examples=500, deadline=None)
@given(notes(), st.sampled_from(["People/A.md", "Daily/2026-01-01.md", "x.sync-conflict-1.md"]))
def test_parse_never_raises(data: bytes, path: str) -> None:
    note = parse_note(path, data, max_size=1000)
    if any(p.severity == "error" for p in note.problems):
        assert not note.ok
    for problem in note.problems:
        assert problem.path == path
        assert problem.message
        lines = len(split_lines(data.decode("utf-8", "replace")))
        assert problem.line is None or 1 <= problem.line <= lines + 1


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(notes(), min_size=1, max_size=6))
def test_reading_a_random_vault_changes_nothing(tmp_path_factory, contents: list[bytes]) -> None:
    root: Path = tmp_path_factory.mktemp("fuzz")
    (root / "People").mkdir()
    for i, data in enumerate(contents):
        (root / "People" / f"N{i}.md").write_bytes(data)
    (root / "Daily").mkdir()
    (root / "Daily" / "2026-01-01.md").write_bytes(b"[[N0]] [[N1|x]]")
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.md")}
    vault = load_vault(root)
    assert len(vault.contacts) + len(vault.broken_contacts) <= len(contents)
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.md")}
    assert before == after
