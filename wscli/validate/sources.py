"""What ``wscli validate`` reads: files, stdin and live streams, one message at a time.

A file's kind is told by its content, never its name: a wscli recording (first line
is the header; only received text frames are messages), JSON Lines, a transcript
from another tool (``< {...}`` received, ``> ...`` sent: wscat, wsdump, ``python -m
websockets``), a JSON array, or one or more pretty-printed JSON documents (those two
read by :mod:`wscli.validate.jsonstream`). Everything is streamed in bounded chunks
(:mod:`wscli.validate.lines`), so memory stays flat whatever the input, ``/dev/zero``
included, and no message may be larger than ``--max-size``. Input that is not a
message (not JSON, not UTF-8, a truncated last line, a binary frame, an empty file,
``NaN``, a lone surrogate, data nested too deep) becomes a :class:`Malformed` item at
its place, never an exception. ``tail -o jsonl``'s own wrapper lines for binary and
malformed frames count as what they stand for, so ``tail -o jsonl > f`` and ``tail
--record r`` of one stream give ``validate`` the same counts (issue #7).

Each source yields ``(position, value)`` and turns a position into a place:
``file:line``, ``file[index]``, ``<stdin>:line`` or ``URL#n``.
"""

from __future__ import annotations

import base64
import binascii
import errno
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from orjson import JSONDecodeError as _FastError
from orjson import loads as _fast_loads

from wscli.errors import BadUsage
from wscli.messages import MAX_DEPTH, unfit_reason
from wscli.recording import FORMAT_VERSION, is_recording_header
from wscli.validate.jsonstream import NESTED, JsonText, array_items, document_items
from wscli.validate.lines import DEFAULT_LIMIT, LineReader, chunk_reader
from wscli.validate.tally import Malformed

if TYPE_CHECKING:
    from wscli.net.stream import ServerClosed
    from wscli.net.tap import Tap
    from wscli.net.target import ConnectOptions

RECORDING = "recording"
JSON_LINES = "jsonl"
JSON_ARRAY = "json-array"
JSON_DOCUMENTS = "json"
TRANSCRIPT = "transcript"
EMPTY = "empty"
LIVE = "live"

STDIN_NAME = "<stdin>"
SNIFF_LIMIT = 1 << 20  # a first line longer than this starting with { is read as documents
_TRANSCRIPT_PREFIXES = (b"< ", b"> ", b"<\n", b">\n", b"<\r", b">\r")
# what wscat ("Connected (press CTRL+C to quit)"), python -m websockets ("Connected to
# ws://...") and wsdump ("Press Ctrl+C to quit") print before the first frame
_TRANSCRIPT_PREAMBLES = (b"Connected", b"Press Ctrl+C")
# Terminal codes wsdump and ``python -m websockets`` write even into a pipe (colour,
# cursor save/restore, erase line): CSI and OSC sequences and two-byte escapes.
_TERMINAL_CODES = re.compile(
    rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_78=>])"
)


def terminal_text(line: bytes) -> bytes:
    """The line as a terminal shows it: codes dropped, only what follows the last CR."""
    if b"\x1b" in line:
        line = _TERMINAL_CODES.sub(b"", line)
    return line.rpartition(b"\r")[2] if b"\r" in line else line


# A line that holds no message (blank, a sent frame in a transcript). Recording lines
# still say "no message" with None, which a JSON null payload collides with (issue
# #12); this sentinel is the one to move them to.
_SKIP = object()

# A recording line that holds no message (an event, a sent or control frame). Not
# ``None``: a frame whose JSON is ``null`` is a message, and ``None`` is its value.
NOT_A_MESSAGE: object = object()


def is_url(spec: str) -> bool:
    return spec.lower().startswith(("ws://", "wss://"))


# -- files and stdin --------------------------------------------------------------------------


