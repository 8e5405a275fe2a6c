"""transport.py pinned: the buffered reader across every chunk boundary, the deadline, the
control-frame lane of ``next_frame``, and what ``TappedWebSocket`` hands the tap.

In-process: the client is a real ``TappedWebSocket`` on one end of a connected socket
pair, the test plays the server on the other end. Server frames are built with
websocket-client's own ``ABNF`` (unmasked, as a server sends them) and the client's
frames are read back with its ``frame_buffer``. ``before_block`` (called just before
each read that could wait) hands the client the next scripted chunk, so the chunking
of the byte stream is exact and nothing sleeps.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import websocket
from websocket._abnf import ABNF, frame_buffer

import wscli.net.transport as transport
from tests.support.raw_peer import PeerConnection, RawPeer
from wscli.net.handshake import ConnectTimeout
from wscli.net.tap import Tap
from wscli.net.transport import BufferedWebSocket, FrameTooLarge, MaskedFrame, TappedWebSocket

TEXT, BINARY, CONT, CLOSE, PING, PONG = 1, 2, 0, 8, 9, 10

# A sentinel in a chunk script: the read deadline passes instead of data arriving.
DEADLINE = None


class RecordingTap(Tap):
    """A tap that keeps exactly what the socket hands it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, int, bytes]] = []

    def frame(self, direction: str, opcode: int, payload: bytes) -> None:
        self.calls.append((direction, opcode, payload))


def server_frame(opcode: int, data: bytes, *, fin: int = 1, masked: int = 0) -> bytes:
    """One frame as a server sends it (unmasked unless asked), built by websocket-client."""
    return ABNF(fin, 0, 0, 0, opcode, masked, data).format()


class Pair:
    """A TappedWebSocket wired to a socket pair; ``peer`` is the server's end."""

    def __init__(self, tap: Tap | None = None, max_size: int | None = None) -> None:
        self.client, self.peer = socket.socketpair()
        self.peer.settimeout(5)
        self.tap = tap if tap is not None else RecordingTap()
        self.ws = TappedWebSocket(max_size=max_size)
        self.ws.tap = self.tap
        self.ws.sock = self.client
        self.ws.connected = True
        self.script: list[bytes | None] = []

    def _next_chunk(self) -> None:
        if not self.script:
            return
        chunk = self.script.pop(0)
        if chunk is DEADLINE:
            self.ws.deadline = 0.0  # long past on the monotonic clock
        else:
            self.peer.sendall(chunk)

    def feed(self, *chunks: bytes | None) -> None:
        """Each later read that would block gets the next chunk (or hits the deadline)."""
        self.script.extend(chunks)
        self.ws.before_block = self._next_chunk

    @property
    def calls(self) -> list[tuple[str, int, bytes]]:
        assert isinstance(self.tap, RecordingTap)
        return self.tap.calls

    def sent(self, count: int) -> list[ABNF]:
        """The next ``count`` frames the client sent, unmasked by websocket-client's parser."""
        reader = frame_buffer(self.peer.recv, True)
        return [reader.recv_frame() for _ in range(count)]

    def nothing_sent(self) -> bool:
        self.peer.setblocking(False)
        try:
            self.peer.recv(1)
        except BlockingIOError:
            return True
        finally:
            self.peer.settimeout(5)
        return False

    def close(self) -> None:
        self.client.close()
        self.peer.close()


@pytest.fixture
def pair() -> Iterator[Pair]:
    made = Pair()
    yield made
    made.close()


def frame_view(frame: ABNF) -> tuple[int, int, bytes]:
    data = frame.data
    assert isinstance(data, bytes)
    return frame.fin, frame.opcode, data


# -- the exceptions' words -------------------------------------------------------------------


def test_frame_too_large_says_both_sizes() -> None:
    """The exception's text and attributes name the frame's size and the limit."""
    error = FrameTooLarge(65, 64)
    assert str(error) == "frame of 65 bytes exceeds the limit of 64 bytes"
    assert (error.length, error.limit) == (65, 64)
    assert isinstance(error, websocket.WebSocketException)


