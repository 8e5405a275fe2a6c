"""The JSON Lines recording format shared by the tap, ``tail --record`` and ``replay``.

One object per line (SPEC "Recording format"): a header, then frames and events.
Every line is flushed as it is written, so a killed process leaves a valid file
holding every frame received before it died.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, NoReturn

from wscli.errors import BadUsage, write_failed
from wscli.frames import OP_BINARY, OP_CLOSE, OP_TEXT, OPCODE_NAMES, parse_close_payload
from wscli.redact import redact_url

FORMAT_NAME = "wscli"
FORMAT_VALUE = "recording"
FORMAT_VERSION = 1
# The longest line read, in characters: a recorded 64 MiB binary frame (the default
# --max-size) is about 86 MiB of base64. A longer line is damaged, not buffered.
MAX_LINE = 256 * 1024 * 1024
SKIP_CHUNK = 1024 * 1024  # how the rest of an over-long line is read past
# The latest frame time a recording may hold, in seconds (about 31 years). A larger
# one (1e300, or 1e999 which JSON reads as infinity) cannot be waited for: sleeping
# that long overflows the platform's time_t, so the up-front check names the line.
MAX_FRAME_TIME = 1e9
BATCH_BUFFER = 256 * 1024  # lines held between flushes (batched): one write(2) each


def rfc3339_now() -> str:
    """UTC now as RFC 3339 with milliseconds and ``Z``."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def frame_record(
    t: float, direction: str, opcode: int, payload: bytes, *, max_text: int | None = None
) -> dict[str, Any]:
    """Build one frame line; text stays text, anything not UTF-8 becomes ``b64``."""
    record: dict[str, Any] = {
        "t": round(t, 6),
        "dir": direction,
        "op": OPCODE_NAMES.get(opcode, str(opcode)),
        "len": len(payload),
    }
    if opcode == OP_CLOSE:
        code, reason = parse_close_payload(payload)
        if code is not None:
            record["code"] = code
            record["reason"] = reason
        return record
    if opcode == OP_BINARY:
        record["b64"] = base64.b64encode(payload).decode("ascii")
        return record
    try:
        record["text"] = payload.decode("utf-8")
    except UnicodeDecodeError:
        record["b64"] = base64.b64encode(payload).decode("ascii")
    return record


class RecordingWriter:
    """Writes a recording, one line per frame or event.

    By default every line reaches the kernel as it is written, which is the whole
    point of the format (SIGKILL loses nothing received). ``batched`` holds lines
    until :meth:`flush` instead: ``tail --record`` flushes the recording at each
    batch boundary and always before stdout (:meth:`wscli.output.terminal.Output.batch`),
    so every message printed is already in the file, for a flush per batch of
    messages rather than a ``write(2)`` per line (issue #21).
    """

    def __init__(
        self,
        path: str | Path,
        url: str,
        *,
        redact: Callable[[str], str] = redact_url,
        label: str | None = None,
        batched: bool = False,
    ) -> None:
        import orjson

        # Every URL written (header, ``connect`` events) goes through ``redact``: the
        # tap's redactor (which knows --token and honours --no-redact), else the
        # structural redaction of userinfo and credential parameters.
        self._redact = redact
        url = redact(url)
        self.path = str(path)
        # How a write failure names the file: as the user gave it (``--tap FILE``).
        self.label = label or f"recording {path}"
        try:
            self._file: IO[bytes] = open(path, "wb", buffering=BATCH_BUFFER)  # noqa: SIM115
        except OSError as exc:
            raise write_failed(self.label, exc) from exc
        self._each_line = not batched
        # orjson writes text exactly as json.dumps(ensure_ascii=False, separators=(",",
        # ":")) does (checked over every code point), and numbers as JSON too, faster.
        self._dumps: Callable[..., bytes] = orjson.dumps
        self._newline = orjson.OPT_APPEND_NEWLINE
        self._start = time.monotonic()
        self._failed = False
        header = {FORMAT_NAME: FORMAT_VALUE, "version": FORMAT_VERSION, "url": url}
        try:
            self._write({**header, "started": rfc3339_now()})
            self.flush()  # batched too: a file that exists holds at least its header
        except BaseException:
            self._failed = True  # the error on its way out is the one to report
            self.close()  # nobody else holds the file to close it
            raise

    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def _write(self, obj: dict[str, Any]) -> None:
        line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"
        self._put(line.encode("utf-8"))

    def _put(self, line: bytes) -> None:
        try:
            self._file.write(line)
            if self._each_line:
                self._file.flush()
        except OSError as exc:
            self._failed_write(exc)

    def _failed_write(self, exc: OSError) -> NoReturn:
        self._failed = True
        raise write_failed(
            self.label,
            exc,
            hint="free some space or record somewhere else; lines so far are kept",
        ) from exc

    def flush(self) -> None:
        """Hand the lines held so far to the kernel (``batched``: the batch boundary)."""
        try:
            self._file.flush()
        except OSError as exc:
            self._failed_write(exc)
        except ValueError:  # closed already (an ending that closed it first)
            pass

    def frame(self, direction: str, opcode: int, payload: bytes, **extra: Any) -> None:
        """One frame line; ``extra`` fields (``tap``'s ``client`` id) are added to it."""
        t = time.monotonic() - self._start
        if opcode == OP_TEXT and (direction == "in" or direction == "out"):
            # The common case in one orjson call: the line frame_record + json.dumps
            # write, t cut (not rounded) to the microsecond.
            try:
                record = {
                    "t": int(t * 1_000_000) / 1_000_000,
                    "dir": direction,
                    "op": "text",
                    "len": len(payload),
                    "text": payload.decode("utf-8"),
                }
            except UnicodeDecodeError:
                pass
            else:
                if extra:
                    record.update(extra)
                try:
                    self._file.write(self._dumps(record, option=self._newline))
                    if self._each_line:
                        self._file.flush()
                except OSError as exc:
                    self._failed_write(exc)
                return
        self._write({**frame_record(t, direction, opcode, payload), **extra})

    def event(self, name: str, **fields: Any) -> None:
        if isinstance(fields.get("url"), str):
            fields["url"] = self._redact(fields["url"])
        self._write({"t": round(self.elapsed(), 6), "event": name, **fields})

    def close(self) -> None:
        """Close the file; a write it could not finish is one line, never a traceback."""
        if self._file.closed:
            return
        try:
            self._file.close()
        except OSError as exc:
            if not self._failed:  # the first failure was already reported
                raise write_failed(self.label, exc) from exc


