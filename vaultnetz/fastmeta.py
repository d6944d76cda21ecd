"""Front-matter parsing: a fast path for simple `key: value` lines, PyYAML for the rest.

Most notes' front-matter is flat: plain, quoted or date values, short flow lists
(`[a, b]`) and block lists (`- a`). That is parsed here line by line; anything
else — nesting, anchors, block scalars, escapes, tabs — falls back to PyYAML's
C loader. Scalars are resolved with PyYAML's own resolvers and constructors, so
both paths give the same result (a property test holds them to it).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml
from yaml.nodes import ScalarNode

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # C is much faster; pure works too


class NoteLoader(_Base):  # type: ignore[misc]
    """The safe loader, except that an impossible date (2026-02-30) stays a string.

    PyYAML raises a bare ValueError for those; as a string, the field parser
    reports it with its key and line like any other bad date.
    """


def _timestamp(loader: Any, node: Any) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


NoteLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)

_RESOLVERS: dict[Any, list[tuple[str, re.Pattern[str]]]] = (
    yaml.resolver.Resolver.yaml_implicit_resolvers
)
_CONSTRUCTORS = {
    "tag:yaml.org,2002:null": yaml.constructor.SafeConstructor.construct_yaml_null,
    "tag:yaml.org,2002:bool": yaml.constructor.SafeConstructor.construct_yaml_bool,
    "tag:yaml.org,2002:int": yaml.constructor.SafeConstructor.construct_yaml_int,
    "tag:yaml.org,2002:float": yaml.constructor.SafeConstructor.construct_yaml_float,
    "tag:yaml.org,2002:timestamp": _timestamp,
}
_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)[ ]*:(?:[ ]+(.*))?$")
_ITEM = re.compile(r"^([ ]*)-(?:[ ]+(.*))?$")
_WIKI = re.compile(r"^\[\[([^\[\],{}#]+)\]\]$")
_UNUSUAL = re.compile(
    "[\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]"
    "|\r(?!\n)"
)
_COMMENT = re.compile(r"[ ]#")
_COMMENT_AFTER = re.compile(r"^[ ]+#")
_FLOW_COMMENT = re.compile(r"\][ ]+#")
_PLAIN_START_FORBIDDEN = set("?:,[]{}#&*!|>'\"%@`")
_constructor = None


class _Fallback(Exception):
    """The fast path does not handle this text; PyYAML will."""


def _loader() -> Any:
    global _constructor
    if _constructor is None:
        _constructor = NoteLoader("")
    return _constructor


@functools.lru_cache(maxsize=8192)  # tags, cities, dates repeat across notes
def _resolve(text: str) -> Any:
    """A plain scalar as PyYAML's safe loader resolves and constructs it."""
    for tag, regexp in _RESOLVERS.get(text[:1], ()):
        if regexp.match(text):
            constructor = _CONSTRUCTORS.get(tag)
            if constructor is None:  # merge keys, "=", "!"…: leave them to PyYAML
                raise _Fallback
            return constructor(_loader(), ScalarNode(tag, text))
    return text


def _scalar(text: str, *, flow: bool) -> Any:
    """One scalar value (plain, 'single' or "double" quoted), comments stripped."""
    if not text:
        return None
    first = text[0]
    if first in ("'", '"'):
        end = text.find(first, 1)
        if end < 0 or (first == '"' and "\\" in text[:end]):
            raise _Fallback
        rest = text[end + 1:]
        if rest.strip(" ") and not _COMMENT_AFTER.match(rest):
            raise _Fallback  # '' escapes, text after the quote…
        return text[1:end]
    if first in _PLAIN_START_FORBIDDEN or (first == "-" and (len(text) == 1 or text[1] == " ")):
        raise _Fallback
    comment = _COMMENT.search(text)
    if comment:
        text = text[:comment.start()]
    text = text.rstrip(" ")
    if ": " in text or text.endswith(":") or (flow and any(c in text for c in ",[]{}")):
        raise _Fallback
    return _resolve(text)


def _flow_list(text: str) -> list[Any]:
    body = text.strip(" ")
    comment = _FLOW_COMMENT.search(body)
    if comment:
        body = body[:comment.start() + 1]
    if not body.endswith("]"):
        raise _Fallback
    inner = body[1:-1].strip(" ")
    if not inner:
        return []
    if '"' in inner or "'" in inner or "[" in inner or "]" in inner or "#" in inner:
        raise _Fallback
    items = [part.strip(" ") for part in inner.split(",")]
    if any(not item for item in items):
        raise _Fallback
    return [_scalar(item, flow=True) for item in items]


def _value(text: str) -> Any:
    if text.startswith("["):
        wiki = _WIKI.match(text.split(" #", 1)[0].rstrip(" "))
        if wiki:  # an unquoted [[2026-01-01]] is a list in a list
            return [[_scalar(wiki.group(1).strip(" "), flow=True)]]
        return _flow_list(text)
    return _scalar(text, flow=False)


def fast_front_matter(block: str, key_lines: dict[str, int] | None = None) -> dict[str, Any]:
    """Parse flat front-matter; raise _Fallback for anything it does not handle.

    ``key_lines`` gets each key's first line in the block (1-based).
    """
    if _UNUSUAL.search(block) or ("\\" in block and '"' in block):
        raise _Fallback  # tabs, odd line breaks and characters YAML rejects: PyYAML decides
    result: dict[str, Any] = {}
    lines = block.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r")
        stripped = line.strip(" ")
        i += 1
        if not stripped or stripped.startswith("#"):
            continue
        match = _KEY.match(line)
        if not match or _resolve(match.group(1)) != match.group(1):
            raise _Fallback  # indented text, odd keys ("yes:", "2026:"), flow mappings…
        key, raw = match.group(1), (match.group(2) or "").strip(" ")
        if key_lines is not None:
            key_lines.setdefault(key, i)  # i: already the next line's index, so 1-based
        if raw and not raw.startswith("#"):
            result[key] = _value(raw)
            continue
        items: list[Any] = []
        indent: str | None = None
        while i < len(lines):
            item_line = lines[i].rstrip("\r")
            if not item_line.strip(" ") or item_line.strip(" ").startswith("#"):
                i += 1
                continue
            item = _ITEM.match(item_line)
            if not item or (indent is not None and item.group(1) != indent):
                break
            indent = item.group(1)
            text = (item.group(2) or "").strip(" ")
            if not text or text.startswith(("[", "- ", "#")):
                raise _Fallback
            items.append(_scalar(text, flow=False))
            i += 1
        if indent is not None and i < len(lines) and lines[i].startswith(" "):
            raise _Fallback
        result[key] = items if indent is not None else None
    return result


def load_front_matter(block: str, key_lines: dict[str, int] | None = None) -> Any:
    """The front-matter's data: the fast path when it applies, else PyYAML (may raise).

    When the fast path answers, ``key_lines`` holds each top-level key's line in the
    block (1-based); after PyYAML, it is left empty.
    """
    try:
        return fast_front_matter(block, key_lines)
    except _Fallback:
        if key_lines is not None:
            key_lines.clear()
        return yaml.load(block, Loader=NoteLoader)