def test_a_frame_over_max_size_raises_before_its_payload_is_read() -> None:
    """``max_size`` bounds the announced length: a 5-byte frame against a 4-byte limit."""
    made = Pair(max_size=4)
    try:
        made.peer.sendall(server_frame(TEXT, b"abcd") + server_frame(TEXT, b"abcde"))
        assert frame_view(made.ws.recv_frame()) == (1, TEXT, b"abcd")
        with pytest.raises(FrameTooLarge) as caught:
            made.ws.recv_frame()
        assert str(caught.value) == "frame of 5 bytes exceeds the limit of 4 bytes"
    finally:
        made.close()


def test_a_masked_frame_from_the_server_is_refused(pair: Pair) -> None:
    """RFC 6455 5.1: a server must not mask; the error says so in these words."""
    pair.peer.sendall(server_frame(TEXT, b"hi", masked=1))
    with pytest.raises(MaskedFrame) as caught:
        pair.ws.recv_frame()
    assert str(caught.value) == "the server sent a masked frame (RFC 6455 section 5.1 forbids it)"
    assert isinstance(caught.value, websocket.WebSocketProtocolException)
    assert pair.calls == []


# -- what the tap is given, both ways --------------------------------------------------------


def test_the_tap_file_shows_data_pings_pongs_and_closes_both_ways(tmp_path: Path) -> None:
    """Through the real Tap: each received frame, the automatic pong and the automatic
    close answer are recorded with direction, op name, length and close code."""
    path = tmp_path / "tap.jsonl"
    tap = Tap(tap_file=str(path), url="ws://h/")
    made = Pair(tap=tap)
    try:
        made.peer.sendall(
            server_frame(TEXT, "héllo".encode())
            + server_frame(BINARY, b"\x00\xff")
            + server_frame(PING, b"p!")
            + server_frame(CLOSE, b"\x03\xe9bye")
        )
        got = [made.ws.next_frame() for _ in range(4)]
        assert [(op, frame.data) for op, frame in got] == [
            (TEXT, "héllo".encode()),
            (BINARY, b"\x00\xff"),
            (PING, b"p!"),
            (CLOSE, b"\x03\xe9bye"),
        ]
        pong, close = made.sent(2)
        assert (pong.opcode, pong.mask_value, pong.data) == (PONG, 1, b"p!")
        assert (close.opcode, close.mask_value, close.data) == (CLOSE, 1, b"\x03\xe8")
    finally:
        made.close()
    tap.close()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()][1:]
    for line in lines:
        assert isinstance(line.pop("t"), float | int)
    assert lines == [
        {"dir": "in", "op": "text", "len": 6, "text": "héllo"},
        {"dir": "in", "op": "binary", "len": 2, "b64": "AP8="},
        {"dir": "in", "op": "ping", "len": 2, "text": "p!"},
        {"dir": "out", "op": "pong", "len": 2, "text": "p!"},
        {"dir": "in", "op": "close", "len": 5, "code": 1001, "reason": "bye"},
        {"dir": "out", "op": "close", "len": 2, "code": 1000, "reason": ""},
    ]


def test_sent_frames_reach_the_tap_as_bytes_and_the_wire_masked(pair: Pair) -> None:
    """send_frame tells the tap ("out", opcode, payload bytes) and returns the bytes written;
    a frame built from ``str`` the library's documented way is tapped as its UTF-8."""
    assert pair.ws.send_frame(ABNF.create_frame("héllo", TEXT)) == 2 + 4 + 6
    assert pair.ws.send_frame(ABNF.create_frame("My name is ", CONT, 0)) == 2 + 4 + 11
    assert pair.ws.send_frame(ABNF.create_frame(b"\x01\x02", BINARY)) == 2 + 4 + 2
    assert pair.calls == [
        ("out", TEXT, "héllo".encode()),
        ("out", CONT, b"My name is "),
        ("out", BINARY, b"\x01\x02"),
    ]
    text, cont, binary = pair.sent(3)
    assert (text.fin, text.opcode, text.mask_value, text.data) == (1, TEXT, 1, "héllo".encode())
    assert (cont.fin, cont.opcode, cont.mask_value, cont.data) == (0, CONT, 1, b"My name is ")
    assert (binary.opcode, binary.mask_value, binary.data) == (BINARY, 1, b"\x01\x02")


