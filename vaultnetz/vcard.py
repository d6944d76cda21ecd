"""vCard 2.1, 3.0 and 4.0 as phones and mail programs really write them, read card by card.

Why not vobject alone: it ends a value at an unescaped comma (``FN:Mr. John Richter,
James Doe Sr.``), drops what follows a quoted-printable soft line break, turns a
structured ``ORG`` into a list repr, prints its complaints instead of returning them, and
one broken card rejects the whole file. This reader:

- unfolds lines (RFC 6350 3.2) and joins quoted-printable soft line breaks (vCard 2.1,
  Outlook, Android), then decodes the value in its ``CHARSET``;
- takes a value to the end of its line: commas and semicolons split only the properties
  whose value is a list or a structure (``N``, ``ADR``, ``ORG``, ``CATEGORIES``,
  ``NICKNAME``), and escaped ones never split;
- keeps group prefixes apart (``item1.EMAIL`` is an ``EMAIL``), and vCard 2.1's bare
  parameters (``TEL;CELL;VOICE``) as types;
- skips binary data (``PHOTO;ENCODING=b``, 2.1's base64 blocks) without a word;
- reads every card on its own: a card that is broken (no ``END:VCARD``) is reported with
  the line it starts on, and the others are read.
"""

from __future__ import annotations

import quopri
import re
from dataclasses import dataclass, field

STRUCTURED = {"N", "ADR", "ORG", "GENDER", "CLIENTPIDMAP"}
LISTS = {"CATEGORIES", "NICKNAME"}
_BINARY = {"PHOTO", "LOGO", "SOUND", "KEY"}
_NAME = re.compile(r"^(?:([A-Za-z0-9-]+)\.)?([A-Za-z0-9-]+)$")
_BASE64_LINE = re.compile(r"^[A-Za-z0-9+/=]+$")


@dataclass
class Property:
    name: str  # upper case, without the group
    params: dict[str, list[str]]  # upper-case names; TYPE values lower case
    value: str  # decoded (quoted-printable, charset), still escaped
    line: int

    def types(self) -> list[str]:
        return self.params.get("TYPE", [])

    def text(self) -> str:
        """The value as text (escapes undone, line breaks as LF; a single-text property)."""
        return unescape(self.value).replace("\r\n", "\n").replace("\r", "\n").strip()

    def parts(self) -> list[str]:
        """The components of a structured value (``;``), each unescaped."""
        return [unescape(part) for part in split_unescaped(self.value, ";")]

    def items(self) -> list[str]:
        """The items of a list value (``,``), each unescaped, without empty ones."""
        return [item.strip() for item in (unescape(p) for p in split_unescaped(self.value, ","))
                if item.strip()]


@dataclass
class Card:
    line: int  # the line of its BEGIN:VCARD
    properties: list[Property] = field(default_factory=list)

    def all(self, name: str) -> list[Property]:
        return [p for p in self.properties if p.name == name]

    def first(self, name: str) -> Property | None:
        found = self.all(name)
        # A preferred value first (TYPE=pref in 3.0, PREF=1 in 4.0).
        found.sort(key=lambda p: 0 if "pref" in p.types() or p.params.get("PREF") else 1)
        return found[0] if found else None


@dataclass
class Broken:
    line: int
    reason: str


