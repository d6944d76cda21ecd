"""Benchmark vaultnetz against a floor and a naive baseline, in one run on one vault.

    python benchmarks/run.py [--contacts 10000] [--days 3650] [--dir /tmp/vaultnetz-bench]

Prints each measurement with its ratio to the raw-read floor (walk + read every
file) and to the naive baseline (python-frontmatter + a link regex + icalendar
for every contact), both measured in the same run on the same generated vault.
Times are the best of --repeat runs; memory is the peak RSS of the process, and of it
and its helper processes together (sampled).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

TODAY = "2026-11-23"
LINK = re.compile(r"\[\[([^\[\]|#^\n]+)")


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def floor(root: Path) -> None:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                handle.read()


def naive(root: Path) -> None:
    """What a first script would do: load every note, scan links, one event per contact."""
    import frontmatter
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//naive//EN")
    calendar.add("version", "2.0")
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.endswith(".md"):
                continue
            post = frontmatter.load(os.path.join(folder, name))
            LINK.findall(post.content)
            if "People" in folder:
                event = Event()
                event.add("uid", name)
                event.add("summary", f"Check in with {name[:-3]}")
                event.add("dtstart", date(2026, 11, 23))
                event.add("dtend", date(2026, 11, 24))
                event.add("dtstamp", date(2026, 11, 23))
                event.add("description", str(post.metadata.get("met_via", "")))
                calendar.add_component(event)
    calendar.to_ical()


# Runs `vaultnetz ARGS` and, on Linux, writes the process's own peak RSS (VmHWM, KiB) to
# the file named first. The child's ru_maxrss is no good here: Linux starts it at the size of
# the process it was forked from, and this one holds the naive baseline's memory.
_MEASURED = """
import atexit, sys
out = sys.argv.pop(1)
def peak():
    try:
        with open("/proc/self/status") as status:
            kib = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return
    with open(out, "w") as handle:
        handle.write(kib)
