"""The command line: parse arguments, call the core, print. One error handler."""

from __future__ import annotations

import gc
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from .actions import (
    NewContact,
    WriteResult,
    add_contact,
    log_interaction,
    set_status,
    snooze,
)
from .atomic import create_file_exclusive
from .config import CONFIG_NAME, MAX_HORIZON_DAYS, default_config_text
from .drafts import dates_phrase, draft_for_check_in, trip_draft
from .errors import ConfigError, InvalidValue, VaultnetzError
from .index import Vault, find_vault, load_vault, require_vault
from .model import CheckIn, Contact, Problem, Schedule
from .names import find_contact
from .report import (
    cadence_words,
    check_in_json,
    contact_json,
    interaction_text,
    review_json,
    terminal_safe,
    text,
    why_now,
    work_text,
)
from .schedule import next_birthday, review, schedule, standing_of
from .trips import city_matches, near, upcoming_trip
from .values import MAX_YEAR, MIN_YEAR, in_range, parse_date_or_duration
from .vcs import history
from .version import __version__


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
            self._schedule = schedule(vault.contacts, self.today, vault.config)
        return self._schedule

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
        ctx.call_on_close(gc.enable)  # for whoever called main() in-process (tests, scripts)
    # The one place that reads the clock: the user's local date.
    today = parse_day(today_option, "--today") if today_option else date.today()  # noqa: DTZ011
    ctx.obj = State(vault_option, today, use_cache=not no_cache,
                    today_pinned=bool(today_option), jobs=jobs)


def echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """click.echo, with control characters (from notes, names, paths) shown escaped
    (``\\x1b``), never sent raw to the terminal."""
    click.echo(terminal_safe(message), err=err, nl=nl)


def _json(data: Any) -> None:
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


# --------------------------------------------------------------------------- due


def _describe_line(check_in: CheckIn, state: State) -> list[str]:
    contact = check_in.contact
    flags = []
    if contact.priority != "normal":
        flags.append(contact.priority)
    if check_in.overdue_days:
        flags.append(f"{check_in.overdue_days} days overdue")
    head = f"{check_in.due.isoformat()}  {contact.name}"
    if flags:
        head += f" ({', '.join(flags)})"
    lines = [head, "            " + why_now(check_in, state.vault().config)]
    last = interaction_text(check_in.standing.last_contact)
    context = [x for x in (contact.city, contact.met_via) if x]
    if last and check_in.standing.last_contact and check_in.standing.last_contact.source != "field":
        context.insert(0, f"last: {last}")
    if context:
        lines.append("            " + " · ".join(context))
    vault = state.vault()
    trip = upcoming_trip(contact, vault.trips, state.today, vault.config)
    if trip is not None:
        lines.append("            " + text(vault.config.language, "trip_line", city=trip.city,
                                            dates=dates_phrase(trip.start, trip.end,
                                                               vault.config.language)))
    return lines


def _trip_json(state: State, contact: Contact) -> dict[str, str] | None:
    vault = state.vault()
    trip = upcoming_trip(contact, vault.trips, state.today, vault.config)
    if trip is None:
        return None
    return {"city": trip.city, "from": trip.start.isoformat(), "to": trip.end.isoformat(),
            "path": trip.path}


def _check_in_json(state: State, check_in: CheckIn) -> dict[str, Any]:
    data = check_in_json(check_in)
    data["draft"] = draft_for_check_in(check_in, state.vault().config)
    data["trip"] = _trip_json(state, check_in.contact)
    return data


def _print_plan(state: State, check_ins: list[CheckIn], weeks: int, as_json: bool) -> None:
    """How the check-ins spread over the coming weeks (Monday to Sunday)."""
    monday = state.today - timedelta(days=state.today.weekday())
    rows: list[dict[str, Any]] = []
    for week in range(weeks):
        start = monday + timedelta(weeks=week)
        end = start + timedelta(days=6)
        names = [c.contact.name for c in check_ins if start <= c.due <= end]
        rows.append({"week": start.isoformat(), "count": len(names), "names": names})
    later = sum(1 for c in check_ins if c.due > monday + timedelta(weeks=weeks, days=-1))
    if as_json:
        _json(rows)
        return
    for row in rows:
        shown = ", ".join(row["names"][:8]) + (" …" if len(row["names"]) > 8 else "")
        echo(f"week of {row['week']}: {row['count']:>3}  {shown}".rstrip())
    echo(f"later: {later}")


