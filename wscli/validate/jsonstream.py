"""Streaming a JSON text value by value: the elements of a huge array, or documents.

``json.load`` needs the whole text in memory; ``wscli validate`` must not, whatever
the file's size. :class:`JsonText` reads chunks, decodes one value at a time with
the C decoder, and holds at most one value plus a chunk. Line numbers are tracked
incrementally so places stay exact, and a value cut by a chunk boundary is simply
decoded again once more text has arrived. A value larger than ``limit``
(``--max-size``) ends the file, as does skipping more than ``limit`` of garbage to find
the next document: memory stays bounded whatever the input (issue #6).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterator

from wscli.frames import human_bytes
from wscli.messages import unfit_span
from wscli.validate.lines import DEFAULT_LIMIT
from wscli.validate.tally import Malformed

CHUNK = 1 << 16  # bytes per read; doubled while one value is bigger than the buffer
PATIENT = 1 << 20  # a value this big waits for whole doubled reads (see _read_some)
NESTED = "nested too deeply to decode"
_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_VALUE_LINE = re.compile(r"\n[\[{]")  # a line starting a new top-level value


class BadText(Exception):
    """The bytes are not UTF-8: the rest of the file cannot be read as JSON."""


class JsonText:
    """A JSON text read chunk by chunk, decoded value by value.

    Holds at most one value plus a chunk in memory; line numbers are tracked
    incrementally so that places stay exact without rescanning.
    """

    def __init__(
        self, read: Callable[[int], bytes], *, first_line: int = 1, limit: int = DEFAULT_LIMIT
    ) -> None:
        self._read = read
        self.limit = limit
        self._pending = b""  # the start of a character cut by the chunk boundary
        self._bad: str | None = None  # set once invalid UTF-8 has been met
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.offset = 0  # bytes read so far
        self.line = first_line  # the line number at buf[_line_pos]
        self._line_pos = 0
        self._starts_line = True  # buf[0] is the first character of a line

    def fill(self) -> bool:
        """Append a chunk (dropping what was consumed); False at the end of the input.

        Raises:
            BadText: the input is not UTF-8 here. Text before the bad byte is
                delivered first, so the values before it still count.
        """
        if self._bad is not None:
            raise BadText(self._bad)
        if self.eof:
            return False
        self.line_at(self.pos)
        if self.pos:
            self._starts_line = self.buf[self.pos - 1] == "\n"
        self.buf = self.buf[self.pos :]
        self._line_pos -= self.pos
        self.pos = 0
        # doubling, but never far past the limit: one byte over it is enough to know
        data = self._read_some(max(CHUNK, min(len(self.buf), self.limit + 1 - len(self.buf))))
        raw = self._pending + data
        try:
            text, used = codecs.utf_8_decode(raw, "strict", not data)
        except UnicodeDecodeError as exc:
            text, used = raw[: exc.start].decode("utf-8"), len(raw)
            self._bad = f"invalid UTF-8 at byte {self.offset - len(self._pending) + exc.start + 1}"
        self._pending = raw[used:]
        self.offset += len(data)
        self.buf += text
        self.eof = not data
        return True

    def _read_some(self, size: int) -> bytes:
        """What the input has, up to ``size``; for a value past :data:`PATIENT` bytes, all
        of ``size``: a pipe hands out 64 KiB at a time, and decoding a 64 MiB value again
        after each would take quadratic time. Below that, a live pipe is never kept
        waiting for bytes a complete value does not need."""
        data = self._read(size)
        if len(self.buf) - self.pos < PATIENT or not data:
            return data
        parts = [data]
        got = len(data)
        while got < size:
            more = self._read(size - got)
            if not more:
                break
            parts.append(more)
            got += len(more)
        return b"".join(parts)

    def line_at(self, pos: int) -> int:
        """The line number of ``buf[pos]``; positions must not go backwards."""
        if pos > self._line_pos:
            self.line += self.buf.count("\n", self._line_pos, pos)
            self._line_pos = pos
        return self.line

    def peek(self) -> str | None:
        """Skip whitespace; the next character, or ``None`` at the end of the input."""
        while True:
            match = _WHITESPACE.match(self.buf, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return None

    def value(self) -> object:
        """Decode the value at ``pos``; a :class:`Malformed` for JSON that is no message.

        Raises:
            json.JSONDecodeError: it is not JSON (decided only once more input cannot help).
            BadText: the value is larger than the limit; the rest cannot be read.
        """
        while True:
            try:
                obj, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                cut = exc.pos >= len(self.buf) - 16 or exc.msg.startswith("Unterminated")
                if cut and self._fill_value():
                    continue
                raise
            if (
                end + 3 > len(self.buf)
                and self._bad is None  # the text stops at a bad byte: the value is whole
                and end - self.pos <= self.limit
                and self.fill()
            ):
                continue  # a number cut at "1", "1." or "1e+" may go on in the next chunk
            start, self.pos = self.pos, end
            if self._larger_than_limit(start, end):
                return Malformed(self._too_large())
            return self._checked(obj, start, end)

    def _fill_value(self) -> bool:
        if len(self.buf) - self.pos > self.limit:
            raise BadText(self._too_large())
        return self.fill()

    def _too_large(self) -> str:
        return f"a JSON value larger than {human_bytes(self.limit)} (--max-size)"

    def _larger_than_limit(self, start: int, end: int) -> bool:
        """Whether ``buf[start:end]`` is over the limit in bytes (up to 4 per character).

        A value that arrived whole within one chunk never met the check in
        :meth:`_fill_value`, so every decoded value is measured here too.
        """
        if (end - start) * 4 <= self.limit:
            return False
        return end - start > self.limit or len(self.buf[start:end].encode()) > self.limit

    def _checked(self, obj: object, start: int, end: int) -> object:
        """NaN, lone surrogates and deep nesting make malformed values (see messages)."""
        reason = unfit_span(self.buf, start, end, obj)
        return obj if reason is None else Malformed(reason)

    def where(self, pos: int) -> str:
        line = self.line_at(pos)
        start = self.buf.rfind("\n", 0, pos)
        known = start >= 0 or self._starts_line
        return f"line {line}" + (f" column {pos - start}" if known else "")

    def skip_to_next_value_line(self, after: int) -> bool:
        """Move to the next line that starts with ``{`` or ``[`` after index ``after``.

        ``after`` should be the newline before the line to try first; False at the end.
        """
        self.pos = max(self.pos, after)
        skipped = 0
        while True:
            found = _VALUE_LINE.search(self.buf, self.pos)
            if found is not None:
                self.pos = found.start() + 1
                return True
            end = max(self.pos, len(self.buf) - 1)  # keep a newline that may start one
            skipped += end - self.pos
            self.pos = end
            if skipped > self.limit or not self.fill():
                return False


def array_items(text: JsonText) -> Iterator[tuple[int, object]]:
    """The elements of a top-level JSON array, each at ``file[index]``.

    A syntax error ends the file: past it, element boundaries cannot be trusted.
    """
    index = 0
    rest = "; the rest of the array was not read"
    try:
        text.peek()
        text.pos += 1  # the "[" that sniff() saw
        char = text.peek()
        closed = char == "]"
        while not closed:
            if char is None:
                yield index, Malformed("truncated: the array is not closed with ]")
                return
            try:
                obj = text.value()
            except json.JSONDecodeError as exc:
                yield index, Malformed(_syntax_error(text, exc, "truncated") + rest)
                return
            except RecursionError:
                yield index, Malformed(NESTED + rest)
                return
            yield index, obj
            index += 1
            char = text.peek()
            if char == ",":
                text.pos += 1
                char = text.peek()
                if char == "]":
                    yield (
                        index,
                        Malformed(f"not JSON: trailing comma before ] ({text.where(text.pos)})"),
                    )
                    return
            elif char == "]":
                closed = True
            elif char is not None:
                yield (
                    index,
                    Malformed(f"not JSON: expected , or ] ({text.where(text.pos)})" + rest),
                )
                return
        text.pos += 1  # the "]"
        if text.peek() is not None:
            yield index, Malformed(f"not JSON: data after the array ({text.where(text.pos)})")
    except BadText as exc:
        yield index, Malformed(f"{exc}; the rest of the file was not read")


def document_items(text: JsonText) -> Iterator[tuple[int, object]]:
    """Whitespace-separated (often pretty-printed) JSON values, each at its first line.

    After a syntax error, reading resumes at the next line that starts with ``{`` or
    ``[``, where the next document most likely begins.
    """
    line = 0
    try:
        while text.peek() is not None:
            line = text.line_at(text.pos)
            try:
                obj = text.value()
            except json.JSONDecodeError as exc:
                cut = text.eof and exc.pos >= len(text.buf.rstrip())
                yield line, Malformed(_syntax_error(text, exc, "truncated at the end of the file"))
                resume = max(text.buf.rfind("\n", 0, exc.pos), text.pos)
                if cut or not text.skip_to_next_value_line(resume):
                    return
                continue
            except RecursionError:
                yield line, Malformed(NESTED)
                if not text.skip_to_next_value_line(text.pos):
                    return
                continue
            yield line, obj
    except BadText as exc:
        yield line, Malformed(f"{exc}; the rest of the file was not read")


def _syntax_error(text: JsonText, exc: json.JSONDecodeError, cut_label: str) -> str:
    cut = text.eof and exc.pos >= len(text.buf.rstrip())
    return f"{cut_label if cut else 'not JSON'}: {exc.msg} ({text.where(max(exc.pos, text.pos))})"