atexit.register(peak)
sys.argv[0] = "vaultnetz"
from vaultnetz.cli import main
main()
"""


def run_cli(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one `vaultnetz` process."""
    with tempfile.NamedTemporaryFile("r", suffix=".peak") as peak_file:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-c", _MEASURED, peak_file.name, *args],
                                   env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        if status != 0:
            raise SystemExit(f"vaultnetz {' '.join(args)} failed with status {status}")
        peak = peak_file.read().strip()
    return elapsed, int(peak) if peak else usage.ru_maxrss


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            return int(next(line.split()[1] for line in status if line.startswith("VmRSS:")))
    except (OSError, StopIteration, ValueError):
        return 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    # pid (comm) state ppid …: comm may hold spaces, so split after ")"
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def tree_peak(args: list[str], env: dict[str, str]) -> tuple[int, int]:
    """(the process's own peak, the peak of it and its helper processes together), KiB.

    The helpers' memory is sampled every 10 ms from /proc (Linux only; elsewhere the
    second figure is the first), in a run of its own so that sampling costs no timed run.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".peak") as peak_file:
        process = subprocess.Popen([sys.executable, "-c", _MEASURED, peak_file.name, *args],
                                   env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        together = 0
        while process.poll() is None:
            if os.path.isdir("/proc"):
                helpers = _children(process.pid)
                together = max(together, _rss_kib(process.pid) + sum(map(_rss_kib, helpers)))
            time.sleep(0.01)
        own = int(peak_file.read().strip() or 0)
    return own, max(own, together)


def watcher_latency(root: Path, repeat: int) -> float:
    """In-process, as the watcher does it (FeedService.rebuild after the debounce):
    one note changes → new feed bytes."""
    from vaultnetz.watch import FeedService

    today = date.fromisoformat(TODAY)
    service = FeedService(root, lambda: datetime.combine(today, datetime.min.time()),
                          freeze_gc=True)  # as `watch` and `serve` run it
    service.rebuild()
    target = next((root / "People").glob("*.md"))
    times = []
    for i in range(repeat):
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(f"\n- {today - timedelta(days=i)} benchmark edit\n")
        start = time.perf_counter()
        # What the observer reports for an in-place save: the file, and its folder modified.
        service.rebuild({target.relative_to(root).as_posix()},
                        {target.parent.relative_to(root).as_posix()})
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=3650)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "vaultnetz-bench")
    args = parser.parse_args()

    root = args.dir / f"vault-{args.contacts}-{args.days}"
    if not root.is_dir():
        print(f"generating {root} …", file=sys.stderr)
        generate(root, args.contacts, args.days)
    cache = args.dir / "cache"
    env = {**os.environ, "VAULTNETZ_CACHE_DIR": str(cache), "VAULTNETZ_TODAY": TODAY,
           "VAULTNETZ_VAULT": str(root)}
    out = args.dir / "feed.ics"
    notes = sum(1 for _ in root.rglob("*.md"))

    results: list[tuple[str, float, str]] = []
    floor_s = best(lambda: floor(root), args.repeat)
    naive_s = best(lambda: naive(root), args.repeat)
    results.append(("raw-read floor (walk + read every file)", floor_s, ""))
    results.append(("naive: python-frontmatter + regex + icalendar", naive_s, ""))

    colds, peaks = [], []
    for _ in range(args.repeat):
        shutil.rmtree(cache, ignore_errors=True)
        seconds, peak = run_cli(["ics", "-o", str(out)], env)
        colds.append(seconds)
        peaks.append(peak)
    cold = min(colds)
    shutil.rmtree(cache, ignore_errors=True)
    own_peak, tree = tree_peak(["ics", "-o", str(out)], env)
    peaks.append(own_peak)
    peak = (f"peak {max(peaks) / 1024:.0f} MB; {tree / 1024:.0f} MB with any helpers "
            f"(sampled, a run of its own)")
    results.append(("vaultnetz ics -o, cold (empty cache)", cold, peak))
    warm = min(run_cli(["ics", "-o", str(out)], env)[0] for _ in range(args.repeat))
    results.append(("vaultnetz ics -o, warm (nothing changed)", warm, f"{warm / cold:.2f}× cold"))
    run_cli(["due"], env)  # builds the vault and stores a snapshot of it
    due = min(run_cli(["due"], env)[0] for _ in range(args.repeat))
    results.append(("vaultnetz due, nothing changed (a built-vault snapshot)", due, ""))
    changed = []
    target = next((root / "People").glob("*.md"))
    for i in range(args.repeat):
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(f"\n- 2026-11-{10 + i} one more entry\n")
        changed.append(run_cli(["ics", "-o", str(out)], env)[0])
    results.append(("vaultnetz ics -o, one note changed", min(changed), ""))
    time.sleep(2.1)  # the edits old enough to be trusted: the next run stores a snapshot
    run_cli(["due"], env)
    daily, linked = sorted((root / "Daily").glob("*.md"))[-1], target.stem
    changed = []
    for _ in range(args.repeat):
        with open(daily, "a", encoding="utf-8") as handle:
            handle.write(f"\nCalled [[{linked}]] again.\n")
        changed.append(run_cli(["ics", "-o", str(out)], env)[0])
    results.append(("vaultnetz ics -o, one daily note changed (a link added)", min(changed),
                    ""))
    no_cache = min(run_cli(["--no-cache", "ics", "-o", str(out)], env)[0]
                   for _ in range(args.repeat))
    results.append(("vaultnetz --no-cache ics -o", no_cache, ""))
    alone = []
    for _ in range(args.repeat):
        shutil.rmtree(cache, ignore_errors=True)
        alone.append(run_cli(["--jobs", "1", "ics", "-o", str(out)], env)[0])
    results.append(("vaultnetz --jobs 1 ics -o, cold, no helper processes", min(alone), ""))
    helps = min(run_cli(["--help"], env)[0] for _ in range(args.repeat))
    results.append(("vaultnetz --help", helps, ""))
    latency = watcher_latency(root, args.repeat)
    results.append(("watcher: one changed note → new feed bytes", latency, ""))

    print(f"vault: {args.contacts:,} contacts + {args.days:,} daily notes = {notes:,} notes "
          f"({sum(f.stat().st_size for f in root.rglob('*.md')) / 1e6:.0f} MB); "
          f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(f"{'measurement':<56} {'seconds':>8} {'÷ floor':>8} {'÷ naive':>8}")
    for name, seconds, note in results:
        print(f"{name:<56} {seconds:>8.3f} {seconds / floor_s:>7.1f}× {seconds / naive_s:>7.2f}×"
              f"  {note}")
    peak_mb = max(max(peaks), tree) / 1024
    print("\ntargets (issue 7: set for 10,000 contacts + 3,650 daily notes, the memory "
          "target for --contacts 50000):")
    for target, value, met in [
        ("cold ≥ 3× faster than naive", f"{naive_s / cold:.2f}× faster", naive_s / cold >= 3),
        ("cold ≤ 4× the floor", f"{cold / floor_s:.1f}× the floor", cold / floor_s <= 4),
        ("warm ≤ 0.35× cold", f"{warm / cold:.2f}× cold", warm / cold <= 0.35),
        ("watcher ≤ 100 ms", f"{latency * 1000:.0f} ms", latency <= 0.1),
        ("--help ≤ 0.25 s", f"{helps:.2f} s", helps <= 0.25),
        ("peak memory ≤ 200 MB (with helpers)", f"{peak_mb:.0f} MB", peak_mb <= 200),
    ]:
        print(f"  {target:<36} {value:>16}  {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
