"""The write commands as functions: read, edit minimally, write atomically, maybe commit.

Only these write to the vault (CONTRACT §7), each through ``edit`` (the minimal
text change) and ``atomic`` (the checked replace).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from . import vcs
from .atomic import create_file_exclusive, update_note
from .config import field_keys
from .contacts import Vault, contact_from_note
from .edit import append_log, log_line, set_front_matter, yaml_scalar
from .errors import InvalidValue, NoteNotWritable
from .model import Contact
from .notes import link_key, parse_note
from .report import control_in
from .values import parse_cadence, parse_date

Kind = Literal["contact", "attempt", "declined"]


@dataclass(frozen=True)
class WriteResult:
    path: str  # relative to the vault
    changed: bool
    summary: str
    commit: str | None = None


def _commit_wanted(vault: Vault, commit: bool | None) -> bool:
    return vault.config.git_commit if commit is None else commit


Edit = Callable[[bytes], tuple[bytes, str]]


def _write(vault: Vault, contact: Contact, action: str, edit: Edit, commit: bool | None
           ) -> WriteResult:
    """Apply ``edit`` (bytes → (bytes, summary)) to the contact's note, safely."""
    wants_commit = _commit_wanted(vault, commit)
    if wants_commit:
        vcs.repo_root(vault.root)  # before writing: with no repository nothing is written
    path = vault.root / contact.path
    summaries: list[str] = []

    def change(data: bytes) -> bytes:
        if not _has_front_matter(data) and _lost_values(vault, contact, data):
            raise NoteNotWritable(
                f"{path} has no front-matter now, but had one when vaultnetz read it (an "
                "editor may be saving it); nothing was written",
                "wait until the note is saved, then run the command again")
        new_data, summary = edit(data)
        summaries.append(summary)
        return new_data

    snapshot, new_data = update_note(path, change, min_size=vault.read_sizes.get(contact.path, 0))
    if new_data == snapshot.data:
        return WriteResult(contact.path, False, summaries[-1])
    summary = summaries[-1]
    sha = None
    if wants_commit:
        sha = vcs.commit_files(vault.root, [contact.path],
                               f"vaultnetz: {action} {contact.name}")
    return WriteResult(contact.path, True, summary, sha)


def _lost_values(vault: Vault, contact: Contact, data: bytes) -> bool:
    """Whether the note, now without front-matter, lacks values it was read with: its
    front-matter is gone (an editor is saving it), rather than never there (a note with
    only Dataview fields or a #person tag in its text)."""
    note = parse_note(contact.path, data, log_heading=vault.config.log_heading,
                      max_size=len(data) + 1, date_key="")
    now, _ = contact_from_note(note, vault.config)
    return now is None or _values(now) != _values(contact)


def _values(contact: Contact) -> tuple[object, ...]:
    return (contact.name, contact.aliases, contact.tags, contact.cadence,
            contact.last_contact_field, contact.snooze_until, contact.status,
            contact.priority, contact.birthday, contact.met_via, contact.city,
            contact.company, contact.role, contact.email, contact.phone, contact.linkedin)


def _has_front_matter(data: bytes) -> bool:
    return data.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].rstrip() == b"---"


def log_interaction(
    vault: Vault,
    contact: Contact,
    *,
    day: date,
    text: str,
    kind: Kind,
    today: date,
    commit: bool | None = None,
) -> WriteResult:
    """Append a Log entry; a real contact that is not in the future moves last_contact on."""
    config = vault.config
    refuse_controls([("the log text", text)])
    marker = None if kind == "contact" else kind
    entry = log_line(day.isoformat(), text, marker)

    def edit(data: bytes) -> tuple[bytes, str]:
        new = append_log(data, entry, log_heading=config.log_heading)
        summary = f"added to {contact.path}: {entry}"
        if kind == "contact" and day <= today:
            meta = parse_note(contact.path, data, log_heading=config.log_heading,
                              max_size=len(data) + 1).meta
            # The key the note uses ("Last Contact", lastContact…), in its front-matter.
            key = field_keys(meta, config).get("last_contact") or ""
            try:
                current = parse_date(meta[key], config.order) if meta.get(key) is not None \
                    else None
            except ValueError:
                current = None
            if key and not key.startswith("::") and (current is None or day > current):
                new = set_front_matter(new, key, day.isoformat(), log_heading=config.log_heading)
                summary += f"; {key}: {day.isoformat()}"
        return new, summary

    label = {"contact": "log contact with", "attempt": "log attempt to reach",
             "declined": "log no from"}[kind]
    return _write(vault, contact, label, edit, commit)


def set_field(vault: Vault, contact: Contact, field: str, value: str, action: str,
              commit: bool | None = None) -> WriteResult:
    """Set one front-matter field (status, snooze_until) with a minimal edit, under the
    key the note already uses for it ("Status"), else the configured one."""
    config = vault.config

    def edit(data: bytes) -> tuple[bytes, str]:
        meta = parse_note(contact.path, data, log_heading=config.log_heading,
                          max_size=len(data) + 1).meta
        key = field_keys(meta, config).get(field) or ""
        if not key or key.startswith("::"):
            key = config.key(field)
        return (set_front_matter(data, key, value, log_heading=config.log_heading),
                f"{contact.path}: {key}: {value}")

    return _write(vault, contact, action, edit, commit)


