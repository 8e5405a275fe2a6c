"""The JSON Lines recording format shared by the tap, ``tail --record`` and ``replay``.

One object per line (SPEC "Recording format"): a header, then frames and events.
Every line is flushed as it is written, so a killed process leaves a valid file
holding every frame received before it died.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from wscli.errors import BadUsage
from wscli.frames import OP_BINARY, OP_CLOSE, OPCODE_NAMES, parse_close_payload

FORMAT_NAME = "wscli"
FORMAT_VALUE = "recording"
FORMAT_VERSION = 1


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
    """Writes a recording, one flushed line per frame or event.

    The file is line-buffered: each ``write`` of a line reaches the kernel at once,
    which is the whole point of the format (SIGKILL loses nothing received).
    """

    def __init__(self, path: str | Path, url: str) -> None:
        self.path = str(path)
        try:
            self._file: IO[str] = open(path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115
        except OSError as exc:
            raise BadUsage(
                f"cannot write recording {path}: {exc.strerror or exc}",
                hint="check the folder exists and is writable",
            ) from exc
        self._start = time.monotonic()
        self._write(
            {
                FORMAT_NAME: FORMAT_VALUE,
                "version": FORMAT_VERSION,
                "url": url,
                "started": rfc3339_now(),
            }
        )

    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def _write(self, obj: dict[str, Any]) -> None:
        try:
            self._file.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
        except OSError as exc:
            raise BadUsage(
                f"cannot write recording {self.path}: {exc.strerror or exc}",
                hint="free some space or record somewhere else; lines so far are kept",
            ) from exc

    def frame(self, direction: str, opcode: int, payload: bytes) -> None:
        self._write(frame_record(self.elapsed(), direction, opcode, payload))

    def event(self, name: str, **fields: Any) -> None:
        self._write({"t": round(self.elapsed(), 6), "event": name, **fields})

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


@dataclass
class Recording:
    """A parsed recording header plus its lines, read lazily."""

    url: str
    started: str
    version: int
    lines: Iterator[tuple[int, dict[str, Any]]] = field(repr=False)


def is_recording_header(obj: object) -> bool:
    return isinstance(obj, dict) and obj.get(FORMAT_NAME) == FORMAT_VALUE


def iter_records(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """Yield ``(line_number, object_or_None, raw_line)``; ``None`` marks a malformed line.

    Streams the file: memory stays flat however long the recording is.
    """
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except ValueError:
                yield number, None, raw
                continue
            yield number, obj if isinstance(obj, dict) else None, raw


def read_recording(path: str | Path) -> Recording:
    """Open a recording and check its header; frames and events are read lazily."""
    records = iter_records(path)
    try:
        first = next(records, None)
    except OSError as exc:
        raise BadUsage(f"cannot read recording {path}: {exc.strerror or exc}") from exc
    if first is None or not is_recording_header(first[1]):
        raise BadUsage(
            f"{path} is not a wscli recording",
            hint='the first line must be {"wscli": "recording", "version": 1, ...}',
        )
    header = first[1] or {}
    version = header.get("version")
    if version != FORMAT_VERSION:
        raise BadUsage(f"{path}: unsupported recording version {version!r}")
    lines = ((n, obj) for n, obj, _raw in records if obj is not None)
    return Recording(
        url=str(header.get("url", "")),
        started=str(header.get("started", "")),
        version=FORMAT_VERSION,
        lines=lines,
    )


def frame_payload(record: dict[str, Any]) -> bytes:
    """The payload bytes of a frame line (``text`` or ``b64``)."""
    if "b64" in record:
        return base64.b64decode(record["b64"])
    text = record.get("text", "")
    return text.encode("utf-8") if isinstance(text, str) else b""