def _filter(check_ins: Iterable[CheckIn], tag: str | None) -> list[CheckIn]:
    if not tag:
        return list(check_ins)
    wanted = tag.lstrip("#").casefold()
    return [c for c in check_ins if wanted in (t.casefold() for t in c.contact.tags)]


@main.command()
@click.option("--within", type=click.IntRange(0, MAX_WITHIN), metavar="DAYS",
              help="Also list check-ins due in the next DAYS days.")
@click.option("--all", "all_", is_flag=True, help="List every scheduled check-in.")
@click.option("--tag", metavar="TAG", help="Only contacts with this tag.")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N check-ins.")
@click.option("--plan", "plan_weeks", type=click.IntRange(1, 520), metavar="WEEKS",
              help="Show how the check-ins spread over the next WEEKS weeks.")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_obj
def due(state: State, within: int | None, all_: bool, tag: str | None, limit: int | None,
        plan_weeks: int | None, as_json: bool) -> None:
    """Check-ins due today (after spreading them by max_per_day and max_per_week).

    \b
    Example:
      vaultnetz due --within 7
      vaultnetz due --all --json
      vaultnetz due --plan 8
    """
    plan = state.schedule()
    if plan_weeks:
        _print_plan(state, _filter(plan.check_ins, tag), plan_weeks, as_json)
        return
    last_day = state.today + timedelta(days=within or 0)
    chosen = [c for c in plan.check_ins if all_ or c.due <= last_day]
    chosen = _filter(chosen, tag)[:limit]
    state.warn_skipped()
    if as_json:
        _json([_check_in_json(state, c) for c in chosen])
        return
    if not chosen:
        upcoming = _filter(plan.check_ins, tag)
        message = "Nothing due."
        if upcoming:
            message += (f" Next: {upcoming[0].contact.name} on "
                        f"{upcoming[0].due.isoformat()}.")
        echo(message)
        return
    for check_in in chosen:
        echo("\n".join(_describe_line(check_in, state)))


# --------------------------------------------------------------------------- show


@main.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_obj
def show(state: State, name: str, as_json: bool) -> None:
    """Everything known about one contact, and why it is due when it is.

    NAME is a name or alias, case-insensitive, or a unique prefix.

    \b
    Example:
      vaultnetz show "Anna Berger"
    """
    vault = state.vault()
    contact = find_contact(vault, name)
    plan = state.schedule()
    standing = plan.standings.get(contact.path) or standing_of(
        contact, state.today, vault.config.max_attempts)
    check_in = next((c for c in plan.check_ins if c.contact.path == contact.path), None)
    if as_json:
        data = contact_json(contact, standing, check_in, state.today, vault.config)
        data["draft"] = draft_for_check_in(check_in, vault.config) if check_in else None
        data["trip"] = _trip_json(state, contact)
        _json(data)
        return
    config = vault.config
    out = [f"{contact.name}  ({contact.path})"]

    def row(label: str, value: str) -> None:
        if value:
            out.append(f"  {label + ':':<16}{value}")

    row("aliases", ", ".join(contact.aliases))
    row("status", contact.status)
    row("priority", contact.priority)
    source = "" if contact.cadence_source == "field" else f", from {contact.cadence_source}"
    row("cadence", f"{cadence_words(contact, 'en')} ({contact.cadence.text}{source})")
    row("met via", contact.met_via)
    row("city", contact.city)
    row("work", work_text(contact))
    row("email", ", ".join(contact.email))
    row("phone", ", ".join(contact.phone))
    row("linkedin", contact.linkedin)
    row("website", ", ".join(contact.website))
    row("tags", ", ".join(contact.tags))
    if contact.birthday:
        upcoming = next_birthday(contact, state.today)
        next_text = upcoming.isoformat() if upcoming else "-"
        row("birthday", f"{contact.birthday.text()} (next {next_text})")
    last = standing.last_contact
    row("last contact", f"{last.day.isoformat()} {interaction_text(last)}" if last else "never")
    if standing.planned:
        row("planned", f"{standing.planned.day.isoformat()} {standing.planned.text}".strip())
    if contact.snooze_until:
        row("snoozed until", contact.snooze_until.isoformat())
    row("open attempts", f"{len(standing.open_attempts)} of {config.max_attempts}")
    if standing.last_decline:
        row("last no", f"{standing.last_decline.day.isoformat()} {standing.last_decline.text}")
    out.append("")
    if check_in:
        when = f"Next check-in: {check_in.due.isoformat()}"
        if check_in.due > max(check_in.original_due, state.today):
            when += f" (due {check_in.original_due.isoformat()}, moved by max_per_day)"
        if check_in.overdue_days:
            when += f", {check_in.overdue_days} days overdue"
        out.append(when)
        out.append("  " + why_now(check_in, config))
        out.append("")
        out.append("Draft:")
        out.append("  " + draft_for_check_in(check_in, config))
    trip = upcoming_trip(contact, vault.trips, state.today, config)
    if trip is not None and not standing.one_sided and contact.status == "active":
        out.append("")
        out.append(text(config.language, "trip_line", city=trip.city,
                        dates=dates_phrase(trip.start, trip.end, config.language)) +
                   f"  [{trip.path}]")
        out.append("  " + trip_draft(contact, trip.city, trip.start, trip.end, config))
    elif contact.status != "active":
        out.append(f"No check-ins: the contact is {contact.status}.")
    elif standing.one_sided:
        out.append(f"No check-ins: {len(standing.open_attempts)} unanswered attempts in a row. "
                   "Never be pushy; see `vaultnetz review`.")
    if contact.interactions:
        out.append("")
        out.append("History:")
        for item in sorted(contact.interactions, key=lambda i: (i.day, i.path, i.line or 0)):
            where = f"{item.path}:{item.line}" if item.line else item.path
            label = {"contact": "contact", "attempt": "attempt", "declined": "no"}[item.kind]
            if item.day > state.today and item.kind == "contact":
                label = "planned"
            out.append(f"  {item.day.isoformat()}  {label:<8} {interaction_text(item)}  [{where}]")
    echo("\n".join(out))


