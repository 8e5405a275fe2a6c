"""One connection that sends while it receives: ``connect`` and ``replay --to``.

Built on :class:`~wscli.net.stream.Stream` (no reconnects: a conversation that lost
its peer is over), so the heartbeat, the tap, ``--max-size`` and the error
classes are the same as ``tail``'s. A receiver thread iterates the stream and
hands each frame to a sink; the caller's thread sends. Sends are locked inside
websocket-client (``threadsafe``) because the receiver answers pings too.

:class:`Exchange` turns a conversation into a :class:`~wscli.session.tailing.FrameSource`:
it sends a sequence of frames from a thread of its own and yields the replies
to ``TailRun``, until enough replies came or the wait after the last send ran
out. That is all of non-interactive ``connect`` and of ``replay --to``.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from wscli.errors import CheckFailed, ConnectionLost, TimedOut, WscliError
from wscli.frames import OP_CLOSE, describe_close
from wscli.net.connection import classify
from wscli.net.stream import ServerClosed, Stream, StreamPolicy
from wscli.net.tap import Tap
from wscli.net.target import ConnectOptions, Handshake
from wscli.recording import RecordingWriter

CLOSE_WAIT = 2.0  # seconds to wait for the peer's answer to our close frame
# Close codes that end a conversation cleanly (exit 0); others are exit 8 (SPEC).
PEER_CLOSE_CODES = frozenset({1000, 1001})
QUEUE_LIMIT = 1024  # received frames held for a slow consumer; the socket waits beyond


@dataclass(frozen=True)
class Received:
    """A data frame from the peer."""

    opcode: int
    payload: bytes
    at: float  # wall clock, for display


@dataclass(frozen=True)
class Ended:
    """The conversation is over: a close (ours or the peer's), or an error."""

    code: int | None
    reason: str = ""
    error: WscliError | None = None
    by_us: bool = False

    def describe(self) -> str:
        return describe_close(self.code, self.reason)


Event = Received | Ended


class Conversation:
    """A connection with a receiver thread; the calling thread sends."""

    def __init__(
        self,
        options: ConnectOptions,
        tap: Tap | None = None,
        *,
        recorder: RecordingWriter | None = None,
        on_pong: Callable[[bytes, float | None], None] | None = None,
    ) -> None:
        self.options = options
        self.recorder = recorder
        self.on_pong = on_pong
        self.stream = Stream(
            options,
            StreamPolicy(reconnect=False, retries=0),
            tap=tap,
            threadsafe=True,
            on_pong=self._pong,
        )
        self.ended: Ended | None = None
        self.finished = threading.Event()
        self._closing: tuple[int, str] | None = None
        self._pings: dict[bytes, float] = {}
        self._record_lock = threading.Lock()
        self._sink: Callable[[Event], None] = lambda event: None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def open(
        self, sink: Callable[[Event], None], on_open: Callable[[], None] | None = None
    ) -> None:
        """Connect (failures raise here, classified) and start receiving into ``sink``.

        ``sink`` runs on the receiver thread, once per frame and once at the end;
        ``on_open`` runs once connected, before it: "connected" is never shown
        after a first message that followed the upgrade at once.
        """
        self._sink = sink
        self.stream.connect()
        if on_open is not None:
            on_open()
        self._thread = threading.Thread(target=self._receive, name="wscli-receive", daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        ended: Ended
        try:
            for opcode, payload in self.stream:
                self._record("in", opcode, payload)
                self._sink(Received(opcode, payload, time.time()))
            ended = Ended(None, error=ConnectionLost("the stream ended", where=self.options.where))
        except ServerClosed as closed:
            ended = Ended(closed.code, closed.reason, by_us=self._closing is not None)
        except WscliError as error:
            ended = self._ended_by(error)
        except Exception as exc:  # the socket shut under us: classify, never a traceback
            ended = self._ended_by(classify(exc, self.options))
        self.ended = ended
        code = self.stream.close_code  # set only when a close frame really arrived
        if code is not None:
            reason = self.stream.close_reason.encode()
            self._record("in", OP_CLOSE, code.to_bytes(2, "big") + reason)
        try:
            self._sink(ended)  # before finished: whoever waits on it sees the ending printed
        finally:
            self.finished.set()

    def _ended_by(self, error: WscliError) -> Ended:
        code = self.stream.close_code  # set when a close frame arrived
        reason = self.stream.close_reason if code is not None else ""
        if self._closing is not None:  # we asked to close: any ending is the close we wanted
            return Ended(code, reason, by_us=True)
        if code in PEER_CLOSE_CODES:  # a peer that says goodbye has not dropped us
            return Ended(code, reason)
        return Ended(getattr(error, "close_code", None), error=error)

    def close(self, code: int = 1000, reason: str = "", timeout: float = CLOSE_WAIT) -> None:
        """Send a close frame and wait (bounded) for the peer's answer; idempotent."""
        ws = self.stream.ws
        if self._closing is None and ws is not None and not self.finished.is_set():
            self._closing = (code, reason)
            payload = code.to_bytes(2, "big") + reason.encode()
            try:
                ws.send_close(code, reason.encode())
                self._record("out", OP_CLOSE, payload)
            except Exception:
                pass  # already gone: the receiver reports how
            self.finished.wait(timeout)
        self.shutdown()

    def shutdown(self) -> None:
        """Drop the socket and let the receiver thread end (bounded)."""
        ws = self.stream.ws
        if ws is not None and not self.finished.is_set():
            if self._closing is None:
                self._closing = (1000, "")
            sock = ws.sock
            if sock is not None:
                try:  # wakes a receiver blocked in recv(); close() alone would not
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            ws.shutdown()  # type: ignore[no-untyped-call]
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(CLOSE_WAIT)

    # -- sending -----------------------------------------------------------------------
    def send(self, opcode: int, payload: bytes) -> None:
        """Send one data frame; a connection that is gone raises its classified error."""
        ws = self.stream.ws
        if ws is None or self.finished.is_set() or self._closing is not None:
            ended = self.ended
            if ended is not None and ended.error is not None:
                raise ended.error
            raise ConnectionLost("the connection is closed", where=self.options.where)
        try:
            ws.send(payload, opcode)
        except Exception as exc:
            raise classify(exc, self.options) from exc
        self._record("out", opcode, payload)

    def ping(self, payload: bytes) -> None:
        """Send a ping; ``on_pong`` gets the round trip when its pong comes back."""
        ws = self.stream.ws
        if ws is None or self.finished.is_set():
            raise ConnectionLost("the connection is closed", where=self.options.where)
        self._pings[payload] = time.monotonic()
        try:
            ws.ping(payload)
        except Exception as exc:
            raise classify(exc, self.options) from exc

    def _pong(self, payload: bytes) -> None:
        sent = self._pings.pop(payload, None)
        if self.on_pong is not None:
            self.on_pong(payload, None if sent is None else time.monotonic() - sent)

    def _record(self, direction: str, opcode: int, payload: bytes) -> None:
        if self.recorder is not None:
            with self._record_lock:
                self.recorder.frame(direction, opcode, payload)


class Exchange:
    """Send frames, then yield the replies: a :class:`~wscli.session.tailing.FrameSource`.

    The wait starts when the last frame is sent: it ends as soon as ``want``
    replies have come (counting from the start), or ``wait`` seconds later.
    ``wait_is_limit`` says whether running out of that time is a failure (the
    default wait behind ``-n``) or simply the end (an explicit ``--wait``).
    ``linger`` keeps reading for the whole wait even once ``want`` replies have
    come: ``replay --expect-same`` must see a reply beyond the recorded ones.
    """

    def __init__(
        self,
        conversation: Conversation,
        outgoing: Iterable[tuple[int, bytes]],
        *,
        want: int | None,
        wait: float,
        wait_is_limit: bool,
        linger: bool = False,
        before_block: Callable[[], None] | None = None,
    ) -> None:
        self.conversation = conversation
        self.outgoing = outgoing
        self.want = want
        self.wait = wait
        self.wait_is_limit = wait_is_limit
        self.linger = linger
        self.before_block = before_block
        self.received = 0
        self.sent = 0
        self._events: queue.Queue[Event] = queue.Queue(QUEUE_LIMIT)
        self._sent_all_at: float | None = None
        self._send_error: WscliError | None = None
        self._done_sending = threading.Event()

    @property
    def options(self) -> ConnectOptions:
        return self.conversation.options

    @property
    def handshake(self) -> Handshake | None:
        return self.conversation.stream.handshake

    def connect(self) -> None:
        self.conversation.open(self._deliver)
        threading.Thread(target=self._send_all, name="wscli-send", daemon=True).start()

    def _deliver(self, event: Event) -> None:
        self._events.put(event)  # blocks when full: the socket waits, nothing is dropped

    def _send_all(self) -> None:
        try:
            for opcode, payload in self.outgoing:
                if self.conversation.finished.is_set():
                    break
                self.conversation.send(opcode, payload)
                self.sent += 1
        except WscliError as error:
            self._send_error = error
        except Exception as exc:  # a bad input source (unreadable file, broken stdin)
            self._send_error = classify(exc, self.options)
        finally:
            self._sent_all_at = time.monotonic()
            self._done_sending.set()

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        try:
            yield from self._replies()
        finally:
            self.conversation.close(1000)

    def _replies(self) -> Iterator[tuple[int, bytes]]:
        events = self._events
        while True:
            if self._done_sending.is_set():
                if self._send_error is not None and self.conversation.ended is None:
                    raise self._send_error
                if self.want is not None and self.received >= self.want and not self.linger:
                    return
                assert self._sent_all_at is not None
                remaining = self._sent_all_at + self.wait - time.monotonic()
                if remaining <= 0:
                    self._out_of_time()
                    return
                timeout = min(remaining, 0.25)
            else:
                timeout = 0.25
            try:
                event = events.get_nowait()
            except queue.Empty:
                if self.before_block is not None:
                    self.before_block()
                try:
                    event = events.get(timeout=timeout)
                except queue.Empty:
                    continue
            if isinstance(event, Received):
                self.received += 1
                yield event.opcode, event.payload
                continue
            self._ended(event)
            return

    def _out_of_time(self) -> None:
        if self.wait_is_limit and self.want is not None and self.received < self.want:
            raise TimedOut(
                f"only {self.received} of {self.want} replies within {self.wait:g} s",
                where=self.options.where,
                hint="raise --wait, or check that the server answers",
            )

    def _ended(self, ended: Ended) -> None:
        if ended.error is not None:
            raise ended.error
        if ended.by_us:
            return
        if self.want is not None and self.received < self.want:
            raise CheckFailed(
                f"server closed the connection ({ended.describe()})"
                f" after {self.received} of {self.want} replies",
                where=self.options.where,
            )
        raise ServerClosed(ended.code, ended.reason)
