"""Find the notes of a vault and parse one note: front-matter, Log section and links.

Parsing never raises for bad input: every problem becomes a ``Problem`` with
the note's path and the line, and a note with an error is marked not ``ok``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from .atomic import is_temp_name
from .config import norm_key
from .model import Interaction, InteractionKind, Problem
from .values import ISO_DATE, MAX_YEAR, MIN_YEAR, MONTHS

ALWAYS_IGNORED_DIRS = {".obsidian", ".git", ".trash", "node_modules"}
_TEMP_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".tmp", ".part", ".crdownload")
_CONFLICT = re.compile(r"\.sync-conflict-|conflicted copy|\(conflict", re.IGNORECASE)
_BULLET = re.compile(
    r"^[ \t]*[-*+][ \t]+(?:\[[ xX]\][ \t]+)?(\[\[)?(\d{4}-\d{1,2}-\d{1,2})(\]\])?(?=[\s:,.;]|$)"
    r"[ \t:–—-]*(.*)$"
)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
_META_KEY = re.compile(r"^([^\s#:\-][^:]*?)\s*:(\s|$)")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
LINK = re.compile(r"\[\[([^\[\]|#^\n]+)(?:[#^][^\[\]|\n]*)?(?:\|[^\[\]\n]*)?\]\]")
_TAG_ATTEMPT = re.compile(r"(?<![\w/])#attempt\b", re.IGNORECASE)
_TAG_DECLINED = re.compile(r"(?<![\w/])#declined\b", re.IGNORECASE)


# A Log bullet is the contact's interaction as it is: built once, shared by note and contact.
LogEntry = Interaction


@dataclass(frozen=True, slots=True)
class Link:
    target: str  # as written, without heading or display text
    line: int
    context: str  # the line it stands on, shortened


@dataclass(frozen=True, slots=True)
class Note:
    path: str  # relative to the vault, "/"-separated, as on disk
    size: int
    mtime_ns: int
    meta: dict[str, Any]
    meta_lines: dict[str, int]  # top-level key → line number in the file
    log: tuple[LogEntry, ...]
    links: tuple[Link, ...]
    problems: tuple[Problem, ...]
    ok: bool  # False: an error; the note is skipped and never written to
    has_log_heading: bool = False

    @property
    def stem(self) -> str:
        return _stem(self.path)

    @classmethod
    def skipped(cls, path: str, size: int, mtime_ns: int, problems: Iterable[Problem]) -> Note:
        """A note that is not read as a note (an error or a warning says why)."""
        return cls(path, size, mtime_ns, {}, {}, (), (), tuple(problems), ok=False)


def _stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name[:-3] if name.lower().endswith(".md") else name


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split only at CR, LF and CRLF (as editors count lines)."""
    return _LINE.findall(text)


def is_ignored_name(name: str) -> bool:
    """Dot-files, editor swap and temp files, and the tool's own temp files."""
    if name.startswith((".", "~$", "#")) or name in ALWAYS_IGNORED_DIRS:
        return True
    return name.endswith(_TEMP_SUFFIXES)


class FileStat(NamedTuple):
    """What the index keeps of a note's stat: a full os.stat_result is ten times larger."""

    st_size: int
    st_mtime_ns: int


def file_stat(st: os.stat_result) -> FileStat:
    return FileStat(st.st_size, st.st_mtime_ns)