class FileSource:
    """A file or stdin, its kind told from its first non-blank line.

    Args:
        path: the file to open (ignored when ``stream`` is given).
        stream: an already open binary stream, e.g. ``sys.stdin.buffer``.
        name: how places name it (default: the path).
        limit: the largest message (a line, an array element, a document) in bytes.
    """

    def __init__(
        self,
        path: str,
        *,
        stream: BinaryIO | None = None,
        name: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> None:
        self.path = path
        self.name = name or path
        self.limit = limit
        self._stream = stream
        self._kind = "unknown"
        self.times: ReceiveTimes | None = None  # set to learn recordings' receive times

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
        reader = LineReader(chunk_reader(handle), self.limit)
        first = reader.skip_blank()
        if first is None:
            self._kind = EMPTY
            yield 0, Malformed("empty input" if self._stream is not None else "empty file")
            return
        line = reader.peek_line(SNIFF_LIMIT) if first != ord("[") else b"["
        if line is None:  # a first line longer than SNIFF_LIMIT, or binary
            self._kind = JSON_DOCUMENTS if first == ord("{") else JSON_LINES
        else:
            self._kind = sniff(line)
        if self._kind in (JSON_ARRAY, JSON_DOCUMENTS):
            text = JsonText(reader.read, first_line=reader.number + 1, limit=self.limit)
            if self._kind == JSON_ARRAY:
                yield from array_items(text)
            else:
                yield from document_items(text)
        elif self._kind == RECORDING:
            yield from recording_items(reader, self.name, self.times)
        elif self._kind == TRANSCRIPT:
            yield from transcript_items(reader)
        else:
            yield from json_lines_items(reader)


def sniff(first: bytes) -> str:
    """The kind of a file from its first non-blank line.

    ``[`` opens a JSON array; a recording header makes a recording; a line that is an
    unfinished JSON object (``{`` alone, or cut at a comma) starts pretty-printed
    documents; ``< `` or ``> `` (or a tool's "Connected ..." line) starts another
    tool's transcript; anything else, even a broken first line, is JSON Lines, so that
    one bad line costs one message, not the file.
    """
    stripped = first.strip()
    if stripped.startswith(b"["):
        return JSON_ARRAY
    if terminal_text(first.rstrip(b"\r\n")).lstrip().startswith(
        _TRANSCRIPT_PREFIXES + _TRANSCRIPT_PREAMBLES
    ) or first.lstrip().startswith(_TRANSCRIPT_PREFIXES):
        return TRANSCRIPT
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


def json_lines_items(
    lines: Iterable[tuple[int, bytes | Malformed]],
) -> Iterator[tuple[int, object]]:
    """One message per line; blank lines are skipped, bad ones are malformed.

    ``tail -o jsonl``'s wrapper lines for binary and malformed frames are malformed
    items, as the frames they stand for are in a recording.
    """
    fast, fast_error, limit = _fast_loads, _FastError, MAX_DEPTH
    for number, raw in lines:
        try:
            obj: Any = fast(raw)  # type: ignore[arg-type]  # a Malformed line fails here
        except fast_error:
            item = _json_line(raw)
            if item is not _SKIP:
                yield number, item
            continue
        if obj.__class__ is dict and ("binary" in obj or "malformed" in obj):
            obj = _tail_wrapper(obj)
        if raw.count(b"[") + raw.count(b"{") > limit and obj.__class__ is not Malformed:  # type: ignore[union-attr]
            reason = unfit_reason(raw, obj, fast=True)  # type: ignore[arg-type]
            obj = obj if reason is None else Malformed(reason)
        yield number, obj


def transcript_items(
    lines: Iterable[tuple[int, bytes | Malformed]],
) -> Iterator[tuple[int, object]]:
    """Another tool's transcript: ``< `` lines are received messages, the rest is skipped.

    Sent frames (``> ``) and the tool's own lines ("Connected ...") are not messages.
    Terminal codes are dropped first: wsdump writes ``> `` (its prompt), codes, then
    ``< {...}`` on one line; ``python -m websockets`` wraps each line in cursor moves.
    """
    for number, raw in lines:
        if isinstance(raw, Malformed):
            yield number, raw
            continue
        if b"\x1b" in raw or b"\r" in raw:
            raw = terminal_text(raw)
            if raw.startswith(b"> <"):  # wsdump's prompt before the message it received
                raw = raw[2:]
        if raw.startswith(b"<"):
            item = _json_line(raw[2:] if raw[1:2] == b" " else raw[1:])
            if item is not _SKIP:
                yield number, item


def _json_line(raw: bytes | Malformed) -> object:
    """The message on one line the fast path refused: the standard library says why."""
    if raw.__class__ is Malformed:
        return raw
    assert isinstance(raw, bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Malformed(f"invalid UTF-8 (byte {exc.start + 1} of the line)")
    try:
        obj = json.loads(text)
    except ValueError as exc:
        if not text.strip():
            return _SKIP
        item = _not_json(exc, text)
        if raw.startswith((b"< ", b"> ")):
            return Malformed(
                f"{item.reason}; the line starts with {raw[:1].decode()!r} like a transcript"
                " from wscat or wsdump (read as one when its first line does)"
            )
        return item
    except RecursionError:
        return Malformed(NESTED)
    reason = unfit_reason(text, obj, fast=False)
    if reason is not None:
        return Malformed(reason)
    if isinstance(obj, dict) and ("binary" in obj or "malformed" in obj):
        return _tail_wrapper(obj)
    return obj


def _tail_wrapper(obj: dict[str, object]) -> object:
    """``tail -o jsonl``'s line for a binary or malformed frame, as that frame (issue #7).

    Only tail's exact shapes count, so a message that merely has a ``binary`` field
    stays a message. A malformed frame is judged again from its text, giving the same
    reason a recording of it gets; tail's own reason is kept if that text now passes
    (a frame that was not UTF-8 was written with replacement characters).
    """
    keys = obj.keys()
    if keys == {"binary", "len", "b64"} and obj["binary"] is True:
        size = obj["len"]
        return Malformed(
            f"binary frame ({size} bytes)" if isinstance(size, int) else "binary frame"
        )
    if keys == {"malformed", "text"}:
        reason, text = obj["malformed"], obj["text"]
        if isinstance(reason, str) and isinstance(text, str):
            item = _loads_payload(text)
            return item if isinstance(item, Malformed) else Malformed(reason)
    return obj


class ReceiveTimes:
    """When the message a recording yielded last was received (``--health``'s time axis).

    Filled only when asked for, so plain validation pays nothing: the header's
    ``started`` plus each frame's ``t``.
    """

    __slots__ = ("base", "t")

    def __init__(self) -> None:
        self.base: float | None = None
        self.t: object = None

    def header(self, record: dict[str, Any]) -> None:
        from wscli.checks.health import parse_timestamp

        self.base = parse_timestamp(record.get("started"))

    def now(self) -> float | None:
        """POSIX seconds, or ``None`` when the recording does not say."""
        t = self.t
        if self.base is None or (t.__class__ is not float and t.__class__ is not int):
            return None
        return self.base + t


def recording_items(
    lines: Iterable[tuple[int, bytes | Malformed]],
    name: str,
    times: ReceiveTimes | None = None,
) -> Iterator[tuple[int, object]]:
    """Received text frames of a recording; received binary frames are malformed.

    Sent frames, control frames and events are not messages and are skipped; a second
    header (``cat a.rec b.rec``) starts another recording and is skipped too.
    ``times``, when given, follows each yielded frame's receive time.
    """
    fast, fast_error, limit = _fast_loads, _FastError, MAX_DEPTH
    for number, raw in lines:
        try:
            record = fast(raw)  # type: ignore[arg-type]  # a Malformed line fails here
        except fast_error:
            item = raw if raw.__class__ is Malformed else _recording_line(raw, name)  # type: ignore[arg-type]
        else:
            if (
                type(record) is dict
                and record.get("op") == "text"
                and record.get("dir") == "in"
                and "event" not in record  # as _recording_record: an event is never a message
            ):
                text = record.get("text")
                if times is not None:
                    times.t = record.get("t")
                if type(text) is str:
                    try:
                        message = fast(text)
                    except fast_error:
                        yield number, _loads_payload(text)
                    else:
                        if text.count("[") + text.count("{") > limit:
                            reason = unfit_reason(text, message, fast=True)
                            message = message if reason is None else Malformed(reason)
                        yield number, message
                    continue
            if times is not None and type(record) is dict:
                if is_recording_header(record):
                    times.header(record)
                else:
                    times.t = record.get("t")
            item = _recording_record(record, name)
        if item is not NOT_A_MESSAGE:
            yield number, item


def _recording_line(raw: bytes, name: str) -> object:
    """A recording line orjson refused: the standard library names the problem."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Malformed(f"invalid UTF-8 in the recording (byte {exc.start + 1})")
    try:
        record = json.loads(line)
    except ValueError as exc:
        return NOT_A_MESSAGE if not line.strip() else _not_json(exc, line, what="recording line")
    except RecursionError:
        return Malformed(NESTED)
    return _recording_record(record, name)


def _recording_record(record: object, name: str) -> object:
    """The message in one decoded recording line (or ``Malformed``), or ``NOT_A_MESSAGE``."""
    if not isinstance(record, dict):
        return Malformed("not a recording frame or event")
    if is_recording_header(record):
        _check_version(record, name)
        return NOT_A_MESSAGE
    if "event" in record or record.get("dir") != "in":
        return NOT_A_MESSAGE
    op = record.get("op")
    if op == "binary":
        size = record.get("len")
        return Malformed(
            f"binary frame ({size} bytes)" if isinstance(size, int) else "binary frame"
        )
    if op != "text":
        return NOT_A_MESSAGE  # ping, pong, close: control frames are not messages
    text = record.get("text")
    if isinstance(text, str):
        return _loads_payload(text)
    encoded = record.get("b64")
    if isinstance(encoded, str):
        try:
            payload = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            return Malformed("text frame's b64 is not valid base64")
        try:
            return _loads_payload(payload.decode("utf-8"))
        except UnicodeDecodeError:
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
    """A frame's payload as JSON, or why it is not (``NaN``, lone surrogates, too deep too)."""
    try:
        obj = loads(text)
    except ValueError as exc:
        return _not_json(exc, text, line=False)
    except RecursionError:
        return Malformed(NESTED)
    reason = unfit_reason(text, obj, fast=False)
    return obj if reason is None else Malformed(reason)


def _not_json(exc: ValueError, text: str, *, what: str = "JSON", line: bool = True) -> Malformed:
    """``not JSON: Expecting ',' delimiter (column 45)``; a cut-off text says so.

    ``line`` is False for a frame's payload: a payload has no newline of its own, so a
    cut-off one in the middle of a recording is a truncated message, not the file's
    "truncated last line" (issue #7).
    """
    msg = getattr(exc, "msg", None) or str(exc)
    pos = getattr(exc, "pos", None)
    where = f" (column {pos + 1})" if isinstance(pos, int) else ""
    ends_early = isinstance(pos, int) and pos >= len(text.rstrip())
    if (ends_early or msg.startswith("Unterminated string")) and not text.endswith("\n"):
        if not line:
            return Malformed(f"truncated message (not JSON): {msg}{where}")
        return Malformed(f"truncated last line (no newline at the end): {msg}{where}")
    label = "not JSON" if what == "JSON" else f"not a JSON {what}"
    return Malformed(f"{label}: {msg}{where}")


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
        from wscli.endings import closed_early, count_not_reached
        from wscli.frames import OP_TEXT, describe_close
        from wscli.net.stream import ServerClosed, Stream, StreamPolicy

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
                close = describe_close(closed.code, closed.reason)
                raise closed_early(self.received, count, close, where=self.options.where) from None
            return
        finally:
            stream.close()
        if count is not None and self.received < count:
            raise count_not_reached(self.received, count, self.duration, where=self.options.where)


# -- choosing sources ---------------------------------------------------------------------


def open_sources(
    specs: Sequence[str],
    *,
    stdin: BinaryIO,
    live: Callable[[str], UrlSource],
    limit: int = DEFAULT_LIMIT,
) -> list[FileSource | UrlSource]:
    """Turn SOURCE arguments into sources, checking every file is readable first.

    Checking up front means a typo in the third file fails at once with exit 2,
    not after the first two have been validated. The check does not open the file:
    every source is opened exactly once, when it is read, so a named pipe's writer
    meets one reader (issue #6) and a thousand files need no thousand descriptors.

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
            sources.append(FileSource(STDIN_NAME, stream=stdin, name=STDIN_NAME, limit=limit))
        elif is_url(spec):
            sources.append(live(spec))
        elif re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", spec):
            raise BadUsage(
                f"cannot validate {spec}: only ws:// and wss:// URLs are streams",
                hint="give a file, - for stdin, or a ws:// or wss:// URL",
            )
        else:
            _check_readable(spec)
            sources.append(FileSource(spec, limit=limit))
    return sources


def _check_readable(path: str) -> None:
    if os.path.isdir(path):
        raise BadUsage(f"cannot read {path}: is a directory", hint="give files, not folders")
    try:
        os.stat(path)
        if not os.access(path, os.R_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
    except OSError as exc:
        raise BadUsage(
            f"cannot read {path}: {exc.strerror or exc}",
            hint="check the path; use - for stdin",
        ) from exc