# --------------------------------------------------------------------------- list


@main.command(name="list")
@click.option("--status", "statuses", type=click.Choice(["active", "paused", "archived"]),
              multiple=True, help="Only contacts with this status (repeatable).")
@click.option("--tag", metavar="TAG", help="Only contacts with this tag.")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_obj
def list_command(state: State, statuses: tuple[str, ...], tag: str | None,
                 as_json: bool) -> None:
    """Every contact, whatever its status: status, last contact and next check-in.

    \b
    Example:
      vaultnetz list
      vaultnetz list --status paused --json
    """
    vault = state.vault()
    plan = state.schedule()
    next_check_in = {c.contact.path: c for c in plan.check_ins}
    wanted = tag.lstrip("#").casefold() if tag else None
    rows: list[dict[str, Any]] = []
    for contact in sorted(vault.contacts, key=lambda c: (c.name.casefold(), c.path)):
        if statuses and contact.status not in statuses:
            continue
        if wanted and wanted not in (t.casefold() for t in contact.tags):
            continue
        standing = plan.standings.get(contact.path) or standing_of(
            contact, state.today, vault.config.max_attempts)
        check_in = next_check_in.get(contact.path)
        why = ("" if check_in else contact.status if contact.status != "active"
               else "one-sided" if standing.one_sided else "")
        rows.append({
            "name": contact.name, "path": contact.path, "status": contact.status,
            "priority": contact.priority,
            "last_contact": standing.last_contact.day.isoformat() if standing.last_contact
            else None,
            "next_check_in": check_in.due.isoformat() if check_in else None,
            "one_sided": standing.one_sided, "no_check_in_because": why or None,
            "tags": list(contact.tags),
        })
    state.warn_skipped()
    if as_json:
        _json(rows)
        return
    if not rows:
        echo("No contacts." if not (statuses or tag) else "No contacts match.")
        return
    width = min(max(len(r["name"]) for r in rows), 32)
    echo(f"{'name':<{width}}  {'status':<8}  {'last contact':<12}  next check-in")
    for r in rows:
        nxt = r["next_check_in"] or f"- ({r['no_check_in_because']})"
        echo(f"{r['name'][:width]:<{width}}  {r['status']:<8}  "
             f"{r['last_contact'] or 'never':<12}  {nxt}")


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
        _json([p.as_json() for p in vault.problems])
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


# --------------------------------------------------------------------------- review


