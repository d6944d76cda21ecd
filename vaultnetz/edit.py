"""Minimal raw-text edits to a note. Front-matter is never re-serialised.

Each function takes the note's bytes and returns new bytes in which only the
line(s) it must change differ: BOM, line endings, comments, key order, quoting,
other sections and a missing final newline all stay as they were. After every
edit the result is parsed again and compared with what was intended; anything
unexpected raises ``NoteNotWritable`` instead of writing a surprise.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from .errors import NoteNotWritable
from .notes import Note, find_log_section, parse_note, split_lines

BOM = "\ufeff"
_KEY_LINE = r"^(?P<key>{key}|\"{key}\"|'{key}')(?P<sep>[ \t]*:)(?P<gap>[ \t]*)(?P<value>.*)$"
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]")


@dataclass
class _Text:
    """A note split for editing: BOM, lines with their endings, and the file's newline."""

    bom: str
    lines: list[str]
    newline: str

    @classmethod
    def of(cls, data: bytes) -> _Text:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteNotWritable("the note is not valid UTF-8; it is never written to",
                                  "re-save it as UTF-8") from None
        bom = BOM if text.startswith(BOM) else ""
        lines = split_lines(text[len(bom):])
        newline = next((_ending(line) for line in lines if _ending(line)), "\n")
        return cls(bom, lines, newline)

    def bytes(self) -> bytes:
        return (self.bom + "".join(self.lines)).encode("utf-8")

    def front_matter(self) -> tuple[int, int] | None:
        """(index of the opening ---, index of the closing ---), or None."""
        if not self.lines or _strip(self.lines[0]).rstrip() != "---":
            return None
        for i in range(1, len(self.lines)):
            if _strip(self.lines[i]).rstrip() in ("---", "..."):
                return 0, i
        return None

    def ensure_final_newline(self, index: int) -> None:
        """Give line ``index`` an ending, when it is the last line and has none."""
        if not _ending(self.lines[index]):
            self.lines[index] += self.newline


def _ending(line: str) -> str:
    if line.endswith("\r\n"):
        return "\r\n"
    if line.endswith(("\n", "\r")):
        return line[-1]
    return ""


def _strip(line: str) -> str:
    return line.rstrip("\r\n")


def _parsed(data: bytes, log_heading: str) -> Note:
    note = parse_note("note.md", data, log_heading=log_heading, max_size=len(data) + 1)
    errors = [p for p in note.problems if p.severity == "error"]
    if errors:  # warnings (an empty note) do not stop an edit
        problem = errors[0]
        where = f" (line {problem.line})" if problem.line else ""
        raise NoteNotWritable(
            f"the note cannot be parsed{where}: {problem.message}; it is never written to",
            problem.hint or "fix it first (see `vaultnetz check`)")
    return note


def _reparsed(data: bytes, log_heading: str, hint: str) -> Note:
    """Parse the edited text; an edit that broke the note is refused, never written."""
    try:
        return _parsed(data, log_heading)
    except NoteNotWritable:
        raise NoteNotWritable("cannot edit this note safely (its layout is unusual)",
                              hint) from None


def _format_value(old_value: str, new_value: str) -> str:
    """The new value written in the old one's style: quotes, [[wiki link]], trailing comment."""
    value = old_value.strip()
    comment = ""
    quote = value[:1] if value[:1] in ("'", '"') else ""
    if quote:
        end = value.find(quote, 1)
        if end > 0:
            comment = value[end + 1:]
            value = value[1:end]
    else:
        match = re.search(r"[ \t]+#", value)
        if match:
            comment = value[match.start():]
            value = value[:match.start()].rstrip()
    if value.startswith("[[") and value.endswith("]]"):
        new_value = f"[[{new_value}]]"  # a date written as a link stays a link
    return f"{quote}{new_value}{quote}{comment}"


