"""Benchmark `import vcard`: writing N new people against the dry run of the same file.

    python benchmarks/imports.py [--people 2000] [--repeat 3] [--dir /tmp/vaultnetz-import]

The dry run reads, parses and plans everything the real run does and writes nothing;
the ratio real ÷ dry run is what writing the notes costs (target: within 5×). A floor
is measured in the same run too: reading the vCard file and writing the same number of
small files with one os.sync at the end, with no parsing at all.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIRST = ["Anna", "Jonas", "Özlem", "Lea", "Paul", "María José", "Jürgen", "Eva", "Kai", "Nina"]
LAST = ["Berger", "Weber", "Yıldız", "Wagner", "Zimmermann", "García López", "Müller", "Klein",
        "Becker", "Lehmann"]


def cards(n: int) -> str:
    """n vCard 3.0 cards in the shapes phones write: grouped emails, folded notes, QP."""
    out = []
    for i in range(n):
        first, last = FIRST[i % 10], LAST[(i // 10) % 10]
        name = f"{first} {last} {i:05d}"
        out.append(
            "BEGIN:VCARD\r\nVERSION:3.0\r\n"
            f"N:{last} {i:05d};{first};;;\r\nFN:{name}\r\n"
            f"ORG:Firma {i % 97}\\, GmbH;Abteilung {i % 7}\r\nTITLE:Redakteurin\r\n"
            f"item1.EMAIL;type=INTERNET;type=pref:person{i}@example.org\r\n"
            "item1.X-ABLabel:_$!<Other>!$_\r\n"
            f"TEL;type=CELL:+49 170 {1000000 + i}\r\n"
            f"ADR;type=HOME:;;Straße {i};Leipzig;;04107;Deutschland\r\n"
            "NOTE:Met at the conference\\, talked about data journalism\\nand the podc\r\n"
            " ast we wanted to start.\r\n"
            "CATEGORIES:Konferenz,Presse\r\nEND:VCARD\r\n")
    return "".join(out)


def run(vault: Path, vcf: Path, *extra: str) -> float:
    env = {**os.environ, "VAULTNETZ_CACHE_DIR": str(vault.parent / "cache")}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vaultnetz", "--vault", str(vault),
                    "--today", "2026-11-23", "import", "vcard", str(vcf), *extra],
                   check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def fresh_vault(base: Path) -> Path:
    vault = base / "vault"
    shutil.rmtree(vault, ignore_errors=True)
    (vault / "People").mkdir(parents=True)
    (vault / "People" / "Anna Berger.md").write_text("---\nemail: anna@example.org\n---\n")
    return vault


def floor(base: Path, vcf: Path, n: int) -> float:
    folder = base / "floor"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    start = time.perf_counter()
    vcf.read_bytes()
    for i in range(n):
        (folder / f"{i}.md").write_bytes(b"---\nname: x\n---\n" * 10)
    os.sync()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "vaultnetz-import")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    vcf = args.dir / "contacts.vcf"
    vcf.write_text(cards(args.people), encoding="utf-8")
    dry, real, base = [], [], []
    for _ in range(args.repeat):
        base.append(floor(args.dir, vcf, args.people))
        dry.append(run(fresh_vault(args.dir), vcf, "--dry-run"))
        vault = fresh_vault(args.dir)
        real.append(run(vault, vcf))
        made = len(list((vault / "People").glob("*.md"))) - 1
        assert made == args.people, made
    d, r, f = min(dry), min(real), min(base)
    print(f"import vcard, {args.people:,} people (best of {args.repeat})")
    print(f"  floor (read + write {args.people:,} files + one sync): {f:.2f} s")
    print(f"  dry run:                            {d:.2f} s  ({d / f:.1f}x floor)")
    print(f"  import:                             {r:.2f} s  ({r / f:.1f}x floor, "
          f"{r / d:.2f}x the dry run; target: within 5x)")


if __name__ == "__main__":
    main()