@main.command(name="review")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_obj
def review_command(state: State, as_json: bool) -> None:
    """One-sided, repeatedly declined, long-silent and paused contacts: let go, or revive?

    Nothing is archived for you; each entry says which command would do it.

    \b
    Example:
      vaultnetz review
    """
    vault = state.vault()
    plan = state.schedule()
    items = review(vault.contacts, state.today, vault.config, plan.standings)
    state.warn_skipped()
    if as_json:
        _json([review_json(item) for item in items])
        return
    if not items:
        echo("Nothing to review: no one-sided, declined, long-silent or paused contacts.")
        return
    titles = {
        "one-sided": "One-sided (reminders stopped: never be pushy)",
        "declined": "Said no more than once (a no is fine; maybe let it rest)",
        "long-silent": f"Long silent (no contact for over {vault.config.let_go_after.text})",
        "paused": "Paused",
    }
    current = None
    for item in items:
        if item.category != current:
            if current is not None:
                echo("")
            current = item.category
            echo(titles[item.category] + ":")
        echo(f"  {item.contact.name}: {item.detail}")
        echo(f"      {item.suggestion}")


# --------------------------------------------------------------------------- stats


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_obj
def stats(state: State, as_json: bool) -> None:
    """Counts: contacts by status, due this week, one-sided, problems.

    \b
    Example:
      vaultnetz stats
    """
    vault = state.vault()
    plan = state.schedule()
    by_status = {s: 0 for s in ("active", "paused", "archived")}
    for contact in vault.contacts:
        by_status[contact.status] = by_status.get(contact.status, 0) + 1
    week_end = state.today + timedelta(days=6)
    errors = len(vault.errors())
    data = {
        "notes": vault.note_count,
        "contacts": len(vault.contacts),
        "by_status": by_status,
        "due_today": sum(1 for c in plan.check_ins if c.due == state.today),
        "due_this_week": sum(1 for c in plan.check_ins if c.due <= week_end),
        "overdue": sum(1 for c in plan.check_ins if c.overdue_days > 0),
        "never_contacted": sum(1 for c in plan.check_ins if c.reason == "never"),
        "one_sided": sum(1 for s in plan.standings.values() if s.one_sided),
        "errors": errors,
        "warnings": len(vault.problems) - errors,
    }
    if as_json:
        _json(data)
        return
    echo(f"contacts:        {data['contacts']} (active {by_status['active']}, "
               f"paused {by_status['paused']}, archived {by_status['archived']})")
    echo(f"due today:       {data['due_today']}")
    echo(f"due this week:   {data['due_this_week']}")
    echo(f"overdue:         {data['overdue']}")
    echo(f"never contacted: {data['never_contacted']}")
    echo(f"one-sided:       {data['one_sided']}")
    echo(f"problems:        {errors} errors, {data['warnings']} warnings "
               f"in {data['notes']} notes")



# --------------------------------------------------------------------------- ics


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the feed to FILE (atomically; untouched when nothing changed).")
@click.option("--horizon", type=click.IntRange(1, MAX_HORIZON_DAYS), metavar="DAYS",
              help="How many days ahead (default: horizon_days, 365).")
@click.option("--tag", metavar="TAG", help="Only contacts with this tag.")
@click.pass_obj
def ics(state: State, output: Path | None, horizon: int | None, tag: str | None) -> None:
    """Write the iCalendar feed of check-ins and birthdays.

    \b
    Example:
      vaultnetz ics -o ~/Public/vaultnetz.ics
      vaultnetz ics --tag journalism --horizon 90 > journalism.ics
    """
    from .atomic import write_atomic
    from .config import load_config
    from .feed import vault_feed

    config, problems = load_config(state.root)
    warn_config(problems)
    feed = vault_feed(state.root, state.today, cache_dir=state.cache_dir(), horizon_days=horizon,
                      tag=tag, progress=ReadProgress(), jobs=state.jobs,
                      action_base=_action_base(config.public_url))
    warn_errors(feed.errors)
    data = feed.data
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    changed = write_atomic(output, data)
    count = data.count(b"BEGIN:VEVENT")
    echo(f"{'wrote' if changed else 'unchanged'} {output} ({count} events)", err=True)


# --------------------------------------------------------------------------- writes

commit_option = click.option(
    "--commit/--no-commit", "commit", default=None,
    help="Commit the written note to the vault's git repository (default: config git_commit).")


def _report(result: WriteResult) -> None:
    if not result.changed:
        echo(f"unchanged: {result.summary}")
        return
    echo(result.summary)
    if result.commit:
        echo(f"committed {result.commit}")


