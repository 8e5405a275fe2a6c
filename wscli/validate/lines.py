"""Lines of a file or pipe, read in bounded chunks whatever the input (issue #6).

Iterating a binary file (``for line in handle``) reads until the next newline, so
``/dev/zero`` or a pipe without newlines grows one line until memory runs out, in C
code that never returns to let Ctrl-C through. :class:`LineReader` reads chunks of
at most :data:`CHUNK` bytes, returns to Python between them, and decides about a
line as early as it can:

- a line with a NUL byte is binary data, never JSON: malformed at once, and the
  reader skips to the next newline (at most ``limit`` bytes of it);
- a line longer than ``limit`` (``--max-size``) is malformed, and since no line end
  came within the limit the rest of the input is not read.

Memory is bounded by ``limit`` plus a chunk.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import BinaryIO

from wscli.frames import human_bytes
from wscli.validate.tally import Malformed

CHUNK = 1 << 16  # bytes per read while a line is being collected
SKIP_CHUNK = 1 << 20  # bytes per read while a bad line is being skipped
DEFAULT_LIMIT = 64 * 1024 * 1024  # issue #6: "say 64 MiB, --max-size"
_WHITESPACE = b" \t\r\n"


def chunk_reader(handle: BinaryIO) -> Callable[[int], bytes]:
    """``read(n)`` that returns what is there: pipes and terminals never wait for ``n``."""
    read1 = getattr(handle, "read1", None)
    return read1 if callable(read1) else handle.read


def rest_not_read(limit: int) -> str:
    return (
        f"no line end within {human_bytes(limit)} (--max-size), the rest of the input was not read"
    )


class LineReader:
    """Numbered lines (with their newline) of a byte stream, each at most ``limit`` bytes.

    Args:
        read: ``read(n)`` returning at most ``n`` bytes, ``b""`` at the end.
        limit: the longest line accepted, in bytes.
    """

    def __init__(self, read: Callable[[int], bytes], limit: int = DEFAULT_LIMIT) -> None:
        self._read = read
        self.limit = max(limit, 1)
        self._buf = bytearray()
        self._eof = False
        self._stopped = False
        self.number = 0  # the number of the last line returned

    # -- the start of the input --------------------------------------------------------

    def skip_blank(self) -> int | None:
        """Drop leading blank lines (and a UTF-8 BOM); the first non-blank byte, or None.

        Blank input is dropped as it is read, so a gigabyte of spaces costs a chunk.
        """
        first = True
        while True:
            if first and self._fill_to(3) and self._buf.startswith(b"\xef\xbb\xbf"):
                del self._buf[:3]
            first = False
            stripped = self._buf.lstrip(_WHITESPACE)
            if stripped:
                blank = len(self._buf) - len(stripped)
                cut = self._buf.rfind(b"\n", 0, blank) + 1
                self.number += self._buf.count(b"\n", 0, cut)
                del self._buf[:cut]
                return stripped[0]
            self.number += self._buf.count(b"\n")
            tail = self._buf.rfind(b"\n") + 1
            del self._buf[:tail]
            if not self._more(CHUNK):
                return None

    def peek_line(self, limit: int | None = None) -> bytes | None:
        """The next line without consuming it; None if it is longer than ``limit``
        (default: the reader's), or binary."""
        limit = self.limit if limit is None else min(limit, self.limit)
        end = self._find_newline(limit)
        if end < 0:
            fits = self._eof and len(self._buf) <= limit and b"\0" not in self._buf
            return bytes(self._buf) if fits else None
        return bytes(self._buf[: end + 1])

    def read(self, size: int) -> bytes:
        """Raw bytes, buffered ones first: hands the rest of the input to another reader."""
        if self._buf:
            data = bytes(self._buf[:size])
            del self._buf[:size]
            return data
        return b"" if self._eof else self._read(size)

    # -- lines -------------------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[int, bytes | Malformed]]:
        """Every line; blocks of ordinary lines are split and numbered in C (the hot path)."""
        return chain.from_iterable(self._blocks())

    def _blocks(self) -> Iterator[Iterable[tuple[int, bytes | Malformed]]]:
        while not self._stopped:
            buf = self._buf
            end = buf.rfind(b"\n")
            if end < 0 and len(buf) < CHUNK and self._more(CHUNK):
                continue
            if 0 <= end < self.limit and buf.find(b"\0", 0, end) < 0:
                # Every line up to the last newline is shorter than the limit and text.
                block = io.BytesIO(buf[: end + 1])  # splits at LF only, as JSON Lines does
                start = self.number + 1
                self.number += buf.count(b"\n", 0, end + 1)
                del buf[: end + 1]
                yield enumerate(block, start)
                continue
            line = self.line()
            if line is None:
                return
            yield ((self.number, line),)

    def line(self) -> bytes | Malformed | None:
        """The next line, a :class:`Malformed` for one that cannot be read, None at the end."""
        if self._stopped:
            return None
        end = self._find_newline()
        if end < 0 and not self._buf:
            return None
        self.number += 1
        if 0 <= end <= self.limit:
            data = bytes(self._buf[: end + 1])
            del self._buf[: end + 1]
            return self._checked(data)
        if self._eof and len(self._buf) <= self.limit and b"\0" not in self._buf:
            data = bytes(self._buf)  # the last line, without a newline
            self._buf.clear()
            return data
        return self._bad_line()

    def _checked(self, data: bytes) -> bytes | Malformed:
        nul = data.find(b"\0")
        return Malformed(_nul_reason(nul)) if nul >= 0 else data

    def _find_newline(self, limit: int | None = None) -> int:
        """Index of the newline ending the line at ``buf[0]``, reading as needed.

        -1 at the end of the input, past the limit, or as soon as a NUL byte shows
        the line is binary: its first bytes decide, the rest need not be held.
        """
        limit = self.limit if limit is None else limit
        scanned = 0
        while True:
            end = self._buf.find(b"\n", scanned)
            if end >= 0:
                return end
            if self._buf.find(b"\0", scanned) >= 0 or len(self._buf) > limit:
                return -1
            scanned = len(self._buf)
            if not self._more(CHUNK):
                return -1

    def _bad_line(self) -> Malformed:
        """A line that is binary or too long: skip it (bounded) and say why."""
        nul = self._buf.find(b"\0")
        if nul < 0 or nul > self.limit:
            self._stop()
            return Malformed(
                f"line longer than {human_bytes(self.limit)}; {rest_not_read(self.limit)}"
            )
        reason = _nul_reason(nul)
        seen = 0
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                del self._buf[: end + 1]
                return Malformed(reason)
            seen += len(self._buf)
            self._buf.clear()
            if seen > self.limit:
                self._stop()
                return Malformed(f"{reason}; {rest_not_read(self.limit)}")
            if not self._more(SKIP_CHUNK):
                return Malformed(reason)

    def _stop(self) -> None:
        self._stopped = True
        self._buf.clear()

    # -- reading -----------------------------------------------------------------------

    def _more(self, size: int) -> bool:
        if self._eof:
            return False
        data = self._read(size)
        if not data:
            self._eof = True
            return False
        self._buf += data
        return True

    def _fill_to(self, size: int) -> bool:
        while len(self._buf) < size and self._more(CHUNK):
            pass
        return len(self._buf) >= size


def _nul_reason(index: int) -> str:
    return f"not JSON: binary data (a NUL byte at byte {index + 1} of the line)"
