"""Hypothesis: a vault patched from its snapshot (only the changed contact notes read
again) is the vault built afresh, whatever changes, and however recently."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultnetz.config import load_config
from vaultnetz.contacts import Vault
from vaultnetz.index import NoteIndex, open_cache
from vaultnetz.load import OneShotIndex, load_vault
from vaultnetz.model import Schedule
from vaultnetz.schedule import schedule
from vaultnetz.snapshot import plan_of

TODAY = date(2026, 11, 23)
OLD = 1_700_000_000  # notes last changed long ago: the cache trusts them by mtime

CONTACTS = {
    "People/Anna.md": "---\ncadence: 3m\naliases: [Annie]\n---\n## Log\n- 2026-05-01 Call\n",
    "People/Bo.md": "---\nlast_contact: 2026-01-10\n---\n",
    "Elsewhere/Cem.md": "---\ntags: [person]\ncity: Köln\n---\n",
}
OTHERS = {
    "Daily/2026-11-01.md": "Met [[Anna]] and [[Annie]], then [[Cem]].\n",
    "Daily/2026-11-02.md": "[[Bo]] called. [[Zed]] not yet.\n",  # Zed: an alias, later
    "Trips/Köln.md": "---\ncity: Köln\nfrom: 2026-12-01\nto: 2026-12-03\n---\n",
    "Projects/Housing.md": "---\nstatus: draft\n---\nAsk [[Anna]] about it.\n",
    "Ideas.md": "Plain text, no front-matter.\n",
}

EDITS = {
    "log": lambda text: text + "\n## Log\n- 2026-11-20 Coffee #attempt\n",
    "field": lambda text: text.replace("---\n", "---\nsnooze_until: 2026-12-24\n", 1),
    "bad-field": lambda text: text.replace("---\n", "---\ncadence: often\n", 1),
    "warning-only": lambda text: text + "\n## Log\n- someday: no date\n",
    "rename": lambda text: text.replace("---\n", "---\nname: Someone Else\n", 1),
    "alias": lambda text: text.replace("---\n", "---\nalias: Zed\n", 1),
    # Names that notes link already: to nobody yet, to another contact, to a note's path.
    "alias-linked": lambda text: text.replace("---\n", "---\nalias: [Nobody, Cem]\n", 1),
    "alias-path": lambda text: text.replace("---\n", "---\nalias: Daily/Annie\n", 1),
    "untag": lambda text: text.replace("tags: [person]", "tags: [place]"),
    "tag": lambda text: "---\ntags: [person]\n---\n" + text,
    "yaml-error": lambda text: "---\nkey: [\n---\n" + text,
    "broken": lambda text: "---\nname: [\n---\n",
    "fixed": lambda text: "---\ncadence: 2m\ntags: [person]\n---\n",  # also a broken one
    "dated-link": lambda text: text.replace("---\n", "---\ndate: 2026-11-03\n", 1) + "[[Bo]]\n",
    # A trip's dates and city (any other note: the key is added, or changes nothing).
    "trip-dates": lambda text: text.replace("to: 2026-12-03", "to: 2026-12-09").replace(
        "city: Köln", "city: Bonn"),
    "trip-bad": lambda text: text.replace("from: 2026-12-01", "from: someday"),
    "same": lambda text: text,
    "link": lambda text: text + "Also [[Bo]], [[Annie|A.]] and [[Nobody]].\n",
    "unlink": lambda text: text.replace("[[", "(").replace("]]", ")"),
    "delete": lambda text: "",  # the note is removed
}
NEW_NOTES = {
    "Daily/2026-11-05.md": "Lunch with [[Cem]] and [[Bo]].\n",
    "Notes/New idea.md": "---\ntopic: housing\n---\nNothing about people.\n",
    "People/Dana.md": "---\ncadence: 2m\n---\n",
    "Elsewhere/Eve.md": "---\ntags: [person]\naliases: [Nobody]\n---\n",
    "Trips/Bonn.md": "---\ncity: Bonn\nfrom: 2026-11-28\n---\nSee [[Bo]] there.\n",
}

steps = st.lists(
    st.tuples(st.sampled_from(sorted(CONTACTS) + sorted(OTHERS) + sorted(NEW_NOTES)),
              st.sampled_from(sorted(EDITS)), st.booleans()),
    min_size=1, max_size=4)


def parts(vault: Vault) -> tuple[object, ...]:
    return (vault.contacts, vault.problems, vault.note_count, vault.broken_contacts,
            vault.trips)


def plan(root: Path, cache_dir: Path, vault: Vault) -> Schedule:
    cache = open_cache(cache_dir, root, vault.config)
    try:
        return plan_of(vault, TODAY, cache)
    finally:
        cache.close()


def read(root: Path, cache_dir: Path) -> tuple[Vault, NoteIndex]:
    config = load_config(root)[0]
    cache = open_cache(cache_dir, root, config)
    try:
        index = OneShotIndex(root, None, cache)
        return index.load()[0], index
    finally:
        cache.close()


def stored(root: Path, cache_dir: Path, files: dict[str, str] | None = None) -> Vault:
    """A vault of ``files`` (the contacts and other notes above), all of them old, with its
    snapshot stored (by the second run)."""
    for rel, text in (files or {**CONTACTS, **OTHERS}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
        os.utime(root / rel, (OLD, OLD))
    for _ in range(2):
        vault = read(root, cache_dir)[0]
    return vault


def patched(root: Path, cache_dir: Path, rel: str, text: str | None, when: int,
            parsed: int) -> Vault:
    """``rel`` written with ``text`` and its mtime set to ``when`` (removed for None): the
    next run patches the snapshot, reading ``parsed`` notes, into the vault built afresh."""
    path = root / rel
    if text is None:
        path.unlink()
    else:
        path.write_text(text, encoding="utf-8")
        os.utime(path, (when, when))
    vault, index = read(root, cache_dir)
    assert index.from_snapshot and index.parsed == parsed, rel
    assert parts(vault) == parts(load_vault(root)), rel
    return vault


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_a_patched_vault_is_the_vault_built_afresh(changes: list[tuple[str, str, bool]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root, cache_dir = Path(tmp) / "vault", Path(tmp) / "cache"
        vault = stored(root, cache_dir)
        plan(root, cache_dir, vault)  # and today's plan with it
        for n, (rel, edit, recent) in enumerate(changes, 1):
            path = root / rel
            if not path.exists():  # a new note (whatever the edit)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(NEW_NOTES.get(rel, "x\n"), encoding="utf-8")
            elif edit == "delete":
                path.unlink()
            else:
                path.write_text(EDITS[edit](path.read_text(encoding="utf-8")), encoding="utf-8")
            if path.exists() and not recent:  # else: too recent to be trusted by its mtime
                os.utime(path, (OLD + n, OLD + n))
            fresh = load_vault(root)
            expected = parts(fresh)
            for _ in range(2):
                patched = read(root, cache_dir)[0]
                assert parts(patched) == expected, (rel, edit, recent)
                # Its plan, made from the plan before for the contacts that did not change
                # (stored for the next step), is the one made afresh.
                assert plan(root, cache_dir, patched) == schedule(
                    fresh.contacts, TODAY, fresh.config), (rel, edit, recent)


def test_only_the_changed_notes_are_read(tmp_path: Path) -> None:
    root, cache_dir = tmp_path / "vault", tmp_path / "cache"
    stored(root, cache_dir)
    anna = root / "People" / "Anna.md"
    anna.write_text(EDITS["log"](anna.read_text(encoding="utf-8")), encoding="utf-8")
    vault, index = read(root, cache_dir)
    assert index.from_snapshot and index.parsed == 1
    assert parts(vault) == parts(load_vault(root))
    # Anna's mentions in the daily notes are still hers.
    anna_contact = next(c for c in vault.contacts if c.path == "People/Anna.md")
    assert [i.source for i in anna_contact.interactions].count("mention") == 1
    project = root / "Projects" / "Housing.md"  # most edits are to notes like this one
    project.write_text(project.read_text(encoding="utf-8") + "More text.\n", encoding="utf-8")
    vault, index = read(root, cache_dir)
    assert index.from_snapshot and index.parsed == 2  # Anna's note is still too recent
    assert parts(vault) == parts(load_vault(root))
    today = root / "Daily" / "2026-11-05.md"  # a new daily note, linking two contacts
    today.write_text(NEW_NOTES["Daily/2026-11-05.md"], encoding="utf-8")
    vault, index = read(root, cache_dir)
    assert index.from_snapshot and index.parsed == 3
    assert parts(vault) == parts(load_vault(root))
    cem = next(c for c in vault.contacts if c.path == "Elsewhere/Cem.md")
    assert [i.path for i in cem.interactions if i.source == "mention"] == [
        "Daily/2026-11-01.md", "Daily/2026-11-05.md"]
    bo = root / "People" / "Bo.md"
    bo.write_text(EDITS["rename"](bo.read_text(encoding="utf-8")), encoding="utf-8")
    vault, index = read(root, cache_dir)  # a new name: [[Bo]] still finds Bo by file name
    assert index.from_snapshot and index.parsed == 4
    assert parts(vault) == parts(load_vault(root))
    for rel in ("People/Anna.md", "Projects/Housing.md", "Daily/2026-11-05.md",
                "People/Bo.md"):
        os.utime(root / rel, (OLD + 1, OLD + 1))
    read(root, cache_dir)  # a snapshot stored again
    # A new contact answering to a name a daily note links but nobody had: that note, and
    # only that one, is read again, and mentions her now.
    daily = root / "Daily" / "2026-11-02.md"
    daily.write_text("[[Bo]] called, then [[Nobody]].\n", encoding="utf-8")
    os.utime(daily, (OLD + 2, OLD + 2))
    read(root, cache_dir)
    eve = "Elsewhere/Eve.md"
    vault = patched(root, cache_dir, eve, NEW_NOTES[eve], OLD + 3, parsed=2)
    eve_contact = next(c for c in vault.contacts if c.path == eve)
    assert [i.path for i in eve_contact.interactions] == ["Daily/2026-11-02.md"]
    patched(root, cache_dir, eve, None, 0, parsed=1)  # and gone again: the mention with her


def test_a_contact_broken_and_mended_is_patched(tmp_path: Path) -> None:
    """A contact note saved with broken front-matter, and mended again: each time only that
    note and the daily note linking it are read, and the vault is the one built afresh (its
    contact gone, then back, with its mentions)."""
    root, cache_dir = tmp_path / "vault", tmp_path / "cache"
    stored(root, cache_dir)
    for n, (text, broken) in enumerate([("---\nname: [\n---\n", True),
                                        (CONTACTS["People/Anna.md"], False)], 1):
        vault = patched(root, cache_dir, "People/Anna.md", text, OLD + n, parsed=2)
        assert ("People/Anna.md" in vault.broken_contacts) == broken
        assert any(c.path == "People/Anna.md" for c in vault.contacts) != broken


def test_a_dated_contact_note_is_patched(tmp_path: Path) -> None:
    """Templates that give every note a `date` make a contact's links mentions of those it
    links: editing such a contact note (the most frequent edit) is patched too — its
    contact anew and its mentions of the others."""
    root, cache_dir = tmp_path / "vault", tmp_path / "cache"
    files = {**CONTACTS, **OTHERS, "People/Dora.md": "---\ndate: 2026-11-02\n---\nMet [[Bo]].\n"}
    stored(root, cache_dir, files)
    dora = root / "People" / "Dora.md"
    for n, more in enumerate(["## Log\n- 2026-11-20 Call\n", "Then [[Cem]] and [[Dora]].\n",
                              "No more links.\n"], 1):
        text = dora.read_text(encoding="utf-8") + more
        vault = patched(root, cache_dir, "People/Dora.md",
                        text if n < 3 else text.replace("[[", "(("), OLD + n, parsed=1)
    bo = next(c for c in vault.contacts if c.path == "People/Bo.md")
    assert [i.path for i in bo.interactions if i.source == "mention"] == ["Daily/2026-11-02.md"]


def test_the_notes_read_again_for_a_new_name_keep_their_problems(tmp_path: Path) -> None:
    """A daily note read again because a contact now answers to a name it links keeps its
    own warnings: only the changed notes' problems are worked out again."""
    root, cache_dir = tmp_path / "vault", tmp_path / "cache"
    daily = "## Log\n- 03/11/2026 Lunch\n\nMet [[Nobody]].\n"  # a date not YYYY-MM-DD
    stored(root, cache_dir, {**CONTACTS, **OTHERS, "Daily/2026-11-03.md": daily})
    vault = patched(root, cache_dir, "Elsewhere/Eve.md", NEW_NOTES["Elsewhere/Eve.md"],
                    OLD + 1, parsed=2)
    assert [p.code for p in vault.problems if p.path == "Daily/2026-11-03.md"] == [
        "log-date-form"]