@main.command()
@click.argument("name")
@click.argument("text", required=False, default="")
@click.option("--date", "day_text", metavar="YYYY-MM-DD",
              help="The day (default: today). A future date records a planned meeting.")
@click.option("--attempt", is_flag=True, help="You reached out and have no answer yet.")
@click.option("--declined", is_flag=True, help="They said no (that's fine).")
@commit_option
@click.pass_obj
def log(state: State, name: str, text: str, day_text: str | None, attempt: bool,
        declined: bool, commit: bool | None) -> None:
    """Add `- YYYY-MM-DD TEXT` to the contact's Log section.

    A real contact also moves `last_contact` forward when the note has that field.

    \b
    Example:
      vaultnetz log anna "Coffee at the Viktualienmarkt"
      vaultnetz log jonas "Mail about the slot" --attempt
      vaultnetz log sophie "On leave until spring" --declined --date 2026-10-01
    """
    if attempt and declined:
        raise click.UsageError("--attempt and --declined contradict each other: an attempt "
                               "has no answer yet, a decline is one; pick one")
    kind = "attempt" if attempt else "declined" if declined else None
    vault = state.vault()
    contact = find_contact(vault, name)
    day = parse_day(day_text, "--date") if day_text else state.today
    if day > _years_after(state.today, LOG_YEARS_AHEAD):
        raise InvalidValue(f"--date {day.isoformat()} is more than {LOG_YEARS_AHEAD} years "
                           "ahead", "check the year; a plan is logged with its real date")
    result = log_interaction(vault, contact, day=day, text=text,
                             kind=kind or "contact", today=state.today,  # type: ignore[arg-type]
                             commit=commit)
    _report(result)


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # Feb 29
        return day.replace(year=day.year + years, day=28)


@main.command(name="snooze")
@click.argument("name")
@click.argument("until")
@commit_option
@click.pass_obj
def snooze_command(state: State, name: str, until: str, commit: bool | None) -> None:
    """No reminder for NAME before UNTIL (a date, or a duration like 2w or 3m).

    \b
    Example:
      vaultnetz snooze katrin 2026-12-10
      vaultnetz snooze "Tobias Schröder" 6m
    """
    try:
        day = parse_date_or_duration(until, state.today)
    except ValueError as exc:
        raise InvalidValue(str(exc), "e.g. 2026-12-24, 10d, 2w, 3m or 1y") from None
    vault = state.vault()
    _report(snooze(vault, find_contact(vault, name), day, commit))


def _status_command(status: str, verb: str, example: str) -> None:
    @main.command(name=verb)
    @click.argument("name")
    @commit_option
    @click.pass_obj
    def command(state: State, name: str, commit: bool | None) -> None:
        vault = state.vault()
        _report(set_status(vault, find_contact(vault, name), status, commit))

    command.help = example


_status_command("paused", "pause", """Pause NAME: no reminders, still listed (`status: paused`).

    \b
    Example:
      vaultnetz pause "Clara Neumann"
    """)
_status_command("archived", "archive", """Archive NAME: no reminders, hidden (`status: archived`).

    Nothing is deleted; `resume` brings the contact back.

    \b
    Example:
      vaultnetz archive "Tobias Schröder"
    """)
_status_command("active", "resume", """Make NAME active again (`status: active`).

    \b
    Example:
      vaultnetz resume clara
    """)


@main.command()
@click.argument("name")
@click.option("--cadence", metavar="C", help="How often to check in, e.g. 3m, 6w, monthly.")
@click.option("--city", metavar="CITY")
@click.option("--met-via", metavar="TEXT", help="How you know them.")
@click.option("--company", metavar="TEXT")
@click.option("--role", metavar="TEXT")
@click.option("--email", "emails", metavar="EMAIL", multiple=True, help="Repeatable.")
@click.option("--tag", "tags", metavar="TAG", multiple=True, help="Repeatable.")
@commit_option
@click.pass_obj
def add(state: State, name: str, cadence: str | None, city: str | None, met_via: str | None,
        company: str | None, role: str | None, emails: tuple[str, ...], tags: tuple[str, ...],
        commit: bool | None) -> None:
    """Create a contact note in the first people folder; never overwrites.

    \b
    Example:
      vaultnetz add "Lea Wagner" --city Berlin --met-via "Seminar in Leipzig" --tag studium
    """
    vault = state.vault()
    new = NewContact(name.strip(), cadence, city, met_via, company, role, emails, tags)
    _report(add_contact(vault, new, commit))


