"""Pins for ``wscli.net.stream``: the ping, the reconnect loop and the given-up error, exactly.

The reconnect loop runs on a fake clock (``wscli.net.stream.time`` replaced, nothing else),
a seeded RNG that answers each backoff ceiling, and a scripted ``_open``, so every
event, delay and gap it produces is an exact number, and no test sleeps.
"""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any, cast

import pytest
import websocket

import wscli.net.stream as stream_module
from wscli.errors import (
    ConnectionLost,
    ConnectionRefused,
    ExitStatus,
    HandshakeRejected,
    TimedOut,
    WscliError,
)
from wscli.frames import OP_BINARY, OP_CLOSE, OP_PONG, OP_TEXT, describe_close
from wscli.net.stream import ServerClosed, Stream, StreamEvent, StreamPolicy, _Dropped
from wscli.net.target import ConnectOptions

OPTIONS = ConnectOptions(url="ws://127.0.0.1:9/feed", no_proxy=True)
LOST_1011 = "server closed the connection: 1011 (internal error)"


class Ceiling(random.Random):
    """``uniform(0, b)`` answers ``b``: each delay is the backoff ceiling itself."""

    def uniform(self, a: float, b: float) -> float:
        assert a == 0
        return b


class FakeTime:
    """Stands in for the ``time`` module inside ``wscli.net.stream``: sleeping moves the clock."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeSocket:
    """Just enough of a BufferedWebSocket: records pings and shutdowns."""

    def __init__(self, ping_error: BaseException | None = None) -> None:
        self.ping_error = ping_error
        self.pings: list[bytes] = []
        self.shutdowns = 0

    def ping(self, payload: bytes) -> None:
        if self.ping_error is not None:
            raise self.ping_error
        self.pings.append(payload)

    def shutdown(self) -> None:
        self.shutdowns += 1


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(stream_module, "time", fake)
    return fake


def make_stream(
    monkeypatch: pytest.MonkeyPatch,
    opens: list[WscliError | None],
    events: list[StreamEvent],
    **policy: Any,
) -> Stream:
    """A Stream with no tap whose ``_open`` follows ``opens``: raise the error, or connect."""
    policy.setdefault("retries", 3)
    policy.setdefault("backoff", 0.5)
    stream = Stream(OPTIONS, StreamPolicy(**policy), on_event=events.append, rng=Ceiling())
    script = list(opens)

    def fake_open() -> None:
        outcome = script.pop(0)
        if outcome is not None:
            raise outcome
        stream.ws = cast(Any, FakeSocket())

    monkeypatch.setattr(stream, "_open", fake_open)
    return stream


def lost(code: int = 1011) -> ConnectionLost:
    return ConnectionLost(LOST_1011, close_code=code, where="127.0.0.1:9", hint="first hint")


def refused() -> ConnectionRefused:
    return ConnectionRefused("connection refused", where="127.0.0.1:9", hint="refused hint")


# -- _Dropped and _send_ping ----------------------------------------------------------------


def test_dropped_carries_the_error_and_its_message() -> None:
    """The internal exception reads as its error's message; retryable unless said otherwise."""
    error = lost()
    dropped = _Dropped(error)
    assert str(dropped) == LOST_1011
    assert dropped.error is error
    assert dropped.retryable is True
    assert _Dropped(error, retryable=False).retryable is False


def test_send_ping_sends_wscli() -> None:
    """The heartbeat ping carries the payload ``wscli``, once per call."""
    socket = FakeSocket()
    Stream(OPTIONS, StreamPolicy())._send_ping(cast(Any, socket))
    assert socket.pings == [b"wscli"]


def test_send_ping_failure_is_a_classified_drop() -> None:
    """A ping the socket refuses is a drop, classified like any other socket failure."""
    with pytest.raises(_Dropped) as caught:
        Stream(OPTIONS, StreamPolicy())._send_ping(cast(Any, FakeSocket(BrokenPipeError(32, "x"))))
    error = caught.value.error
    assert type(error) is ConnectionLost
    assert error.message == "connection lost: 1006 (abnormal closure)"
    assert error.close_code == 1006
    assert error.where == "127.0.0.1:9"
    assert error.hint == "the peer or a proxy dropped the TCP connection without a close frame"
    assert caught.value.retryable is True
    assert isinstance(caught.value.__cause__, BrokenPipeError)


