"""``connect``'s piped or typed stdin, one text frame per line, read ahead and bounded.

Lines are read on a thread from the start, so nothing typed or piped before the
handshake completes is lost: they wait in a queue bounded in lines and in bytes,
and the pipe waits beyond it. One line is at most ``limit`` bytes, the
``--max-size`` that bounds frames: a longer one ends the input with one error
line and exit 2, as ``/send-file`` over ``--max-size`` does at the prompt. (A
300 MB line without a newline used to be held whole, about six times over, until
a MemoryError killed the reading thread and the session hung.)
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from typing import IO

from wscli.errors import BadUsage, WscliError
from wscli.frames import human_bytes

READ_AHEAD_LINES = 10_000  # lines held ahead of the connection
READ_AHEAD_BYTES = 64 * 1024 * 1024  # ... and bytes (one line is always let in)


class StdinLines:
    """Iterates the lines of ``stream`` (UTF-8, invalid bytes replaced), each ``<= limit``."""

    def __init__(self, stream: IO[str], limit: int) -> None:
        self.stream = stream
        self.limit = max(limit, 1)
        self._items: deque[bytes] = deque()
        self._bytes = 0
        self._done = False  # the reading thread has ended
        self._error: WscliError | None = None  # ... with this, after the lines it queued
        self._changed = threading.Condition()

    def start(self) -> None:
        threading.Thread(target=self._read, name="wscli-stdin", daemon=True).start()

    # -- the reading thread -----------------------------------------------------------
    def _read(self) -> None:
        end: WscliError | None = None
        try:
            for line in self._lines():
                self._put(line)
        except _TooLong as long:
            end = BadUsage(
                f"stdin line {long.number} is longer than --max-size"
                f" ({human_bytes(self.limit)}): the rest of stdin was not read",
                hint="raise --max-size (it bounds the frames sent too)",
            )
        except Exception as exc:  # an unreadable stdin: end the input, never hang
            end = BadUsage(f"cannot read stdin: {exc}")
        finally:
            with self._changed:
                self._done, self._error = True, end
                self._changed.notify_all()

    def _lines(self) -> Iterator[bytes]:
        """Lines without their ``\\n`` or ``\\r\\n``; reads at most ``limit + 2`` at a time."""
        binary = getattr(self.stream, "buffer", None)
        size = self.limit + 2  # the longest line plus CR LF
        number = 0
        while True:
            raw: bytes | str = (
                binary.readline(size) if binary is not None else self.stream.readline(size)
            )
            if not raw:
                return
            number += 1
            data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "replace")
            ended = data.endswith(b"\n")
            if not ended and len(raw) >= size:
                raise _TooLong(number)  # no line end within the limit: stop reading here
            line = data[:-1] if ended else data
            if line.endswith(b"\r"):
                line = line[:-1]
            if len(line) > self.limit:
                raise _TooLong(number)
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                line = line.decode("utf-8", "replace").encode("utf-8")
            yield line

    def _put(self, line: bytes) -> None:
        with self._changed:
            while self._items and (
                len(self._items) >= READ_AHEAD_LINES or self._bytes + len(line) > READ_AHEAD_BYTES
            ):
                self._changed.wait()
            self._items.append(line)
            self._bytes += len(line)
            self._changed.notify_all()

    # -- the sending thread -----------------------------------------------------------
    def __iter__(self) -> Iterator[bytes]:
        """Each line as it comes; the input's error, if any, is raised after the last one."""
        while True:
            with self._changed:
                while not self._items and not self._done:
                    self._changed.wait()
                if not self._items:
                    if self._error is not None:
                        raise self._error
                    return
                line = self._items.popleft()
                self._bytes -= len(line)
                self._changed.notify_all()
            yield line


class _TooLong(Exception):
    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number
