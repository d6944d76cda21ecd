"""People's names: their parts (through nameparser), how to greet them, how to find them.

One place decides what of a name is a title, a first, middle or last name, a suffix or
a nickname, so that matching an import, greeting someone in a draft, writing the ``N``
of a vCard and looking a contact up by NAME all agree.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import TYPE_CHECKING, NamedTuple

from .errors import AmbiguousContact, ContactNotFound
from .notes import link_key

if TYPE_CHECKING:
    from .contacts import Vault
    from .model import Contact

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_PHONE = re.compile(r"^[+(]?[\d\s().\-/]{5,}$")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe",
                          "å": "aa"})


_HONORIFICS = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "herr", "frau", "sir", "dame"}


class NameParts(NamedTuple):
    title: str
    first: str
    middle: str
    last: str
    suffix: str
    nickname: str


def is_not_a_name(text: str) -> bool:
    """A phone number or an email address standing where a name should be."""
    text = text.strip()
    return bool(_EMAIL.match(text) or _PHONE.match(text))


@functools.cache  # one entry per contact's name: the feed asks for each
def parse_name(name: str) -> NameParts:
    """The parts of a person's name ("Dr. Eva Klein" → title Dr., first Eva, last Klein).

    A phone number or an email address has no parts (it is no name).
    """
    if is_not_a_name(name) or not name.strip():
        return NameParts("", "", "", "", "", "")
    text = " ".join(name.split())
    words = text.split(" ")
    if not any(c in text for c in ",.()\"'") and not any(_special(w) for w in words):
        # The common case — "Anna Berger", "Jonas", "María José García López": no title,
        # suffix, last-name prefix or punctuation — read as nameparser reads it, without
        # it: it takes 0.1 ms a name, and a feed of 10,000 check-ins greets every one.
        last = words[-1] if len(words) > 1 else ""
        return NameParts("", words[0], " ".join(words[1:-1]), last, "", "")
    from nameparser import HumanName

    head = text.split(",", 1)[0]
    if "," in text and len(head.split()) >= 2:
        # "Mr. John Richter, James Doe Sr." is in display order, not "Last, First": the
        # comma is part of the name (a suffix after it is still found without it).
        text = text.replace(",", " ")
    human = HumanName(" ".join(text.split()))
    if human.title and not (human.first or human.last) and " " not in text.strip() and (
            not text.endswith(".") and text.casefold() not in _HONORIFICS):
        # One word that nameparser takes for a title ("Field", "Judge", "Bishop"): here,
        # the name of someone called that.
        return NameParts("", text.strip(), "", "", "", "")
    return NameParts(human.title, human.first, human.middle, human.last, human.suffix,
                     human.nickname)


@functools.cache
def _special_words() -> frozenset[str]:
    """Words nameparser treats as more than a first or last name: titles, suffixes,
    prefixes of last names, conjunctions."""
    from nameparser.config import CONSTANTS

    words: set[str] = set(_HONORIFICS)
    for group in (CONSTANTS.titles, CONSTANTS.suffix_acronyms, CONSTANTS.suffix_not_acronyms,
                  CONSTANTS.prefixes, CONSTANTS.conjunctions):
        words.update(str(w).lower() for w in group)
    return frozenset(words)


def _special(word: str) -> bool:
    return word.lower() in _special_words()


def fold(text: str) -> str:
    """For comparing names: case, accents and spacing do not matter ("Özlem" → "ozlem")."""
    if text.isascii():  # most names: nothing to decompose (and much faster)
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text.casefold()).replace("ı", "i")
    if all(unicodedata.combining(c) for c in _NON_ASCII.findall(decomposed)):
        plain = _NON_ASCII.sub("", decomposed)  # Latin letters with accents: the usual case
    else:
        plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ASCII_MARKS = frozenset(chr(c) for c in range(0x21, 0x7f))  # printable, not the space
_LINK_KEY_DROPS = frozenset(".md\\")  # what link_key may take out of a name


def folds(text: str) -> set[str]:
    """Every folded form of ``text``: plain, and with German umlauts written out
    ("Özlem" → "ozlem" and "oezlem"), so that either spelling finds it."""
    lowered = " ".join(text.casefold().split())
    if lowered.isascii():
        return {lowered}
    written_out = lowered.translate(_UMLAUTS)
    return {fold(lowered), fold(written_out)} if written_out != lowered else {fold(lowered)}


def identity_key(name: str) -> str:
    """What must be equal for two records to be the same person by name alone: first,
    middle and last name, folded. Titles, honorifics, suffixes and nicknames do not count
    ("Dr. Anna Berger" = "Anna Berger"); middle names and initials do ("Jason RM Smith"
    ≠ "Jason Smith"). Empty for a phone number or an email address."""
    parts = parse_name(name)
    return fold(" ".join(p for p in (parts.first, parts.middle, parts.last) if p))


def first_last_key(name: str) -> str:
    """First and last name only, folded: two records with this in common and different
    middle names are worth a look (a possible duplicate), not a merge."""
    parts = parse_name(name)
    return fold(" ".join(p for p in (parts.first, parts.last) if p))


def greeting_name(name: str) -> str:
    """The name to greet someone by in an informal draft: the first name, else the
    nickname; '' when the name is only a title, an initial, a phone number or an email
    address (then the draft greets nobody by name, never "Hi Dr.")."""
    parts = parse_name(name)
    for candidate in (parts.first, parts.nickname):
        candidate = candidate.strip()
        # "J." is an initial and "Dr." a title: neither is a name to greet by.
        if _is_name_word(candidate) and not is_not_a_name(candidate):
            return candidate
    return ""


def formal_name(name: str) -> str:
    """The full name for a formal greeting ("Hallo Dr. Eva Klein,"): as written, but never
    a bare title, a phone number or an email address ('' then)."""
    parts = parse_name(name)
    if not any(_is_name_word(p) for p in (parts.first, parts.middle, parts.last)):
        return ""
    return " ".join(name.split())


def _is_name_word(part: str) -> bool:
    """A part that is a name, not a title or an honorific nameparser left in it."""
    return any(not w.endswith(".") and w.casefold() not in _HONORIFICS for w in part.split())


def lookup_keys(name: str) -> set[str]:
    """Every folded way to find a contact by one of its names: the whole name, and each of
    its first, middle, last names and nickname (not titles or suffixes)."""
    parts = parse_name(name)
    keys = folds(name)
    keys |= folds(" ".join(p for p in (parts.first, parts.middle, parts.last) if p))
    keys |= folds(" ".join(p for p in (parts.first, parts.last) if p))
    for part in (parts.first, parts.middle, parts.last, parts.nickname):
        for word in (part, *part.split()):
            if word and not word.endswith("."):
                keys |= folds(word)
    return {k for k in keys if k}


def find_contact(vault: Vault, query: str) -> Contact:
    """Resolve NAME: the exact name, then an exact alias (or file name), then a unique
    match of any name part, alias or prefix. Case, accents and umlauts never matter
    ("ozlem" and "oezlem" find "Özlem"). Two matches at the same level are an error
    listing their paths."""
    key = link_key(query)
    if not key:
        raise ContactNotFound("no name given", "pass a contact's name, alias or a prefix")
    wanted = folds(query)
    contacts = vault.contacts
    wanted_chars = [frozenset(w) for w in wanted]
    any_wanted = frozenset().union(*wanted_chars)

    key_chars = frozenset(key) | _LINK_KEY_DROPS

    def named(c: Contact) -> bool:
        # Folding keeps every ASCII letter, digit and mark of a name (it only drops accents
        # and spaces and writes letters out), and so does link_key for a name in NFC (it
        # drops only a ".md" and turns "\\" into "/"): a name with one that the key or a
        # wanted form lacks cannot match it. Most names are ruled out so, unfolded.
        name = c.name
        marks = _ASCII_MARKS.intersection(name.casefold())
        if (marks <= key_chars or not unicodedata.is_normalized("NFC", name)) and (
                link_key(name) == key):
            return True
        return (marks <= any_wanted and any(marks <= chars for chars in wanted_chars)
                and bool(folds(name) & wanted))

    def aliased(c: Contact) -> bool:
        stem = link_key(c.path.rsplit("/", 1)[-1])
        return key == stem or any(link_key(a) == key or folds(a) & wanted for a in c.aliases)

    def partly(c: Contact) -> bool:
        names = (c.name, *c.aliases)
        if any(link_key(n).startswith(key) for n in names):
            return True
        for n in names:
            folded = folds(n)
            # Parse the name only when the query stands in it at all (parsing is slow).
            if any(w in f for w in wanted for f in folded) and (
                    lookup_keys(n) & wanted or any(f.startswith(w) for w in wanted
                                                    for f in folded)):
                return True
        return False

    for test in (named, aliased, partly):
        matches = [c for c in contacts if test(c)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            paths = "\n".join(f"  {c.name}: {c.path}" for c in matches)
            raise AmbiguousContact(f"{query!r} matches {len(matches)} contacts:\n{paths}",
                                   "use more of the name, or the exact name")
    broken = [p for p in vault.broken_contacts
              if link_key(p.rsplit("/", 1)[-1]).startswith(key)]
    if broken:
        raise ContactNotFound(
            f"{query!r} matches a note that has errors and is skipped: {', '.join(broken)}",
            "run `vaultnetz check` to see what to fix")
    raise ContactNotFound(f"no contact matches {query!r}",
                          "check the spelling, or see every contact with `vaultnetz list`")