def test_send_ping_failure_keeps_a_wscli_error() -> None:
    """A wscli error raised by the send is the drop's error as is."""
    original = TimedOut("send timed out", where="w")
    with pytest.raises(_Dropped) as caught:
        Stream(OPTIONS, StreamPolicy())._send_ping(cast(Any, FakeSocket(original)))
    assert caught.value.error is original


# -- _reconnect -----------------------------------------------------------------------------


def test_reconnect_events_delays_and_gap(clock: FakeTime, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused retry, then success: exact events, sleeps, gap and counters; old socket shut."""
    events: list[StreamEvent] = []
    stream = make_stream(monkeypatch, [refused(), None], events)
    old = FakeSocket()
    stream.ws = cast(Any, old)
    assert stream._reconnect(_Dropped(lost())) is True
    assert old.shutdowns == 1
    assert isinstance(stream.ws, FakeSocket) and stream.ws is not old
    assert clock.sleeps == [0.5, 1.0]
    assert events == [
        StreamEvent(
            "disconnected",
            cause="1011 (internal error)",
            attempt=1,
            retries=3,
            delay=0.5,
            close_code=1011,
        ),
        StreamEvent(
            "retrying",
            cause="connection refused",
            attempt=2,
            retries=3,
            delay=1.0,
            close_code=None,
        ),
        StreamEvent("reconnected", cause="1011 (internal error)", attempt=2, retries=3, gap=1.5),
    ]
    assert stream.reconnects == 1
    assert stream._delivered is False


def test_retry_event_carries_the_retry_errors_close_code(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each event's close_code is that of the error it reports, first or retry."""
    events: list[StreamEvent] = []
    retry_error = ConnectionLost("connection lost: 1006", close_code=1006, where="w")
    stream = make_stream(monkeypatch, [retry_error, None], events)
    assert stream._reconnect(_Dropped(lost(1012))) is True
    assert [(e.kind, e.close_code) for e in events] == [
        ("disconnected", 1012),
        ("retrying", 1006),
        ("reconnected", None),
    ]
    assert events[0].cause == describe_close(1012)
    assert events[1].cause == "connection lost: 1006"


def test_reconnect_after_a_drop_without_close_code(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error with no close code at all (a timeout) is reported as 1006, abnormal closure."""
    events: list[StreamEvent] = []
    stream = make_stream(monkeypatch, [None], events)
    assert stream._reconnect(_Dropped(TimedOut("timed out", where="w"))) is True
    assert events[0] == StreamEvent(
        "disconnected", cause="1006 (abnormal closure)", attempt=1, retries=3, delay=0.5
    )
    assert events[1].gap == 0.5


def test_delivery_resets_the_count_once(clock: FakeTime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages since the last drop start the count afresh; a drop with none keeps counting."""
    events: list[StreamEvent] = []
    stream = make_stream(monkeypatch, [None, None, None], events, retries=5)
    stream._failures = 3
    stream._delivered = True
    assert stream._reconnect(_Dropped(lost())) is True
    assert stream._delivered is False
    assert stream._reconnect(_Dropped(lost())) is True
    stream._delivered = True
    assert stream._reconnect(_Dropped(lost())) is True
    assert [(e.kind, e.attempt) for e in events] == [
        ("disconnected", 1),
        ("reconnected", 1),
        ("disconnected", 2),
        ("reconnected", 2),
        ("disconnected", 1),
        ("reconnected", 1),
    ]
    assert clock.sleeps == [0.5, 1.0, 0.5]
    assert stream.reconnects == 3


def test_deadline_reached_exactly_ends_the_stream(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backoff that would end exactly at --duration's deadline is not slept: the stream ends."""
    events: list[StreamEvent] = []
    stream = make_stream(monkeypatch, [None], events, end_at=100.5)
    assert stream._reconnect(_Dropped(lost())) is False
    assert clock.sleeps == []
    assert stream.reconnects == 0
    assert [e.kind for e in events] == ["disconnected"]


def test_deadline_just_after_the_backoff_lets_it_run(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One backoff ending just before the deadline reconnects."""
    events: list[StreamEvent] = []
    stream = make_stream(monkeypatch, [None], events, end_at=100.75)
    assert stream._reconnect(_Dropped(lost())) is True
    assert clock.sleeps == [0.5]


def test_not_retryable_or_no_reconnect_raises_the_error_at_once(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--no-reconnect, or an error not worth retrying: the drop's own error, no event."""
    events: list[StreamEvent] = []
    stream = make_stream(monkeypatch, [], events, reconnect=False)
    first = lost()
    with pytest.raises(ConnectionLost) as caught:
        stream._reconnect(_Dropped(first))
    assert caught.value is first
    stream = make_stream(monkeypatch, [], events)
    with pytest.raises(ConnectionLost) as caught:
        stream._reconnect(_Dropped(first, retryable=False))
    assert caught.value is first
    assert events == [] and clock.sleeps == []


def test_a_non_retryable_open_failure_is_raised(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reconnect answered 401 ends the stream with that rejection."""
    events: list[StreamEvent] = []
    rejected = HandshakeRejected("handshake rejected: HTTP 401", status=401, where="w")
    stream = make_stream(monkeypatch, [rejected], events)
    with pytest.raises(HandshakeRejected) as caught:
        stream._reconnect(_Dropped(lost()))
    assert caught.value is rejected


def test_retries_spent_give_up_with_exit_8(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every retry refused: exit 8, naming the first error, the count and the last error."""
    events: list[StreamEvent] = []
    stream = make_stream(monkeypatch, [refused(), refused()], events, retries=2)
    with pytest.raises(ConnectionLost) as caught:
        stream._reconnect(_Dropped(lost()))
    error = caught.value
    assert error.message == (
        f"{LOST_1011}; gave up after 2 reconnect attempts (last: connection refused)"
    )
    assert error.close_code == 1011
    assert error.where == "127.0.0.1:9"
    assert error.hint == "refused hint"
    assert error.exit_code == ExitStatus.CONNECTION_LOST
    assert clock.sleeps == [0.5, 1.0]


# -- _gave_up -------------------------------------------------------------------------------


def test_gave_up_names_the_last_error() -> None:
    """Retries spent on failing attempts: the last one's message and hint."""
    error = Stream._gave_up(lost(), refused(), 4)
    assert type(error) is ConnectionLost
    assert error.message == (
        f"{LOST_1011}; gave up after 4 reconnect attempts (last: connection refused)"
    )
    assert error.close_code == 1011
    assert error.where == "127.0.0.1:9"
    assert error.hint == "refused hint"


def test_gave_up_after_reconnects_that_dropped_again() -> None:
    """``last is first``: each reconnect got through and dropped before any message."""
    first = lost(1001)
    error = Stream._gave_up(first, first, 2)
    assert type(error) is ConnectionLost
    assert error.message == (
        f"{LOST_1011}; gave up after 2 reconnect attempts"
        " (each new connection dropped before a message came)"
    )
    assert error.close_code == 1001
    assert error.hint == "first hint"


def test_gave_up_from_an_error_without_close_code() -> None:
    """A first error with no close code (a timeout) gives a given-up error with none."""
    first = TimedOut("timed out", where="w", hint="t")
    error = Stream._gave_up(first, refused(), 1)
    assert type(error) is ConnectionLost
    assert error.close_code is None
    assert error.where == "w"


def test_gave_up_with_no_retries_is_the_first_error() -> None:
    """--retries 0: the drop's own error, unchanged."""
    first = lost()
    assert Stream._gave_up(first, refused(), 0) is first


# -- Stream's starting state, _open and close -----------------------------------------------


def test_a_new_stream_starts_clean() -> None:
    """Defaults: not threadsafe, no socket or handshake, nothing counted or closed yet."""

    def hook() -> None:
        return None

    def pong(payload: bytes) -> None:
        return None

    stream = Stream(OPTIONS, StreamPolicy(), before_block=hook, on_pong=pong)
    assert stream.threadsafe is False
    assert stream.before_block is hook
    assert stream.on_pong is pong
    assert stream.ws is None
    assert stream.handshake is None
    assert stream.reconnects == 0
    assert stream.close_code is None
    assert stream.close_reason == ""
    assert stream._delivered is False
    assert stream._failures == 0
    assert Stream(OPTIONS, StreamPolicy(), threadsafe=True).threadsafe is True


class FakeTap:
    """Records tap events; its redactor marks the URLs it was asked to redact."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.redactor = SimpleNamespace(url=lambda url: f"<{url}>")

    def event(self, name: str, **fields: Any) -> None:
        self.events.append((name, fields))


@pytest.mark.parametrize("threadsafe", [False, True])
def test_open_passes_its_settings_and_taps_the_connect(
    monkeypatch: pytest.MonkeyPatch, threadsafe: bool
) -> None:
    """_open hands options, tap and threadsafe over, installs before_block, logs the URL."""
    calls: list[tuple[Any, ...]] = []
    socket, handshake = FakeSocket(), object()

    def fake_open_connection(options: Any, tap: Any, *, threadsafe: bool) -> Any:
        calls.append((options, tap, threadsafe))
        return socket, handshake

    def hook() -> None:
        return None

    monkeypatch.setattr(stream_module, "open_connection", fake_open_connection)
    tap = FakeTap(enabled=True)
    stream = Stream(
        OPTIONS, StreamPolicy(), tap=cast(Any, tap), before_block=hook, threadsafe=threadsafe
    )
    stream._open()
    assert calls == [(OPTIONS, tap, threadsafe)]
    assert calls[0][2] is threadsafe
    assert stream.ws is cast(Any, socket)
    assert stream.handshake is handshake
    assert cast(Any, socket).before_block is hook
    assert tap.events == [("connect", {"url": "<ws://127.0.0.1:9/feed>"})]


def test_open_without_an_enabled_tap_logs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A disabled tap hears nothing, and no tap at all is fine."""

    def fake_open_connection(options: Any, tap: Any, *, threadsafe: bool) -> Any:
        return FakeSocket(), None

    monkeypatch.setattr(stream_module, "open_connection", fake_open_connection)
    tap = FakeTap(enabled=False)
    Stream(OPTIONS, StreamPolicy(), tap=cast(Any, tap))._open()
    assert tap.events == []
    stream = Stream(OPTIONS, StreamPolicy())
    stream._open()
    assert isinstance(stream.ws, FakeSocket)


class ClosingSocket:
    """Records how Stream.close closes it; ``close`` may fail."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.before_block: Any = "hook"
        self.deadline: float | None = None
        self.closes: list[float] = []
        self.shutdowns = 0

    def close(self, timeout: float) -> None:
        self.closes.append(timeout)
        if self.fail:
            raise OSError("gone")

    def shutdown(self) -> None:
        self.shutdowns += 1


def test_close_gives_the_close_handshake_one_second(clock: FakeTime) -> None:
    """close() drops the hook, allows 1 s for the close handshake, forgets the socket."""
    socket = ClosingSocket()
    stream = Stream(OPTIONS, StreamPolicy())
    stream.ws = cast(Any, socket)
    stream.close()
    assert stream.ws is None
    assert socket.before_block is None
    assert socket.deadline == 101.0
    assert socket.closes == [1.0]
    assert socket.shutdowns == 0
    stream.close()  # a second close does nothing
    assert socket.closes == [1.0]


def test_close_that_fails_shuts_the_socket(clock: FakeTime) -> None:
    """A close handshake that fails falls back to shutting the socket."""
    socket = ClosingSocket(fail=True)
    stream = Stream(OPTIONS, StreamPolicy())
    stream.ws = cast(Any, socket)
    stream.close()
    assert stream.ws is None
    assert socket.shutdowns == 1


# -- _pump on a scripted socket -------------------------------------------------------------

TIMEOUT = "timeout"


class ScriptedSocket:
    """Plays ``steps`` to _pump: ``TIMEOUT`` jumps the clock to the deadline and times out;
    an exception is raised; ``(advance, opcode, data)`` is a frame after ``advance`` s.
    Records every deadline _pump set and every ping, with its time.
    """

    def __init__(self, clock: FakeTime, steps: list[Any]) -> None:
        self.clock = clock
        self.steps = list(steps)
        self.deadline: float | None = None
        self.deadlines: list[float | None] = []
        self.pings: list[tuple[float, bytes]] = []
        self.shutdowns = 0

    def next_frame(self) -> tuple[int, Any]:
        self.deadlines.append(self.deadline)
        step = self.steps.pop(0)
        if step == TIMEOUT:
            assert self.deadline is not None
            self.clock.now = self.deadline
            raise websocket.WebSocketTimeoutException("deadline reached")
        if isinstance(step, BaseException):
            raise step
        advance, opcode, data = step
        self.clock.now += advance
        return opcode, SimpleNamespace(data=data)

    def next_frames(self) -> list[tuple[int, bytes]]:
        """One scripted frame at a time, as BufferedWebSocket.next_frames hands them."""
        opcode, frame = self.next_frame()
        data = frame.data
        return [(opcode, data.encode("utf-8") if isinstance(data, str) else data)]

    def ping(self, payload: bytes) -> None:
        self.pings.append((self.clock.now, payload))

    def shutdown(self) -> None:
        self.shutdowns += 1


def pump(
    clock: FakeTime,
    steps: list[Any],
    *,
    options: ConnectOptions = OPTIONS,
    on_pong: Any = None,
    **policy: Any,
) -> tuple[Stream, ScriptedSocket, list[tuple[int, bytes]], BaseException | None]:
    """Run _pump over ``steps``: the stream, socket, messages yielded and what ended it."""
    stream = Stream(options, StreamPolicy(**policy), on_pong=on_pong)
    socket = ScriptedSocket(clock, steps)
    stream.ws = cast(Any, socket)
    got: list[tuple[int, bytes]] = []
    try:
        for message in stream._pump():
            got.append(message)
    except Exception as exc:
        return stream, socket, got, exc
    return stream, socket, got, None


def heartbeat_options(interval: float | None, timeout: float) -> ConnectOptions:
    return ConnectOptions(
        url=OPTIONS.url, no_proxy=True, ping_interval=interval, ping_timeout=timeout
    )


def test_pings_every_interval_until_the_pong_deadline(clock: FakeTime) -> None:
    """Interval 2 s, timeout 5 s, silent peer: pings at 102, 104, 106, then dead at 107."""
    steps = [TIMEOUT, TIMEOUT, TIMEOUT, TIMEOUT]
    _, socket, got, ended = pump(clock, steps, options=heartbeat_options(2.0, 5.0))
    assert got == []
    assert socket.deadlines == [102.0, 104.0, 106.0, 107.0]
    assert socket.pings == [(102.0, b"wscli"), (104.0, b"wscli"), (106.0, b"wscli")]
    assert isinstance(ended, _Dropped)
    assert ended.retryable is True
    error = ended.error
    assert type(error) is ConnectionLost
    assert error.message == "no answer to ping within 5 s: peer unresponsive"
    assert error.close_code == 1006
    assert error.where == "127.0.0.1:9"
    assert error.hint == "the server or the network path is stalled"
    assert socket.steps == []


def test_any_frame_answers_a_ping(clock: FakeTime) -> None:
    """Interval 5 s, timeout 2 s: a message after the ping clears the pong deadline."""
    steps = [TIMEOUT, (1.0, OP_TEXT, b"a"), TIMEOUT, TIMEOUT]
    _, socket, got, ended = pump(clock, steps, options=heartbeat_options(5.0, 2.0))
    assert got == [(OP_TEXT, b"a")]
    assert socket.deadlines == [105.0, 107.0, 110.0, 112.0]
    assert socket.pings == [(105.0, b"wscli"), (110.0, b"wscli")]
    assert isinstance(ended, _Dropped)
    assert ended.error.message == "no answer to ping within 2 s: peer unresponsive"


def test_idle_deadline_moves_with_each_message_not_with_pongs(clock: FakeTime) -> None:
    """--idle-timeout 3: messages push it on, a pong does not; text arrives as UTF-8 bytes."""
    pongs: list[bytes] = []
    steps = [
        (1.0, OP_TEXT, "h\u00e9llo"),
        (2.0, OP_BINARY, b"\x00\x01"),
        (1.0, OP_PONG, b"p1"),
        TIMEOUT,
    ]
    stream, socket, got, ended = pump(
        clock, steps, options=heartbeat_options(None, 20.0), on_pong=pongs.append, idle_timeout=3.0
    )
    assert got == [(OP_TEXT, "h\u00e9llo".encode()), (OP_BINARY, b"\x00\x01")]
    assert pongs == [b"p1"]
    assert socket.deadlines == [103.0, 104.0, 106.0, 106.0]
    assert socket.pings == []
    assert type(ended) is TimedOut
    assert ended.message == "idle timeout: no message for 3 s (--idle-timeout)"
    assert ended.where == "127.0.0.1:9"
    assert ended.reason == "idle_timeout"
    assert stream._delivered is True


def test_duration_deadline_ends_the_stream_quietly(clock: FakeTime) -> None:
    """--duration's deadline reached exactly: the pump returns; a pong with no listener is fine."""
    steps = [(0.5, OP_TEXT, b"x"), (0.5, OP_PONG, b"p"), TIMEOUT]
    _, socket, got, ended = pump(clock, steps, options=heartbeat_options(None, 20.0), end_at=101.5)
    assert ended is None
    assert got == [(OP_TEXT, b"x")]
    assert socket.deadlines == [101.5, 101.5, 101.5]
    assert socket.steps == []


def test_no_timer_means_no_deadline_and_a_normal_close_ends(clock: FakeTime) -> None:
    """No heartbeat, idle or duration: reads block (deadline None); close 1000 is ServerClosed."""
    steps = [(1.0, OP_TEXT, b"m"), (1.0, OP_CLOSE, b"\x03\xe8bye")]
    stream, socket, got, ended = pump(clock, steps, options=heartbeat_options(None, 20.0))
    assert got == [(OP_TEXT, b"m")]
    assert socket.deadlines == [None, None]
    assert isinstance(ended, ServerClosed)
    assert (ended.code, ended.reason, str(ended)) == (1000, "bye", "1000 (normal closure) bye")
    assert (stream.close_code, stream.close_reason) == (1000, "bye")
    assert socket.shutdowns == 1


def test_abnormal_close_is_a_drop_with_its_code(clock: FakeTime) -> None:
    """Close 1011 with a reason: a retryable drop quoting code, name and reason."""
    steps = [(1.0, OP_CLOSE, b"\x03\xf3oops")]
    stream, socket, got, ended = pump(clock, steps, options=heartbeat_options(None, 20.0))
    assert got == []
    assert isinstance(ended, _Dropped)
    assert ended.retryable is True
    error = ended.error
    assert type(error) is ConnectionLost
    assert error.message == "server closed the connection: 1011 (internal error) oops"
    assert error.close_code == 1011
    assert error.where == "127.0.0.1:9"
    assert (stream.close_code, stream.close_reason) == (1011, "oops")
    assert socket.shutdowns == 1


def test_a_socket_failure_is_a_classified_drop(clock: FakeTime) -> None:
    """A reset mid-read: a retryable 1006 drop."""
    steps = [ConnectionResetError(104, "reset")]
    _, _, got, ended = pump(clock, steps, options=heartbeat_options(None, 20.0))
    assert got == []
    assert isinstance(ended, _Dropped)
    assert ended.retryable is True
    assert ended.error.message == "connection lost: 1006 (abnormal closure)"
