"""Read notes in helper processes: a cold read of a large vault on several cores.

A helper is a fresh interpreter, not a fork, so that it is safe beside the
watcher's threads and works the same on every platform. It is given notes to
read (path, size, mtime, the digest the cache knows), parses them exactly as
the index would, and writes each one back in the cache's format, in framed
batches to a temporary file the index reads as it goes. Whatever goes wrong
with a helper — it cannot start, dies, writes something unreadable — only means
that the notes it did not deliver are read by the index itself: never an error,
never a different result.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from .cache import code_stamp, encode_note
from .notes import FileStat, ParseSettings, read_note

# A helper costs about 70 ms of start-up (an interpreter and the parser's imports)
# and one core; below this many notes each, it is slower than reading them here.
MIN_NOTES_PER_PROCESS = 1500
MAX_PROCESSES = 4  # past that, the index's own decoding and building dominate
# Seconds per note and to start a helper, measured on a 2-core machine (benchmarks/run.py):
# they set how the notes are shared so that the index and its helpers finish together.
# BUILD_S is the index's own work on every note, however read: building it into the vault
# as it comes (fitted so that the shares below give the fastest cold `ics`).
READ_S, TAKE_S, HELPER_S, START_S, BUILD_S = 46e-6, 20e-6, 50e-6, 0.07, 12e-6
_PATTERN = 100  # the dealing repeats after this many notes
_BATCH = 200  # notes per frame: the index decodes them as they come
_HEADER = 8  # each frame: its length (8 bytes, little-endian), then a marshal'd list

# One note delivered: (path, content digest, the note in the cache's format), or
# (path, digest, None) when the content is the one the cache knows after all.
Delivered = tuple[str, str, bytes | None]
# One note to read: (path, size, mtime_ns, digest known to the cache or "").
Wanted = tuple[str, int, int, str]

_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
         "from vaultnetz.parallel import serve; serve()")
_PACKAGE_PARENT = Path(__file__).resolve().parent.parent  # the helper imports this very copy


def available_cores() -> int:
    """The cores this process may run on (its affinity where the platform says)."""
    if hasattr(os, "sched_getaffinity"):
        with contextlib.suppress(OSError):
            return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def processes_for(count: int, jobs: int | None) -> int:
    """How many processes (the index's own included) should read ``count`` notes.

    ``jobs`` None: as many as the cores and the amount of work make worth it;
    a number: that many (1: no helpers), as long as each has a note to read.
    """
    if getattr(sys, "frozen", False) or not sys.executable:
        return 1  # a bundled app: its executable is no Python interpreter to start
    if jobs is None:
        jobs = min(available_cores(), MAX_PROCESSES, count // MIN_NOTES_PER_PROCESS)
    return max(1, min(jobs, count))


def own_share(count: int, processes: int) -> float:
    """The index's fair share of ``count`` notes read by ``processes``: all finish together.

    The index reads a note in about READ_S seconds and takes a helper's note in about
    TAKE_S (decode, store), and builds each into the vault in BUILD_S; a helper needs
    START_S to start and HELPER_S per note. Solving "own notes × (READ_S + BUILD_S) +
    helpers' notes × (TAKE_S + BUILD_S) = START_S + a helper's notes × HELPER_S" gives the
    share: 0.30 of 13,650 notes, 0.25 of 53,650 (cold `ics` 6–10 % faster than sharing by
    reading alone, on the benchmark's vaults).
    """
    if processes <= 1:
        return 1.0
    helpers = processes - 1
    per_helper = HELPER_S / helpers
    share = (START_S / max(count, 1) + per_helper - TAKE_S - BUILD_S) / (
        READ_S - TAKE_S + per_helper)
    return min(0.95, max(0.05, share))  # each process gets some: they were asked for


def share_out(wanted: list[Wanted], processes: int) -> list[list[Wanted]]:
    """``wanted`` dealt out to ``processes``, the index's own share (``own_share``) first.

    Dealt in turn, so that each gets a like mix of notes (daily notes and people sort
    apart).
    """
    if processes <= 1:
        return [wanted]
    own = own_share(len(wanted), processes)
    weights = [own] + [(1 - own) / (processes - 1)] * (processes - 1)
    pattern: list[int] = []
    dealt = [0] * processes
    for _ in range(_PATTERN):
        owner = min(range(processes), key=lambda k: (dealt[k] + 1) / weights[k])
        dealt[owner] += 1
        pattern.append(owner)
    shares: list[list[Wanted]] = [[] for _ in range(processes)]
    for i, item in enumerate(wanted):
        shares[pattern[i % _PATTERN]].append(item)
    return shares


class Helper:
    """One helper process reading ``wanted`` notes of the vault at ``root``.

    The request and the answer go through temporary files, not pipes: a pipe
    would stall the helper whenever this process, busy parsing its own share,
    did not empty it (a reader thread must wait for the GIL to do so).
    """

    def __init__(self, root: Path, settings: ParseSettings, wanted: Sequence[Wanted]) -> None:
        self.wanted = {w[0]: w for w in wanted}
        self._answer: IO[bytes] | None = None
        self._answer_path: str | None = None  # to remove once read, where it cannot be sooner
        self._pending = b""  # the start of a frame whose end has not come yet
        self._process: subprocess.Popen[bytes] | None = None
        try:
            with tempfile.TemporaryFile() as request:
                request.write(marshal.dumps((code_stamp(), str(root), tuple(settings),
                                             list(wanted))))
                request.seek(0)
                fd, path = tempfile.mkstemp(prefix="vaultnetz-", suffix=".notes")
                try:
                    self._answer = open(path, "rb", buffering=0)  # noqa: SIM115 - kept open
                    try:
                        os.unlink(path)  # gone once both are closed
                    except OSError:
                        self._answer_path = path  # Windows: removed in close()
                    self._process = subprocess.Popen(
                        [sys.executable, "-c", _BOOT, str(_PACKAGE_PARENT)],
                        stdin=request, stdout=fd, stderr=subprocess.DEVNULL)
                finally:
                    os.close(fd)
        except (OSError, ValueError, subprocess.SubprocessError):
            self.close()

    def delivered(self, *, wait: bool = False) -> Iterator[Delivered]:
        """The notes delivered since the last call; with ``wait``, all that will come
        (taken as they come, so that decoding them overlaps the helper's last notes)."""
        while self._answer is not None:
            finished = self._process is None or self._process.poll() is not None
            yield from self._read_frames()
            if finished or not wait:
                return
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(0.01)  # type: ignore[union-attr]

    def _read_frames(self) -> Iterator[Delivered]:
        assert self._answer is not None
        try:
            data = self._pending + (self._answer.read() or b"")
        except OSError:
            return
        start = 0
        while len(data) - start >= _HEADER:
            size = int.from_bytes(data[start:start + _HEADER], "little")
            if len(data) - start < _HEADER + size:
                break
            frame = data[start + _HEADER:start + _HEADER + size]
            start += _HEADER + size
            try:
                batch = marshal.loads(frame)
            except (EOFError, ValueError, TypeError):
                continue  # damaged: its notes stay undelivered and are read by the index
            for item in batch if isinstance(batch, list) else ():
                if (isinstance(item, tuple) and len(item) == 3 and isinstance(item[0], str)
                        and item[0] in self.wanted and isinstance(item[1], str)
                        and isinstance(item[2], bytes | None)):
                    yield item
        self._pending = data[start:]

    def close(self) -> None:
        """End the helper if it still runs, and let go of its files."""
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(OSError):
                self._process.kill()
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                self._process.wait(5)
        if self._answer is not None:
            self._answer.close()
            self._answer = None
        if self._answer_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._answer_path)
            self._answer_path = None


def serve(source: IO[bytes] | None = None, sink: IO[bytes] | None = None) -> None:
    """A helper's main: read the request, deliver the notes, exit.

    A request from another version of the package is refused (exit status 3).
    """
    gc.disable()  # a short run that builds no cycles
    source = source or sys.stdin.buffer
    sink = sink or sys.stdout.buffer
    stamp, root, settings, wanted = marshal.loads(source.read())
    if stamp != code_stamp():
        raise SystemExit(3)
    parse = ParseSettings(*settings)
    batch: list[Delivered] = []
    for rel, size, mtime_ns, known in wanted:
        try:
            note, content = read_note(root, rel, FileStat(size, mtime_ns), parse, known or None)
        except Exception:  # whatever it is, the index reads this note itself
            continue
        if content is None:
            continue  # not read (too large, unreadable): the index says why, itself
        if note is None:
            batch.append((rel, content, None))
        else:
            encoded = encode_note(note)
            if encoded is None:
                continue  # values the cache's format cannot hold: the index parses it
            batch.append((rel, content, encoded))
        if len(batch) >= _BATCH:
            _send(sink, batch)
            batch = []
    _send(sink, batch)


def _send(sink: IO[bytes], batch: list[Delivered]) -> None:
    if batch:
        frame = marshal.dumps(batch)
        sink.write(len(frame).to_bytes(_HEADER, "little") + frame)
        sink.flush()
