"""What ``wscli validate`` reads: files, stdin and live streams, one message at a time.

A file's kind is told by its content, never its name: a wscli recording (first line
is the header; only received text frames are messages), JSON Lines, a JSON array, or
one or more pretty-printed JSON documents (those two read by :mod:`wscli.jsonstream`).
Everything is streamed, so memory stays
flat however large the input. Input that is not a message (not JSON, not UTF-8, a
truncated last line, a binary frame, an empty file) becomes a :class:`Malformed` item
at its place, never an exception.

Each source yields ``(position, value)`` and turns a position into a place:
``file:line``, ``file[index]``, ``<stdin>:line`` or ``URL#n``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from typing import TYPE_CHECKING, BinaryIO

from orjson import JSONDecodeError as _FastError
from orjson import loads as _fast_loads

from wscli.errors import BadUsage, CheckFailed, TimedOut
from wscli.jsonstream import NESTED, JsonText, array_items, document_items
from wscli.recording import FORMAT_VERSION, is_recording_header
from wscli.validation import Malformed

if TYPE_CHECKING:
    from wscli.connection import ConnectOptions
    from wscli.stream import ServerClosed
    from wscli.tap import Tap

RECORDING = "recording"
JSON_LINES = "jsonl"
JSON_ARRAY = "json-array"
JSON_DOCUMENTS = "json"
EMPTY = "empty"
LIVE = "live"

STDIN_NAME = "<stdin>"
_BOM = b"\xef\xbb\xbf"


def is_url(spec: str) -> bool:
    return spec.lower().startswith(("ws://", "wss://"))


# -- files and stdin --------------------------------------------------------------------------


class FileSource:
    """A file or stdin, its kind told from its first non-blank line.

    Args:
        path: the file to open (ignored when ``stream`` is given).
        stream: an already open binary stream, e.g. ``sys.stdin.buffer``.
        name: how places name it (default: the path).
    """

    def __init__(
        self, path: str, *, stream: BinaryIO | None = None, name: str | None = None
    ) -> None:
        self.path = path
        self.name = name or path
        self._stream = stream
        self._kind = "unknown"

    @property
    def kind(self) -> str:
        """``recording``, ``jsonl``, ``json-array``, ``json`` or ``empty`` once read."""
        return self._kind

    @property
    def unit(self) -> str:
        return "index" if self._kind == JSON_ARRAY else "line"

    def place(self, position: int) -> str:
        if self._kind == JSON_ARRAY:
            return f"{self.name}[{position}]"
        return f"{self.name}:{position}" if position > 0 else self.name

    def items(self) -> Iterator[tuple[int, object]]:
        try:
            if self._stream is not None:
                yield from self._read(self._stream)
                return
            with open(self.path, "rb") as handle:
                yield from self._read(handle)
        except OSError as exc:
            raise BadUsage(f"cannot read {self.name}: {exc.strerror or exc}") from exc

    def _read(self, handle: BinaryIO) -> Iterator[tuple[int, object]]:
        lines: Iterator[tuple[int, bytes]] = enumerate(handle, start=1)
        head: list[tuple[int, bytes]] = []
        first = b""
        for number, raw in lines:
            if number == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            head.append((number, raw))
            if raw.strip():
                first = raw
                break
        if not first:
            self._kind = EMPTY
            yield 0, Malformed("empty input" if self._stream is not None else "empty file")
            return
        self._kind = sniff(first)
        if self._kind in (JSON_ARRAY, JSON_DOCUMENTS):
            text = JsonText(_reader(b"".join(raw for _, raw in head), handle))
            if self._kind == JSON_ARRAY:
                yield from array_items(text)
            else:
                yield from document_items(text)
            return
        numbered = chain(head[-1:], lines)
        if self._kind == RECORDING:
            yield from recording_items(numbered, self.name)
        else:
            yield from json_lines_items(numbered)


def sniff(first: bytes) -> str:
    """The kind of a file from its first non-blank line.

    ``[`` opens a JSON array; a recording header makes a recording; a line that is an
    unfinished JSON object (``{`` alone, or cut at a comma) starts pretty-printed
    documents; anything else, even a broken first line, is JSON Lines, so that one bad
    line costs one message, not the file.
    """
    stripped = first.strip()
    if stripped.startswith(b"["):
        return JSON_ARRAY
    try:
        text = first.decode("utf-8")
        obj = json.loads(text)
    except UnicodeDecodeError:
        return JSON_LINES
    except ValueError as exc:
        pos = getattr(exc, "pos", -1)
        msg = getattr(exc, "msg", "")
        # Only a line that ends where a value could go on starts a multi-line document;
        # a cut string ("Unterminated", a raw newline) is a broken JSON Lines line.
        if stripped.startswith(b"{") and pos >= len(text.rstrip()) and msg.startswith("Expecting"):
            return JSON_DOCUMENTS
        return JSON_LINES
    except RecursionError:
        return JSON_LINES
    return RECORDING if is_recording_header(obj) else JSON_LINES


def loads(text: str | bytes) -> object:
    """``json.loads``'s verdict at orjson's speed.

    orjson decides what it accepts (about four times faster); whatever it refuses
    goes through ``json.loads``, so values it alone accepts (``NaN``) and every
    error message are exactly the standard library's. See :mod:`wscli.messages`
    for the one known difference (integers beyond 64 bits become floats).

    Raises:
        ValueError: not JSON (``json.JSONDecodeError``), or not UTF-8.
        RecursionError: nested too deeply.
    """
    try:
        return _fast_loads(text)
    except _FastError:
        pass
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(text)


def json_lines_items(lines: Iterable[tuple[int, bytes]]) -> Iterator[tuple[int, object]]:
    """One message per line; blank lines are skipped, bad ones are malformed."""
    fast, fast_error = _fast_loads, _FastError
    for number, raw in lines:
        try:
            yield number, fast(raw)
            continue
        except fast_error:
            pass
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield number, Malformed(f"invalid UTF-8 (byte {exc.start + 1} of the line)")
            continue
        try:
            obj = json.loads(text)
        except ValueError as exc:
            if text.strip():
                yield number, _not_json(exc, text)
            continue
        except RecursionError:
            yield number, Malformed(NESTED)
            continue
        yield number, obj


def recording_items(lines: Iterable[tuple[int, bytes]], name: str) -> Iterator[tuple[int, object]]:
    """Received text frames of a recording; received binary frames are malformed.

    Sent frames, control frames and events are not messages and are skipped; a second
    header (``cat a.rec b.rec``) starts another recording and is skipped too.
    """
    fast, fast_error = _fast_loads, _FastError
    for number, raw in lines:
        try:
            record = fast(raw)
        except fast_error:
            item = _recording_line(raw, name)
        else:
            if type(record) is dict and record.get("op") == "text" and record.get("dir") == "in":
                text = record.get("text")
                if type(text) is str:
                    try:
                        yield number, fast(text)
                    except fast_error:
                        yield number, _loads_payload(text)
                    continue
            item = _recording_record(record, name)
        if item is not None:
            yield number, item


def _recording_line(raw: bytes, name: str) -> object | None:
    """A recording line orjson refused: the standard library names the problem."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Malformed(f"invalid UTF-8 in the recording (byte {exc.start + 1})")
    try:
        record = json.loads(line)
    except ValueError as exc:
        return None if not line.strip() else _not_json(exc, line, what="recording line")
    except RecursionError:
        return Malformed(NESTED)
    return _recording_record(record, name)


def _recording_record(record: object, name: str) -> object | None:
    """The message in one decoded recording line (or ``Malformed``); ``None`` if none."""
    if not isinstance(record, dict):
        return Malformed("not a recording frame or event")
    if is_recording_header(record):
        _check_version(record, name)
        return None
    if "event" in record or record.get("dir") != "in":
        return None
    op = record.get("op")
    if op == "binary":
        size = record.get("len")
        return Malformed(
            f"binary frame ({size} bytes)" if isinstance(size, int) else "binary frame"
        )
    if op != "text":
        return None  # ping, pong, close: control frames are not messages
    text = record.get("text")
    if isinstance(text, str):
        return _loads_payload(text)
    encoded = record.get("b64")
    if isinstance(encoded, str):
        try:
            return _loads_payload(base64.b64decode(encoded, validate=True).decode("utf-8"))
        except (binascii.Error, ValueError):
            return Malformed("text frame is not valid UTF-8")
    return Malformed('text frame without "text" in the recording')


def _check_version(header: dict[str, object], name: str) -> None:
    version = header.get("version")
    if version != FORMAT_VERSION:
        raise BadUsage(
            f"{name}: unsupported recording version {version!r}",
            hint=f"this wscli reads version {FORMAT_VERSION} recordings",
        )


def _loads_payload(text: str) -> object:
    """A frame's payload as JSON, or why it is not."""
    try:
        return loads(text)
    except ValueError as exc:
        return _not_json(exc, text)
    except RecursionError:
        return Malformed(NESTED)


def _not_json(exc: ValueError, text: str, *, what: str = "JSON") -> Malformed:
    """``not JSON: Expecting ',' delimiter (column 45)``; a cut-off last line says so."""
    msg = getattr(exc, "msg", None) or str(exc)
    pos = getattr(exc, "pos", None)
    where = f" (column {pos + 1})" if isinstance(pos, int) else ""
    ends_early = isinstance(pos, int) and pos >= len(text.rstrip())
    if not text.endswith("\n") and (ends_early or msg.startswith("Unterminated string")):
        return Malformed(f"truncated last line (no newline at the end): {msg}{where}")
    label = "not JSON" if what == "JSON" else f"not a JSON {what}"
    return Malformed(f"{label}: {msg}{where}")


def _reader(prefix: bytes, handle: BinaryIO) -> Callable[[int], bytes]:
    """``read(n)`` that first returns ``prefix``; pipes answer with what is there."""
    pending = [prefix] if prefix else []
    read1 = getattr(handle, "read1", None)
    read: Callable[[int], bytes] = read1 if callable(read1) else handle.read

    def next_chunk(size: int) -> bytes:
        if pending:
            return pending.pop()
        return read(size)

    return next_chunk


# -- live streams -----------------------------------------------------------------------------


class UrlSource:
    """A live ``ws://``/``wss://`` stream, one connection, no reconnect.

    A check should judge one connection as it behaved: a drop ends it with the
    connection's exit status instead of being papered over by a reconnect.

    Args:
        options: the connection options, ``url`` included.
        tap: the debug tap (``-v``, ``--tap``); its redactor hides secrets in places.
        count: stop after this many messages (``-n``).
        duration: stop after this many seconds (``--duration``).
    """

    kind = LIVE
    unit = "message"

    def __init__(
        self,
        options: ConnectOptions,
        tap: Tap,
        *,
        count: int | None = None,
        duration: float | None = None,
    ) -> None:
        self.options = options
        self.tap = tap
        self.count = count
        self.duration = duration
        self.name = tap.redactor.url(options.url)
        self.received = 0
        self.closed: ServerClosed | None = None

    def place(self, position: int) -> str:
        return f"{self.name}#{position}"

    def items(self) -> Iterator[tuple[int, object]]:
        """Messages as they arrive; ends at ``-n``, ``--duration`` or a normal close.

        Raises:
            WscliError: the connection failed (exit 3-8), the server closed before
                ``-n`` messages (exit 1), or ``--duration`` passed first (exit 7).
        """
        from wscli.frames import OP_TEXT, describe_close
        from wscli.stream import ServerClosed, Stream, StreamPolicy

        deadline = time.monotonic() + self.duration if self.duration else math.inf
        stream = Stream(self.options, StreamPolicy(reconnect=False, end_at=deadline), tap=self.tap)
        count = self.count
        try:
            stream.connect()
            for opcode, data in stream:
                self.received += 1
                if opcode == OP_TEXT:
                    try:
                        yield self.received, _loads_payload(data.decode("utf-8"))
                    except UnicodeDecodeError:
                        yield self.received, Malformed("text frame is not valid UTF-8")
                else:
                    yield self.received, Malformed(f"binary frame ({len(data)} bytes)")
                if count is not None and self.received >= count:
                    return
        except ServerClosed as closed:
            self.closed = closed
            if count is not None and self.received < count:
                raise CheckFailed(
                    f"server closed the stream ({describe_close(closed.code, closed.reason)})"
                    f" after {self.received} of {count} messages",
                    where=self.options.where,
                ) from None
            return
        finally:
            stream.close()
        if count is not None and self.received < count:
            raise TimedOut(
                f"only {self.received} of {count} messages within {self.duration:g} s",
                where=self.options.where,
            )


# -- choosing sources ---------------------------------------------------------------------


def open_sources(
    specs: Sequence[str],
    *,
    stdin: BinaryIO,
    live: Callable[[str], UrlSource],
) -> list[FileSource | UrlSource]:
    """Turn SOURCE arguments into sources, checking every file is readable first.

    Checking up front means a typo in the third file fails at once with exit 2,
    not after the first two have been validated.

    Raises:
        BadUsage: a file cannot be opened, ``-`` is given twice, or an unknown scheme.
    """
    sources: list[FileSource | UrlSource] = []
    seen_stdin = False
    for spec in specs:
        if spec == "-":
            if seen_stdin:
                raise BadUsage("stdin (-) can be read only once")
            seen_stdin = True
            sources.append(FileSource(STDIN_NAME, stream=stdin, name=STDIN_NAME))
        elif is_url(spec):
            sources.append(live(spec))
        elif re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", spec):
            raise BadUsage(
                f"cannot validate {spec}: only ws:// and wss:// URLs are streams",
                hint="give a file, - for stdin, or a ws:// or wss:// URL",
            )
        else:
            _check_readable(spec)
            sources.append(FileSource(spec))
    return sources


def _check_readable(path: str) -> None:
    if os.path.isdir(path):
        raise BadUsage(f"cannot read {path}: is a directory", hint="give files, not folders")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise BadUsage(
            f"cannot read {path}: {exc.strerror or exc}",
            hint="check the path; use - for stdin",
        ) from exc
