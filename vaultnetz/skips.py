"""What is not a note: templates folders and the user's ``exclude`` patterns.

Obsidian's core Templates plugin names its folder in ``.obsidian/templates.json``
(``{"folder": "Templates"}``), Templater in
``.obsidian/plugins/templater-obsidian/data.json`` (``"templates_folder"``); their notes
are full of ``{{date}}`` placeholders and are no contacts. ``exclude = ["Archive/**"]``
in the config skips more (glob patterns on the path within the vault; a pattern without
wildcards is a folder).
"""

from __future__ import annotations

import contextlib
import fnmatch
from collections.abc import Callable, Iterable
from pathlib import Path

Rule = tuple[str, Callable[[str], bool]]  # (what it is, for `check`; does it skip a path)

_TEMPLATE_SETTINGS = (
    (".obsidian/templates.json", "folder"),
    (".obsidian/plugins/templater-obsidian/data.json", "templates_folder"),
)


def _folder(folder: str) -> Callable[[str], bool]:
    prefix = folder.strip("/").casefold() + "/"
    return lambda rel: rel.casefold().startswith(prefix)


def _glob(pattern: str) -> Callable[[str], bool]:
    pattern = pattern.strip().lstrip("/")
    if not any(c in pattern for c in "*?["):
        return _folder(pattern)
    patterns = [pattern] + ([pattern[3:]] if pattern.startswith("**/") else [])
    return lambda rel: any(fnmatch.fnmatchcase(rel, p) for p in patterns)


def template_folders(root: Path) -> list[tuple[str, str]]:
    """(folder, the settings file naming it) of the templates plugins."""
    found = []
    for settings, key in _TEMPLATE_SETTINGS:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            text = (root / settings).read_text(encoding="utf-8")
            import json  # here: most vaults have no such settings file

            folder = json.loads(text).get(key)
            if isinstance(folder, str) and folder.strip("/ "):
                found.append((folder.strip("/ "), settings))
    return found


def skip_rules(root: Path, exclude: Iterable[str]) -> list[Rule]:
    rules: list[Rule] = [(f"the templates folder {folder}/ ({settings})", _folder(folder))
                         for folder, settings in template_folders(root)]
    rules += [(f"exclude {pattern!r}", _glob(pattern)) for pattern in exclude]
    return rules


def skipped_by(rules: list[Rule], rel: str) -> str | None:
    """The rule that skips ``rel`` (its description), or None."""
    for what, skips in rules:
        if skips(rel):
            return what
    return None