@dataclass(frozen=True)
class RecordingProblem:
    """One line of a recording that cannot be played, with its line number."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class RecordingDamaged(BadUsage):
    """A recording line that cannot be read: cut off, not JSON, or a newer format."""


ProblemSink = Callable[[RecordingProblem], None]


@dataclass(frozen=True)
class RecordedFrame:
    """One frame line, decoded: when it was seen, which way, what it carried."""

    line: int
    t: float
    direction: str  # "in" | "out"
    opcode: int
    payload: bytes
    code: int | None = None  # close frames only
    reason: str = ""


@dataclass
class Recording:
    """A parsed recording header plus its lines, read lazily.

    ``lines`` streams every well-formed line after the header. A damaged line is
    raised as :class:`RecordingDamaged` naming its line number, or, when the
    recording was opened with an ``on_problem`` sink (``--lenient``), reported
    there and skipped.
    """

    url: str
    started: str
    version: int
    lines: Iterator[tuple[int, dict[str, Any]]] = field(repr=False)
    path: str = ""

    def frames(self, on_problem: ProblemSink | None = None) -> Iterator[RecordedFrame]:
        """The frame lines, decoded; events are skipped, bad frames are problems."""
        for number, obj in self.lines:
            if "event" in obj or is_recording_header(obj):
                continue  # events carry no frame; a second header starts a concatenation
            try:
                frame = decode_frame(number, obj)
            except ValueError as exc:
                _problem(self.path, RecordingProblem(number, str(exc)), on_problem)
                continue
            del obj  # the decoded payload is the one copy kept while the frame is played
            yield frame
            del frame


def is_recording_header(obj: object) -> bool:
    return isinstance(obj, dict) and obj.get(FORMAT_NAME) == FORMAT_VALUE


def iter_records(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """Yield ``(line_number, object_or_None, raw_line)``; ``None`` marks a malformed line.

    Streams the file: memory stays flat however long the recording is, and a line
    is read up to :data:`MAX_LINE` characters (the rest of a longer one is skipped
    and it comes back with an empty ``raw``). A last line without its newline was
    cut off mid-write (a killed recorder); its raw text is yielded as read, so
    callers can tell it from a corrupt line.
    """
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        number = 0
        while raw := handle.readline(MAX_LINE):
            number += 1
            if len(raw) == MAX_LINE and not raw.endswith("\n"):
                while (rest := handle.readline(SKIP_CHUNK)) and not rest.endswith("\n"):
                    pass
                yield number, None, ""
                continue
            if raw.isspace():  # not raw.strip(): that copies a huge line whole
                continue
            try:
                obj = json.loads(raw)
            except (ValueError, RecursionError):
                yield number, None, raw
                continue
            # No reference to the line is kept while suspended: a 200 MB line must not
            # live on beside its decoded payload (issue 17 item 21).
            item = [(number, obj if isinstance(obj, dict) else None, raw)]
            del raw, obj
            yield item.pop()


def read_recording(path: str | Path, *, on_problem: ProblemSink | None = None) -> Recording:
    """Open a recording and check its header; frames and events are read lazily.

    Args:
        path: the recording file.
        on_problem: where damaged lines go (``--lenient``); without it the first
            damaged line raises.

    Raises:
        BadUsage: the file cannot be read or is not a recording.
        RecordingDamaged: a damaged line (line-numbered), or a newer format version
            when no ``on_problem`` sink is given.
    """
    records = iter_records(path)
    try:
        first = next(records, None)
    except OSError as exc:  # no UnicodeDecodeError: iter_records reads with surrogateescape
        raise BadUsage(f"cannot read recording {path}: {exc.strerror or exc}") from exc
    if first is None or not is_recording_header(first[1]):
        raise BadUsage(
            f"{path} is not a wscli recording",
            hint='the first line must be {"wscli": "recording", "version": 1, ...}',
        )
    header = first[1] or {}
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RecordingDamaged(f"{path} line {first[0]}: bad recording version {version!r}")
    if version > FORMAT_VERSION:
        _problem(
            str(path),
            RecordingProblem(
                first[0],
                f"recording format version {version} is newer than this wscli reads"
                f" ({FORMAT_VERSION})",
            ),
            on_problem,
            hint="upgrade wscli, or --lenient to play the lines it understands",
        )
    return Recording(
        url=str(header.get("url", "")),
        started=str(header.get("started", "")),
        version=version,
        lines=_good_lines(str(path), records, on_problem),
        path=str(path),
    )


def _good_lines(
    path: str,
    records: Iterator[tuple[int, dict[str, Any] | None, str]],
    on_problem: ProblemSink | None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, obj, raw in records:
        if obj is not None:
            # Only a damaged line's text is needed; a good one may be huge, and this
            # frame must hold neither it nor its object while suspended.
            item = [(number, obj)]
            del raw, obj
            yield item.pop()
            continue
        if not raw:
            message = f"line longer than {MAX_LINE // (1024 * 1024)} MiB"
        elif not raw.endswith("\n"):
            message = "cut off mid-line (the recorder was probably killed while writing)"
        else:
            message = "not a JSON object"
        _problem(path, RecordingProblem(number, message), on_problem)


def _problem(
    path: str, problem: RecordingProblem, on_problem: ProblemSink | None, hint: str | None = None
) -> None:
    """Report a damaged line to the lenient sink, or raise it."""
    if on_problem is not None:
        on_problem(problem)
        return
    raise RecordingDamaged(
        f"{path} {problem}", hint=hint or "--lenient plays the lines that can be read"
    )


_OPCODES_BY_NAME = {name: code for code, name in OPCODE_NAMES.items()}


def decode_frame(number: int, record: dict[str, Any]) -> RecordedFrame:
    """One frame line as a :class:`RecordedFrame`.

    Raises:
        ValueError: a field is missing or of the wrong kind (the message says which).
    """
    t = record.get("t")
    if not isinstance(t, (int, float)) or isinstance(t, bool) or not t >= 0:
        raise ValueError(f"frame without a valid time 't' ({t!r})")
    if not t <= MAX_FRAME_TIME:  # also infinity; compared before float() of a huge int
        digits = str(t)
        shown = f"{t:.6g}" if isinstance(t, float) else digits
        if len(shown) > 20:  # an integer of 400 digits
            shown = f"{digits[:12]}... ({len(digits)} digits)"
        raise ValueError(
            f"frame time 't' {shown} is out of range (at most {MAX_FRAME_TIME:g} seconds)"
        )
    direction = record.get("dir")
    if direction not in ("in", "out"):
        raise ValueError(f'frame \'dir\' must be "in" or "out", got {direction!r}')
    op = record.get("op")
    opcode = _OPCODES_BY_NAME.get(op) if isinstance(op, str) else None
    if opcode is None:
        raise ValueError(f"unknown frame 'op' {op!r}")
    if opcode == OP_CLOSE:
        code = record.get("code")
        reason = record.get("reason")
        if code is not None and (not isinstance(code, int) or isinstance(code, bool)):
            raise ValueError(f"close 'code' must be a number, got {code!r}")
        return RecordedFrame(
            number,
            float(t),
            direction,
            opcode,
            b"",
            code,
            reason if isinstance(reason, str) else "",
        )
    if "b64" in record:
        try:
            payload = base64.b64decode(record["b64"], validate=True)
        except (ValueError, TypeError):
            raise ValueError("frame 'b64' is not base64") from None
    else:
        text = record.get("text", "")
        if not isinstance(text, str):
            raise ValueError("frame 'text' must be a string")
        try:
            payload = text.encode("utf-8", "surrogateescape")  # bytes as the file held them
        except UnicodeEncodeError:
            raise ValueError("frame 'text' holds an unpaired surrogate") from None
    return RecordedFrame(number, float(t), direction, opcode, payload)