def walk_notes(root: Path, links: list[str] | None = None
               ) -> list[tuple[str, FileStat | None, Problem | None]]:
    """(relative path, stat, problem) for each Markdown note, sorted, never leaving root.

    Symlinks are followed only when they point inside the vault, and each real
    folder is entered once, so loops end. The symbolic links met are added to ``links``.
    """
    real_root = os.path.realpath(root)
    seen_dirs = {real_root}
    found: list[tuple[str, FileStat | None, Problem | None]] = []
    add = found.append
    make_stat = tuple.__new__  # FileStat's own __new__ is a Python function

    def walk(folder: str, rel: str) -> None:
        try:
            with os.scandir(folder) as listing:
                by_name = {entry.name: entry for entry in listing}
        except OSError as exc:
            add((rel or ".", None, Problem(rel or ".", None, "error", "unreadable-folder",
                                           f"cannot read folder: {exc.strerror}",
                                           "check its permissions")))
            return
        prefix = rel + "/" if rel else ""
        for name in sorted(by_name):
            entry = by_name[name]
            # The path as it is on disk (NFD on some file systems): it is what opens the
            # file; names and links are compared NFC-normalised (link_key).
            rel_path = prefix + name
            if is_ignored_name(name):
                if is_temp_name(name):  # left over when a write was killed
                    add((rel_path, None, Problem(
                        rel_path, None, "warning", "stale-temp",
                        "a temporary file of an interrupted vaultnetz write",
                        "the next write in this folder removes it once it is a minute old; "
                        "or delete it")))
                continue
            try:
                if name[-3:].lower() == ".md" and entry.is_file(follow_symlinks=False):
                    # The common case, a plain note. os.stat, not entry.stat(): a DirEntry
                    # keeps the stat it made, and a folder of 50,000 notes would hold
                    # 50,000 of them until it is done.
                    st = os.stat(entry.path)
                    if stat.S_ISREG(st.st_mode):  # else replaced since the folder was read
                        add((rel_path, make_stat(FileStat, (st.st_size, st.st_mtime_ns)),
                             None))
                        continue
                other(entry, rel_path)
            except OSError as exc:
                add((rel_path, None, Problem(rel_path, None, "warning", "unreadable",
                                             f"cannot read: {exc.strerror}",
                                             "check the file or link")))

    def inside(real: str) -> bool:
        return real == real_root or real.startswith(real_root + os.sep)

    def other(entry: os.DirEntry[str], rel_path: str) -> None:
        """A folder, a symbolic link, or a note that is not a regular file."""
        if entry.is_symlink():
            if links is not None:
                links.append(rel_path)
            real = os.path.realpath(entry.path)
            if not inside(real):
                if entry.name.lower().endswith(".md") or os.path.isdir(entry.path):
                    add((rel_path, None, Problem(
                        rel_path, None, "warning", "symlink-outside",
                        "symbolic link leads outside the vault; not followed",
                        "move the target into the vault or remove the link")))
                return
        if entry.is_dir():
            real = os.path.realpath(entry.path)
            if real not in seen_dirs:
                seen_dirs.add(real)
                walk(entry.path, rel_path)
        elif entry.name.lower().endswith(".md"):
            st = os.stat(entry.path)
            if stat.S_ISREG(st.st_mode):
                add((rel_path, make_stat(FileStat, (st.st_size, st.st_mtime_ns)), None))
            else:  # reading a pipe would wait for a writer forever
                add((rel_path, None, Problem(
                    rel_path, None, "warning", "not-a-file",
                    "not a regular file (a pipe, socket or device); skipped",
                    "remove it or give it another name")))

    walk(str(root), "")
    return found


class ParseSettings(NamedTuple):
    """The settings that change how a note parses (a change empties the cache)."""

    log_heading: str = "Log"
    max_size: int = 2_000_000
    date_key: str = "date"  # the front-matter keys that make a note dated, "|"-separated