@main.command(name="history")
@click.argument("name")
@click.pass_obj
def history_command(state: State, name: str) -> None:
    """The contact note's history from git, with the log lines each commit added.

    \b
    Example:
      vaultnetz history anna
    """
    vault = state.vault()
    contact = find_contact(vault, name)
    revisions = history(vault.root, contact.path)
    if not revisions:
        echo(f"{contact.path} has no history in git yet.")
        return
    for revision in revisions:
        echo(f"{revision.commit}  {revision.day}  {revision.subject}")
        for line in revision.added_log_lines:
            echo(f"    + {line}")


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


# --------------------------------------------------------------------------- watch / serve


def _local_now() -> datetime:
    """The local wall clock, for the watcher's midnight rollover (honours --today)."""
    return datetime.now().astimezone()


def _clock(state: State) -> Callable[[], datetime]:
    if state.today_pinned:  # --today: that date, with the real time of day; no rollover
        return lambda: datetime.combine(state.today, _local_now().timetz())
    return _local_now


def _stop_on_sigterm() -> None:
    """systemd and launchd stop a service with SIGTERM: stop as on Ctrl-C, cleanly (the
    watcher stops, no write is cut off half-way), at once."""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def _setup_logging() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Keep the feed in FILE (written atomically, only when it changes).")
@click.pass_obj
def watch(state: State, output: Path | None) -> None:
    """Keep the feed file (and the agenda note) current as the vault changes.

    Changes are picked up within a second; a burst of changes (a git checkout)
    gives one rebuild; the date rolling over at midnight moves reminders.
    Stop with Ctrl-C.

    \b
    Example:
      vaultnetz watch -o ~/Public/vaultnetz.ics
    """
    from .watch import FeedService, Watcher

    _setup_logging()
    _stop_on_sigterm()
    state.vault()  # the config must be valid to start
    service = FeedService(state.root, _clock(state), output=output, freeze_gc=True,
                          jobs=state.jobs)
    snapshot = service.rebuild()
    echo(f"watching {state.root} ({len(snapshot.vault.contacts)} contacts, "
               f"{snapshot.feed.count(b'BEGIN:VEVENT')} events); Ctrl-C stops", err=True)
    watcher = Watcher(service, time.monotonic)
    watcher.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (use 0.0.0.0 only behind a firewall or proxy).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token", envvar="VAULTNETZ_TOKEN", metavar="T",
              help="The secret path part (default: $VAULTNETZ_TOKEN, else one generated once "
                   "and kept in the user config folder).")
@click.option("--behind-proxy", is_flag=True,
              help="Trust X-Forwarded-Proto/-Host from a reverse proxy on this machine.")
@click.pass_obj
def serve(state: State, host: str, port: int, token: str | None, behind_proxy: bool) -> None:
    """Serve the feed over HTTP behind a secret URL, and keep it current.

    \b
    Example:
      vaultnetz serve --port 8765
    """
    from .notify import DailyDigest, SentLog
    from .server import FeedApp, check_token, load_or_create_token
    from .server import serve as run_server
    from .watch import FeedService, Watcher

    _setup_logging()
    _stop_on_sigterm()
    token = check_token(token) if token else load_or_create_token(user_config_dir())
    config = state.vault().config
    service = FeedService(state.root, _clock(state), freeze_gc=True, jobs=state.jobs)
    service.rebuild()
    watcher = Watcher(service, time.monotonic)
    watcher.start()
    daily = DailyDigest(service, config.notify.get("urls", ()), config.notify_at,
                        SentLog(user_config_dir(), state.root),
                        lambda: service.action_base)

    def ready(bound_host: str, bound_port: int) -> None:
        # The token once, in the page's address (under systemd this goes to the journal):
        # the page shows the feed's and the subscribe addresses.
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        if bound_host in ("0.0.0.0", "::"):  # reachable by this machine's name on the LAN
            import socket

            shown = socket.gethostname()
        own = f"http://{shown}:{bound_port}"
        # Feed events link each check-in's action page, where the phone reaches it.
        service.action_base = f"{config.public_url or own}/{token}/c/"
        service.rebuild()
        daily.start()
        echo(f"serving {state.root}\n  page: {own}/{token}/ "
             "(feed and subscribe links there; keep the address secret)", err=True)

    try:
        run_server(FeedApp(service, token, timer=time.monotonic, behind_proxy=behind_proxy),
                   host, port, on_ready=ready, behind_proxy=behind_proxy)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise VaultnetzError(f"cannot listen on {host}:{port}: {exc.strerror}",
                             "pick another --port, or stop the other server") from None
    finally:
        daily.stop()
        watcher.stop()


