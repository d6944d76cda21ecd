"""The command line: parse arguments, call the core, print. One error handler."""

from __future__ import annotations

import gc
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from .atomic import create_file_exclusive
from .cache import Cache
from .config import CONFIG_NAME, default_config_text
from .contacts import Vault
from .errors import ConfigError, InvalidValue, VaultnetzError
from .index import find_vault, open_cache, require_vault
from .load import load_vault
from .model import CheckIn, Contact, Problem, Schedule, Standing
from .report import terminal_safe
from .snapshot import contact_plan, plan_of
from .values import MAX_YEAR, MIN_YEAR, in_range
from .version import __version__

T = TypeVar("T")


@dataclass
class State:
    """What the global options decided, and the vault once it has been read."""

    vault_option: str | None
    today: date
    use_cache: bool = True
    today_pinned: bool = False
    jobs: int | None = None
    _vault: Vault | None = field(default=None, repr=False)
    _config_warned: bool = field(default=False, repr=False)
    _schedule: Schedule | None = field(default=None, repr=False)

    @property
    def root(self) -> Path:
        searched = not (self.vault_option or os.environ.get("VAULTNETZ_VAULT"))
        return require_vault(find_vault(self.vault_option, os.environ, Path.cwd()), searched)

    def cache_dir(self) -> Path | None:
        return user_cache_dir() if self.use_cache else None

    def vault(self, *, strict: bool = True) -> Vault:
        if self._vault is None:
            self._vault = load_vault(self.root, cache_dir=self.cache_dir(),
                                     progress=ReadProgress(), jobs=self.jobs)
        errors = [p for p in self._vault.problems
                  if p.severity == "error" and p.path == CONFIG_NAME]
        if strict and errors:
            raise ConfigError([p.format() for p in errors])
        if strict and not self._config_warned:  # `check` lists them itself
            self._config_warned = True
            warn_config([p for p in self._vault.problems if p.path == CONFIG_NAME])
        return self._vault

    def schedule(self) -> Schedule:
        if self._schedule is None:
            vault = self.vault()
            # The plan stored with the vault's snapshot, if it is today's.
            self._schedule = self._with_cache(vault, lambda cache: plan_of(
                vault, self.today, cache))
        return self._schedule

    def contact_plan(self, contact: Contact) -> tuple[Standing | None, CheckIn | None]:
        """``contact``'s standing and check-in in today's schedule: read from the stored
        plan without the rest of it when there is one (`show`), else from ``schedule()``."""
        if self._schedule is None:
            vault = self.vault()
            one = self._with_cache(vault, lambda cache: contact_plan(
                vault, self.today, cache, contact))
            if one is not None:
                return one.standings.get(contact.path), next(iter(one.check_ins), None)
        plan = self.schedule()
        return plan.standings.get(contact.path), next(
            (c for c in plan.check_ins if c.contact.path == contact.path), None)

    def _with_cache(self, vault: Vault, use: Callable[[Cache | None], T]) -> T:
        cache_dir = self.cache_dir()
        if cache_dir is None or vault.stored is None:
            return use(None)
        cache = open_cache(cache_dir, vault.root, vault.config)
        try:
            return use(cache)
        finally:
            cache.close()

    def warn_skipped(self) -> None:
        """Commands other than `check` say in one line that some notes were skipped."""
        warn_errors(len(self.vault().errors()))


