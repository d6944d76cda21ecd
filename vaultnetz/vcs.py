"""The vault's git repository, through the git command line: commit a write, read history."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import GitError

if TYPE_CHECKING:
    import subprocess

_ADDED_LOG = re.compile(r"^\+(?!\+\+)([ \t]*[-*+][ \t]+\[?\[?\d{4}-\d{2}-\d{2}.*)$")


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    import subprocess  # here: only commands that use git need it (3 ms to import)

    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              check=False, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise GitError("git is not installed", "install git, or drop --commit") from None


def repo_root(folder: Path) -> Path:
    """The top of the git work tree holding ``folder``; an error when there is none."""
    result = _git(folder, "rev-parse", "--show-toplevel")
    if result.returncode != 0:
        raise GitError(f"{folder} is not in a git repository; nothing was written",
                       "run `git init` in the vault, or leave out --commit (and set "
                       "git_commit = false)")
    return Path(result.stdout.strip())


def commit_files(root: Path, paths: list[str], message: str) -> str:
    """Commit exactly ``paths`` (relative to ``root``); other staged changes stay staged."""
    added = _git(root, "add", "--", *paths)
    if added.returncode != 0:
        raise GitError(f"the note was written, but git add failed: {added.stderr.strip()}",
                       "commit it by hand")
    done = _git(root, "commit", "--quiet", "--only", "-m", message, "--", *paths)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise GitError(f"the note was written, but git commit failed: {detail}",
                       "commit it by hand (is user.name/user.email set?)")
    head = _git(root, "rev-parse", "--short", "HEAD")
    return head.stdout.strip()


@dataclass(frozen=True)
class Revision:
    commit: str
    day: str
    subject: str
    added_log_lines: tuple[str, ...]


def history(root: Path, path: str) -> list[Revision]:
    """The note's commits, newest first, following renames, with the log lines each added."""
    repo_root(root)
    result = _git(root, "log", "--follow", "--date=short", "--no-color", "--no-ext-diff",
                  "--format=%x1e%h%x1f%ad%x1f%s", "-p", "--", path)
    if result.returncode != 0:
        raise GitError(f"git log failed: {result.stderr.strip()}", "check the repository")
    revisions = []
    for chunk in result.stdout.split("\x1e")[1:]:
        header, _, diff = chunk.partition("\n")
        commit, day, subject = [*header.split("\x1f"), "", ""][:3]
        added = tuple(m.group(1).strip() for m in map(_ADDED_LOG.match, diff.splitlines()) if m)
        revisions.append(Revision(commit, day, subject, added))
    return revisions