def digest(data: bytes) -> str:
    """A note's content hash, as the cache keeps it."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_note(root: str, rel: str, st: FileStat, settings: ParseSettings,
              known: str | None = None) -> tuple[Note | None, str | None]:
    """Read and parse the note at ``rel``: (note, content digest). Never raises.

    (None, known) when the content's digest is ``known`` (a cache entry still
    right); the digest is None when the note was not read (too large, unreadable).
    """
    if st.st_size > settings.max_size:
        return Note.skipped(rel, st.st_size, st.st_mtime_ns,
                            [too_large(rel, st.st_size, settings.max_size)]), None
    try:
        with open(os.path.join(root, rel), "rb") as handle:
            data = handle.read()
    except OSError as exc:
        problem = Problem(rel, None, "error", "unreadable", f"cannot read: {exc.strerror}",
                          "check the file's permissions")
        return Note.skipped(rel, st.st_size, st.st_mtime_ns, [problem]), None
    content = digest(data)
    if content == known:
        return None, content
    return parse_note(rel, data, mtime_ns=st.st_mtime_ns, log_heading=settings.log_heading,
                      max_size=settings.max_size, date_key=settings.date_key), content


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def parse_note(
    path: str,
    data: bytes,
    *,
    mtime_ns: int = 0,
    log_heading: str = "Log",
    max_size: int = 2_000_000,
    date_key: str = "date",
) -> Note:
    """Parse one note's bytes. Never raises for bad input.

    Links are kept only for dated notes (a daily note, or front-matter ``date_key``):
    only those count as mentions, and a large vault holds many links.
    """
    problems: list[Problem] = []

    def fail(line: int | None, code: str, message: str, hint: str, severity: str = "error") -> Note:
        problems.append(Problem(path, line, severity, code, message, hint))  # type: ignore[arg-type]
        return Note.skipped(path, len(data), mtime_ns, problems)

    if _CONFLICT.search(path.rsplit("/", 1)[-1]):
        return fail(None, "sync-conflict", "a sync-conflict copy; not read as a note",
                    "merge it into the original note and delete the copy", "warning")
    if len(data) > max_size:
        return Note.skipped(path, len(data), mtime_ns, [too_large(path, len(data), max_size)])
    if not data.strip():
        return fail(None, "empty", "empty note; skipped", "add content or delete it",
                    "warning")
    if b"\x00" in data[:8192]:
        return fail(None, "binary", "not a text file (it contains NUL bytes); skipped",
                    "rename it if it is not a note, or restore it from a backup")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return fail(_line_of_offset(data, exc.start), "encoding",
                    "not valid UTF-8; skipped", "re-save the note as UTF-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        lines = [line.rstrip("\r\n") for line in split_lines(text)]
    else:  # the common case, and much faster
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()

    meta: dict[str, Any] = {}
    meta_lines: dict[str, int] = {}
    body_start = 0  # index into lines
    if lines and lines[0].rstrip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
        if end is None:
            return fail(1, "frontmatter-unterminated",
                        "front-matter starts with '---' but has no closing '---'",
                        "add a line '---' after the last front-matter key")
        block = "\n".join(lines[1:end])
        key_lines: dict[str, int] = {}
        load_front_matter, yaml_error = _front_matter_loader()
        try:
            loaded = load_front_matter(block, key_lines)
        except (yaml_error, ValueError, TypeError, RecursionError) as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = mark.line + 2 if mark is not None else 1
            what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            return fail(line, "frontmatter-yaml", f"front-matter is not valid YAML: {what}",
                        "fix the YAML; quote values that contain ': ' or start with '[', "
                        "'@' or '*'")
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            kind = {list: "a list", str: "plain text", int: "a number", float: "a number",
                    bool: "a yes/no value"}.get(type(loaded), "not a mapping")
            return fail(2, "frontmatter-not-mapping",
                        f"front-matter is {kind}, not 'key: value' lines",
                        "write the front-matter as 'key: value' lines")
        meta = {sys.intern(str(k)): v for k, v in loaded.items()}  # keys recur in every note
        if key_lines:  # the fast path found the keys' lines: block line 1 is file line 2
            meta_lines = {sys.intern(key): line + 1 for key, line in key_lines.items()}
        else:
            meta_lines = key_lines_of(lines, end)
        body_start = end + 1

    log: list[LogEntry] = []
    has_heading = False
    if _heading_pattern(log_heading).search(text):  # most notes have no Log: skip the scan
        log, has_heading = _parse_log(path, lines, body_start, log_heading, problems)
    if "::" in text or "#person" in text:  # Dataview inline fields, a body #person tag
        _inline_fields(lines, body_start, meta, meta_lines)
    dated = ISO_DATE.match(_stem(path)) is not None or (bool(meta) and _has_date(meta, date_key))
    links = tuple(_scan_links(lines, body_start)) if dated and "[[" in text else ()
    ok = not any(p.severity == "error" for p in problems)
    return Note(path, len(data), mtime_ns, meta, meta_lines, tuple(log), links,
                tuple(problems), ok, has_heading)


@functools.cache
def _front_matter_loader() -> tuple[Callable[[str, dict[str, int]], Any], type[Exception]]:
    """The front-matter parser and YAML's error type, imported when first needed: a
    run answered from the cache never loads PyYAML (a tenth of the start-up)."""
    import yaml

    from .fastmeta import load_front_matter

    return load_front_matter, yaml.YAMLError


def key_lines_of(lines: list[str], end: int) -> dict[str, int]:
    """Each top-level front-matter key's first line number (front-matter: lines 1..end-1)."""
    found: dict[str, int] = {}
    for i in range(1, end):
        match = _META_KEY.match(lines[i])
        if match:
            found.setdefault(sys.intern(match.group(1).strip("'\"")), i + 1)
    return found


@functools.lru_cache(maxsize=8)
def _heading_pattern(heading: str) -> re.Pattern[str]:
    return re.compile(rf"^#{{1,6}}[ \t]+{re.escape(heading.strip())}[ \t#]*\r?$",
                      re.MULTILINE | re.IGNORECASE)


_MAYBE_HEADING_OR_FENCE = frozenset("#`~ \t")  # how a heading or a fence line can start


