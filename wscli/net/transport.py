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

from wscli.net.fastframes import NO_LIMIT, parse_data_frames
from wscli.net.tap import Tap

READ_CHUNK = 256 * 1024


class FrameTooLarge(websocket.WebSocketException):
    """A frame announced a payload larger than ``--max-size``."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"frame of {length} bytes exceeds the limit of {limit} bytes")
        self.length = length
        self.limit = limit


class MaskedFrame(websocket.WebSocketProtocolException):
    """The server masked a frame, which RFC 6455 section 5.1 forbids."""

    def __init__(self) -> None:
        super().__init__("the server sent a masked frame (RFC 6455 section 5.1 forbids it)")


class LimitedFrameBuffer(frame_buffer):
    """The library's frame parser, fed straight from the socket's read buffer.

    ``recv_strict`` is the parser's only way to get bytes. When the bytes it asks
    for are already buffered, they are sliced out directly instead of going
    through the library's generic gather-and-join; otherwise the library's own
    ``recv_strict`` runs as usual (it keeps partial reads across timeouts).
    Header, length, mask, ``ABNF`` construction and validation stay the library's.
    """

    def __init__(self, owner: BufferedWebSocket, max_size: int | None) -> None:
        # UTF-8 is checked by the caller with bytes.decode (C), not per byte in Python.
        super().__init__(owner._recv, skip_utf8_validation=True)
        self.owner = owner
        self.max_size = max_size

    def recv_strict(self, bufsize: int) -> bytes:
        if not self.recv_buffer:
            owner = self.owner
            pos = owner._rpos
            end = pos + bufsize
            if end <= len(owner._rbuf):
                owner._rpos = end
                return owner._rbuf[pos:end]
        return super().recv_strict(bufsize)

    def recv_length(self) -> None:
        super().recv_length()
        if self.has_mask():
            # RFC 6455 section 5.1: a client must close on a masked frame from a server.
            raise MaskedFrame()
        if self.max_size is not None and self.length is not None and self.length > self.max_size:
            raise FrameTooLarge(self.length, self.max_size)


class BufferedWebSocket(websocket.WebSocket):
    """A ``WebSocket`` whose reads come from one large buffered ``recv`` per chunk."""

    # Plain data frames are parsed in bulk by wscli.net.fastframes (next_frames); off in
    # TappedWebSocket, whose tap must see every frame through recv_frame.
    fast_lane = True

    def __init__(self, *, max_size: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("skip_utf8_validation", True)
        kwargs.setdefault("enable_multithread", False)
        super().__init__(**kwargs)
        self._rbuf = b""
        self._rpos = 0
        self.frame_buffer: LimitedFrameBuffer = LimitedFrameBuffer(self, max_size)
        self._limit = NO_LIMIT if max_size is None else max_size
        # Monotonic time after which a read that would block raises a timeout.
        self.deadline: float | None = None
        # Called when the buffer is empty and the next read may block.
        self.before_block: Callable[[], None] | None = None
        # Called with the upgrade request's lines just before they are sent (-v).
        self.on_request: Callable[[list[str]], None] | None = None
        # The TLS handshake runs in connect(), under the connect deadline.
        self.sock_opt.sslopt["do_handshake_on_connect"] = False
        self.request_lines: list[str] = []

    def connect(self, url: str, **options: Any) -> None:
        """Open within one deadline for TCP, TLS and upgrade (:mod:`wscli.net.handshake`)."""
        from wscli.net.handshake import open_within

        def remember(lines: list[str]) -> None:
            self.request_lines = lines
            if self.on_request is not None:
                self.on_request(lines)

        open_within(self, url, options, on_request=remember)

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

    def next_frames(self) -> list[tuple[int, bytes]]:
        """The next frames as ``(opcode, payload)``: a batch of data frames, or one of any kind.

        Plain data frames (final, unmasked, text or binary, within the size limit)
        found whole in the read buffer come back together from
        :func:`wscli.net.fastframes.parse_data_frames`: one call and no ``ABNF`` per
        frame. Anything else (a control frame, a fragment, a frame cut by the end
        of the buffer, a masked or oversized one, bad RSV bits or opcode) is read by
        :meth:`next_frame`, websocket-client's parser with its every rule, and comes
        back alone. The fast lane only starts where the library holds no partial
        frame (after a timeout mid-frame it does) and no fragmented message is open.
        """
        if self.fast_lane and not self.cont_frame.recving_frames:
            reader = self.frame_buffer
            if reader.header is None and not reader.recv_buffer:
                buf, pos = self._rbuf, self._rpos
                if pos >= len(buf):
                    self._refill()
                    buf, pos = self._rbuf, 0
                frames: list[tuple[int, bytes]] = []
                end = parse_data_frames(buf, pos, self._limit, frames)
                if frames:
                    if end >= len(buf):
                        self._rbuf, self._rpos = b"", 0
                    else:
                        self._rpos = end
                    return frames
        opcode, frame = self.next_frame()
        data = frame.data
        return [(opcode, data if isinstance(data, bytes) else data.encode("utf-8"))]

    def next_frame(self) -> tuple[int, ABNF]:
        """``recv_data_frame(control_frame=True)`` with a fast lane for whole data frames.

        An unfragmented text or binary frame (nearly every frame of a sensor
        stream) is returned as soon as it is parsed; fragments, pings (answered
        with a pong) and closes (answered with a close) take the same steps as
        the library's ``recv_data_frame``, using its own continuation buffer.
        """
        cont = self.cont_frame
        while True:
            frame = self.recv_frame()
            opcode = frame.opcode
            if opcode == ABNF.OPCODE_TEXT or opcode == ABNF.OPCODE_BINARY or opcode == 0:
                if frame.fin and opcode != 0 and not cont.recving_frames:
                    return opcode, frame
                cont.validate(frame)
                cont.add(frame)
                limit = self.frame_buffer.max_size
                if limit is not None and cont.cont_data and len(cont.cont_data[1]) > limit:
                    raise FrameTooLarge(len(cont.cont_data[1]), limit)
                if cont.is_fire(frame):
                    return cont.extract(frame)
            elif opcode == ABNF.OPCODE_CLOSE:
                self.send_close()
                return opcode, frame
            elif opcode == ABNF.OPCODE_PING:
                if len(frame.data) >= 126:
                    raise websocket.WebSocketProtocolException("Ping message is too long")
                self.pong(frame.data)
                return opcode, frame
            elif opcode == ABNF.OPCODE_PONG:
                return opcode, frame


class TappedWebSocket(BufferedWebSocket):
    """Reports every frame to the tap: data, pings, automatic pongs and closes."""

    tap: Tap
    fast_lane = False  # every frame goes through recv_frame, where the tap sees it

    def send_frame(self, frame: ABNF) -> int:
        data = frame.data
        self.tap.frame("out", frame.opcode, data.encode("utf-8") if isinstance(data, str) else data)
        return int(super().send_frame(frame))

    def recv_frame(self) -> ABNF:
        frame = super().recv_frame()
        data = frame.data
        self.tap.frame("in", frame.opcode, data.encode("utf-8") if isinstance(data, str) else data)
        return frame  # type: ignore[no-any-return]
