"""A stream of messages that survives drops: heartbeat, deadlines and reconnects.

Built on :func:`wscli.net.connection.open_connection`; every failure it meets has
already been classified there, so this module only decides *what to do next*:
ping, give up, or reconnect with exponential backoff and full jitter.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wscli.endings import idle_timeout
from wscli.errors import (
    ConnectionLost,
    ConnectionRefused,
    HandshakeRejected,
    TimedOut,
    WscliError,
)
from wscli.frames import (
    ABNORMAL_CLOSURE,
    OP_BINARY,
    OP_CLOSE,
    OP_PONG,
    OP_TEXT,
    describe_close,
)
from wscli.net.connection import classify, open_connection
from wscli.net.tap import Tap
from wscli.net.target import ConnectOptions, Handshake, server_close

if TYPE_CHECKING:
    import random

    from wscli.net.transport import BufferedWebSocket


BACKOFF_CAP = 30.0
NORMAL_CLOSE_CODES = frozenset({1000})


@dataclass(frozen=True)
class StreamEvent:
    """Something the user should hear about on stderr (drop, reconnect)."""

    kind: str  # "disconnected" | "retrying" | "reconnected"
    cause: str = ""
    attempt: int = 0
    retries: int = 0
    gap: float = 0.0
    delay: float = 0.0
    close_code: int | None = None


@dataclass
class StreamPolicy:
    """How long and how hard to keep a stream going."""

    reconnect: bool = True
    retries: int = 5
    backoff: float = 0.5
    backoff_cap: float = BACKOFF_CAP
    idle_timeout: float | None = None
    end_at: float = math.inf  # monotonic deadline (--duration)


class _Dropped(Exception):
    def __init__(self, error: WscliError, *, retryable: bool = True) -> None:
        super().__init__(error.message)
        self.error = error
        self.retryable = retryable


class ServerClosed(Exception):
    """The server ended the stream with a normal close (1000)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(describe_close(code, reason))
        self.code = code
        self.reason = reason


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter (AWS architecture blog, 2015)."""
    try:
        ceiling = min(cap, base * 2.0 ** max(0, attempt - 1))
    except OverflowError:  # past attempt ~1025 (a large --retries): long past the cap
        ceiling = cap
    return rng.uniform(0, ceiling)


def is_retryable(error: WscliError) -> bool:
    """Transient failures are worth another attempt; auth, TLS, DNS and size are not."""
    if isinstance(error, ConnectionLost):
        return error.close_code != 1009  # the same oversized frame would come again
    if isinstance(error, (ConnectionRefused, TimedOut)):
        return True
    if isinstance(error, HandshakeRejected):
        return error.status is not None and (error.status >= 500 or error.status == 429)
    return False


class Stream:
    """Iterate over ``(opcode, payload)`` data messages, surviving drops.

    Heartbeat: a ping every ``ping_interval``; if nothing at all arrives within
    ``ping_timeout`` of a ping, the peer is declared dead (a stopped process
    keeps the TCP connection open forever otherwise). Any inbound frame counts
    as life, so a client that is behind on a busy stream is not misjudged.
    """

    def __init__(
        self,
        options: ConnectOptions,
        policy: StreamPolicy,
        *,
        tap: Tap | None = None,
        on_event: Callable[[StreamEvent], None] | None = None,
        before_block: Callable[[], None] | None = None,
        rng: random.Random | None = None,
        threadsafe: bool = False,
        on_pong: Callable[[bytes], None] | None = None,
    ) -> None:
        self.options = options
        self.policy = policy
        self.tap = tap
        self.on_event = on_event
        self.before_block = before_block
        self._rng = rng
        self.threadsafe = threadsafe  # sends come from another thread too (connect)
        self.on_pong = on_pong  # sees every pong (connect's /ping round trip)
        self.ws: BufferedWebSocket | None = None
        self.handshake: Handshake | None = None
        self.reconnects = 0
        self.close_code: int | None = None
        self.close_reason = ""
        self._delivered = False  # since the last drop
        self._failures = 0

    @property
    def rng(self) -> random.Random:
        """The backoff's jitter, made when first needed: start-up skips importing random."""
        if self._rng is None:
            import random

            self._rng = random.Random()
        return self._rng

    def connect(self) -> None:
        """First connection: failures are reported at once, not retried (like curl)."""
        self._open()

    def _open(self) -> None:
        ws, handshake = open_connection(self.options, self.tap, threadsafe=self.threadsafe)
        ws.before_block = self.before_block
        self.ws, self.handshake = ws, handshake
        if self.tap is not None and self.tap.enabled:
            self.tap.event("connect", url=self.tap.redactor.url(self.options.url))

    def close(self) -> None:
        ws = self.ws
        self.ws = None
        if ws is None:
            return
        try:
            ws.before_block = None
            ws.deadline = time.monotonic() + 1.0
            ws.close(timeout=1.0)
        except Exception:
            ws.shutdown()

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        if self.ws is None:
            self._open()
        while True:
            try:
                yield from self._pump()
                return
            except _Dropped as dropped:
                if not self._reconnect(dropped):
                    return

    def _pump(self) -> Iterator[tuple[int, bytes]]:
        import websocket

        ws = self.ws
        assert ws is not None
        options, policy = self.options, self.policy
        monotonic = time.monotonic
        inf = math.inf
        interval = options.ping_interval if options.ping_interval else None
        idle = policy.idle_timeout
        end_at = policy.end_at
        now = monotonic()
        next_ping = now + interval if interval else inf
        pong_due = inf
        idle_due = now + idle if idle else inf
        while True:
            deadline = min(next_ping, pong_due, idle_due, end_at)
            # No timer at all (--ping-interval 0, no --idle-timeout or --duration): no
            # deadline, as a socket timeout cannot be infinite.
            ws.deadline = deadline if deadline != inf else None
            try:
                frames = ws.next_frames()
            except websocket.WebSocketTimeoutException:
                now = monotonic()
                if now >= end_at:
                    return
                if now >= pong_due:
                    raise _Dropped(
                        ConnectionLost(
                            f"no answer to ping within {options.ping_timeout:g} s:"
                            " peer unresponsive",
                            close_code=ABNORMAL_CLOSURE,
                            where=options.where,
                            hint="the server or the network path is stalled",
                        )
                    ) from None
                if now >= idle_due:
                    raise idle_timeout(idle or 0.0, where=options.where) from None
                if now >= next_ping:
                    self._send_ping(ws)
                    pong_due = min(pong_due, now + options.ping_timeout)
                    next_ping = now + interval if interval else inf
                continue
            except Exception as exc:  # every library/socket failure is a drop
                error = classify(exc, options)
                raise _Dropped(error, retryable=is_retryable(error)) from exc
            pong_due = inf
            opcode, payload = frames[0]
            if opcode == OP_TEXT or opcode == OP_BINARY:
                # A batch holds data frames only; a control frame always comes alone.
                self._delivered = True
                yield from frames
                if idle:
                    idle_due = monotonic() + idle
            elif opcode == OP_CLOSE:
                code, reason = server_close(payload, options)
                self.close_code, self.close_reason = code, reason
                ws.shutdown()
                if code is None or code in NORMAL_CLOSE_CODES:
                    raise ServerClosed(code, reason)
                raise _Dropped(
                    ConnectionLost(
                        f"server closed the connection: {describe_close(code, reason)}",
                        close_code=code,
                        where=options.where,
                    )
                )
            elif opcode == OP_PONG:
                if self.on_pong is not None:
                    self.on_pong(payload)
                continue

    def _send_ping(self, ws: BufferedWebSocket) -> None:
        try:
            ws.ping(b"wscli")
        except Exception as exc:
            raise _Dropped(classify(exc, self.options)) from exc

    def _reconnect(self, dropped: _Dropped) -> bool:
        """Reconnect with backoff; False when the deadline ends the stream meanwhile."""
        error = dropped.error
        lost_at = time.monotonic()
        if self.ws is not None:
            self.ws.shutdown()
        self.ws = None
        if self.tap is not None and self.tap.enabled:
            self.tap.event("disconnect", reason=error.message)
        policy = self.policy
        if not policy.reconnect or not dropped.retryable:
            raise error
        if self._delivered:
            self._failures = 0
            self._delivered = False
        cause = describe_close(getattr(error, "close_code", None) or ABNORMAL_CLOSURE)
        first_error = error
        while True:
            self._failures += 1
            attempt = self._failures
            if attempt > policy.retries:
                raise self._gave_up(first_error, error, policy.retries)
            delay = backoff_delay(attempt, policy.backoff, policy.backoff_cap, self.rng)
            self._emit(
                StreamEvent(
                    "disconnected" if error is first_error else "retrying",
                    cause=cause if error is first_error else error.message,
                    attempt=attempt,
                    retries=policy.retries,
                    delay=delay,
                    close_code=getattr(error, "close_code", None),
                )
            )
            if time.monotonic() + delay >= policy.end_at:
                return False
            time.sleep(delay)
            try:
                self._open()
            except WscliError as exc:
                if not is_retryable(exc):
                    raise
                error = exc
                continue
            self.reconnects += 1
            if self.tap is not None and self.tap.enabled:
                self.tap.event("reconnect", attempt=attempt)
            self._emit(
                StreamEvent(
                    "reconnected",
                    cause=cause,
                    attempt=attempt,
                    retries=policy.retries,
                    gap=time.monotonic() - lost_at,
                )
            )
            return True

    @staticmethod
    def _gave_up(first: WscliError, last: WscliError, retries: int) -> WscliError:
        """The stream is lost for good: exit 8, saying what the last attempt met.

        ``last is first`` with retries left means the attempts were spent by earlier
        reconnects that got through and dropped again before any message came.
        """
        if retries == 0:
            return first
        if last is first:
            what = "each new connection dropped before a message came"
        else:
            what = f"last: {last.message}"
        return ConnectionLost(
            f"{first.message}; gave up after {retries} reconnect attempts ({what})",
            close_code=getattr(first, "close_code", None),
            where=first.where,
            hint=last.hint,
        )

    def _emit(self, event: StreamEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)