class ReadProgress:
    """`reading notes: 5,000 of 13,650` on stderr while a cold index is read: only on a
    terminal, and only once the command has taken more than ``delay`` seconds."""

    def __init__(self, stream: Any = None, clock: Callable[[], float] = time.monotonic,
                 delay: float = 1.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.start = clock()
        self.delay = delay
        self.shown = False
        try:
            self.enabled = self.stream.isatty()
        except (AttributeError, ValueError):
            self.enabled = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or (not self.shown and self.clock() - self.start < self.delay):
            return
        line = f"reading notes: {done:,} of {total:,}"
        if done >= total:  # finished: leave the terminal as it was
            if self.shown:
                self.stream.write("\r" + " " * len(line) + "\r")
        else:
            self.stream.write("\r" + line)
            self.shown = True
        self.stream.flush()


def warn_config(problems: Iterable[Problem]) -> None:
    """The config's warnings (an unknown key: a typo?), one line each, on every command."""
    for problem in problems:
        if problem.severity == "warning":
            echo(problem.format(), err=True)


def warn_errors(count: int) -> None:
    if count:
        noun = "problem" if count == 1 else "problems"
        echo(f"warning: {count} {noun} in the vault; the notes concerned were "
                   "skipped. Run `vaultnetz check` for details.", err=True)


class VaultnetzGroup(click.Group):
    """Turns every VaultnetzError into `Error: …` and its exit code; never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except VaultnetzError as exc:
            echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            # The reader went away (`vaultnetz due | head`): stop quietly.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(1)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            echo(f"Error: {where}{exc.strerror or exc}", err=True)
            ctx.exit(1)
        except Exception as exc:
            if os.environ.get("VAULTNETZ_DEBUG"):
                raise
            echo(f"Error: unexpected {type(exc).__name__}: {exc}. This is a bug in "
                       "vaultnetz; rerun with VAULTNETZ_DEBUG=1 and report the output.", err=True)
            ctx.exit(1)


def user_cache_dir() -> Path:
    """$VAULTNETZ_CACHE_DIR, else the platform's user cache folder (never inside the vault)."""
    if os.environ.get("VAULTNETZ_CACHE_DIR"):
        return Path(os.environ["VAULTNETZ_CACHE_DIR"])
    import platformdirs

    return Path(platformdirs.user_cache_dir("vaultnetz", appauthor=False))


def parse_day(value: str, what: str) -> date:
    hint = f"use YYYY-MM-DD, between {MIN_YEAR} and {MAX_YEAR}"
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidValue(f"invalid date {value!r} for {what}", hint) from None
    try:
        return in_range(day)
    except ValueError:
        raise InvalidValue(f"the date {value!r} for {what} is out of range", hint) from None


_LONG_RUNNING = {"watch", "serve"}


class _Process:
    """How this process runs ``main``."""

    console = False  # run() called it: the process ends with the command
    one_shot = False  # it started a command other than `watch` and `serve`


MAX_WITHIN = 36_525  # due --within: a hundred years
LOG_YEARS_AHEAD = 5  # log --date: a plan further out than this is a typo


@click.group(cls=VaultnetzGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--vault", "vault_option", metavar="PATH", envvar="VAULTNETZ_VAULT",
              help="The vault folder (default: $VAULTNETZ_VAULT, else the nearest folder "
                   "with vaultnetz.toml or .obsidian/, else the current folder).")
@click.option("--today", "today_option", metavar="YYYY-MM-DD", envvar="VAULTNETZ_TODAY",
              help="Pretend today is this date (default: $VAULTNETZ_TODAY, else the local date).")
@click.option("--no-cache", is_flag=True,
              help="Read every note afresh, without the cache (parsed notes, built "
                   "vaults, feeds).")
@click.option("--jobs", type=click.IntRange(min=1), metavar="N", envvar="VAULTNETZ_JOBS",
              help="Processes that read notes when many must be read (default: one per "
                   "core, up to 4, when there are at least 1,500 notes for each; 1: none).")
@click.version_option(__version__, prog_name="vaultnetz")
@click.pass_context
def main(ctx: click.Context, vault_option: str | None, today_option: str | None,
         no_cache: bool, jobs: int | None) -> None:
    """vaultnetz: whom to get back in touch with, and when, from your Markdown notes.

    One note per person in People/, dates in the front-matter and under `## Log`,
    daily notes that link people. vaultnetz works out the check-ins and
    publishes them as a calendar feed.

    \b
    Example:
      vaultnetz --vault ~/Notes due --within 7
    """
    if ctx.invoked_subcommand not in _LONG_RUNNING and gc.isenabled():
        # A one-shot command builds one large, acyclic structure and exits: the cyclic
        # garbage collector would only walk it again and again (about 10% of a cold run).
        gc.disable()
        _Process.one_shot = True
        if not _Process.console:  # else enabling it would only walk every object once more
            ctx.call_on_close(gc.enable)  # for whoever called main() in-process (tests)
    # The one place that reads the clock: the user's local date.
    today = parse_day(today_option, "--today") if today_option else date.today()  # noqa: DTZ011
    ctx.obj = State(vault_option, today, use_cache=not no_cache,
                    today_pinned=bool(today_option), jobs=jobs)


def echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """click.echo, with control characters (from notes, names, paths) shown escaped
    (``\\x1b``), never sent raw to the terminal."""
    click.echo(terminal_safe(message), err=err, nl=nl)


def print_json(data: Any) -> None:
    import json

    text = json.dumps(data, ensure_ascii=False, indent=2)  # escapes C0 controls itself
    click.echo(_C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


_C1 = re.compile("[\x7f-\x9f]")


# --------------------------------------------------------------------------- init


@main.command()
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def init(state: State, path: Path | None) -> None:
    """Create vaultnetz.toml, People/ and an example contact; never overwrites.

    \b
    Example:
      vaultnetz init ~/Notes
    """
    root = path if path is not None else (Path(state.vault_option) if state.vault_option
                                          else Path.cwd())
    root.mkdir(parents=True, exist_ok=True)
    people = root / "People"
    people.mkdir(exist_ok=True)
    files = {
        root / CONFIG_NAME: default_config_text(),
        people / "Example Contact.md": EXAMPLE_CONTACT.format(today=state.today.isoformat()),
    }
    for target, content in files.items():
        if create_file_exclusive(target, content.encode("utf-8")):
            echo(f"created {target}")
        else:
            echo(f"kept    {target} (exists)")


EXAMPLE_CONTACT = """\
---
name: Example Contact
aliases: [Example]
tags: [person]
status: archived  # an example: no command schedules or exports it; copy it for real people
cadence: 3m
priority: normal
met_via: Where you met, e.g. "seminar during my studies"
city: Berlin
company:
role:
email:
birthday: --05-17
---
# Example Contact

Notes about the person. Log real contacts below, newest last:
`#attempt` marks an unanswered try, `#declined` a polite no.

## Log
- {today} Created this note with `vaultnetz init`
"""


# --------------------------------------------------------------------------- check


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_obj
def check(state: State, as_json: bool) -> None:
    """Validate the vault and the config: exit 1 when there are errors.

    One line per problem: path:line: error|warning: message (what to do).

    \b
    Example:
      vaultnetz check
    """
    vault = state.vault(strict=False)
    if as_json:
        print_json([p.as_json() for p in vault.problems])
    else:
        for problem in vault.problems:
            echo(problem.format())
        errors = len(vault.errors())
        warnings = len(vault.problems) - errors
        echo(f"{vault.note_count} notes, {len(vault.contacts)} contacts: "
             f"{errors} errors, {warnings} warnings", err=True)
        for what, count in vault.skipped.items():
            echo(f"skipped {count} {'note' if count == 1 else 'notes'}: {what}", err=True)
    if vault.errors():
        sys.exit(1)


# --------------------------------------------------------------------------- cache


@main.group()
def cache() -> None:
    """The cache of parsed notes, feed events and feeds (outside the vault; safe to delete).

    \b
    Example:
      vaultnetz cache clear
    """


@cache.command(name="clear")
def cache_clear() -> None:
    """Delete the cache; the next run reads every note afresh.

    \b
    Example:
      vaultnetz cache clear
    """
    from .cache import clear

    folder = user_cache_dir()
    removed = clear(folder)
    echo(f"removed {removed} cache file(s) from {folder}")


def run() -> None:
    """The `vaultnetz` console command: ``main``, and a quick way out of a one-shot command.

    A one-shot command on a large vault ends holding a few hundred thousand objects, and
    the interpreter would free them one by one on its way out (15–25 ms at 10,000
    contacts, a tenth of a warm `due`). Once the output is flushed, the process ends
    without that. `watch` and `serve`, and an output that cannot be flushed, end as usual.
    """
    _Process.console = True
    try:
        main(prog_name="vaultnetz")
    except SystemExit as exc:
        if not _Process.one_shot or not (exc.code is None or isinstance(exc.code, int)):
            raise
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            raise exc from None
        os._exit(exc.code or 0)


# The commands of these modules join `main` when they are imported.
from . import cli_contacts, cli_read, cli_serve, cli_writes  # noqa: E402, F401