def find_log_section(lines: list[str], start: int, heading: str) -> tuple[int, int] | None:
    """(heading index, end index) of the Log section, or None. End is exclusive."""
    wanted = heading.strip().casefold()
    in_fence = False
    for i in range(start, len(lines)):
        if lines[i][:1] not in _MAYBE_HEADING_OR_FENCE:  # most lines: no regex needed
            continue
        if _FENCE.match(lines[i]):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        match = _HEADING.match(lines[i])
        if match and match.group(2).strip().casefold() == wanted:
            level = len(match.group(1))
            end = len(lines)
            inner_fence = False
            for j in range(i + 1, len(lines)):
                if lines[j][:1] not in _MAYBE_HEADING_OR_FENCE:
                    continue
                if _FENCE.match(lines[j]):
                    inner_fence = not inner_fence
                    continue
                other = None if inner_fence else _HEADING.match(lines[j])
                if other and len(other.group(1)) <= level:
                    end = j
                    break
            return i, end
    return None


def _parse_log(
    path: str, lines: list[str], start: int, heading: str, problems: list[Problem]
) -> tuple[list[LogEntry], bool]:
    section = find_log_section(lines, start, heading)
    if section is None:
        return [], False
    entries = []
    for i in range(section[0] + 1, section[1]):
        match = _BULLET.match(lines[i])
        if not match:
            loose = _LOOSE_BULLET.match(lines[i])
            if loose and _is_a_date(loose.group(1)):  # "- 12/03/2026 Lunch": not counted
                problems.append(Problem(
                    path, i + 1, "warning", "log-date-form",
                    f"log entry date {loose.group(1)!r} is not YYYY-MM-DD; the entry is "
                    "ignored", f"write the date as YYYY-MM-DD{_iso_hint(loose.group(1))}"))
            continue
        raw_date = match.group(2)
        try:
            if not ISO_DATE.match(raw_date):
                raise ValueError
            day = iso_day(raw_date)
        except ValueError:
            problems.append(Problem(path, i + 1, "warning", "log-bad-date",
                                    f"log entry has an invalid date {raw_date!r}; "
                                    "the entry is ignored", "write the date as YYYY-MM-DD"))
            continue
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            problems.append(Problem(path, i + 1, "warning", "log-bad-date",
                                    f"log entry date {raw_date} is out of range; the entry "
                                    "is ignored", f"use a date between {MIN_YEAR} and "
                                    f"{MAX_YEAR} (a typo?)"))
            continue
        text = match.group(4).strip()
        if "[[" in text:  # shown as plain text everywhere: the links' display text
            text = plain_links(text)
        kind: InteractionKind = "contact"
        if "#" not in text:
            pass
        elif _TAG_DECLINED.search(text):
            kind = "declined"
        elif _TAG_ATTEMPT.search(text):
            kind = "attempt"
        entries.append(Interaction(day, kind, text, "log", path, i + 1))
    return entries, True


def _has_date(meta: dict[str, Any], date_keys: str) -> bool:
    wanted = {norm_key(k) for k in date_keys.split("|")}
    return any(meta[k] is not None and norm_key(k.lstrip(":")) in wanted for k in meta)


# Dataview inline fields: "key:: value" on a line of its own (also as a bullet, or in bold:
# "**Last contact::** 2026-05-01"), and "[key:: value]" or "(key:: value)" within a line.
_INLINE_LINE = re.compile(
    r"^[ \t]*(?:[-*+][ \t]+|>[ \t]*)?(?:\*\*|__)?([^\W\d][\w \-/.]{0,60}?)(?:\*\*|__)?::"
    r"(?:\*\*|__)?[ \t]*(.*)$")
_INLINE_BRACKETED = re.compile(r"[\[(]([^\W\d][\w \-/.]{0,60}?)::[ \t]*([^\]\[()]*)[\])]")
_BODY_PERSON_TAG = re.compile(r"(?<![\w/#&])#(person(?:/[\w/-]+)?)(?![\w/-])", re.IGNORECASE)


def _inline_fields(lines: list[str], start: int, meta: dict[str, Any],
                   meta_lines: dict[str, int]) -> None:
    """Dataview inline fields of the text as "::key" in ``meta`` (the front-matter's own
    keys win: ``config.field_keys``), and `#person` tags of the text as "::#tags"."""
    fence = False
    tags: list[str] = []
    for i in range(start, len(lines)):
        line = lines[i]
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
            continue
        if fence:
            continue
        if "#" in line and "#person" in line.lower():
            tags += [m.group(1) for m in _BODY_PERSON_TAG.finditer(line)
                     if m.group(1) not in tags]
        if "::" not in line or _BULLET.match(line):  # a Log bullet is no field
            continue
        found = [(m.group(1), m.group(2)) for m in _INLINE_BRACKETED.finditer(line)]
        if not found:
            match = _INLINE_LINE.match(line)
            if match:
                found = [(match.group(1), match.group(2))]
        for key, value in found:
            name = sys.intern("::" + key.strip())
            if name not in meta:
                meta[name] = value.strip().strip("*_").strip()
                meta_lines[name] = i + 1
    if tags:
        meta["::#tags"] = tags