NAMEISH = st.text(st.sampled_from("aAbBöÖßİ .-/\\\t\u0308\u00a0mdMD"), max_size=12)


@settings(max_examples=400, deadline=None)
@given(st.lists(NAMEISH, max_size=4), st.lists(NAMEISH, min_size=1, max_size=3))
def test_links_any_rules_out_only_what_cannot_resolve(targets: list[str],
                                                      names: list[str]) -> None:
    """Its shortcut for plain-ASCII targets never rules out a target whose key, without
    its folders, is one of the words a contact's names come down to."""
    from vaultnetz.notes import link_key
    from vaultnetz.patch import links_any, words

    wanted = words(link_key(name) for name in names)

    def may_resolve(target: str) -> bool:
        tail = link_key(target).rsplit("/", 1)[-1]
        return tail in wanted or link_key(tail) in wanted

    assert links_any(targets, wanted) == any(may_resolve(t) for t in targets)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(NAMEISH, NAMEISH, st.lists(NAMEISH, max_size=2)), max_size=6),
       st.lists(NAMEISH, min_size=1, max_size=4))
def test_the_lookup_resolves_links_by_its_levels(people: list[tuple[str, str, list[str]]],
                                                targets: list[str]) -> None:
    """Held to its definition: the contacts whose note path, else file name, else name,
    else an alias is the link's (else, for a link with folders, its file name's)."""
    from vaultnetz.contacts import ContactLookup
    from vaultnetz.model import Contact
    from vaultnetz.notes import link_key

    contacts = tuple(Contact(f"People/{path}.md", name or "x", tuple(aliases))
                     for path, name, aliases in people)

    def defined(key: str) -> list[int]:
        for level in (lambda c: [c.path], lambda c: [c.path.rsplit("/", 1)[-1]],
                      lambda c: [c.name], lambda c: list(c.aliases)):
            found = [i for i, c in enumerate(contacts)
                     if key in {link_key(text) for text in level(c)}]
            if found:
                return found
        return defined(link_key(key.rsplit("/", 1)[-1])) if "/" in key else []

    lookup = ContactLookup(contacts)
    for target in targets:
        assert lookup.resolve(target) == defined(link_key(target)), target
