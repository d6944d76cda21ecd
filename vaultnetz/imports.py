"""Contacts in and out: LinkedIn and Google Contacts CSV, vCard 3.0/4.0; export vCard 4.0.

Import reactivates the network a user already has (the seeds' first advice): new
people become contact notes with no last contact, so they queue up gently by
``max_per_day``; existing contacts (same email, name or alias) are never
overwritten — ``merge`` may only add fields they lack, with the minimal-edit writer.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from .actions import new_contact_folder, safe_file_stem
from .atomic import create_file_exclusive, update_note
from .edit import set_front_matter, yaml_scalar
from .errors import InvalidValue
from .feed import obsidian_url
from .index import Vault
from .model import Birthday, Contact
from .notes import link_key, parse_note
from .report import strip_controls
from .values import parse_birthday

SOURCES = ("linkedin", "google", "vcard")


@dataclass(frozen=True)
class Person:
    """One person read from an export file."""

    name: str
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    company: str = ""
    role: str = ""
    city: str = ""
    birthday: Birthday | None = None
    linkedin: str = ""
    met_via: str = ""
    note: str = ""
    tags: tuple[str, ...] = ()


class ImportFormatError(InvalidValue):
    pass


# --------------------------------------------------------------------------- readers


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # older Windows exports


def _rows(text: str, required: list[str], file: Path, what: str) -> list[dict[str, str]]:
    """CSV rows, after any preamble lines (LinkedIn puts "Notes:" lines first)."""
    lines = text.splitlines(keepends=True)
    start = 0
    for i, line in enumerate(lines[:50]):
        fields = {f.strip() for f in next(csv.reader([line]), [])}
        if set(required) <= fields:
            start = i
            break
    reader = csv.DictReader(io.StringIO("".join(lines[start:])))
    columns = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in required if c not in columns]
    if missing:
        raise ImportFormatError(
            f"{file} is not a {what} export: missing column(s) {', '.join(missing)}",
            f"export it again as {what}, or pick the right importer "
            f"({', '.join(SOURCES)})")
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]


def _linkedin_date(text: str) -> date | None:
    for fmt in ("%d %b %Y", "%d %B %Y", "%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    return None


def read_linkedin(path: Path) -> list[Person]:
    """LinkedIn's Connections.csv, preamble and all."""
    rows = _rows(_read_text(path), ["First Name", "Last Name", "URL", "Email Address",
                                    "Company", "Position", "Connected On"],
                 path, "LinkedIn Connections.csv")
    people = []
    for row in rows:
        name = " ".join(x for x in (row["First Name"], row["Last Name"]) if x)
        if not name:
            continue
        connected = _linkedin_date(row["Connected On"])
        met = "LinkedIn" + (f", connected {connected.isoformat()}" if connected else "")
        people.append(Person(
            name=name,
            emails=(row["Email Address"],) if row["Email Address"] else (),
            company=row["Company"], role=row["Position"], linkedin=row["URL"], met_via=met,
            tags=("linkedin",)))
    return people


def _numbered(row: dict[str, str], pattern: str) -> tuple[str, ...]:
    """Values of "E-mail 1 - Value", "E-mail 2 - Value"…; one cell may hold "a ::: b"."""
    values: list[str] = []
    for key in sorted(k for k in row if re.fullmatch(pattern, k)):
        for value in row[key].split(":::"):
            if value.strip() and value.strip() not in values:
                values.append(value.strip())
    return tuple(values)


def _birthday(text: str) -> Birthday | None:
    """A birthday in the forms exports use: 1984-03-14, 19840314, --03-14, --0314."""
    text = text.strip()
    compact = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if compact:
        text = "-".join(compact.groups())
    try:
        return parse_birthday(text) if text else None
    except ValueError:
        return None


