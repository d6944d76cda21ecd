"""A seeded generator of realistic vaults for benchmarks and scale tests.

    python benchmarks/generate.py OUT --contacts 10000 --days 3650 [--seed 7]

A heavy vault: contacts carry front-matter (some quoted, some with comments, lists in both
styles), long Log sections with attempts and declines, and some share an alias (duplicate
names); daily notes link several contacts each, in every link form; names have umlauts;
about one note in ten uses CRLF line endings.
"""

from __future__ import annotations

import argparse
import random
from datetime import date, timedelta
from pathlib import Path

FIRST = ["Anna", "Jonas", "Miriam", "Lukas", "Sophie", "Tobias", "Clara", "Felix", "Lea",
         "Paul", "Katrin", "Martin", "Julia", "Ayşe", "Nina", "Stefan", "Elif", "Jürgen",
         "Björn", "Zoë", "Ömer", "Günther", "Mareike", "Kai", "Ines", "René", "Maximilian"]
LAST = ["Berger", "Weber", "Kühn", "Hoffmann", "Martin", "Schröder", "Neumann", "Braun",
        "Wagner", "Zimmermann", "Schulz", "Krüger", "Fischer", "Demir", "Lehmann", "Wolf",
        "Yılmaz", "Müller", "Schäfer", "Groß", "Öztürk", "Bäcker", "Lößner", "Dürr"]
CITIES = ["Berlin", "München", "Hamburg", "Köln", "Leipzig", "Frankfurt am Main", "Bonn",
          "Stuttgart", "Düsseldorf", "Bruxelles", "Wien", "Zürich"]
VIA = ["Volontariat", "Seminar during my studies", "Internship at the newspaper",
       "Conference panel", "Journalism school", "Former colleague", "Podcast guest"]
CADENCES = ["3m", "6w", "90d", "monthly", "quarterly", "halbjährlich", "every 2 months",
            "jährlich", "P3M", "1y"]
START = date(2016, 1, 1)


def _name(rng: random.Random, i: int) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"


def contact_note(rng: random.Random, name: str) -> str:
    lines = ["---"]
    if rng.random() < 0.3:
        lines.append(f'name: "{name}"')
    lines.append(rng.choice([
        "tags: [person, journalism]", "tags:\n  - person\n  - science", "tags: person",
        "tags: [person]"]))
    lines.append(f"cadence: {rng.choice(CADENCES)}")
    if rng.random() < 0.5:
        day = START + timedelta(days=rng.randrange(3650))
        lines.append(rng.choice([f"last_contact: {day}", f'last_contact: "{day}"',
                                 f'last_contact: "[[{day}]]"', f"last_contact: {day}  # met"]))
    if rng.random() < 0.3:
        lines.append(f"priority: {rng.choice(['high', 'low', 'normal'])}")
    if rng.random() < 0.05:
        lines.append(f"status: {rng.choice(['paused', 'archived'])}")
    if rng.random() < 0.3:
        lines.append(f"birthday: {rng.choice(['1980-03-14', '--07-14', '1992-02-29'])}")
    lines.append(f"met_via: {rng.choice(VIA)}")
    lines.append(f"city: {rng.choice(CITIES)}")
    if rng.random() < 0.4:
        lines.append(f"email: [{name.split()[0].lower()}@example.org]")
    if rng.random() < 0.2:
        lines.append(f"aliases: [{name.split()[0]} {name.split()[-1]}]")
    elif rng.random() < 0.1:  # people who share an alias: duplicate names
        lines.append(f"aliases: [{name.split()[0]} {name.split()[1]}]")
    about = "Notes about this person and what we worked on together. "
    lines += ["---", f"# {name}", "", about * rng.randrange(2, 14), ""]
    if rng.random() < 0.85:
        lines.append("## Log")
        day = START + timedelta(days=rng.randrange(3000))
        for _ in range(rng.randrange(2, 16)):
            day += timedelta(days=rng.randrange(5, 120))
            marker = rng.choice(["", "", "", " #attempt", " #declined"])
            link = rng.random() < 0.3
            shown = f"[[{day}]]" if link else str(day)
            lines.append(f"- {shown} Talked about the next project{marker}")
        lines.append("")
    return "\n".join(lines)


def daily_note(rng: random.Random, day: date, names: list[str], folders: list[str]) -> str:
    lines = [f"# {day:%A, %d %B %Y}", ""]
    for _ in range(rng.randrange(1, 11)):
        i = rng.randrange(len(names))
        name = names[i]
        form = rng.randrange(5)
        link = [f"[[{name}]]", f"[[{name}|{name.split()[0]}]]", f"[[{name}#Log]]",
                f"[[{folders[i]}/{name}]]", f"[[{name}#Log|them]]"][form]
        lines.append(f"- Coffee with {link}, we talked about the Ölmühle story.")
    lines.append("- Wrote 800 words on the housing piece.")
    reading = "the council's housing report, page by page. "
    lines += ["", "Reading notes: " + reading * rng.randrange(2, 20)]
    return "\n".join(lines) + "\n"


def generate(out: Path, contacts: int, days: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    names = [_name(rng, i) for i in range(contacts)]
    folders = [rng.choice(["People", "People/Work", "People/Studium"]) for _ in names]
    for name, folder in zip(names, folders, strict=True):
        path = out / folder / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = contact_note(rng, name)
        if rng.random() < 0.1:
            text = text.replace("\n", "\r\n")
        path.write_bytes(text.encode("utf-8"))
    daily = out / "Daily"
    daily.mkdir(parents=True, exist_ok=True)
    last = date(2026, 11, 1)
    for n in range(days):
        day = last - timedelta(days=n)
        (daily / f"{day}.md").write_text(daily_note(rng, day, names, folders), encoding="utf-8")
    (out / ".obsidian").mkdir(exist_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=3650)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    generate(args.out, args.contacts, args.days, args.seed)


if __name__ == "__main__":
    main()
