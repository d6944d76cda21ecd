"""Benchmark vaultnetz against the raw-read floor, in one run on one generated heavy vault.

    python benchmarks/run.py [--contacts 10000] [--days 3650] [--dir /tmp/vaultnetz-bench]

Prints each measurement with its ratio to the floor (walk + read every file), measured in
the same run on the same vault, and then the read path's targets and whether each is met.
Times are the best of --repeat runs (wall clock; CPU where it says so); memory is the peak
RSS of the process, and of it and its helper processes together (sampled).
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

TODAY = "2026-11-23"


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


# Runs `vaultnetz ARGS` and, on Linux, writes the process's own peak RSS (VmHWM, KiB) to
# the file named first. The child's ru_maxrss is no good here: Linux starts it at the size of
# the process it was forked from, and this one holds the naive baseline's memory.
_MEASURED = """
import os, sys
out = sys.argv.pop(1)
def peak():
    try:
        with open("/proc/self/status") as status:
            kib = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return
    with open(out, "w") as handle:
        handle.write(kib)
real_exit = os._exit
def quick_exit(code):  # what `vaultnetz` ends a one-shot command with
    peak()
    real_exit(code)
os._exit = quick_exit
sys.argv[0] = "vaultnetz"
from vaultnetz.cli import run
try:
    run()
finally:
    peak()
"""


def run_cli(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one `vaultnetz` process."""
    elapsed, _, peak = run_measured(args, env)
    return elapsed, peak


def run_measured(args: list[str], env: dict[str, str],
                 out: list[bytes] | None = None) -> tuple[float, float, int]:
    """Wall time, CPU time (the process and its helpers) and peak RSS (KiB) of one
    `vaultnetz` process; its standard output is appended to ``out``."""
    with tempfile.NamedTemporaryFile("r", suffix=".peak") as peak_file:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-c", _MEASURED, peak_file.name, *args],
                                   env=env, stdout=subprocess.PIPE if out is not None
                                   else subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        printed = process.stdout.read() if process.stdout is not None else b""
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        if status != 0:
            raise SystemExit(f"vaultnetz {' '.join(args)} failed with status {status}")
        if out is not None:
            out.append(printed)
        peak = peak_file.read().strip()
    return elapsed, usage.ru_utime + usage.ru_stime, int(peak) if peak else usage.ru_maxrss


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


# The watcher as `watch` and `serve` run it (FeedService.rebuild after the debounce), in a
# process of its own: one note changes → new feed bytes. Prints the best CPU time of one
# rebuild (s), the process's peak RSS (KiB), the best CPU time of a rebuild after a link
# added to a daily note (s), and after a new contact note that a daily note links (s; the
# new notes are removed again).
_WATCHER = """
import sys, time
from datetime import date, datetime, timedelta
from pathlib import Path
from vaultnetz.watch import FeedService
root, repeat, today = Path(sys.argv[1]), int(sys.argv[2]), date.fromisoformat(sys.argv[3])
service = FeedService(root, lambda: datetime.combine(today, datetime.min.time()),
                      freeze_gc=True)
service.rebuild()
target = sorted((root / "People").glob("*.md"))[1]
rel, folder = target.relative_to(root).as_posix(), target.parent.relative_to(root).as_posix()
times = []
for i in range(repeat):
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(f"\\n- {today - timedelta(days=i)} benchmark edit\\n")
    start = time.process_time()
    service.rebuild({rel}, {folder})  # what the observer reports for an in-place save
    times.append(time.process_time() - start)
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
daily = sorted((root / "Daily").glob("*.md"))[-2]
linked = []
for i in range(repeat + 1):  # the first one makes the lookup of names, kept from then on
    with open(daily, "a", encoding="utf-8") as handle:
        handle.write(f"\\nCalled [[{target.stem}]] ({i}).\\n")
    start = time.process_time()
    service.rebuild({daily.relative_to(root).as_posix()}, {"Daily"})
    linked.append(time.process_time() - start)
added = []
for i in range(repeat):
    new = root / "People" / f"Benchmark Watcher {i}.md"
    new.write_text("---\\naliases: [Benchmark Alias]\\ncadence: 2m\\n---\\n", encoding="utf-8")
    start = time.process_time()
    service.rebuild({new.relative_to(root).as_posix()}, {"People"})
    added.append(time.process_time() - start)
    new.unlink()
    service.rebuild({new.relative_to(root).as_posix()}, {"People"})
print(min(times), peak, min(linked[1:]), min(added))
"""