def split_unescaped(value: str, separator: str) -> list[str]:
    """``value`` split at each ``separator`` not escaped by a backslash."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        current.append("\\")
    parts.append("".join(current))
    return parts


def unescape(value: str) -> str:
    """Undo the text escapes: ``\\n``/``\\N`` line break, ``\\,``, ``\\;``, ``\\\\``."""
    if "\\" not in value:
        return value
    return re.sub(r"\\([nN,;:\\])", lambda m: "\n" if m.group(1) in "nN" else m.group(1),
                  value)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, content line) after unfolding and joining quoted-printable soft line
    breaks; base64 continuation blocks of vCard 2.1 are dropped with their property."""
    physical = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[tuple[int, str]] = []
    i = 0
    in_base64 = False
    while i < len(physical):
        line = physical[i]
        number = i + 1
        i += 1
        if line[:1] in (" ", "\t") and out:
            if not in_base64:
                number, previous = out[-1]
                out[-1] = (number, previous + line[1:])
            continue
        if in_base64 and line.strip() and _BASE64_LINE.match(line.strip()):
            continue  # 2.1: a base64 value goes on, unfolded, until an empty line
        in_base64 = False
        if not line.strip():
            continue
        head = line.split(":", 1)[0].upper()
        if "QUOTED-PRINTABLE" in head:
            while line.endswith("=") and i < len(physical):
                line = line[:-1] + physical[i]
                i += 1
        elif "BASE64" in head or re.search(r";ENCODING=B\b", head):
            in_base64 = True
        out.append((number, line))
    return out


def _parse_params(raw: list[str]) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for item in raw:
        if not item:
            continue
        if "=" in item:
            key, value = item.split("=", 1)
            key = key.strip().upper()
            values = [v.strip().strip('"') for v in value.split(",")]
        else:  # vCard 2.1: ";WORK;VOICE;QUOTED-PRINTABLE"
            bare = item.strip().upper()
            key = "ENCODING" if bare in ("QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT") \
                else "TYPE"
            values = [item.strip()]
        if key == "TYPE":
            values = [v.lower() for v in values]
        params.setdefault(key, []).extend(v for v in values if v)
    return params


def _split_params(head: str) -> list[str]:
    """``;``-separated parameters, quotes respected."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in head:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _decode(raw: str, params: dict[str, list[str]]) -> str:
    encoding = [e.upper() for e in params.get("ENCODING", [])]
    charset = (params.get("CHARSET") or ["utf-8"])[0]
    if "QUOTED-PRINTABLE" in encoding:
        data = quopri.decodestring(raw.encode("latin-1", "replace"))
        for name in (charset, "utf-8", "cp1252"):
            try:
                return data.decode(name)
            except (LookupError, UnicodeDecodeError):
                continue
        return data.decode("latin-1")
    return raw


def _content_line(number: int, line: str) -> Property | None:
    """One content line as a property; None when it is not ``NAME[;params]:value``."""
    quoted = False
    colon = -1
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            colon = index
            break
    if colon <= 0:
        return None
    head, raw = line[:colon], line[colon + 1:]
    pieces = _split_params(head)
    match = _NAME.match(pieces[0].strip())
    if not match:
        return None
    params = _parse_params(pieces[1:])
    return Property(match.group(2).upper(), params, _decode(raw, params), number)


def read_cards(text: str) -> tuple[list[Card], list[Broken]]:
    """Every card of a vCard file, and the cards (or lines) that cannot be read."""
    cards: list[Card] = []
    broken: list[Broken] = []
    current: Card | None = None
    stray = False
    for number, line in _logical_lines(text):
        upper = line.strip().upper()
        if upper == "BEGIN:VCARD":
            if current is not None:
                broken.append(Broken(current.line, "the card has no END:VCARD (it ends where "
                                                   f"the next one begins, line {number})"))
            current = Card(number)
            continue
        if upper == "END:VCARD":
            if current is None:
                broken.append(Broken(number, "END:VCARD without BEGIN:VCARD"))
            else:
                cards.append(current)
                current = None
            continue
        if current is None:
            if not stray:
                broken.append(Broken(number, f"text outside a card: {line[:40]!r}"))
            stray = True
            continue
        prop = _content_line(number, line)
        if prop is None:
            # A line that is no property: a line break some program left unescaped inside
            # a value. It belongs to the value before it: kept, never dropped.
            if current.properties:
                current.properties[-1].value += "\\n" + line
            continue
        if prop.name not in _BINARY:
            current.properties.append(prop)
    if current is not None:
        broken.append(Broken(current.line, "the card has no END:VCARD (the file ends first)"))
    return cards, broken