def read_google(path: Path) -> list[Person]:
    """Google Contacts CSV (the current column style, and the older "Given Name" style)."""
    text = _read_text(path)
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    old_style = "Given Name" in first_line and "First Name" not in first_line
    required = ["Given Name", "Family Name"] if old_style else ["First Name", "Last Name"]
    rows = _rows(text, required, path, "Google Contacts CSV")
    people = []
    for row in rows:
        if old_style:
            parts = (row.get("Given Name", ""), row.get("Additional Name", ""),
                     row.get("Family Name", ""))
            name = row.get("Name", "") or " ".join(p for p in parts if p)
        else:
            parts = (row.get("First Name", ""), row.get("Middle Name", ""),
                     row.get("Last Name", ""))
            name = " ".join(p for p in parts if p)
        if not name:
            name = row.get("Nickname", "") or row.get("File As", "")
        if not name:
            continue
        labels = row.get("Labels", "") or row.get("Group Membership", "")
        tags = tuple(
            re.sub(r"[^\w-]+", "-", label.strip().lstrip("*").strip()).strip("-").lower()
            for label in labels.split(":::")
            if label.strip() and label.strip().lstrip("*").strip().lower()
            not in ("mycontacts", "starred", "")
        )
        people.append(Person(
            name=name,
            emails=_numbered(row, r"E-mail \d+ - Value"),
            phones=_numbered(row, r"Phone \d+ - Value"),
            company=row.get("Organization Name", "") or row.get("Organization 1 - Name", ""),
            role=row.get("Organization Title", "") or row.get("Organization 1 - Title", ""),
            city=row.get("Address 1 - City", ""),
            birthday=_birthday(row.get("Birthday", "")),
            note=row.get("Notes", ""),
            met_via="Google Contacts",
            tags=tuple(t for t in tags if t),
        ))
    return people


