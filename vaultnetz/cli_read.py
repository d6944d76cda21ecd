"""The command line, part two: the commands that read the vault and say what is due
(`due`, `show`, `list`, `review`, `stats`, `ics`, `near`); click only, as in ``cli.py``."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from .cli import (
    MAX_WITHIN,
    ReadProgress,
    State,
    echo,
    main,
    parse_day,
    print_json,
    warn_config,
    warn_errors,
)
from .config import MAX_HORIZON_DAYS
from .drafts import dates_phrase, draft_for_check_in, trip_draft
from .errors import InvalidValue
from .model import CheckIn, Contact
from .names import find_contact
from .report import (
    cadence_words,
    check_in_json,
    contact_json,
    interaction_text,
    review_json,
    text,
    why_now,
    work_text,
)
from .schedule import next_birthday, review, standing_of
from .trips import city_matches, near, upcoming_trip

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
        print_json(rows)
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
        print_json([_check_in_json(state, c) for c in chosen])
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
    standing_now, check_in = state.contact_plan(contact)
    standing = standing_now or standing_of(contact, state.today, vault.config.max_attempts)
    if as_json:
        data = contact_json(contact, standing, check_in, state.today, vault.config)
        data["draft"] = draft_for_check_in(check_in, vault.config) if check_in else None
        data["trip"] = _trip_json(state, contact)
        print_json(data)
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
        print_json(rows)
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
        print_json([review_json(item) for item in items])
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
        print_json(data)
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
    from .cli_serve import action_base
    from .config import load_config
    from .feed import vault_feed

    config, problems = load_config(state.root)
    warn_config(problems)
    feed = vault_feed(state.root, state.today, cache_dir=state.cache_dir(), horizon_days=horizon,
                      tag=tag, progress=ReadProgress(), jobs=state.jobs,
                      action_base=action_base(config.public_url))
    warn_errors(feed.errors)
    data = feed.data
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    changed = write_atomic(output, data)
    count = data.count(b"BEGIN:VEVENT")
    echo(f"{'wrote' if changed else 'unchanged'} {output} ({count} events)", err=True)


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
        print_json(rows)
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
