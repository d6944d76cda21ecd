"""The exception types of vaultnetz, each with the exit code the CLI uses.

No click here: the CLI has one handler that turns any of these into
``Error: …`` on stderr and the exit code below.
"""

from __future__ import annotations

from collections.abc import Sequence


class VaultnetzError(Exception):
    """A problem the user can fix. ``hint`` says what to do."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n{self.hint}"
        return self.message


class ConfigError(VaultnetzError):
    """The config file is invalid; carries every problem found, not just the first."""

    def __init__(self, lines: Sequence[str]) -> None:
        text = "invalid configuration:\n" + "\n".join(f"  {line}" for line in lines)
        super().__init__(text, "Fix vaultnetz.toml (see `vaultnetz init` for every key).")
        self.lines = list(lines)


class ContactNotFound(VaultnetzError):
    pass


class AmbiguousContact(VaultnetzError):
    pass


class InvalidValue(VaultnetzError):
    """A bad date, duration or other argument given on the command line."""


class NoteNotWritable(VaultnetzError):
    """The note cannot be written safely (its front-matter does not parse, …)."""


class ConcurrentEditError(VaultnetzError):
    """The file changed between reading and writing; nothing was written."""


class GitError(VaultnetzError):
    pass
