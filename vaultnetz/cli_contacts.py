"""The command line, part four: contacts in and out (`import`, `export`); click only, as in
``cli.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .cli import State, echo, main

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