# -- next_frame's control lane ---------------------------------------------------------------


def test_a_pong_is_returned_as_is_and_never_answered(pair: Pair) -> None:
    """A pong ends next_frame at once (the heartbeat needs to see it) and sends nothing."""
    pair.peer.sendall(server_frame(PONG, b"x") + server_frame(TEXT, b"t"))
    opcode, frame = pair.ws.next_frame()
    assert (opcode, frame.data) == (PONG, b"x")
    opcode, frame = pair.ws.next_frame()
    assert (opcode, frame.data) == (TEXT, b"t")
    assert pair.calls == [("in", PONG, b"x"), ("in", TEXT, b"t")]
    assert pair.nothing_sent()


def test_a_ping_is_answered_with_its_own_payload_up_to_125_bytes(pair: Pair) -> None:
    """The pong echoes the ping's payload, at the largest a control frame may carry."""
    payload = bytes(range(125))
    pair.peer.sendall(server_frame(PING, payload))
    opcode, frame = pair.ws.next_frame()
    assert (opcode, frame.data) == (PING, payload)
    assert pair.calls == [("in", PING, payload), ("out", PONG, payload)]
    (pong,) = pair.sent(1)
    assert (pong.opcode, pong.data) == (PONG, payload)


def test_a_ping_of_126_bytes_is_a_protocol_error(pair: Pair) -> None:
    """RFC 6455 5.5: control payloads are at most 125 bytes; 126 is refused, unanswered."""
    pair.peer.sendall(server_frame(PING, b"p" * 126))
    with pytest.raises(websocket.WebSocketProtocolException) as caught:
        pair.ws.next_frame()
    assert str(caught.value) == "Ping message is too long"
    assert pair.calls == [("in", PING, b"p" * 126)]
    assert pair.nothing_sent()


def test_a_continuation_with_no_message_to_continue_is_illegal(pair: Pair) -> None:
    """A final continuation frame out of nowhere is not returned as data."""
    pair.peer.sendall(server_frame(CONT, b"orphan"))
    with pytest.raises(websocket.WebSocketProtocolException) as caught:
        pair.ws.next_frame()
    assert str(caught.value) == "Illegal frame"


def test_a_new_message_inside_a_fragmented_one_is_illegal(pair: Pair) -> None:
    """A whole text frame arriving between fragments is a protocol error, not a message."""
    pair.peer.sendall(server_frame(TEXT, b"ab", fin=0) + server_frame(TEXT, b"cd"))
    with pytest.raises(websocket.WebSocketProtocolException) as caught:
        pair.ws.next_frame()
    assert str(caught.value) == "Illegal frame"


def test_fragments_are_joined_and_each_is_tapped(pair: Pair) -> None:
    """text(fin=0) + ping + cont(fin=1): the ping is answered in between, the message is
    returned whole, and the tap saw every frame as it came."""
    pair.peer.sendall(
        server_frame(TEXT, b"ab", fin=0) + server_frame(PING, b"") + server_frame(CONT, b"cd")
    )
    opcode, frame = pair.ws.next_frame()
    assert (opcode, frame.data) == (PING, b"")
    opcode, frame = pair.ws.next_frame()
    assert (opcode, frame.data) == (TEXT, b"abcd")
    assert pair.calls == [
        ("in", TEXT, b"ab"),
        ("in", PING, b""),
        ("out", PONG, b""),
        ("in", CONT, b"cd"),
    ]


