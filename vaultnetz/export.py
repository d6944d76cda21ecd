"""Contacts out: every active contact as vCard 4.0 (RFC 6350), written directly.

``N`` comes from the parsed name (never guessed from the last word), ``ORG`` and
``TITLE`` without Markdown, phones as the user wrote them, the note's own text as
``NOTE`` (with how you met and a link back to the note), and a ``UID`` that differs
between vaults. Importing the file into an empty vault gives the same fields and body.
"""

from __future__ import annotations

import hashlib
import re

from .contacts import Vault
from .feed import fold_line, obsidian_url
from .model import Contact
from .names import parse_name
from .notes import find_log_section, split_lines
from .report import strip_controls

_WIKI = re.compile(r"\[\[([^\]|#]*)(?:#[^\]|]*)?(?:\|([^\]]*))?\]\]")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(.+?)\1")


def plain(text: str) -> str:
    """Markdown as plain text: ``[[Tree Company]]`` → Tree Company, ``[a](url)`` → a."""
    text = _WIKI.sub(lambda m: m.group(2) or m.group(1), text)
    text = _MD_LINK.sub(r"\1", text)
    return _EMPHASIS.sub(r"\2", text).strip()


def _escape(value: str) -> str:
    value = strip_controls(value.replace("\r\n", "\n").replace("\r", "\n"))
    return (value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
            .replace("\n", "\\n"))


def _structured(*parts: str) -> str:
    return ";".join(_escape(p) for p in parts)


def note_body(data: bytes, name: str, log_heading: str) -> str:
    """The note's own text: without front-matter, a first heading that is just the name,
    and the Log section (the history stays in the vault)."""
    text = data.decode("utf-8", "replace").lstrip("\ufeff")
    lines = [line.rstrip("\r\n") for line in split_lines(text)]
    start = 0
    if lines and lines[0].rstrip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")),
                   None)
        start = end + 1 if end is not None else 0
    section = find_log_section(lines, start, log_heading)
    if section is not None:
        lines = lines[:section[0]] + lines[section[1]:]
    body = lines[start:]
    while body and not body[0].strip():
        body.pop(0)
    if body and body[0].lstrip("# ").strip() == name and body[0].startswith("# "):
        body.pop(0)
    return "\n".join(body).strip()


def uid_for(vault: Vault, contact: Contact) -> str:
    """Stable for a note in its vault; another vault's note at the same path differs."""
    where = f"{vault.root.resolve()}\0{vault.name}\0{contact.path}"
    h = hashlib.sha256(f"vaultnetz\0vcard\0{where}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def contact_card(vault: Vault, contact: Contact, body: str) -> str:
    parts = parse_name(contact.name)
    lines = ["BEGIN:VCARD", "VERSION:4.0", f"UID:urn:uuid:{uid_for(vault, contact)}",
             f"FN:{_escape(contact.name)}",
             "N:" + _structured(parts.last, parts.first, parts.middle, parts.title,
                                parts.suffix)]
    if contact.aliases:
        lines.append("NICKNAME:" + ",".join(_escape(a) for a in contact.aliases))
    lines += [f"EMAIL:{_escape(e)}" for e in contact.email]
    lines += [f"TEL;VALUE=text:{_escape(p)}" for p in contact.phone]
    if contact.company or contact.department:
        lines.append("ORG:" + _structured(plain(contact.company),
                                          *([plain(contact.department)]
                                            if contact.department else [])))
    if contact.role:
        lines.append(f"TITLE:{_escape(plain(contact.role))}")
    if contact.city:
        lines.append("ADR:" + _structured("", "", "", plain(contact.city), "", "", ""))
    if contact.birthday is not None:
        b = contact.birthday
        lines.append(f"BDAY:{b.year:04d}{b.month:02d}{b.day:02d}" if b.year
                     else f"BDAY:--{b.month:02d}{b.day:02d}")
    lines += [f"URL:{_escape(u)}" for u in (contact.linkedin, *contact.website) if u]
    tags = [t for t in contact.tags if t.casefold() != "person"]
    if tags:
        lines.append("CATEGORIES:" + ",".join(_escape(t) for t in tags))
    note = [f"Met via: {contact.met_via}"] if contact.met_via else []
    note += [body] if body else []
    note.append(obsidian_url(vault.name, contact.path))
    lines += [f"NOTE:{_escape(chr(10).join(note))}", "END:VCARD"]
    return "".join(fold_line(line.encode("utf-8")).decode("utf-8") + "\r\n" for line in lines)


def export_vcard(vault: Vault) -> str:
    """vCard 4.0 of every active contact, one file, sorted by name."""
    cards = []
    for contact in sorted(vault.contacts, key=lambda c: (c.name.casefold(), c.path)):
        if contact.status != "active":
            continue
        try:
            data = (vault.root / contact.path).read_bytes()
        except OSError:
            data = b""
        cards.append(contact_card(vault, contact,
                                  note_body(data, contact.name, vault.config.log_heading)))
    return "".join(cards)
