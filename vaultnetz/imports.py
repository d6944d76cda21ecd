"""Contacts in: LinkedIn and Google Contacts CSV, vCard 2.1/3.0/4.0 (CONTRACT §5).

Import reactivates the network a user already has (the seeds' first advice): new
people become contact notes with no history, so they queue up after the people the user
knows. Every record of a file is accounted for — new, matched, merged, a possible
duplicate or skipped with its line and reason. Two records are one person only on
evidence (``identity.py``); existing notes are never overwritten — ``merge`` may only
add fields they lack, with the minimal-edit writer.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from .actions import safe_file_stem
from .atomic import create_files_exclusive, update_note
from .contacts import Vault
from .edit import set_front_matter, yaml_list, yaml_scalar
from .errors import InvalidValue
from .identity import Person, Plan, Skipped, plan_import
from .model import Birthday
from .notes import parse_note
from .report import strip_controls
from .values import parse_birthday
from .vcard import Card, read_cards

SOURCES = ("linkedin", "google", "vcard")
__all__ = ["READERS", "SOURCES", "Person", "Plan", "Skipped", "apply_import", "plan_import"]

Records = tuple[list[Person], list[Skipped]]


class ImportFormatError(InvalidValue):
    pass


# --------------------------------------------------------------------------- what a file is

_KINDS = {
    "linkedin": "a LinkedIn Connections.csv",
    "google": "a Google Contacts CSV",
    "outlook": "an Outlook contacts CSV",
    "vcard": "a vCard file (.vcf)",
}


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # older Windows exports


def _header(text: str) -> tuple[int, list[str]]:
    """(index of the header line, its columns): the first line of the first 50 that has
    at least three columns (LinkedIn puts "Notes:" lines first)."""
    lines = text.splitlines()
    for i, line in enumerate(lines[:50]):
        columns = [c.strip() for c in next(csv.reader([line]), [])]
        if len([c for c in columns if c]) >= 3:
            return i, columns
    return 0, []


def detect(text: str) -> str:
    """What an export file is: linkedin, google, outlook, vcard, or '' (none of them)."""
    if "BEGIN:VCARD" in text[:4096].upper():
        return "vcard"
    columns = set(_header(text)[1])
    if {"First Name", "Last Name", "Connected On"} <= columns:
        return "linkedin"
    if {"Given Name", "Family Name"} <= columns or ({"First Name", "Last Name"} <= columns and (
            any(c.startswith(("E-mail 1 -", "Phone 1 -", "Organization 1 -")) for c in columns)
            or columns & {"Labels", "Group Membership", "File As", "Organization Name"})):
        return "google"
    if {"E-mail Address", "Business Phone"} & columns and "First Name" in columns:
        return "outlook"
    return ""


def _expect(path: Path, text: str, kind: str) -> None:
    found = detect(text)
    if found == kind:
        return
    if found in SOURCES:
        raise ImportFormatError(
            f"{path} looks like {_KINDS[found]}, not {_KINDS[kind]}; nothing was imported",
            f"use `vaultnetz import {found} {path}`")
    what = _KINDS.get(found) or (
        "a CSV file with the columns " + ", ".join(_header(text)[1][:6])
        if _header(text)[1] else "neither a CSV export nor a vCard file")
    raise ImportFormatError(
        f"{path} is not {_KINDS[kind]}: it looks like {what}; nothing was imported",
        "export the contacts again (LinkedIn: Connections.csv; Google: Google CSV; phones "
        "and mail programs: vCard) and pick the matching importer: "
        + ", ".join(SOURCES))


def _rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV export, after any preamble."""
    start, _ = _header(text)
    reader = csv.DictReader(io.StringIO("\n".join(text.splitlines()[start:])))
    rows = []
    line = start + 2  # the first data line, 1-based
    for row in reader:
        rows.append((line, {(k or "").strip(): (v or "").strip() for k, v in row.items()
                            if isinstance(v, str)}))
        line = start + reader.line_num + 1  # a quoted cell may span lines
    return rows


# --------------------------------------------------------------------------- LinkedIn


