"""The command line, part three: the commands that write to notes (`log`, `snooze`,
`pause`, `archive`, `resume`, `add`) and `history`; click only, as in ``cli.py``."""

from __future__ import annotations

from datetime import date

import click

from .actions import NewContact, WriteResult, add_contact, log_interaction, set_status, snooze
from .cli import LOG_YEARS_AHEAD, State, echo, main, parse_day
from .errors import InvalidValue
from .names import find_contact
from .values import parse_date_or_duration
from .vcs import history

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
