"""wscli's websocket-client ``WebSocket`` subclasses: buffered reads, size limit, tap.

websocket-client parses frames with two or three small ``recv`` calls each; at
high rates those system calls are most of the cost. Serving ``_recv`` from one
large read keeps the library's frame parser (no hand-written framing) and cuts
the calls to one per chunk. The same hook is where a deadline (heartbeat, idle
and duration timers) and the "about to block" callback (flush stdout so a slow
stream never looks frozen in a pipe) live, because it is the only place that
knows the next read would wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import websocket
from websocket._abnf import ABNF, frame_buffer
from websocket._socket import recv as socket_recv

from wscli.tap import Tap

READ_CHUNK = 256 * 1024


class FrameTooLarge(websocket.WebSocketException):
    """A frame announced a payload larger than ``--max-size``."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"frame of {length} bytes exceeds the limit of {limit} bytes")
        self.length = length
        self.limit = limit


class LimitedFrameBuffer(frame_buffer):
    """Rejects an oversized frame from its header, before reading the payload."""

    def __init__(self, recv_fn: Callable[[int], bytes], max_size: int | None) -> None:
        # UTF-8 is checked by the caller with bytes.decode (C), not per byte in Python.
        super().__init__(recv_fn, skip_utf8_validation=True)
        self.max_size = max_size

    def recv_length(self) -> None:
        super().recv_length()
        if self.max_size is not None and self.length is not None and self.length > self.max_size:
            raise FrameTooLarge(self.length, self.max_size)


class BufferedWebSocket(websocket.WebSocket):
    """A ``WebSocket`` whose reads come from one large buffered ``recv`` per chunk."""

    def __init__(self, *, max_size: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("skip_utf8_validation", True)
        kwargs.setdefault("enable_multithread", False)
        super().__init__(**kwargs)
        self.frame_buffer = LimitedFrameBuffer(self._recv, max_size)
        self._rbuf = b""
        self._rpos = 0
        # Monotonic time after which a read that would block raises a timeout.
        self.deadline: float | None = None
        # Called when the buffer is empty and the next read may block.
        self.before_block: Callable[[], None] | None = None

    def _recv(self, bufsize: int) -> bytes:
        pos = self._rpos
        available = len(self._rbuf) - pos
        if available <= 0:
            self._refill()
            pos = 0
            available = len(self._rbuf)
        if pos == 0 and bufsize >= available:
            chunk = self._rbuf
            self._rbuf = b""
            return chunk
        end = pos + min(bufsize, available)
        chunk = self._rbuf[pos:end]
        if end >= len(self._rbuf):
            self._rbuf = b""
            self._rpos = 0
        else:
            self._rpos = end
        return chunk

    def _refill(self) -> None:
        if self.sock is None:
            raise websocket.WebSocketConnectionClosedException("Connection is closed")
        if self.before_block is not None:
            self.before_block()
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise websocket.WebSocketTimeoutException("deadline reached")
            self.sock.settimeout(remaining)
        else:
            self.sock.settimeout(None)
        try:
            data = socket_recv(self.sock, READ_CHUNK)
        except websocket.WebSocketConnectionClosedException:
            self.shutdown()
            raise
        self._rbuf = data
        self._rpos = 0

    def has_buffered(self) -> bool:
        return len(self._rbuf) > self._rpos


class TappedWebSocket(BufferedWebSocket):
    """Reports every frame to the tap: data, pings, automatic pongs and closes."""

    tap: Tap

    def send_frame(self, frame: ABNF) -> int:
        data = frame.data
        self.tap.frame("out", frame.opcode, data.encode("utf-8") if isinstance(data, str) else data)
        return int(super().send_frame(frame))

    def recv_frame(self) -> ABNF:
        frame = super().recv_frame()
        data = frame.data
        self.tap.frame("in", frame.opcode, data.encode("utf-8") if isinstance(data, str) else data)
        return frame  # type: ignore[no-any-return]