def watcher(root: Path, repeat: int) -> tuple[float, int, float, float]:
    """(CPU seconds of one rebuild after one edited contact note, peak RSS KiB while
    watching, CPU seconds of one rebuild after a daily note's edit, and after a new contact
    note)."""
    done = subprocess.run([sys.executable, "-c", _WATCHER, str(root), str(repeat), TODAY],
                          check=True, capture_output=True, text=True)
    seconds, peak, linked, added = done.stdout.split()
    return float(seconds), int(peak), float(linked), float(added)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=3650)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "vaultnetz-bench")
    args = parser.parse_args()

    # The package's bytecode, as an installed package has it (pip compiles on install),
    # whatever PYTHONDONTWRITEBYTECODE says: else every run would compile it afresh.
    spec = importlib.util.find_spec("vaultnetz")
    if spec is not None and spec.origin is not None:
        compileall.compile_dir(Path(spec.origin).parent, quiet=1)
    root = args.dir / f"heavy-{args.contacts}-{args.days}"
    if not root.is_dir():
        print(f"generating {root} …", file=sys.stderr)
        generate(root, args.contacts, args.days)
    cache = args.dir / "cache"
    env = {**os.environ, "VAULTNETZ_CACHE_DIR": str(cache), "VAULTNETZ_TODAY": TODAY,
           "VAULTNETZ_VAULT": str(root)}
    out = args.dir / "feed.ics"
    ics = ["ics", "-o", str(out)]
    notes = sum(1 for _ in root.rglob("*.md"))
    some = sorted((root / "People").glob("*.md"))[0].stem  # a contact for `show`

    results: list[tuple[str, float, str]] = []
    floor(root)  # the files in the page cache: the floor and every run read them from memory
    floor_s = best(lambda: floor(root), args.repeat)
    results.append(("raw-read floor (walk + read every file)", floor_s, ""))

    colds, cpus, peaks, after, after_peaks, feeds = [], [], [], [], [], []
    for _ in range(args.repeat):
        shutil.rmtree(cache, ignore_errors=True)
        seconds, cpu, peak = run_measured(ics, env)
        feeds.append(out.read_bytes())
        colds.append(seconds)
        cpus.append(cpu)
        peaks.append(peak)
        seconds, _, peak = run_measured(["due"], env)  # the first `due` after a cold `ics`
        after.append(seconds)
        after_peaks.append(peak)
    cold = min(colds)
    cold_us = min(cpus) / notes * 1e6
    shutil.rmtree(cache, ignore_errors=True)
    _, tree = tree_peak(ics, env)
    cold_peak = max(max(peaks), tree)
    results.append(("ics -o, cold (empty cache)", cold,
                    f"CPU {min(cpus):.2f} s = {cold_us:.0f} µs/note; peak {cold_peak / 1024:.0f} "
                    "MB with helpers"))
    results.append(("due, right after a cold ics", min(after),
                    f"peak {max(after_peaks) / 1024:.0f} MB"))
    alone = []
    for _ in range(args.repeat):
        shutil.rmtree(cache, ignore_errors=True)
        alone.append(run_measured(["--jobs", "1", *ics], env)[:2])
    results.append(("ics -o, cold, --jobs 1 (one process)", min(a[0] for a in alone),
                    f"CPU {min(a[1] for a in alone):.2f} s"))
    run_cli(ics, env)
    warm = min(run_cli(ics, env)[0] for _ in range(args.repeat))
    feeds.append(out.read_bytes())
    results.append(("ics -o, warm (nothing changed)", warm, ""))
    warm_after: dict[str, float] = {}
    # Each command right after another one (a different one each time), never after itself.
    order = [("due", ["due"]), ("show", ["show", some]), ("stats", ["stats"])]
    for previous, (name, command) in zip(order[-1:] + order[:-1], order, strict=True):
        times = []
        for _ in range(args.repeat):
            run_cli(previous[1], env)
            times.append(run_cli(command, env)[0])
        warm_after[name] = min(times)
        results.append((f"{' '.join(command[:1])}, right after {previous[0]}", min(times), ""))
    times = []
    for _ in range(args.repeat):
        run_cli(["due"], env)
        times.append(run_cli(ics, env)[0])
    results.append(("ics -o, right after due", min(times), ""))
    target = sorted((root / "People").glob("*.md"))[2]
    changed = []
    for i in range(args.repeat):
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(f"\n- 2026-11-{10 + i} one more entry\n")
        changed.append(run_cli(ics, env)[0])
    results.append(("ics -o, one note changed", min(changed), ""))
    time.sleep(2.1)  # the edits old enough to be trusted: the next run stores a snapshot
    run_cli(["due"], env)
    daily, linked = sorted((root / "Daily").glob("*.md"))[-1], target.stem
    changed = []
    for _ in range(args.repeat):
        with open(daily, "a", encoding="utf-8") as handle:
            handle.write(f"\nCalled [[{linked}]] again.\n")
        changed.append(run_cli(ics, env)[0])
    results.append(("ics -o, one daily note changed (a link added)", min(changed), ""))
    time.sleep(2.1)
    run_cli(["due"], env)
    added, removed = [], []
    for i in range(args.repeat):  # a contact note added (an alias the daily note links)
        with open(daily, "a", encoding="utf-8") as handle:  # a link to nobody yet; and a
            handle.write(f"\nMet [[Benchmark Alias]] ({i}).\n")  # state no feed was made of
        os.utime(daily, (time.time() - 5, time.time() - 5))
        run_cli(["due"], env)
        new = root / "People" / f"Benchmark Person {i}.md"
        new.write_text("---\naliases: [Benchmark Alias]\ncadence: 2m\n---\n", encoding="utf-8")
        os.utime(new, (time.time() - 5, time.time() - 5))
        added.append(run_cli(ics, env)[0])
        new.unlink()
        removed.append(run_cli(ics, env)[0])
    results.append(("ics -o, a contact note added (linked by name)", min(added), ""))
    results.append(("ics -o, that contact note removed again", min(removed), ""))
    # Identical output with and without the cache: the feed and the commands' texts.
    uncached_s = run_measured(["--no-cache", *ics], env)[0]
    uncached = out.read_bytes()
    run_cli(ics, env)
    same = uncached == out.read_bytes() and len(set(feeds[:-1])) == 1
    for _, command in order:
        fresh: list[bytes] = []
        cached: list[bytes] = []
        run_measured(["--no-cache", *command], env, fresh)
        run_measured(command, env, cached)
        same = same and fresh == cached
    results.append(("--no-cache ics -o", uncached_s, ""))
    helps = min(run_cli(["--help"], env)[0] for _ in range(args.repeat))
    results.append(("--help", helps, ""))
    latency, watch_peak, watch_linked, watch_added = watcher(root, args.repeat)
    results.append(("watcher: one edited note → new feed bytes (CPU)", latency,
                    f"peak {watch_peak / 1024:.0f} MB while watching"))
    results.append(("watcher: a link added to a daily note (CPU)", watch_linked, ""))
    results.append(("watcher: a contact note added (CPU)", watch_added, ""))

    size = sum(f.stat().st_size for f in root.rglob("*.md")) / 1e6
    print(f"vault: {args.contacts:,} contacts + {args.days:,} daily notes = {notes:,} notes "
          f"({size:.0f} MB); python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(f"{'measurement':<50} {'seconds':>8} {'÷ floor':>8}")
    for name, seconds, note in results:
        print(f"{name:<50} {seconds:>8.3f} {seconds / floor_s:>7.1f}×  {note}")
    worst_warm = max(warm_after.values())
    large = args.contacts >= 50_000
    print(f"\ntargets (the read-path issue; {'50,000' if large else '10,000'} contacts):")
    rows = [
        ("cold ics ≤ 8× floor", f"{cold / floor_s:.1f}×", cold / floor_s <= 8),
        ("warm ics ≤ 2.5× floor", f"{warm / floor_s:.1f}×", warm / floor_s <= 2.5),
        ("due/show/stats after another ≤ 2.5× floor",
         f"{worst_warm / floor_s:.1f}×", worst_warm / floor_s <= 2.5),
        ("due right after cold ics ≤ 2.5× floor", f"{min(after) / floor_s:.1f}×",
         min(after) / floor_s <= 2.5),
        (f"watcher, an edited note ≤ {100 if large else 30} ms CPU (contact, daily)",
         f"{latency * 1000:.0f}, {watch_linked * 1000:.0f} ms",
         max(latency, watch_linked) <= (0.1 if large else 0.03)),
        ("--help ≤ 0.15 s", f"{helps:.2f} s", helps <= 0.15),
        ("identical output with and without the cache", "yes" if same else "NO", same),
        ("cold CPU per note (compare 10k with 50k ≤ 1.1)", f"{cold_us:.0f} µs", True),
    ]
    if large:
        worst = max(cold_peak, max(after_peaks), watch_peak) / 1024
        rows.append(("peak RSS ≤ 200 MB (cold, due after, watching)", f"{worst:.0f} MB",
                     worst <= 200))
    for name, value, met in rows:
        print(f"  {name:<48} {value:>10}  {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