def set_front_matter(data: bytes, key: str, value: str, *, log_heading: str = "Log") -> bytes:
    """Set ``key: value`` in the front-matter, changing only that key's line(s).

    ``value`` is a plain YAML scalar (a date, a word). An existing key keeps its
    quoting style and trailing comment; a new key goes on a new line before the
    closing ``---``; a note without front-matter gets one at the top.
    """
    before = _parsed(data, log_heading)
    text = _Text.of(data)
    nl = text.newline
    span = text.front_matter()
    if span is None:
        text.lines.insert(0, f"---{nl}{key}: {value}{nl}---{nl}")
    else:
        pattern = re.compile(_KEY_LINE.format(key=re.escape(key)))
        for i in range(span[0] + 1, span[1]):
            match = pattern.match(_strip(text.lines[i]))
            if not match:
                continue
            # A block value (nothing after the colon, or | and >) continues on indented or
            # "- item" lines: replace them too. After a one-line value, such lines are
            # the user's (an indented comment) and stay.
            end = i + 1
            inline = match.group("value").split(" #", 1)[0].strip()
            if inline in ("", "|", ">") or inline[:1] in ("|", ">"):
                while end < span[1] and (text.lines[end][:1] in (" ", "\t")
                                         or _strip(text.lines[end]).startswith("- ")
                                         or _strip(text.lines[end]) == "-"):
                    end += 1
            old_value = match.group("value") if end == i + 1 else ""
            gap = match.group("gap") or " "
            line = (f"{match.group('key')}{match.group('sep')}{gap}"
                    f"{_format_value(old_value, value)}{_ending(text.lines[i]) or nl}")
            text.lines[i:end] = [line]
            break
        else:
            text.lines.insert(span[1], f"{key}: {value}{nl}")
    result = text.bytes()
    after = _reparsed(result, log_heading, f"edit the note by hand: set {key}: {value}")
    expected = dict(before.meta)
    expected[key] = after.meta.get(key)
    written = after.meta.get(key)
    if after.meta != expected or (_scalar(written) != value and written != _yaml_value(value)):
        raise NoteNotWritable(
            f"cannot change {key!r} safely in this note's front-matter",
            f"edit the note by hand: set {key}: {value}")
    return result


def _yaml_value(value: str) -> Any:
    import yaml  # here: PyYAML is loaded only when a note is parsed or written

    from .fastmeta import load_front_matter

    try:
        return load_front_matter(f"k: {value}").get("k")
    except yaml.YAMLError:
        return None


def _scalar(value: Any) -> str:
    """A parsed front-matter value back as text, for the after-edit check."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    text = str(value)
    if text.startswith("[[") and text.endswith("]]"):
        return text[2:-2]
    return text


def log_line(day: str, text: str, marker: str | None) -> str:
    """``- YYYY-MM-DD text #marker`` (the marker is added unless the text has it)."""
    words = " ".join(text.split())
    if marker and f"#{marker}" not in words.lower():
        words = f"{words} #{marker}".strip()
    return f"- {day} {words}".rstrip()


def append_log(data: bytes, entry: str, *, log_heading: str = "Log") -> bytes:
    """Insert ``entry`` (one line, no ending) after the last item of the Log section.

    Without a Log section, one is added at the end of the note.
    """
    before = _parsed(data, log_heading)
    text = _Text.of(data)
    nl = text.newline
    span = text.front_matter()
    stripped = [_strip(line) for line in text.lines]
    section = find_log_section(stripped, span[1] + 1 if span else 0, log_heading)
    if section is not None:
        head, end = section
        insert_at = head + 1
        i = head + 1
        while i < end:
            if _LIST_ITEM.match(stripped[i]):
                i += 1
                while i < end and stripped[i][:1] in (" ", "\t") and stripped[i].strip():
                    i += 1  # the item's continuation lines
                insert_at = i
            else:
                i += 1
        if insert_at == len(text.lines) and not _ending(text.lines[-1]):
            text.lines[-1] += nl  # the file had no final newline: keep it that way
            text.lines.append(entry)
        else:
            text.lines.insert(insert_at, entry + nl)
    elif not text.lines:
        text.lines = [f"## {log_heading}{nl}", entry + nl]
    elif not _ending(text.lines[-1]):
        text.lines[-1] += nl
        text.lines += [nl, f"## {log_heading}{nl}", entry]
    else:
        blank = [] if not stripped[-1].strip() else [nl]
        text.lines += [*blank, f"## {log_heading}{nl}", entry + nl]
    result = text.bytes()
    hint = f"add it by hand under '## {log_heading}': {entry}"
    after = _reparsed(result, log_heading, hint)
    if after.meta != before.meta or len(after.log) != len(before.log) + 1:
        raise NoteNotWritable("cannot add the log entry safely to this note", hint)
    return result


def yaml_list(values: tuple[str, ...], *, always: bool = False) -> str:
    """A flow list of YAML scalars (one value alone as a scalar, unless ``always``)."""
    if len(values) == 1 and not always:
        return yaml_scalar(values[0])
    return "[" + ", ".join(_list_item(v) for v in values) + "]"


def _list_item(value: str) -> str:
    scalar = yaml_scalar(value)
    if scalar.startswith('"') or not any(c in value for c in ",[]{}"):
        return scalar
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@functools.lru_cache(maxsize=4096)
def yaml_scalar(value: str) -> str:
    """``value`` as a YAML scalar: plain when it reads back unchanged, else double-quoted."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # an import writes thousands
    text = " ".join(value.split())
    try:
        plain_ok = (
            text == value
            and "#" not in text
            and yaml.load(f"k: {text}", Loader=loader) == {"k": text}
        )
    except yaml.YAMLError:
        plain_ok = False
    if plain_ok:
        return text
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
