"""The debug tap: one place that sees the handshake and every frame, both ways.

The connection's WebSocket subclass calls :meth:`Tap.frame` from ``send_frame``
and ``recv_frame``, so automatic pongs and close frames are seen too. Sinks are
the ``-v`` stderr printer and the ``--tap FILE`` recording. Credentials are
redacted before anything reaches a sink.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from wscli.frames import OP_BINARY, OPCODE_NAMES, escape, human_bytes, payload_preview
from wscli.recording import RecordingWriter

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)
SECRET_PARAMS = frozenset(
    {
        "token",
        "access_token",
        "auth",
        "authorization",
        "api_key",
        "apikey",
        "key",
        "password",
        "passwd",
        "secret",
        "signature",
        "sig",
        "jwt",
        "session",
        "sessionid",
    }
)


class Redactor:
    """Hides credentials in headers, URLs and, as a last net, any text.

    ``secrets`` are literal values (the ``--token``, a URL password) that must not
    appear anywhere a tap writes, whatever field they travel in.
    """

    def __init__(self, secrets: Iterable[str] = (), *, enabled: bool = True) -> None:
        self.enabled = enabled
        values = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, values))) if values else None

    def text(self, value: str) -> str:
        if not self.enabled or self._pattern is None:
            return value
        return self._pattern.sub(REDACTED, value)

    def payload(self, data: bytes) -> bytes:
        """A frame payload with known secrets replaced (a token echoed back by a server)."""
        if not self.enabled or self._pattern is None:
            return data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data
        redacted = self.text(text)
        return data if redacted == text else redacted.encode("utf-8")

    def header(self, name: str, value: str) -> str:
        if not self.enabled:
            return value
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            keep = scheme if scheme.lower() in ("bearer", "basic", "token", "digest") else ""
            return f"{keep} {REDACTED}".strip()
        return self.text(value)

    def headers(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(name, self.header(name, value)) for name, value in pairs]

    def url(self, url: str) -> str:
        if not self.enabled:
            return url
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode(
                [(k, REDACTED if k.lower() in SECRET_PARAMS else v) for k, v in pairs],
                safe="[]",
            )
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


class StderrTapSink:
    """``-v``: one line per frame on stderr, elided to the terminal width."""

    def __init__(self, stream: IO[str] | None = None, *, fancy: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        is_tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.fancy = is_tty if fancy is None else fancy
        self.width = shutil.get_terminal_size((120, 24)).columns if is_tty else 160
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
        self.writer = RecordingWriter(tap_file, self.redactor.url(url)) if tap_file else None
        self.enabled = self.stderr_sink is not None or self.writer is not None
        self._start = time.monotonic()

    def frame(self, direction: str, opcode: int, payload: bytes) -> None:
        if opcode != OP_BINARY:
            payload = self.redactor.payload(payload)
        if self.stderr_sink is not None:
            self.stderr_sink.frame(direction, opcode, payload)
        if self.writer is not None:
            self.writer.frame(direction, opcode, payload)

    def handshake(
        self,
        *,
        url: str,
        request: Sequence[tuple[str, str]],
        status: int | None,
        response: Iterable[tuple[str, str]],
    ) -> None:
        request_headers = self.redactor.headers(request)
        response_headers = self.redactor.headers(response)
        safe_url = self.redactor.url(url)
        if self.stderr_sink is not None:
            path = urlsplit(safe_url)
            target = (path.path or "/") + (f"?{path.query}" if path.query else "")
            self.stderr_sink.lines(">", [f"GET {target} HTTP/1.1"])
            self.stderr_sink.lines(">", [f"{k}: {v}" for k, v in request_headers])
            self.stderr_sink.lines("<", [f"HTTP/1.1 {status}"])
            self.stderr_sink.lines("<", [f"{k}: {v}" for k, v in response_headers])
        if self.writer is not None:
            self.writer.event(
                "handshake",
                url=safe_url,
                request=dict(request_headers),
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