_WIKI_LINK = re.compile(r"\[\[([^\[\]|#^\n]*)(?:[#^][^\[\]|\n]*)?(?:\|([^\[\]\n]*))?\]\]")
_LIST_MARK = re.compile(r"^(?:[-*+]|\d+[.)]|>|#{1,6})[ \t]+(?:\[[ xX]\][ \t]+)?")
_LEADING_DATE = re.compile(r"^\[?\[?\d{4}-\d{2}-\d{2}\]?\]?[ \t]*[:–—-]?[ \t]*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")


def _shown(match: re.Match[str]) -> str:
    return (match.group(2) or match.group(1).rsplit("/", 1)[-1]).strip()


def plain_links(text: str) -> str:
    """``text`` with each ``[[link]]`` as its display text ("[[People/Anna|Annie]]" → Annie)."""
    return _WIKI_LINK.sub(_shown, text)


def mention_text(line: str, target: str) -> str:
    """The sentence or bullet that links ``target``, as plain text: no bullet marker, no
    ``[[…]]`` (the link's display text instead), no repeated date."""
    text = _LEADING_DATE.sub("", _LIST_MARK.sub("", line.strip()))
    plain_text = plain_links(text)
    sentences = _SENTENCE_END.split(plain_text)
    if len(sentences) > 1:
        wanted = plain_links(f"[[{target}]]")
        for sentence, raw in zip(sentences, _SENTENCE_END.split(text), strict=False):
            if target in raw or wanted in sentence:
                plain_text = sentence
                break
    plain_text = " ".join(plain_text.split())
    return plain_text if len(plain_text) <= 140 else plain_text[:139] + "…"


# A Log bullet that starts with a date in another form: 12/03/2026, 12.03.2026, 3 March 2026…
_LOOSE_BULLET = re.compile(
    r"^[ \t]*[-*+][ \t]+(?:\[[ xX]\][ \t]+)?\[?\[?("
    r"\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}/\d{1,2}/\d{1,2}|\d{1,2}\.?[ \t]+[^\W\d_]+\.?[ \t]+\d{4}"
    r"|[^\W\d_]+\.?[ \t]+\d{1,2},?[ \t]+\d{4})\]?\]?(?=[\s:,;]|$)")


def _is_a_date(text: str) -> bool:
    """Whether a bullet's first words are a date in another form, not "- Room 12 2026":
    numbers only, or a month's name."""
    words = re.findall(r"[^\W\d_]+", text)
    return not words or all(w.casefold() in MONTHS for w in words)


def _iso_hint(text: str) -> str:
    from .values import parse_date

    try:
        return f": {parse_date(text).isoformat()}"
    except ValueError:
        return ""


def _scan_links(lines: list[str], body_start: int = 0) -> Iterator[Link]:
    for i, line in enumerate(lines):
        if "[[" not in line:
            continue
        for match in LINK.finditer(line):
            target = match.group(1).strip()
            # A link in the front-matter ("attendees: [[Anna]]") has no text of its own:
            # the note's title stands for it (contacts.mentions_in).
            context = mention_text(line, target) if i >= body_start else ""
            yield Link(target, i + 1, context)


@functools.lru_cache(maxsize=8192)
def iso_day(text: str) -> date:
    """date.fromisoformat, one object per day: a large vault holds a million dated lines."""
    return date.fromisoformat(text)


def link_key(target: str) -> str:
    """Normalise a link target or a name for lookups."""
    key = target.strip()
    if not key.isascii():
        key = unicodedata.normalize("NFC", key)
    if "\\" in key:
        key = key.replace("\\", "/")
    if key[-3:].lower() == ".md":
        key = key[:-3]
    return " ".join(key.split()).casefold()


def too_large(path: str, size: int, max_size: int) -> Problem:
    return Problem(path, None, "warning", "too-large",
                   f"note is {size:,} bytes, over max_note_size ({max_size:,}); skipped",
                   "split the note or raise max_note_size in vaultnetz.toml")
