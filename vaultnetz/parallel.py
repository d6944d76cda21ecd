"""Read notes in helper processes: a cold read of a large vault on several cores.

A helper is a fresh interpreter, not a fork, so that it is safe beside the
watcher's threads and works the same on every platform. It is given notes to
read (path, size, mtime, the digest the cache knows), parses them exactly as
the index would, and writes each one back in the cache's format, in framed
batches on its standard output. Whatever goes wrong with a helper — it cannot
start, dies, writes something unreadable — only means that the notes it did
not deliver are read by the index itself: never an error, never a different result.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from .cache import code_stamp, encode_note
from .notes import FileStat, ParseSettings, read_note

# A helper costs about 70 ms of start-up (an interpreter and the parser's imports)
# and one core; below this many notes each, it is slower than reading them here.
MIN_NOTES_PER_PROCESS = 1500
MAX_PROCESSES = 4  # past that, the index's own decoding and building dominate
OWN_WEIGHT = 0.85  # measured: the helpers then finish about when the index does
_PATTERN = 40  # the dealing repeats after this many notes
_BATCH = 200  # notes per frame: the index decodes them as they come
_HEADER = 8  # each frame: its length (8 bytes, little-endian), then a marshal'd list

# One note delivered: (path, content digest, the note in the cache's format), or
# (path, digest, None) when the content is the one the cache knows after all.
Delivered = tuple[str, str, bytes | None]
# One note to read: (path, size, mtime_ns, digest known to the cache or "").
Wanted = tuple[str, int, int, str]

_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
         "from vaultnetz.parallel import serve; serve()")


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


def share_out(wanted: list[Wanted], processes: int) -> list[list[Wanted]]:
    """``wanted`` dealt out to ``processes``, the index's own share first.

    Dealt in turn, so that each gets a like mix of notes (daily notes and people sort
    apart); the index's share is smaller by OWN_WEIGHT, as it also decodes and stores
    what the helpers deliver.
    """
    if processes <= 1:
        return [wanted]
    weights = [OWN_WEIGHT] + [1.0] * (processes - 1)
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
    """One helper process reading ``wanted`` notes of the vault at ``root``."""

    def __init__(self, root: Path, settings: ParseSettings, wanted: Sequence[Wanted]) -> None:
        self.wanted = {w[0]: w for w in wanted}
        self._frames: list[bytes] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        request = marshal.dumps((code_stamp(), str(root), tuple(settings), list(wanted)))
        package_parent = str(Path(__file__).resolve().parent.parent)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _BOOT, package_parent],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except (OSError, ValueError):
            self._done.set()
            return
        # A thread feeds the request and drains the answer, so that neither side waits
        # on a full pipe while the other is busy parsing.
        threading.Thread(target=self._talk, args=(request,), daemon=True).start()

    def _talk(self, request: bytes) -> None:
        process = self._process
        assert process is not None
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            with contextlib.suppress(OSError):
                process.stdin.write(request)
            with contextlib.suppress(OSError):
                process.stdin.close()
            buffer = bytearray()
            fd = process.stdout.fileno()  # read raw: whatever has come, as it comes
            while chunk := os.read(fd, 1 << 20):
                buffer += chunk
                frames = []
                start = 0
                while len(buffer) - start >= _HEADER:
                    size = int.from_bytes(buffer[start:start + _HEADER], "little")
                    if len(buffer) - start < _HEADER + size:
                        break
                    frames.append(bytes(buffer[start + _HEADER:start + _HEADER + size]))
                    start += _HEADER + size
                del buffer[:start]
                if frames:
                    with self._lock:
                        self._frames.extend(frames)
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError, ValueError):
                process.stdout.close()
            process.wait()
            self._done.set()

    def delivered(self, *, wait: bool = False) -> Iterator[Delivered]:
        """The notes delivered since the last call; with ``wait``, all that will come."""
        if wait:
            self._done.wait()
        with self._lock:
            frames, self._frames = self._frames, []
        for frame in frames:
            try:
                batch = marshal.loads(frame)
            except (EOFError, ValueError, TypeError):
                continue  # damaged: its notes stay undelivered and are read by the index
            for item in batch:
                if (isinstance(item, tuple) and len(item) == 3 and isinstance(item[0], str)
                        and item[0] in self.wanted and isinstance(item[1], str)
                        and isinstance(item[2], bytes | None)):
                    yield item

    def stop(self) -> None:
        """End the helper (when the index gives up before it is done)."""
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(OSError):
                self._process.kill()


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