def _served_token() -> str:
    """The token `serve` uses: $VAULTNETZ_TOKEN, else the one kept in the config folder."""
    from .server import check_token, load_or_create_token

    token = os.environ.get("VAULTNETZ_TOKEN")
    return check_token(token) if token else load_or_create_token(user_config_dir())


def _action_base(public_url: str) -> str:
    """Where the action pages are for links made outside `serve` (ics, notify)."""
    return f"{public_url}/{_served_token()}/c/" if public_url else ""


@main.command()
@click.option("--dry-run", is_flag=True, help="Print the digest; send nothing.")
@click.option("--always", is_flag=True, help="Send even when nothing is due today.")
@click.pass_obj
def notify(state: State, dry_run: bool, always: bool) -> None:
    """Send today's check-ins and upcoming trips, each with its action link, through the
    notification URLs of [notify] urls (mail, ntfy, Telegram, Matrix, Gotify, …).

    `serve` sends this by itself once a day at notify_at; links need public_url.

    \b
    Example:
      vaultnetz notify --dry-run
    """
    from .notify import SentLog, digest, send

    vault = state.vault()
    config = vault.config
    message = digest(vault, state.schedule(), _action_base(config.public_url))
    urls = config.notify.get("urls", ())
    if not (message.check_ins or message.trips) and not always:
        echo("Nothing due today; nothing sent (--always sends the digest anyway).")
        return
    if dry_run:
        echo(message.title)
        echo(message.body)
        echo(f"dry run: would send to {len(urls)} service{'s' if len(urls) != 1 else ''}; "
             "nothing was sent", err=True)
        return
    if not urls:
        raise VaultnetzError("there is nowhere to send the digest: no [notify] urls",
                             'add [notify] urls = ["mailtos://…", "ntfy://…"] to vaultnetz.toml')
    sent, problems = send(urls, message)
    for problem in problems:
        echo(f"warning: {problem}", err=True)
    if not sent:
        raise VaultnetzError("the digest was not sent to any service",
                             "check the URLs in [notify] urls and the network")
    SentLog(user_config_dir(), state.root).record(state.today)
    echo(f"sent the digest to {sent} of {len(urls)} services")


def user_config_dir() -> Path:
    """$VAULTNETZ_CONFIG_DIR, else the platform's user config folder (never the vault)."""
    if os.environ.get("VAULTNETZ_CONFIG_DIR"):
        return Path(os.environ["VAULTNETZ_CONFIG_DIR"])
    import platformdirs

    return Path(platformdirs.user_config_dir("vaultnetz", appauthor=False))


# --------------------------------------------------------------------------- near


@main.command(name="near")
@click.argument("city")
@click.option("--from", "from_text", metavar="YYYY-MM-DD", help="First day you are there.")
@click.option("--to", "to_text", metavar="YYYY-MM-DD", help="Last day you are there.")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_obj
def near_command(state: State, city: str, from_text: str | None, to_text: str | None,
                 as_json: bool) -> None:
    """Trip planning: whom to ask for a coffee in CITY, most due first, with a draft.

    Without --from, the dates of an upcoming trip note to CITY are used, if any.

    \b
    Example:
      vaultnetz near München --from 2026-12-03 --to 2026-12-05
    """
    vault = state.vault()
    config = vault.config
    start = parse_day(from_text, "--from") if from_text else None
    end = parse_day(to_text, "--to") if to_text else start
    if start is not None and end is not None and end < start:
        raise InvalidValue(f"--to {end.isoformat()} is before --from {start.isoformat()}",
                           "swap the dates")
    if start is None:
        trip = next((t for t in sorted(vault.trips, key=lambda t: t.start)
                     if t.end >= state.today and city_matches(t.city, city, config)), None)
        if trip is not None:
            start, end = trip.start, trip.end
    people = near(vault.contacts, state.schedule(), city, config)
    state.warn_skipped()
    rows = []
    for contact, check_in in people:
        row = check_in_json(check_in)
        row["draft"] = trip_draft(contact, city, start, end, config)
        row["trip"] = _trip_json(state, contact)
        rows.append(row)
    if as_json:
        _json(rows)
        return
    when = dates_phrase(start, end, config.language)
    if not rows:
        echo(f"Nobody to ask in {city} ({when}).")
        return
    noun = "person" if len(rows) == 1 else "people"
    echo(f"{city} ({when}): {len(rows)} {noun} to ask, most due first; "
               "a no is always fine.")
    for (contact, check_in), row in zip(people, rows, strict=True):
        echo("")
        overdue = f", {check_in.overdue_days} days overdue" if check_in.overdue_days else ""
        context = " · ".join(x for x in (contact.city, contact.met_via) if x)
        echo(f"{contact.name} (due {check_in.original_due.isoformat()}{overdue})"
                   + (f" · {context}" if context else ""))
        echo(f"  {row['draft']}")