def _linkedin_date(text: str) -> date | None:
    for fmt in ("%d %b %Y", "%d %B %Y", "%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    return None


def read_linkedin(path: Path) -> Records:
    """LinkedIn's Connections.csv, preamble and all."""
    text = _read_text(path)
    _expect(path, text, "linkedin")
    people: list[Person] = []
    skipped: list[Skipped] = []
    for line, row in _rows(text):
        name = " ".join(x for x in (row.get("First Name", ""), row.get("Last Name", "")) if x)
        if not name:
            skipped.append(Skipped(line, row.get("URL", ""), "no name (a deleted or hidden "
                                                             "LinkedIn account)"))
            continue
        email = row.get("Email Address", "")
        people.append(Person(
            name=name, line=line, emails=(email,) if email else (),
            company=row.get("Company", ""), role=row.get("Position", ""),
            linkedin=row.get("URL", ""), met_via="LinkedIn",
            connected=_linkedin_date(row.get("Connected On", "")), tags=("linkedin",)))
    return people, skipped


# --------------------------------------------------------------------------- Google


def _numbered(row: dict[str, str], pattern: str) -> tuple[str, ...]:
    """Values of "E-mail 1 - Value", "E-mail 2 - Value"…; one cell may hold "a ::: b"."""
    values: list[str] = []
    for key in sorted(k for k in row if re.fullmatch(pattern, k)):
        for value in row[key].split(":::"):
            if value.strip() and value.strip() not in values:
                values.append(value.strip())
    return tuple(values)


def _birthday(text: str) -> Birthday | None:
    """A birthday as exports write it: 1984-03-14, 19840314, --03-14, --0314, a date-time;
    Apple's 1604 stands for an unknown year."""
    text = text.strip().split("T", 1)[0]
    compact = re.fullmatch(r"(\d{4}|--)(\d{2})(\d{2})", text)
    if compact:
        text = "-".join(compact.groups()).replace("---", "--")
    if text.startswith("1604-"):
        text = "--" + text[5:]
    try:
        return parse_birthday(text) if text else None
    except ValueError:
        return None


def _tag(label: str) -> str:
    return re.sub(r"[^\w-]+", "-", label.strip().lstrip("*").strip()).strip("-").lower()


def read_google(path: Path) -> Records:
    """Google Contacts CSV (the current column style, and the older "Given Name" style)."""
    text = _read_text(path)
    _expect(path, text, "google")
    people: list[Person] = []
    skipped: list[Skipped] = []
    for line, row in _rows(text):
        get = row.get
        if "Given Name" in row:
            parts = (get("Given Name", ""), get("Additional Name", ""), get("Family Name", ""))
            name = get("Name", "") or " ".join(p for p in parts if p)
        else:
            parts = (get("First Name", ""), get("Middle Name", ""), get("Last Name", ""))
            name = " ".join(p for p in parts if p)
        nickname = get("Nickname", "")
        name = name or nickname or get("File As", "")
        company = get("Organization Name", "") or get("Organization 1 - Name", "")
        if not name:
            reason = "an organisation, not a person" if company else "no name"
            skipped.append(Skipped(line, company, reason))
            continue
        labels = get("Labels", "") or get("Group Membership", "")
        tags = tuple(t for t in (_tag(label) for label in labels.split(":::")
                                 if label.strip().lstrip("*").strip().lower()
                                 not in ("mycontacts", "starred", ""))
                     if t)
        birthday_text = get("Birthday", "")
        people.append(Person(
            name=name, line=line,
            aliases=(nickname,) if nickname and nickname != name else (),
            emails=_numbered(row, r"E-mail \d+ - Value"),
            phones=_numbered(row, r"Phone \d+ - Value"),
            company=company,
            department=get("Organization Department", "") or get(
                "Organization 1 - Department", ""),
            role=get("Organization Title", "") or get("Organization 1 - Title", ""),
            city=get("Address 1 - City", ""),
            birthday=_birthday(birthday_text),
            unusable=(f"birthday {birthday_text!r}",) if birthday_text and not _birthday(
                birthday_text) else (),
            websites=_numbered(row, r"Website \d+ - Value"),
            note=get("Notes", ""),
            tags=tags,
        ))
    return [_with_linkedin(p) for p in people], skipped


def _with_linkedin(person: Person) -> Person:
    """A LinkedIn profile among the websites is the contact's `linkedin`."""
    found = next((w for w in person.websites if "linkedin.com/" in w.lower()), "")
    if not found or person.linkedin:
        return person
    return replace(person, linkedin=found,
                   websites=tuple(w for w in person.websites if w != found))


# --------------------------------------------------------------------------- vCard


def _phone(value: str) -> str:
    """A TEL as the user would write it: without the tel: URI form of vCard 4.0."""
    if value.lower().startswith("tel:"):
        number, _, ext = value[4:].partition(";ext=")
        return number + (f" ext. {ext}" if ext else "")
    return value


def person_from_card(card: Card) -> Person | Skipped:
    """The person a card describes, or why it is skipped."""
    kind = card.first("KIND")
    show_as = card.first("X-ABSHOWAS")
    org = card.first("ORG")
    org_parts = [p.strip() for p in org.parts()] if org else []
    company = org_parts[0] if org_parts else ""
    fn = card.first("FN")
    name = fn.text() if fn else ""
    n = card.first("N")
    if n is not None and not name:
        family, given, additional, prefix, suffix = ([*n.parts(), "", "", "", "", ""])[:5]
        name = " ".join(x.strip() for x in (prefix, given, additional, family, suffix)
                        if x.strip())
    if (kind and kind.text().lower() in ("org", "group", "location")) or (
            show_as and show_as.text().upper() == "COMPANY"):
        return Skipped(card.line, name or company, "an organisation, not a person")
    if not name.strip() or (company and name.strip() == company and not (n and any(
            p.strip() for p in n.parts()))):
        if company:
            return Skipped(card.line, company, "an organisation, not a person")
        return Skipped(card.line, "", "no name")
    bday = card.first("BDAY")
    birthday = _birthday(bday.text()) if bday else None
    urls = [u.text() for u in card.all("URL")] + [
        p.text() for p in card.all("X-SOCIALPROFILE")]
    note = card.first("NOTE")
    note_text, met_via = _note_and_met_via(note.text() if note else "")
    categories = [c for prop in card.all("CATEGORIES") for c in prop.items()]
    nicknames = [c for prop in card.all("NICKNAME") for c in prop.items()]
    title = card.first("TITLE") or card.first("ROLE")
    city = next((adr.parts()[3].strip() for adr in card.all("ADR")
                 if len(adr.parts()) > 3 and adr.parts()[3].strip()), "")
    linkedin = next((u for u in urls if "linkedin.com/" in u.lower()), "")
    return Person(
        name=" ".join(name.split()), line=card.line,
        aliases=tuple(dict.fromkeys(x for x in nicknames if x != name)),
        emails=tuple(dict.fromkeys(e.text().removeprefix("mailto:")
                                   for e in card.all("EMAIL") if e.text())),
        phones=tuple(dict.fromkeys(_phone(t.text()) for t in card.all("TEL") if t.text())),
        company=company, department=" / ".join(p for p in org_parts[1:] if p),
        role=title.text() if title else "", city=city, birthday=birthday,
        unusable=(f"birthday {bday.text()!r}",) if bday and bday.text() and not birthday
        else (),
        linkedin=linkedin,
        websites=tuple(dict.fromkeys(u for u in urls if u and u != linkedin
                                     and "linkedin.com/" not in u.lower())),
        note=note_text, met_via=met_via,
        tags=tuple(dict.fromkeys(t for t in (_tag(c) for c in categories) if t)),
    )


def _note_and_met_via(note: str) -> tuple[str, str]:
    """Our own export's NOTE ("Met via: …" and the obsidian:// link) back into fields."""
    met_via = ""
    kept = []
    for line in note.splitlines():
        if line.startswith("Met via: "):
            met_via = line[len("Met via: "):].strip()
        elif not line.startswith("obsidian://"):
            kept.append(line)
    return "\n".join(kept).strip(), met_via


def read_vcard(path: Path) -> Records:
    """Every card of a vCard file; a broken card is skipped with its line, the rest read."""
    text = _read_text(path)
    _expect(path, text, "vcard")
    cards, broken = read_cards(text)
    people: list[Person] = []
    skipped = [Skipped(b.line, "", f"not a vCard: {b.reason}") for b in broken]
    for card in cards:
        found = person_from_card(card)
        (skipped if isinstance(found, Skipped) else people).append(found)  # type: ignore[arg-type]
    skipped.sort(key=lambda s: s.line)
    return people, skipped


READERS: dict[str, Callable[[Path], Records]] = {
    "linkedin": read_linkedin, "google": read_google, "vcard": read_vcard}


# --------------------------------------------------------------------------- writing


def note_text(person: Person, cadence: str, log_heading: str) -> str:
    """A new contact note: front-matter, the imported note text, an empty Log."""
    tags = ["person", *(t for t in person.tags if t != "person")]
    lines = ["---"]
    if safe_file_stem(person.name) != person.name:
        lines.append(f"name: {yaml_scalar(person.name)}")
    if person.aliases:
        lines.append(f"aliases: {yaml_list(person.aliases, always=True)}")
    lines.append("tags: [" + ", ".join(yaml_scalar(t) for t in tags) + "]")
    lines.append(f"cadence: {yaml_scalar(cadence)}")
    for key, value in (("met_via", person.met_via), ("city", person.city),
                       ("company", person.company), ("department", person.department),
                       ("role", person.role)):
        if value:
            lines.append(f"{key}: {yaml_scalar(value)}")
    if person.emails:
        lines.append(f"email: {yaml_list(person.emails)}")
    if person.phones:
        lines.append(f"phone: {yaml_list(person.phones)}")
    if person.linkedin:
        lines.append(f"linkedin: {yaml_scalar(person.linkedin)}")
    if person.connected:
        lines.append(f"linkedin_connected: {person.connected.isoformat()}")
    if person.websites:
        lines.append(f"website: {yaml_list(person.websites)}")
    if person.birthday:
        lines.append(f'birthday: "{person.birthday.text()}"')
    lines += ["---", f"# {person.name}", ""]
    if person.note:
        lines += [person.note.replace("\r\n", "\n").strip(), ""]
    lines += [f"## {log_heading}", ""]
    # A card's text is not typed here: control characters in it are dropped, never written.
    return strip_controls("\n".join(lines))


@dataclass(frozen=True)
class ImportResult:
    created: list[str]
    updated: list[str]  # matched notes that got fields they lacked (``merge``)
    skipped: list[Skipped]


def apply_import(vault: Vault, plan: Plan, *, cadence: str, merge: bool,
                 progress: Callable[[int], None] = lambda n: None) -> ImportResult:
    """Create the new notes (never overwriting) and, with ``merge``, fill missing fields.

    The new notes are written together: each atomically, whole or not at all, with one
    wait for the disk for all of them (``create_files_exclusive``).
    """
    files: list[tuple[Path, bytes]] = []
    planned: list[tuple[str, Person]] = []
    for new in plan.create:
        data = note_text(new.person, cadence, vault.config.log_heading).encode("utf-8")
        if not parse_note(new.path, data).ok:
            plan.skipped.extend(Skipped(r.line, r.name, "its values make no valid note")
                                for r in new.records)
            continue
        target = vault.root / new.path
        target.parent.mkdir(parents=True, exist_ok=True)
        files.append((target, data))
        planned.append((new.path, new.person))
    created = []
    for (rel, person), made in zip(planned, create_files_exclusive(files), strict=True):
        if made:
            created.append(rel)
        else:
            plan.skipped.append(Skipped(person.line, person.name,
                                        f"{rel} appeared meanwhile; nothing overwritten"))
        progress(1)
    plan.create = [new for new in plan.create if new.path in set(created)]
    updated = []
    if merge:
        for match in plan.matched:
            fields = match.missing
            if not fields:
                progress(1)
                continue

            def change(data: bytes, fields: dict[str, str] = fields) -> bytes:
                for key, value in fields.items():
                    data = set_front_matter(data, vault.config.key(key), strip_controls(value),
                                            log_heading=vault.config.log_heading)
                return data

            update_note(vault.root / match.contact.path, change,
                        min_size=vault.read_sizes.get(match.contact.path, 0))
            updated.append(match.contact.path)
            progress(1)
    return ImportResult(created, updated, plan.skipped)
