import os
from datetime import date
from pathlib import Path

import pytest

from vaultnetz.notes import find_log_section, link_key, parse_note, walk_notes


def parse(text: str | bytes, path: str = "People/A.md", **kw: object):
    data = text.encode() if isinstance(text, str) else text
    return parse_note(path, data, **kw)  # type: ignore[arg-type]


def test_front_matter_and_log() -> None:
    note = parse(
        "---\nname: Anna\ncadence: 3m\n---\n# Anna\n\n## Log\n"
        "- 2026-01-02 Coffee\n"
        "- [[2026-02-03]] Call #attempt\n"
        "* 2026-03-04: Said no #declined\n"
        "- no date here\n"
        "  - 2026-04-05 nested bullet counts\n"
        "\n## Other\n- 2026-05-06 not in the log\n"
    )
    assert note.ok
    assert note.meta == {"name": "Anna", "cadence": "3m"}
    assert note.meta_lines == {"name": 2, "cadence": 3}
    assert [(e.day, e.kind, e.line) for e in note.log] == [
        (date(2026, 1, 2), "contact", 8),
        (date(2026, 2, 3), "attempt", 9),
        (date(2026, 3, 4), "declined", 10),
        (date(2026, 4, 5), "contact", 12),
    ]
    assert note.log[0].text == "Coffee"
    assert note.log[2].text == "Said no #declined"


def test_log_heading_is_configurable_and_any_level() -> None:
    note = parse("### Kontakte\n- 2026-01-02 x\n## Log\n- 2026-02-02 y\n",
                 log_heading="Kontakte")
    assert [e.day for e in note.log] == [date(2026, 1, 2)]


def test_log_section_ends_at_same_level_heading_but_not_inside_code() -> None:
    lines = ["## Log", "- a", "```", "## not a heading", "```", "### Sub", "- b", "## Next", "- c"]
    assert find_log_section(lines, 0, "log") == (0, 7)


def test_crlf_and_bom() -> None:
    note = parse(b"\xef\xbb\xbf---\r\nname: B\r\n---\r\n## Log\r\n- 2026-01-02 Lunch\r\n")
    assert note.ok
    assert note.meta["name"] == "B"
    assert note.log[0].text == "Lunch"


def test_attempt_tag_must_be_a_tag() -> None:
    note = parse("## Log\n- 2026-01-02 talked about #attempts and email#attempt\n")
    assert note.log[0].kind == "contact"


@pytest.mark.parametrize("day", ["2026-02-30", "9999-12-31", "0202-05-01"])
def test_bad_log_date_is_a_warning_with_line_and_the_rest_is_read(day: str) -> None:
    note = parse(f"# A\n## Log\n- {day} impossible\n- 2026-01-02 fine\n")
    assert note.ok
    [problem] = note.problems
    assert (problem.line, problem.code, problem.severity) == (3, "log-bad-date", "warning")
    assert [entry.text for entry in note.log] == ["fine"]


@pytest.mark.parametrize(
    ("text", "line", "code"),
    [
        ("---\nname: A\n", 1, "frontmatter-unterminated"),
        ("---\nname: A\ncity: [Berlin\n---\n", 4, "frontmatter-yaml"),
        ("---\nname: A\n  bad: indent: here\n---\n", 3, "frontmatter-yaml"),
        ("---\n- a\n- b\n---\n", 2, "frontmatter-not-mapping"),
        ("---\njust a string\n---\n", 2, "frontmatter-not-mapping"),
    ],
)
def test_broken_front_matter(text: str, line: int, code: str) -> None:
    note = parse(text)
    assert not note.ok
    [problem] = note.problems
    assert (problem.line, problem.code, problem.severity) == (line, code, "error")
    assert problem.hint


def test_not_utf8_names_the_line() -> None:
    note = parse(b"---\nname: A\n---\nfine\nbad \xff byte\n")
    assert not note.ok
    assert (note.problems[0].code, note.problems[0].line) == ("encoding", 5)