# --------------------------------------------------------------------------- import / export


@main.command(name="import")
@click.argument("source", type=click.Choice(["linkedin", "google", "vcard"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print exactly what would happen; write nothing.")
@click.option("--merge", is_flag=True,
              help="Add fields that matched contacts lack (never changes what is there).")
@click.option("--tag", "tags", metavar="TAG", multiple=True,
              help="Add this tag to every imported contact (repeatable).")
@click.pass_obj
def import_command(state: State, source: str, file: Path, dry_run: bool, merge: bool,
                   tags: tuple[str, ...]) -> None:
    """Bring contacts in from LinkedIn, Google Contacts or a vCard file.

    New people become notes in the first people folder, with no last contact, so
    they queue up gently. Existing contacts (same email, name or alias) are never
    overwritten.

    \b
    Example:
      vaultnetz import linkedin Connections.csv --dry-run
      vaultnetz import google contacts.csv --tag google-2026
      vaultnetz import vcard contacts.vcf --merge
    """
    from .imports import READERS, apply_import, plan_import

    vault = state.vault()
    people, skipped = READERS[source](file)
    config = vault.config
    region = config.phone_region or ("DE" if config.language == "de" else "")
    plan = plan_import(vault, people, skipped, extra_tags=tags, region=region)
    would = "would " if dry_run else ""
    for new in plan.create:
        person = new.person
        detail = ", ".join(x for x in (*person.emails[:1], person.company, person.city) if x)
        line = f"{would}create {new.path}" + (f"  ({detail})" if detail else "")
        if new.duplicate_of:
            line += f"; possible duplicate of {new.duplicate_of} ({new.why})"
        echo(line)
        for record in new.records[1:]:
            echo(f"  merged line {record.line} ({record.name}) into it: the same person")
    for match in plan.matched:
        extra = ""
        if merge and match.missing:
            extra = f"; {would}add " + ", ".join(match.missing)
        echo(f"matched {match.contact.path} ({match.how}: {match.person.name}){extra}")
    for skip in plan.skipped:
        echo(f"skipped line {skip.line}: {skip.reason}"
             + (f" ({skip.name})" if skip.name else ""))
    for person in people:
        for value in person.unusable:
            echo(f"line {person.line}: {value} not understood; left out ({person.name})")
    if dry_run:
        echo(f"dry run: {plan.summary()}; nothing was written", err=True)
        return
    total = len(plan.create) + (len(plan.matched) if merge else 0)
    show_bar = total > 200 and sys.stderr.isatty()
    with click.progressbar(length=total, label="importing", file=sys.stderr) if show_bar \
            else _NoBar() as bar:
        result = apply_import(vault, plan, cadence=config.import_cadence.text, merge=merge,
                              progress=bar.update)
    echo(plan.summary() + (f"; {len(result.updated)} matched notes got fields they lacked"
                           if merge else ""), err=True)


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *args: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


@main.command(name="export")
@click.argument("format_", metavar="FORMAT", type=click.Choice(["vcard"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write to FILE (atomically) instead of stdout.")
@click.pass_obj
def export_command(state: State, format_: str, output: Path | None) -> None:
    """Export every active contact as one vCard 4.0 file.

    \b
    Example:
      vaultnetz export vcard -o contacts.vcf
    """
    from .atomic import write_atomic
    from .export import export_vcard

    text = export_vcard(state.vault())
    state.warn_skipped()
    if output is None:
        sys.stdout.buffer.write(text.encode("utf-8"))  # CRLF lines, no control characters
        sys.stdout.flush()
        return
    write_atomic(output, text.encode("utf-8"))
    echo(f"wrote {output} ({text.count('BEGIN:VCARD')} contacts)", err=True)