def set_status(vault: Vault, contact: Contact, status: str, commit: bool | None = None
               ) -> WriteResult:
    if contact.status == status:
        return WriteResult(contact.path, False, f"{contact.name} is already {status}")
    action = {"active": "resume", "paused": "pause", "archived": "archive"}[status]
    return set_field(vault, contact, "status", status, action, commit)


def snooze(vault: Vault, contact: Contact, until: date, commit: bool | None = None
           ) -> WriteResult:
    return set_field(vault, contact, "snooze_until", until.isoformat(),
                     f"snooze until {until.isoformat()}", commit)


_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*#^\[\]]')
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
             *(f"lpt{i}" for i in range(1, 10))}


def safe_file_stem(name: str) -> str:
    """A file name that works on Windows, macOS and Linux (and as an Obsidian link)."""
    stem = _UNSAFE.sub("-", unicodedata.normalize("NFC", name))
    stem = " ".join(stem.split()).strip(" .")
    if not stem or stem.lstrip("-") == "":
        raise InvalidValue(f"{name!r} cannot be a file name", "use letters in the name")
    if stem.split(".")[0].casefold() in _RESERVED:
        stem += "_"
    while len(stem.encode("utf-8")) > 200:  # leave room for ".md" and long folder paths
        stem = stem[:-1]
    return stem


@dataclass(frozen=True)
class NewContact:
    name: str
    cadence: str | None = None
    city: str | None = None
    met_via: str | None = None
    company: str | None = None
    role: str | None = None
    email: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


def contact_text(new: NewContact, log_heading: str, newline: str = "\n") -> str:
    """The Markdown of a new contact note."""
    tags = ["person", *(t.lstrip("#") for t in new.tags if t.lstrip("#") != "person")]
    lines = ["---"]
    stem = safe_file_stem(new.name)
    if stem != new.name:
        lines.append(f"name: {yaml_scalar(new.name)}")
    lines.append("tags: [" + ", ".join(yaml_scalar(t) for t in tags) + "]")
    for key, value in (("cadence", new.cadence), ("met_via", new.met_via), ("city", new.city),
                       ("company", new.company), ("role", new.role)):
        if value:
            lines.append(f"{key}: {yaml_scalar(value)}")
    if len(new.email) == 1:
        lines.append(f"email: {yaml_scalar(new.email[0])}")
    elif new.email:
        lines.append("email: [" + ", ".join(yaml_scalar(e) for e in new.email) + "]")
    lines += ["---", f"# {new.name}", "", f"## {log_heading}", ""]
    return newline.join(lines)


def new_contact_folder(vault: Vault) -> str:
    """Where `add` and `import` create notes: the first people folder."""
    if not vault.config.people_folders:
        raise InvalidValue("people_folders is empty, so there is no folder for new contacts",
                           'set people_folders = ["People"] in vaultnetz.toml')
    return vault.config.people_folders[0]


def refuse_controls(texts: Iterable[tuple[str, str]]) -> None:
    """Refuse control characters (other than tab) in text that is to be written to a note:
    they would make it unreadable, or act on the terminal of whoever reads it."""
    for what, value in texts:
        found = control_in(value)
        if found:
            raise InvalidValue(f"{what} contains a control character ({found}); nothing was "
                               "written", "remove it (a stray escape sequence or bell?)")


def add_contact(vault: Vault, new: NewContact, commit: bool | None = None) -> WriteResult:
    """Create a contact note in the first people folder; never overwrites."""
    refuse_controls([("the name", new.name), ("--cadence", new.cadence or ""),
                     ("--city", new.city or ""), ("--met-via", new.met_via or ""),
                     ("--company", new.company or ""), ("--role", new.role or ""),
                     *(("--email", e) for e in new.email), *(("--tag", t) for t in new.tags)])
    if new.cadence:
        try:
            parse_cadence(new.cadence)
        except ValueError as exc:
            raise InvalidValue(str(exc)) from None
    key = link_key(new.name)
    for contact in vault.contacts:
        if key in {link_key(n) for n in (contact.name, *contact.aliases)}:
            raise NoteNotWritable(f"a contact named {new.name!r} exists: {contact.path}",
                                  "use `vaultnetz show` to see it, or pick another name")
    folder = new_contact_folder(vault)
    rel = f"{folder}/{safe_file_stem(new.name)}.md"
    target: Path = vault.root / rel
    wants_commit = _commit_wanted(vault, commit)
    if wants_commit:
        vcs.repo_root(vault.root)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = contact_text(new, vault.config.log_heading).encode("utf-8")
    if not create_file_exclusive(target, data):
        raise NoteNotWritable(f"{rel} exists already; nothing was written",
                              "pick another name, or edit that note")
    sha = None
    if wants_commit:
        sha = vcs.commit_files(vault.root, [rel], f"vaultnetz: add {new.name}")
    return WriteResult(rel, True, f"created {rel}", sha)
