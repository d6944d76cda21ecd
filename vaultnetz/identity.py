"""Who is who in an import: two records are one person only on evidence.

Evidence is the same email (case-insensitive), the same LinkedIn profile (normalised) or
the same phone number (normalised by ``phonenumbers``, in the configured region); or
the same full name — first, middle and last, without titles or suffixes — when neither
side has an identifier that contradicts the other (both have LinkedIn profiles, emails
or phones, and they share none). A person who is not the same as an existing contact
but shares a file name or a first and last name with one becomes a note of their own,
listed as a possible duplicate, never merged.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from urllib.parse import unquote, urlsplit

from .actions import new_contact_folder, safe_file_stem
from .contacts import Vault
from .edit import yaml_list, yaml_scalar
from .errors import InvalidValue
from .model import Birthday, Contact
from .names import first_last_key, identity_key


@dataclass(frozen=True)
class Person:
    """One record of an export file."""

    name: str
    line: int = 0  # where the record starts in its file
    aliases: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    company: str = ""
    department: str = ""
    role: str = ""
    city: str = ""
    birthday: Birthday | None = None
    linkedin: str = ""
    connected: date | None = None  # on LinkedIn since
    websites: tuple[str, ...] = ()
    met_via: str = ""
    note: str = ""
    tags: tuple[str, ...] = ()
    unusable: tuple[str, ...] = ()  # values of the record that could not be used


@dataclass(frozen=True)
class Skipped:
    line: int
    name: str
    reason: str


@dataclass
class NewNote:
    path: str
    person: Person
    records: list[Person]
    duplicate_of: str = ""  # a possible duplicate of this note (a path), and why
    why: str = ""


@dataclass
class Match:
    contact: Contact
    person: Person
    how: str
    missing: dict[str, str]  # front-matter values the contact lacks and the import has
    records: list[Person]


@dataclass
class Plan:
    """What an import will do; every record of the file is in exactly one place."""

    create: list[NewNote] = field(default_factory=list)
    matched: list[Match] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        new = sum(1 for n in self.create if not n.duplicate_of)
        return {
            "new": new,
            "matched": sum(len(m.records) for m in self.matched),
            "merged": sum(len(n.records) - 1 for n in self.create),
            "possible duplicates": len(self.create) - new,
            "skipped": len(self.skipped),
        }

    def summary(self) -> str:
        return ", ".join(f"{n} {what}" for what, n in self.counts().items())


# --------------------------------------------------------------------------- identifiers

_LINKEDIN = re.compile(r"linkedin\.com/(in|pub|company)/([^/?#]+)", re.IGNORECASE)


def linkedin_key(url: str) -> str:
    """A LinkedIn profile URL as one key: scheme, www/country host, query, case and a
    trailing slash do not matter."""
    match = _LINKEDIN.search(unquote(url.strip()))
    if not match:
        parts = urlsplit(url.strip().lower())
        return (parts.netloc + parts.path).rstrip("/") if parts.netloc else ""
    return f"linkedin.com/{match.group(1).lower()}/{match.group(2).lower()}"


def email_key(email: str) -> str:
    return email.strip().removeprefix("mailto:").casefold()


@functools.lru_cache(maxsize=8192)
def phone_key(phone: str, region: str = "") -> str:
    """A phone number in E.164 (+4917...), with its extension, through ``phonenumbers``;
    numbers it cannot read (no country code and no region) compare by their digits."""
    import phonenumbers

    text = phone.strip().removeprefix("tel:").replace(";ext=", " ext. ")
    try:
        number = phonenumbers.parse(text, region or None)
        if phonenumbers.is_possible_number(number):
            # An extension tells apart the people behind one switchboard number.
            extension = f"x{number.extension}" if number.extension else ""
            return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                       ) + extension
    except phonenumbers.NumberParseException:
        pass
    digits = re.sub(r"[^\d+]", "", text.split(";", 1)[0])
    return digits if len(digits.lstrip("+")) >= 5 else ""


@dataclass
class _Ids:
    emails: set[str] = field(default_factory=set)
    linkedin: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)

    def add(self, other: _Ids) -> None:
        self.emails |= other.emails
        self.linkedin |= other.linkedin
        self.phones |= other.phones

    def shares(self, other: _Ids) -> str:
        """What the two have in common ('' when nothing)."""
        if self.emails & other.emails:
            return "same email"
        if self.linkedin & other.linkedin:
            return "same LinkedIn profile"
        if self.phones & other.phones:
            return "same phone"
        return ""

    def contradicts(self, other: _Ids) -> str:
        """An identifier both have, with no value in common ('' when none)."""
        for what, mine, theirs in (("LinkedIn profiles", self.linkedin, other.linkedin),
                                   ("emails", self.emails, other.emails),
                                   ("phones", self.phones, other.phones)):
            if mine and theirs and not mine & theirs:
                return f"different {what}"
        return ""


def _ids(emails: Iterable[str], linkedin: Iterable[str], phones: Iterable[str],
         region: str) -> _Ids:
    return _Ids({k for k in map(email_key, emails) if k},
                {k for k in map(linkedin_key, linkedin) if k},
                {k for k in (phone_key(p, region) for p in phones) if k})


def _person_ids(person: Person, region: str) -> _Ids:
    return _ids(person.emails, [person.linkedin] if person.linkedin else [], person.phones,
                region)


def _contact_ids(contact: Contact, region: str) -> _Ids:
    return _ids(contact.email, [contact.linkedin] if contact.linkedin else [], contact.phone,
                region)


# --------------------------------------------------------------------------- planning


def merge_people(a: Person, b: Person) -> Person:
    """The same person from two records: one record, nothing lost."""
    def both(x: tuple[str, ...], y: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(x + y))

    return replace(
        a, aliases=both(a.aliases, b.aliases), emails=both(a.emails, b.emails),
        phones=both(a.phones, b.phones), company=a.company or b.company,
        department=a.department or b.department, role=a.role or b.role,
        city=a.city or b.city, birthday=a.birthday or b.birthday,
        linkedin=a.linkedin or b.linkedin, connected=a.connected or b.connected,
        websites=both(a.websites, b.websites), met_via=a.met_via or b.met_via,
        note="\n\n".join(x for x in dict.fromkeys((a.note, b.note)) if x),
        tags=both(a.tags, b.tags), unusable=both(a.unusable, b.unusable))


def missing_fields(contact: Contact, person: Person) -> dict[str, str]:
    """Front-matter values (as YAML) the contact lacks and the import has (for --merge)."""
    out: dict[str, str] = {}
    if not contact.email and person.emails:
        out["email"] = yaml_list(person.emails)
    if not contact.phone and person.phones:
        out["phone"] = yaml_list(person.phones)
    for key, value in (("company", person.company), ("department", person.department),
                       ("role", person.role), ("city", person.city),
                       ("linkedin", person.linkedin), ("met_via", person.met_via)):
        if value and not getattr(contact, key):
            out[key] = yaml_scalar(value)
    if not contact.website and person.websites:
        out["website"] = yaml_list(person.websites)
    if person.birthday and contact.birthday is None:
        out["birthday"] = f'"{person.birthday.text()}"'
    return dict(sorted(out.items()))


@dataclass
class _Group:
    person: Person
    ids: _Ids
    records: list[Person]


def _group(people: list[Person], region: str) -> list[_Group]:
    """One group per person within the file: records joined on evidence only."""
    groups: list[_Group] = []
    by_id: dict[str, int] = {}
    by_name: dict[str, list[int]] = {}
    for person in people:
        ids = _person_ids(person, region)
        keys = ([f"e:{k}" for k in ids.emails] + [f"l:{k}" for k in ids.linkedin]
                + [f"p:{k}" for k in ids.phones])
        at = next((by_id[k] for k in keys if k in by_id), None)
        name = identity_key(person.name)
        if at is None and name:
            at = next((i for i in by_name.get(name, ()) if not groups[i].ids.contradicts(ids)),
                      None)
        if at is None:
            groups.append(_Group(person, ids, [person]))
            at = len(groups) - 1
            if name:
                by_name.setdefault(name, []).append(at)
        else:
            group = groups[at]
            group.person = merge_people(group.person, person)
            group.ids.add(ids)
            group.records.append(person)
        for key in keys:
            by_id.setdefault(key, at)
    return groups


def plan_import(vault: Vault, people: list[Person], skipped: list[Skipped] | None = None, *,
                extra_tags: tuple[str, ...] = (), region: str = "") -> Plan:
    """Match the records against each other and against the vault's contacts."""
    tags = tuple(t.lstrip("#") for t in extra_tags if t.strip("# "))
    people = [replace(p, tags=tuple(dict.fromkeys(p.tags + tags))) for p in people]
    plan = Plan(skipped=list(skipped or ()))
    known: dict[str, Contact] = {}
    by_name: dict[str, list[tuple[Contact, _Ids]]] = {}
    by_first_last: dict[str, tuple[Contact, _Ids]] = {}
    for existing in vault.contacts:
        ids = _contact_ids(existing, region)
        for key in ([f"e:{k}" for k in ids.emails] + [f"l:{k}" for k in ids.linkedin]
                    + [f"p:{k}" for k in ids.phones]):
            known.setdefault(key, existing)
        for name in (existing.name, *existing.aliases):
            if identity_key(name):
                by_name.setdefault(identity_key(name), []).append((existing, ids))
            if first_last_key(name):
                by_first_last.setdefault(first_last_key(name), (existing, ids))
    stems = {c.path.rsplit("/", 1)[-1].casefold(): c.path for c in vault.contacts}
    taken: set[str] = set()
    folder = new_contact_folder(vault)
    for group in _group(people, region):
        person, ids = group.person, group.ids
        contact: Contact | None = None
        how = ""
        for what, prefix, keys in (("same email", "e:", ids.emails),
                                   ("same LinkedIn profile", "l:", ids.linkedin),
                                   ("same phone", "p:", ids.phones)):
            found = next((known[prefix + k] for k in sorted(keys) if prefix + k in known), None)
            if found is not None:
                contact, how = found, what
                break
        duplicate_of, why = "", ""
        if contact is None:
            for candidate, their_ids in by_name.get(identity_key(person.name), []):
                conflict = ids.contradicts(their_ids)
                if not conflict:
                    contact, how = candidate, "same name"
                    break
                duplicate_of, why = candidate.path, f"same name, {conflict}"
        if contact is not None:
            plan.matched.append(Match(contact, person, how, missing_fields(contact, person),
                                      group.records))
            continue
        similar = by_first_last.get(first_last_key(person.name))
        if not duplicate_of and similar is not None and not ids.contradicts(similar[1]):
            duplicate_of, why = similar[0].path, "same first and last name, another middle name"
        try:
            stem = safe_file_stem(person.name)
        except InvalidValue:
            plan.skipped.extend(Skipped(r.line, r.name, "no usable name") for r in group.records)
            continue
        rel = f"{folder}/{stem}.md"
        if rel.rsplit("/", 1)[-1].casefold() in stems or rel.casefold() in taken or (
                vault.root / rel).exists():
            clash = stems.get(rel.rsplit("/", 1)[-1].casefold(), rel)
            duplicate_of = duplicate_of or clash
            why = why or "same file name"
            rel = _distinct(folder, stem, person, taken, vault)
        taken.add(rel.casefold())
        plan.create.append(NewNote(rel, person, group.records, duplicate_of, why))
    return plan


def _distinct(folder: str, stem: str, person: Person, taken: set[str], vault: Vault) -> str:
    """A file name of its own for a person whose name is taken: with what sets them apart
    (company, city), so that it stays the same on the next import; else a number."""
    candidates = [f"{stem} ({safe_file_stem(x)})" for x in (person.company, person.city)
                  if x and _stem_ok(x)]
    candidates += [f"{stem} ({n})" for n in range(2, 10_000)]
    for candidate in candidates:
        rel = f"{folder}/{candidate}.md"
        if rel.casefold() not in taken and not (vault.root / rel).exists():
            return rel
    raise InvalidValue(f"no free file name for {person.name!r}")  # pragma: no cover


def _stem_ok(text: str) -> bool:
    try:
        return bool(safe_file_stem(text))
    except InvalidValue:
        return False