# -- the buffered reader ---------------------------------------------------------------------

STREAM_FRAMES = [
    (TEXT, "héllo".encode()),
    (TEXT, b"j" * 200),  # a 16-bit length
    (BINARY, b"\x00\xff\x10"),
    (PING, b"pi"),
    (TEXT, b""),
]
STREAM = b"".join(server_frame(op, data) for op, data in STREAM_FRAMES)


def read_stream(chunks: list[bytes]) -> list[tuple[int, int, bytes]]:
    made = Pair()
    try:
        made.feed(*chunks)
        frames = [frame_view(made.ws.recv_frame()) for _ in STREAM_FRAMES]
        assert made.calls == [("in", op, data) for op, data in STREAM_FRAMES]
        return frames
    finally:
        made.close()


def test_frames_split_at_every_byte_boundary_read_back_exactly() -> None:
    """However the bytes arrive, every frame comes out whole and in order: cut once at
    each position, and also delivered one byte and three bytes at a time."""
    expected = [(1, op, data) for op, data in STREAM_FRAMES]
    for cut in range(1, len(STREAM)):
        assert read_stream([STREAM[:cut], STREAM[cut:]]) == expected, cut
    for size in (1, 3):
        chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
        assert read_stream(chunks) == expected, size
    assert read_stream([STREAM]) == expected


def test_a_frame_cut_by_the_deadline_resumes_where_it_stopped(pair: Pair) -> None:
    """The deadline passing mid-payload raises "deadline reached"; the next read, with more
    bytes, completes the same frame, and the frame after it is intact."""
    first = server_frame(TEXT, b"0123456789")
    second = server_frame(TEXT, b"next")
    pair.feed(first[:6], DEADLINE)
    with pytest.raises(websocket.WebSocketTimeoutException) as caught:
        pair.ws.recv_frame()
    assert str(caught.value) == "deadline reached"
    pair.ws.deadline = None
    pair.feed(first[6:] + second)
    assert frame_view(pair.ws.recv_frame()) == (1, TEXT, b"0123456789")
    assert frame_view(pair.ws.recv_frame()) == (1, TEXT, b"next")


def test_the_read_hook_returns_the_next_bytes_never_an_empty_read(pair: Pair) -> None:
    """After a frame used up the buffer exactly, ``_recv`` reads on: b"" would mean EOF."""
    pair.feed(server_frame(TEXT, b"abc"), b"xyz", b"more")
    assert frame_view(pair.ws.recv_frame()) == (1, TEXT, b"abc")
    assert pair.ws._recv(8) == b"xyz"
    assert pair.ws._recv(2) == b"mo"
    assert pair.ws._recv(8) == b"re"


def test_reading_a_closed_socket_says_the_connection_is_closed() -> None:
    """No socket (closed or never opened): the library's closed error, in its words."""
    ws = TappedWebSocket()
    ws.tap = RecordingTap()
    with pytest.raises(websocket.WebSocketConnectionClosedException) as caught:
        ws.recv_frame()
    assert str(caught.value) == "Connection is closed"