def test_binary_empty_large_conflict() -> None:
    assert parse(b"\x89PNG\r\n\x1a\n\x00\x00").problems[0].code == "binary"
    empty = parse(b"  \n")
    assert (empty.ok, empty.problems[0].severity) == (False, "warning")
    large = parse(b"x" * 101, max_size=100)
    assert (large.problems[0].code, large.problems[0].severity) == ("too-large", "warning")
    conflict = parse("---\nname: A\n---\n", path="People/A.sync-conflict-20260101-1234-ABC.md")
    assert (conflict.ok, conflict.problems[0].code) == (False, "sync-conflict")
    dropbox = parse("x", path="People/A (Jane's conflicted copy 2026-01-01).md")
    assert dropbox.problems[0].code == "sync-conflict"


@pytest.mark.parametrize(
    ("line", "target"),
    [
        ("[[Anna Berger]]", "Anna Berger"),
        ("[[Anna Berger|Anna]]", "Anna Berger"),
        ("[[Anna Berger#Log]]", "Anna Berger"),
        ("[[Anna Berger#Log|shown]]", "Anna Berger"),
        ("[[People/Anna Berger]]", "People/Anna Berger"),
        ("[[People/Anna Berger.md]]", "People/Anna Berger.md"),
        ("![[Anna Berger]]", "Anna Berger"),
        ("[[Anna Berger^block1]]", "Anna Berger"),
    ],
)
def test_link_forms(line: str, target: str) -> None:
    note = parse(f"text {line} more", path="Daily/2026-01-01.md")
    assert [link.target for link in note.links] == [target]
    assert note.links[0].line == 1


def test_only_dated_notes_keep_links() -> None:
    assert parse("[[Anna]]", path="Ideas.md").links == ()
    assert len(parse("---\ndate: 2026-01-01\n---\n[[Anna]]", path="Ideas.md").links) == 1
    assert len(parse("---\nwhen: 2026-01-01\n---\n[[Anna]]", path="Ideas.md",
                     date_key="when").links) == 1


def test_link_key_normalises() -> None:
    assert link_key(" People/Anna  Berger.md ") == "people/anna berger"
    assert link_key("Jürgen") == link_key("Ju\u0308rgen")  # NFD from macOS file names


def test_walk_ignores_dot_temp_and_other_files(tmp_path: Path) -> None:
    for rel in ["A.md", ".hidden.md", ".obsidian/x.md", ".git/y.md", ".trash/z.md",
                "B.md~", "C.md.swp", ".vaultnetz-123.tmp", "D.txt", "Sub/E.md", "Sub/.F.md",
                "#G.md#", "H.MD"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    found = [rel for rel, _, problem in walk_notes(tmp_path) if problem is None]
    assert found == ["A.md", "H.MD", "Sub/E.md"]


def test_walk_does_not_follow_links_out_of_the_vault_or_into_loops(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    outside = tmp_path / "outside"
    (vault / "People").mkdir(parents=True)
    outside.mkdir()
    (outside / "Secret.md").write_text("x")
    (vault / "People" / "A.md").write_text("x")
    os.symlink(outside, vault / "Out")
    os.symlink(outside / "Secret.md", vault / "Secret.md")
    os.symlink(vault, vault / "People" / "Loop")
    os.symlink(vault / "People" / "A.md", vault / "Alias.md")
    results = list(walk_notes(vault))
    notes = [rel for rel, _, problem in results if problem is None]
    warned = sorted(rel for rel, _, problem in results if problem is not None)
    assert notes == ["Alias.md", "People/A.md"]
    assert warned == ["Out", "Secret.md"]


def test_only_bullets_that_start_with_a_date_in_another_form_are_flagged() -> None:
    note = parse("# A\n## Log\n- Room 12 2026 booked\n- 3 coffees 2026\n- 14. März 2026 Tee\n")
    assert [(p.line, p.code) for p in note.problems] == [(5, "log-date-form")]
    assert "2026-03-14" in (note.problems[0].hint or "")