def _without_photos(text: str) -> str:
    """Drop PHOTO/LOGO/SOUND properties (and their folded lines): ignored, often huge or broken."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        if line[:1] in (" ", "\t"):
            if not skipping:
                out.append(line)
            continue
        skipping = re.match(r"(?i)(item\d+\.)?(photo|logo|sound)[;:]", line) is not None
        if not skipping:
            out.append(line)
    return "".join(out)


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


def read_vcard(path: Path) -> list[Person]:
    """vCard 3.0 and 4.0, one or many cards in the file; PHOTO is ignored."""
    import vobject

    text = _without_photos(_read_text(path))
    if "BEGIN:VCARD" not in text.upper():
        raise ImportFormatError(f"{path} is not a vCard file: no BEGIN:VCARD",
                                "export the contacts as .vcf (vCard)")
    people = []
    try:
        cards = list(vobject.readComponents(text, ignoreUnreadable=True))
    except Exception as exc:  # vobject raises many types for broken input
        raise ImportFormatError(f"{path}: the vCard data cannot be read: {exc}",
                                "check that the file is a complete .vcf export") from None
    for card in cards:
        if card.name != "VCARD":
            continue
        contents = card.contents

        def values(key: str, contents: dict[str, list[object]] = contents) -> list[object]:
            return [line.value for line in contents.get(key, [])]  # type: ignore[attr-defined]

        name = str((values("fn") or [""])[0]).strip()
        if not name and values("n"):
            n = values("n")[0]
            name = " ".join(str(x) for x in (getattr(n, "given", ""), getattr(n, "family", ""))
                            if x).strip()
        if not name:
            continue
        org = values("org")
        company = ""
        if org:
            first = org[0]
            company = str(first[0] if isinstance(first, list) and first else first).strip()
        city = ""
        for adr in values("adr"):
            city = str(getattr(adr, "city", "") or "").strip()
            if city:
                break
        urls = [str(u) for u in values("url")]
        note, met_via = _note_and_met_via(str((values("note") or [""])[0]))
        categories: list[str] = []
        for value in values("categories"):
            items = value if isinstance(value, list) else str(value).split(",")
            categories += [str(c).strip() for c in items if str(c).strip()]
        people.append(Person(
            name=name,
            emails=tuple(dict.fromkeys(str(e).strip() for e in values("email") if e)),
            phones=tuple(dict.fromkeys(str(t).strip() for t in values("tel") if t)),
            company=company,
            role=str((values("title") or [""])[0]).strip(),
            city=city,
            birthday=_birthday(str((values("bday") or [""])[0])),
            linkedin=next((u for u in urls if "linkedin.com" in u), ""),
            note=note,
            met_via=met_via or "Address book",
            tags=tuple(re.sub(r"[^\w-]+", "-", c).strip("-").lower() for c in categories),
        ))
    return people


READERS: dict[str, Callable[[Path], list[Person]]] = {
    "linkedin": read_linkedin, "google": read_google, "vcard": read_vcard}


# --------------------------------------------------------------------------- planning


@dataclass
class Plan:
    """What an import will do (a dry run prints it; a real run does it)."""

    create: list[tuple[str, Person]] = field(default_factory=list)  # (relative path, person)
    matched: list[tuple[Contact, Person, str, list[str]]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _merge_people(a: Person, b: Person) -> Person:
    """The same person from two rows or sources: one record, nothing lost."""
    return replace(
        a,
        emails=tuple(dict.fromkeys(a.emails + b.emails)),
        phones=tuple(dict.fromkeys(a.phones + b.phones)),
        company=a.company or b.company, role=a.role or b.role, city=a.city or b.city,
        birthday=a.birthday or b.birthday, linkedin=a.linkedin or b.linkedin,
        met_via=a.met_via or b.met_via, note="\n\n".join(x for x in (a.note, b.note) if x),
        tags=tuple(dict.fromkeys(a.tags + b.tags)),
    )


def _missing_fields(contact: Contact, person: Person) -> dict[str, str]:
    """Front-matter values the contact lacks and the import has (for --merge)."""
    out: dict[str, str] = {}
    if not contact.email and person.emails:
        out["email"] = _yaml_list(person.emails)
    if not contact.phone and person.phones:
        out["phone"] = _yaml_list(person.phones)
    for key, value in (("company", person.company), ("role", person.role),
                       ("city", person.city), ("linkedin", person.linkedin),
                       ("met_via", person.met_via)):
        if value and not getattr(contact, key):
            out[key] = yaml_scalar(value)
    if person.birthday and contact.birthday is None:
        out["birthday"] = f'"{person.birthday.text()}"'
    return out


def _yaml_list(values: tuple[str, ...]) -> str:
    if len(values) == 1:
        return yaml_scalar(values[0])
    return "[" + ", ".join(yaml_scalar(v) if "," not in v else f'"{v}"' for v in values) + "]"


_TITLES = re.compile(r"^(?:(?:prof|dr|dipl|ing|mag|phd|mr|mrs|ms|frau|herr)\.?\s+)+",
                     re.IGNORECASE)


def name_keys(name: str) -> list[str]:
    """Ways a name matches: as written, without titles, and first + last name only."""
    keys = [link_key(name)]
    bare = _TITLES.sub("", name.strip())
    keys.append(link_key(bare))
    words = bare.split()
    if len(words) > 2:
        keys.append(link_key(f"{words[0]} {words[-1]}"))
    return list(dict.fromkeys(k for k in keys if k))


def plan_import(vault: Vault, people: list[Person], *, extra_tags: tuple[str, ...] = ()
                ) -> Plan:
    """Match people against the vault (email, then name/alias) and against each other."""
    by_email: dict[str, Contact] = {}
    by_name: dict[str, Contact] = {}
    for existing in vault.contacts:
        for email in existing.email:
            by_email.setdefault(email.casefold(), existing)
        for name in (existing.name, *existing.aliases):
            for key in name_keys(name):
                by_name.setdefault(key, existing)
    tags = tuple(t.lstrip("#") for t in extra_tags if t.strip("# "))
    # One record per person within the import itself (two rows, two sources).
    merged: list[Person] = []
    index: dict[str, int] = {}
    for person in people:
        person = replace(person, tags=tuple(dict.fromkeys(person.tags + tags)))
        keys = [f"@{e.casefold()}" for e in person.emails] + [
            f"n:{k}" for k in name_keys(person.name)]
        at = next((index[k] for k in keys if k in index), None)
        if at is None:
            merged.append(person)
            at = len(merged) - 1
        else:
            merged[at] = _merge_people(merged[at], person)
        for key in keys:
            index.setdefault(key, at)
    plan = Plan()
    taken: set[str] = set()
    folder = new_contact_folder(vault)
    for person in merged:
        contact: Contact | None = next((by_email[e.casefold()] for e in person.emails
                                        if e.casefold() in by_email), None)
        how = "same email"
        if contact is None:
            how = "same name"
            contact = next((by_name[k] for k in name_keys(person.name) if k in by_name), None)
        if contact is not None:
            plan.matched.append((contact, person, how, sorted(_missing_fields(contact, person))))
            continue
        try:
            stem = safe_file_stem(person.name)
        except InvalidValue:
            plan.skipped.append(person.name)
            continue
        rel = f"{folder}/{stem}.md"
        n = 2
        while rel.casefold() in taken or (vault.root / rel).exists():
            rel = f"{folder}/{stem} ({n}).md"
            n += 1
        taken.add(rel.casefold())
        plan.create.append((rel, person))
    return plan


def note_text(person: Person, cadence: str, log_heading: str) -> str:
    """A new contact note: front-matter, the imported note text, an empty Log."""
    tags = ["person", *(t for t in person.tags if t != "person")]
    lines = ["---"]
    if safe_file_stem(person.name) != person.name:
        lines.append(f"name: {yaml_scalar(person.name)}")
    lines.append("tags: [" + ", ".join(yaml_scalar(t) for t in tags) + "]")
    lines.append(f"cadence: {yaml_scalar(cadence)}")
    for key, value in (("met_via", person.met_via), ("city", person.city),
                       ("company", person.company), ("role", person.role)):
        if value:
            lines.append(f"{key}: {yaml_scalar(value)}")
    if person.emails:
        lines.append(f"email: {_yaml_list(person.emails)}")
    if person.phones:
        lines.append(f"phone: {_yaml_list(person.phones)}")
    if person.linkedin:
        lines.append(f"linkedin: {yaml_scalar(person.linkedin)}")
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
    matched: int
    merged: list[str]
    skipped: list[str]


def apply_import(vault: Vault, plan: Plan, *, cadence: str, merge: bool,
                 progress: Callable[[int], None] = lambda n: None) -> ImportResult:
    """Create the new notes (never overwriting) and, with ``merge``, fill missing fields."""
    created = []
    for rel, person in plan.create:
        target = vault.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        data = note_text(person, cadence, vault.config.log_heading).encode("utf-8")
        if not parse_note(rel, data).ok:
            plan.skipped.append(person.name)
            continue
        if create_file_exclusive(target, data):
            created.append(rel)
        else:
            plan.skipped.append(person.name)
        progress(1)
    merged = []
    if merge:
        for contact, person, _, fields in plan.matched:
            missing = _missing_fields(contact, person)
            if not fields or not missing:
                progress(1)
                continue

            def change(data: bytes, fields: list[str] = fields,
                       missing: dict[str, str] = missing) -> bytes:
                for key in fields:
                    data = set_front_matter(data, vault.config.key(key),
                                            strip_controls(missing[key]),
                                            log_heading=vault.config.log_heading)
                return data

            update_note(vault.root / contact.path, change,
                        min_size=vault.read_sizes.get(contact.path, 0))
            merged.append(contact.path)
            progress(1)
    return ImportResult(created, len(plan.matched), merged, plan.skipped)


# --------------------------------------------------------------------------- export


def export_vcard(vault: Vault) -> str:
    """vCard 4.0 of every active contact, one file, with a link back to the note."""
    import vobject

    cards = []
    for contact in sorted(vault.contacts, key=lambda c: (c.name.casefold(), c.path)):
        if contact.status != "active":
            continue
        card = vobject.vCard()
        card.add("version").value = "4.0"
        card.add("uid").value = "urn:uuid:" + _uuid(contact.path)
        card.add("fn").value = contact.name
        parts = contact.name.split()
        card.add("n").value = vobject.vcard.Name(
            family=parts[-1] if len(parts) > 1 else contact.name,
            given=" ".join(parts[:-1]) if len(parts) > 1 else "")
        for email in contact.email:
            card.add("email").value = email
        for phone in contact.phone:
            card.add("tel").value = phone
        if contact.company:
            card.add("org").value = [contact.company]
        if contact.role:
            card.add("title").value = contact.role
        if contact.city:
            card.add("adr").value = vobject.vcard.Address(city=contact.city)
        if contact.birthday is not None:
            b = contact.birthday
            card.add("bday").value = (f"{b.year:04d}{b.month:02d}{b.day:02d}" if b.year
                                      else f"--{b.month:02d}{b.day:02d}")
        if contact.linkedin:
            card.add("url").value = contact.linkedin
        tags = [t for t in contact.tags if t.casefold() != "person"]
        if tags:
            card.add("categories").value = tags
        note = [obsidian_url(vault.name, contact.path)]
        if contact.met_via:
            note.insert(0, f"Met via: {contact.met_via}")
        card.add("note").value = "\n".join(note)
        cards.append(card.serialize())
    return "".join(cards)


def _uuid(path: str) -> str:
    h = hashlib.sha256(f"vaultnetz\0vcard\0{path}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"