def test_at_the_deadline_exactly_the_read_times_out(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No time left is a timeout, never a zero-timeout read: bytes waiting are not taken."""
    monkeypatch.setattr(transport, "time", SimpleNamespace(monotonic=lambda: 50.0))
    pair.peer.sendall(server_frame(TEXT, b"late"))
    pair.ws.deadline = 50.0
    with pytest.raises(websocket.WebSocketTimeoutException) as caught:
        pair.ws.recv_frame()
    assert str(caught.value) == "deadline reached"
    assert pair.calls == []


def test_a_read_waits_no_longer_than_the_time_left(pair: Pair) -> None:
    """With a deadline the socket's timeout is the time remaining; without one it blocks."""
    pair.peer.sendall(server_frame(TEXT, b"a"))
    pair.ws.deadline = time.monotonic() + 30
    assert frame_view(pair.ws.recv_frame()) == (1, TEXT, b"a")
    timeout: Any = pair.client.gettimeout()
    assert timeout is not None and 29 < timeout <= 30
    pair.peer.sendall(server_frame(TEXT, b"b"))
    pair.ws.deadline = None
    assert frame_view(pair.ws.recv_frame()) == (1, TEXT, b"b")
    assert pair.client.gettimeout() is None


# -- construction and connect ----------------------------------------------------------------


def test_a_new_socket_has_no_deadline_no_hooks_and_no_request_yet() -> None:
    """Before connect: no deadline, no callbacks, an empty request, unthreaded (no lock per
    send) unless asked, and the TLS handshake left for connect() to run under its deadline."""
    ws = BufferedWebSocket()
    assert ws.deadline is None
    assert ws.before_block is None
    assert ws.on_request is None
    assert ws.request_lines == []
    assert ws.sock_opt.sslopt == {"do_handshake_on_connect": False}
    lock_type = type(threading.Lock())
    assert not isinstance(ws.lock, lock_type) and not isinstance(ws.readlock, lock_type)
    threaded = BufferedWebSocket(enable_multithread=True)
    assert isinstance(threaded.lock, lock_type) and isinstance(threaded.readlock, lock_type)


def test_a_plain_read_needs_no_hook(pair: Pair) -> None:
    """With no before_block and no deadline set, a read simply waits for the bytes."""
    pair.peer.sendall(server_frame(TEXT, b"plain"))
    assert frame_view(pair.ws.recv_frame()) == (1, TEXT, b"plain")
    assert pair.calls == [("in", TEXT, b"plain")]


def test_text_is_not_utf8_checked_by_the_library(pair: Pair) -> None:
    """wscli decodes text itself (and words the error); the library's per-byte check is off,
    for whole frames, reassembled fragments and close reasons alike."""
    pair.peer.sendall(
        server_frame(TEXT, b"\xff")
        + server_frame(TEXT, b"\xfe", fin=0)
        + server_frame(CONT, b"\xfd")
        + server_frame(CLOSE, b"\x03\xe8\xff")
    )
    got = [pair.ws.next_frame() for _ in range(3)]
    assert [(op, frame.data) for op, frame in got] == [
        (TEXT, b"\xff"),
        (TEXT, b"\xfe\xfd"),
        (CLOSE, b"\x03\xe8\xff"),
    ]


def test_connect_keeps_and_reports_the_request_lines() -> None:
    """connect() keeps the upgrade request's lines and hands the same list to on_request
    (the -v hook) before the answer comes."""

    def answer(conn: PeerConnection) -> None:
        conn.text("hi")

    seen: list[list[str]] = []
    with RawPeer(answer) as peer:
        ws = TappedWebSocket()
        ws.tap = RecordingTap()
        ws.on_request = seen.append
        ws.connect(peer.url, timeout=5)
        try:
            assert frame_view(ws.recv_frame()) == (1, TEXT, b"hi")
        finally:
            if ws.sock is not None:
                ws.sock.close()
    assert len(seen) == 1
    assert ws.request_lines == seen[0]
    assert seen[0][0] == "GET /ws HTTP/1.1"
    assert f"Host: 127.0.0.1:{peer.port}" in seen[0]


def test_a_silent_tls_server_times_out_in_the_tls_phase(
    silent_listener: socket.socket,
) -> None:
    """The TLS handshake is deferred to connect()'s "tls" step, so a server that never
    answers the ClientHello is reported there, under the one connect deadline."""
    port = silent_listener.getsockname()[1]
    ws = BufferedWebSocket()
    with pytest.raises(ConnectTimeout) as caught:
        ws.connect(f"wss://127.0.0.1:{port}/", timeout=0.15)
    assert caught.value.phase == "tls"
    assert str(caught.value) == "connect deadline reached during tls"
