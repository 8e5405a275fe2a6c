"""The fast lane of frame reading agrees with websocket-client, frame for frame and error
for error (issue #21).

``BufferedWebSocket.next_frames`` parses plain data frames itself
(:mod:`wscli.net.fastframes`) and hands everything else to websocket-client's parser. The
same byte stream, cut into the same reads, is played to it with the fast lane on and
off (off: every frame through the library, as before the fast lane existed), and the
frames, the errors and where read timeouts fell must be the same. Streams without a
masked frame and without a size limit are also played to a stock
``websocket.WebSocket`` (``recv_data_frame``), the library itself.

The client is a real ``BufferedWebSocket`` on one end of a socket pair; the test plays
the server on the other. ``before_block`` (called just before each read that could
wait) sends the next scripted chunk, so the reads are cut exactly where the script
says; when the script ends, the server half-closes (EOF).
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass

import pytest
import websocket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wscli.net.fastframes import NO_LIMIT, parse_data_frames
from wscli.net.tap import Tap
from wscli.net.transport import BufferedWebSocket, MaskedFrame, TappedWebSocket

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0, 1, 2, 8, 9, 10
TIMEOUT = None  # in a chunk script: the read deadline passes instead of data arriving
BIGGEST_CHUNK = 64 * 1024  # a socket pair's buffer takes this in one sendall

Event = tuple[int, bytes] | str  # a frame, or "timeout"


def frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = None,
    form: int | None = None,
) -> bytes:
    """One frame's bytes, built by hand (neither parser under test builds them).

    ``form`` is the length encoding: 7 (in the second byte), 16 or 64 bits; the
    smallest that fits unless a longer (legal but unusual) one is asked for.
    """
    n = len(payload)
    natural = 7 if n < 126 else 16 if n < 65536 else 64
    form = max(form or natural, natural)
    mask_bit = 0x80 if mask is not None else 0
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    if form == 7:
        head += bytes([mask_bit | n])
    elif form == 16:
        head += bytes([mask_bit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([mask_bit | 127]) + n.to_bytes(8, "big")
    if mask is not None:
        head += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + payload


@dataclass
class Outcome:
    events: list[Event]
    error: tuple[str, str] | None  # the exception's class name and text

    def frames(self) -> list[tuple[int, bytes]]:
        return [e for e in self.events if not isinstance(e, str)]


def play(
    chunks: list[bytes | None], *, fast: bool, max_size: int | None, tapped: bool = False
) -> Outcome:
    """Read ``chunks`` with ``next_frames`` until an error, a close or EOF."""
    client, peer = socket.socketpair()
    client.settimeout(5)
    peer.settimeout(5)
    ws: BufferedWebSocket
    if tapped:
        tapped_ws = TappedWebSocket(max_size=max_size)
        tapped_ws.tap = Tap()
        ws = tapped_ws
    else:
        ws = BufferedWebSocket(max_size=max_size)
    ws.fast_lane = fast and not tapped
    ws.sock = client
    ws.connected = True
    script = list(chunks)
    ended = False

    def next_chunk() -> None:
        nonlocal ended
        if script:
            chunk = script.pop(0)
            if chunk is TIMEOUT:
                ws.deadline = 0.0  # long past on the monotonic clock
            else:
                peer.sendall(chunk)
        elif not ended:
            ended = True
            peer.shutdown(socket.SHUT_WR)

    ws.before_block = next_chunk
    events: list[Event] = []
    try:
        for _ in range(len(chunks) * 2 + 50):
            try:
                batch = ws.next_frames()
            except websocket.WebSocketTimeoutException:
                ws.deadline = None
                events.append("timeout")
                continue
            except Exception as exc:
                return Outcome(events, (type(exc).__name__, str(exc)))
            assert batch, "next_frames returned no frame"
            if len(batch) > 1:
                assert all(op in (TEXT, BINARY) for op, _ in batch), "a control frame in a batch"
            events.extend(batch)
            if batch[-1][0] == CLOSE:
                return Outcome(events, None)
        raise AssertionError("the stream did not end")
    finally:
        client.close()
        peer.close()


def play_stock(stream: bytes) -> Outcome:
    """The same bytes read by a stock websocket-client ``WebSocket`` (``recv_data_frame``)."""
    client, peer = socket.socketpair()
    client.settimeout(5)
    peer.settimeout(5)
    ws = websocket.WebSocket(skip_utf8_validation=True)
    ws.sock = client
    ws.connected = True

    def send() -> None:
        try:
            peer.sendall(stream)
            peer.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the client gave up first

    writer = threading.Thread(target=send, daemon=True)
    writer.start()
    events: list[Event] = []
    try:
        for _ in range(len(stream) + 10):
            try:
                opcode, got = ws.recv_data_frame(control_frame=True)
            except Exception as exc:
                return Outcome(events, (type(exc).__name__, str(exc)))
            data = got.data
            events.append((opcode, data if isinstance(data, bytes) else data.encode()))
            if opcode == CLOSE:
                return Outcome(events, None)
        raise AssertionError("the stream did not end")
    finally:
        client.close()
        peer.close()
        writer.join(5)


def split(stream: bytes, cuts: list[int], timeouts: list[int]) -> list[bytes | None]:
    """``stream`` cut at ``cuts`` (and every :data:`BIGGEST_CHUNK`), a timeout before the
    chunks numbered in ``timeouts``."""
    points = sorted(
        {c for c in cuts if 0 < c < len(stream)} | set(range(0, len(stream), BIGGEST_CHUNK)) | {0}
    )
    pieces = [stream[a:b] for a, b in zip(points, [*points[1:], len(stream)], strict=True)]
    script: list[bytes | None] = []
    for i, piece in enumerate(pieces):
        if i in timeouts:
            script.append(TIMEOUT)
        if piece:
            script.append(piece)
    return script


# -- strategies ------------------------------------------------------------------------------

LENGTHS = st.sampled_from([0, 1, 2, 125, 126, 127, 65535, 65536]) | st.integers(0, 300)
CLOSE_PAYLOADS = st.sampled_from([b"", b"\x03\xe8", b"\x03\xe8bye", b"\x03\xf3oops", b"\x03"])


@st.composite
def frames(draw: st.DrawFn) -> tuple[bytes, bool]:
    """One frame of any kind; also says whether it is masked."""
    opcode = draw(
        st.sampled_from([TEXT] * 6 + [BINARY] * 3 + [CONT, CLOSE, PING, PONG]) | st.integers(0, 15)
    )
    if opcode == CLOSE and draw(st.booleans()):
        payload = draw(CLOSE_PAYLOADS)
    else:
        n = draw(LENGTHS)
        if draw(st.sampled_from([False] * 5 + [True])):
            # Plain frames inside a payload: a parser starting mid-payload would see them.
            inner = frame(TEXT, b"inner") + frame(BINARY, b"\x81\x82")
            payload = (inner * (n // len(inner) + 1))[:n]
        elif n <= 300:
            payload = draw(st.binary(min_size=n, max_size=n))
        else:
            seed = draw(st.binary(min_size=1, max_size=4))
            payload = (seed * (n // len(seed) + 1))[:n]
    fin = draw(st.sampled_from([True] * 5 + [False]))
    rsv = draw(st.sampled_from([0] * 12 + [1, 2, 4, 7]))
    mask = draw(st.sampled_from([None] * 12) | st.binary(min_size=4, max_size=4))
    form = draw(st.sampled_from([None] * 6 + [16, 64]))
    return frame(opcode, payload, fin=fin, rsv=rsv, mask=mask, form=form), mask is not None


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, bool]:
    """Up to eight frames back to back, maybe cut off anywhere by EOF."""
    made = draw(st.lists(frames(), min_size=1, max_size=8))
    stream = b"".join(data for data, _ in made)
    if draw(st.sampled_from([False] * 4 + [True])):
        stream = stream[: draw(st.integers(0, len(stream)))]
    return stream, any(masked for _, masked in made)


LIMITS = st.sampled_from([None] * 4 + [0, 1, 125, 126, 127, 65535, 65536]) | st.integers(0, 70000)


# -- the properties --------------------------------------------------------------------------


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    made=streams(),
    cuts=st.lists(st.integers(0, 300_000), max_size=12),
    timeouts=st.lists(st.integers(0, 12), max_size=3),
    limit=LIMITS,
    data=st.data(),
)
def test_fast_lane_matches_the_library_path(
    made: tuple[bytes, bool],
    cuts: list[int],
    timeouts: list[int],
    limit: int | None,
    data: st.DataObject,
) -> None:
    """Any stream, cut anywhere, any limit: the same frames, timeouts and error either way."""
    stream, masked = made
    # Cuts near the frames' boundaries are the interesting ones: add some inside the stream.
    cuts = cuts + data.draw(st.lists(st.integers(0, max(0, len(stream))), max_size=6))
    script = split(stream, cuts, timeouts)
    fast = play(script, fast=True, max_size=limit)
    slow = play(script, fast=False, max_size=limit)
    assert fast == slow
    if not masked and limit is None and TIMEOUT not in script:
        stock = play_stock(stream)
        assert fast.frames() == stock.frames()
        assert fast.error == stock.error


def every_kind() -> bytes:
    """A short stream with one of each kind of frame the fast lane takes or refuses."""
    return b"".join(
        [
            frame(TEXT, b""),
            frame(TEXT, b"x" * 125),
            frame(BINARY, b"\x00\xff" * 63),  # 126 bytes: a 16-bit length
            frame(TEXT, b'{"a":1}', form=16),  # a small length in the 16-bit form
            frame(TEXT, b"\xc3\x28"),  # not UTF-8: passed on, checked when parsed
            frame(PING, b"hi"),
            frame(TEXT, b"frag", fin=False),
            frame(CONT, b"ment"),
            frame(PONG, b""),
            frame(TEXT, b"after", form=64),
            frame(BINARY, b"b"),
            frame(CLOSE, b"\x03\xe8done"),
        ]
    )


def unusual_endings() -> list[bytes]:
    """Streams whose last frame is one the library must refuse."""
    plain = frame(TEXT, b"one") + frame(TEXT, b"two")
    return [
        plain + frame(TEXT, b"rsv", rsv=4),
        plain + frame(TEXT, b"masked", mask=b"\x01\x02\x03\x04"),
        plain + frame(3, b"reserved opcode"),
        plain + frame(CONT, b"no start"),
        plain + frame(TEXT, b"start", fin=False) + frame(TEXT, b"a second start"),
        # A ping inside a fragmented message comes back alone; the message is still open.
        plain + frame(TEXT, b"start", fin=False) + frame(PING, b"") + frame(TEXT, b"again"),
        plain + frame(PING, b"p" * 126),
        plain + frame(CLOSE, b"\x03"),
        plain + frame(TEXT, b"z" * 200),  # over a 199-byte limit below
        plain + frame(TEXT, b"cut off")[:-2],
    ]


def test_split_at_every_byte() -> None:
    """Every kind of frame, the stream cut in two at each byte and cut into single bytes."""
    for stream in [every_kind(), *unusual_endings()]:
        whole = play([stream], fast=False, max_size=199)
        assert whole.error is not None or whole.events[-1][0] == CLOSE
        for cut in range(1, len(stream)):
            script: list[bytes | None] = [stream[:cut], stream[cut:]]
            assert play(script, fast=True, max_size=199) == whole, cut
        bytewise: list[bytes | None] = [stream[i : i + 1] for i in range(len(stream))]
        assert play(bytewise, fast=True, max_size=199) == whole


def test_every_kind_reads_as_the_library_reads_it() -> None:
    """The stream above, whole: what each frame becomes, the stock library agreeing."""
    stream = every_kind()
    got = play([stream], fast=True, max_size=None)
    assert got == play_stock(stream)
    assert got.error is None
    assert [op for op, _ in got.frames()] == [
        TEXT, TEXT, BINARY, TEXT, TEXT, PING, TEXT, PONG, TEXT, BINARY, CLOSE
    ]  # fmt: skip
    assert got.frames()[6] == (TEXT, b"fragment")


def test_no_fast_lane_while_the_library_holds_part_of_a_frame() -> None:
    """A read timeout mid-frame: the rest of that frame is not taken for new frames."""
    inner = frame(TEXT, b"inner") * 20
    stream = frame(BINARY, inner) + frame(TEXT, b"next") + frame(CLOSE, b"")
    for cut in (1, 3, 4, 11, 32):  # 4 + 7k: the rest starts with an inner frame
        got = play([stream[:cut], TIMEOUT, stream[cut:]], fast=True, max_size=None)
        assert got.events == ["timeout", (BINARY, inner), (TEXT, b"next"), (CLOSE, b"")], cut
    # Cut after a header's first byte: the rest (0x81, mask, payload) looks like a frame.
    masked = frame(TEXT, b"x", mask=b"\x02\x00\x00\x00") + frame(TEXT, b"more")
    got = play([masked[:1], TIMEOUT, masked[1:]], fast=True, max_size=None)
    assert got.events == ["timeout"]
    assert got.error == ("MaskedFrame", str(MaskedFrame()))


def test_plain_frames_come_in_one_batch() -> None:
    """Ten plain frames in one read: one call returns them all (the point of the lane)."""
    client, peer = socket.socketpair()
    try:
        ws = BufferedWebSocket(max_size=None)
        ws.sock = client
        ws.connected = True
        peer.sendall(b"".join(frame(TEXT, b"m%d" % i) for i in range(10)) + frame(PING, b""))
        batch = ws.next_frames()
        assert batch == [(TEXT, b"m%d" % i) for i in range(10)]
        assert ws.next_frames() == [(PING, b"")]
    finally:
        client.close()
        peer.close()


def test_the_tap_sees_every_frame() -> None:
    """With the tap on, every frame goes through recv_frame, one at a time, into the tap."""

    class Recording(Tap):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[tuple[str, int, bytes]] = []

        def frame(self, direction: str, opcode: int, payload: bytes) -> None:
            self.seen.append((direction, opcode, payload))

    client, peer = socket.socketpair()
    try:
        ws = TappedWebSocket(max_size=None)
        tap = Recording()
        ws.tap = tap
        ws.sock = client
        ws.connected = True
        assert ws.fast_lane is False
        peer.sendall(b"".join(frame(TEXT, b"m%d" % i) for i in range(3)))
        got = [ws.next_frames() for _ in range(3)]
        assert got == [[(TEXT, b"m%d" % i)] for i in range(3)]
        assert tap.seen == [("in", TEXT, b"m%d" % i) for i in range(3)]
    finally:
        client.close()
        peer.close()


def test_parse_data_frames_stops_where_the_library_must_take_over() -> None:
    """The parser alone: it takes plain frames and stops before anything else."""
    plain = frame(TEXT, b"a") + frame(BINARY, b"b" * 10) + frame(TEXT, b"c", form=64)
    tails = [
        frame(PING, b""),
        frame(TEXT, b"x", fin=False),
        frame(TEXT, b"x", rsv=1),
        frame(TEXT, b"x", mask=b"abcd"),
        frame(TEXT, b"x" * 11),  # over the limit of 10
        b"\x81",  # cut in the header
        b"\x81\x7e\x01",  # cut in a 16-bit length
        b"\x81\x7f" + b"\x00" * 7,  # cut in a 64-bit length
        frame(TEXT, b"cut")[:-1],  # cut in the payload
    ]
    for tail in tails:
        out: list[tuple[int, bytes]] = []
        assert parse_data_frames(plain + tail, 0, 10, out) == len(plain), tail
        assert out == [(TEXT, b"a"), (BINARY, b"b" * 10), (TEXT, b"c")]
    out = []
    assert parse_data_frames(b"junk" + frame(TEXT, b"hi"), 4, NO_LIMIT, out) == 4 + 4
    assert out == [(TEXT, b"hi")]
