"""The debug tap: one place that sees the handshake and every frame, both ways.

The connection's WebSocket subclass calls :meth:`Tap.frame` from ``send_frame``
and ``recv_frame``, so automatic pongs and close frames are seen too. Sinks are
the ``-v`` stderr printer and the ``--tap FILE`` recording. Credentials are
redacted before anything reaches a sink.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import IO, Any
from urllib.parse import urlsplit

from wscli.frames import OPCODE_NAMES, escape, human_bytes, payload_preview
from wscli.output.terminal import env_columns, stream_columns
from wscli.recording import RecordingWriter
from wscli.redact import REDACTED, SECRET_HEADERS, SECRET_PARAMS, Redactor

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_PARAMS",
    "Redactor",
    "StderrTapSink",
    "Tap",
    "environment_secrets",
]


class StderrTapSink:
    """``-v``: one line per frame on stderr, elided to the terminal width."""

    def __init__(self, stream: IO[str] | None = None, *, fancy: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        is_tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.fancy = is_tty if fancy is None else fancy
        # A terminal whose size cannot be read (a pty without one) is taken as 120 wide.
        columns = env_columns(os.environ) or stream_columns(self.stream) or 120
        self.width = columns if is_tty else 160
        self.marks = {"out": "📤", "in": "📥"} if self.fancy else {"out": ">", "in": "<"}

    def _write(self, line: str) -> None:
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (BrokenPipeError, ValueError):
            pass

    def frame(self, direction: str, opcode: int, payload: bytes) -> None:
        stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
        name = OPCODE_NAMES.get(opcode, str(opcode))
        head = f"{self.marks[direction]} {stamp} {name:<6} {human_bytes(len(payload)):>9} "
        room = max(16, self.width - len(head) - 2)
        self._write(head + payload_preview(opcode, payload, room))

    def lines(self, mark: str, lines: Sequence[str]) -> None:
        for line in lines:
            self._write(f"{mark} {escape(line)}")

    def event(self, name: str, fields: dict[str, Any]) -> None:
        detail = " ".join(f"{k}={v}" for k, v in fields.items())
        self._write(f"* {name} {escape(detail)}".rstrip())


class Tap:
    """Fans the handshake, frames and events out to the enabled sinks.

    ``enabled`` is computed once; the connection only installs the tapping
    WebSocket class when it is true, so a disabled tap costs nothing per frame.
    """

    def __init__(
        self,
        *,
        verbose: bool = False,
        tap_file: str | None = None,
        url: str = "",
        redactor: Redactor | None = None,
        stderr: IO[str] | None = None,
    ) -> None:
        self.redactor = redactor or Redactor()
        self.stderr_sink = StderrTapSink(stderr) if verbose else None
        self.writer = (
            RecordingWriter(tap_file, url, redact=self.redactor.url, label=f"--tap {tap_file}")
            if tap_file
            else None
        )
        self.enabled = self.stderr_sink is not None or self.writer is not None

    def frame(self, direction: str, opcode: int, payload: bytes) -> None:
        payload = self.redactor.payload(payload, opcode)
        if self.stderr_sink is not None:
            self.stderr_sink.frame(direction, opcode, payload)
        if self.writer is not None:
            self.writer.frame(direction, opcode, payload)

    def connecting(self, target: str) -> None:
        """Before TCP connect: ``* connecting to 127.0.0.1:8000`` (``-v`` only)."""
        if self.stderr_sink is not None:
            self.stderr_sink.lines("*", [f"connecting to {self.redactor.text(target)}"])

    def request(self, lines: Sequence[str]) -> None:
        """The upgrade request, printed before it is sent so a hang shows where it is."""
        if self.stderr_sink is None or not lines:
            return
        method, _, rest = lines[0].partition(" ")
        target, _, version = rest.rpartition(" ")
        first = f"{method} {self.redactor.target(target)} {version}"
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append(f"{name}: {self.redactor.header(name.strip(), value.strip())}")
        self.stderr_sink.lines(">", [first, *headers])

    def handshake(
        self,
        *,
        url: str,
        request: Sequence[tuple[str, str]],
        status: int | None,
        response: Iterable[tuple[str, str]],
    ) -> None:
        """The upgrade's answer: the response on stderr, request and response in the file."""
        response_headers = self.redactor.headers(response)
        if self.stderr_sink is not None:
            self.stderr_sink.lines("<", [f"HTTP/1.1 {status} {_phrase(status)}".rstrip()])
            self.stderr_sink.lines("<", [f"{k}: {v}" for k, v in response_headers])
        if self.writer is not None:
            self.writer.event(
                "handshake",
                url=self.redactor.url(url),
                request=dict(self.redactor.headers(request)),
                status=status,
                response=dict(response_headers),
            )

    def event(self, name: str, **fields: Any) -> None:
        clean = {k: self.redactor.text(v) if isinstance(v, str) else v for k, v in fields.items()}
        if self.stderr_sink is not None:
            self.stderr_sink.event(name, clean)
        if self.writer is not None:
            self.writer.event(name, **clean)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _phrase(status: int | None) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status or 0).phrase
    except ValueError:
        return ""


def environment_secrets() -> list[str]:
    """Proxy passwords from the environment, so they never reach a tap either."""
    found: list[str] = []
    for key in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        value = os.environ.get(key)
        if value:
            password = urlsplit(value).password
            if password:
                found.append(password)
    return found
