"""How a run ended, in words for people and codes for machines (issue #7).

A CI system reads a report's verdict, so every ending is named: the run finished,
was interrupted (Ctrl-C) or terminated (SIGTERM), timed out for one of three
reasons, lost its connection, or could not write. :func:`reason_of` gives the
machine-readable ``reason`` that ``-o json`` reports carry; :func:`stop_phrase` the
words the summary line and the JUnit ``<error>`` use. The three exit-7 causes get
their one-line errors here so ``validate`` and ``tail`` word them alike.

:func:`signals_deferred` keeps a first Ctrl-C or SIGTERM from cutting a report
in half while it is being written: the signal is held and acted on afterwards.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from wscli.errors import (
    BadUsage,
    CheckFailed,
    ConnectionLost,
    ConnectionRefused,
    HandshakeRejected,
    NameResolutionFailed,
    Terminated,
    TimedOut,
    TLSFailure,
    WriteFailed,
    WscliError,
)

# Machine-readable reasons a run did not pass (``-o json`` "reason", JUnit error type).
INVALID_MESSAGES = "invalid_messages"
NO_MESSAGES = "no_messages"
INTERRUPTED = "interrupted"
TERMINATED = "terminated"
CONNECT_TIMEOUT = "connect_timeout"
IDLE_TIMEOUT = "idle_timeout"
COUNT_NOT_REACHED = "count_not_reached"
CLOSED_EARLY = "closed_before_count"
CONNECTION_REFUSED = "connection_refused"
NAME_RESOLUTION = "name_resolution"
TLS_ERROR = "tls_error"
HANDSHAKE_REJECTED = "handshake_rejected"
CONNECTION_LOST = "connection_lost"
WRITE_FAILED = "write_failed"
UNREADABLE_INPUT = "unreadable_input"
ASSERTION_FAILED = "assertion_failed"  # probe: an --expect-*/--max-* check failed
ERROR = "error"

_BY_CLASS: tuple[tuple[type[WscliError], str], ...] = (
    (WriteFailed, WRITE_FAILED),
    (ConnectionRefused, CONNECTION_REFUSED),
    (NameResolutionFailed, NAME_RESOLUTION),
    (TLSFailure, TLS_ERROR),
    (HandshakeRejected, HANDSHAKE_REJECTED),
    (ConnectionLost, CONNECTION_LOST),
    (CheckFailed, CLOSED_EARLY),
    (BadUsage, UNREADABLE_INPUT),
)

_PHRASES = {
    INTERRUPTED: "interrupted",
    TERMINATED: "terminated",
    CONNECT_TIMEOUT: "connect timeout",
    IDLE_TIMEOUT: "idle timeout",
    COUNT_NOT_REACHED: "fewer messages than -n",
    CLOSED_EARLY: "fewer messages than -n",
    CONNECTION_REFUSED: "connection error",
    NAME_RESOLUTION: "connection error",
    TLS_ERROR: "connection error",
    HANDSHAKE_REJECTED: "connection error",
    CONNECTION_LOST: "connection error",
    WRITE_FAILED: "cannot write",
    UNREADABLE_INPUT: "unreadable input",
}


def interrupt_reason(exc: BaseException) -> str:
    """``terminated`` for SIGTERM, ``interrupted`` for Ctrl-C."""
    return TERMINATED if isinstance(exc, Terminated) else INTERRUPTED


def error_reason(error: WscliError) -> str:
    """The machine-readable reason of the error that ended a run."""
    if isinstance(error, TimedOut):
        return error.reason
    for cls, reason in _BY_CLASS:
        if isinstance(error, cls):
            return reason
    return ERROR


def reason_of(
    *, interrupted: BaseException | None, error: WscliError | None, ok: bool, messages: int
) -> str | None:
    """Why a run did not pass, or ``None`` when it did."""
    if interrupted is not None:
        return interrupt_reason(interrupted)
    if error is not None:
        return error_reason(error)
    if ok:
        return None
    return NO_MESSAGES if messages == 0 else INVALID_MESSAGES


def stop_phrase(reason: str | None) -> str:
    """A few words for a summary line when a run ended early; ``""`` when it did not."""
    if reason is None or reason in (INVALID_MESSAGES, NO_MESSAGES):
        return ""
    return _PHRASES.get(reason, "stopped")


# -- the three exit-7 causes and the early close, worded once ----------------------------------


def idle_timeout(idle: float, *, where: str | None) -> TimedOut:
    """No message for ``--idle-timeout`` seconds."""
    return TimedOut(
        f"idle timeout: no message for {idle:g} s (--idle-timeout)",
        where=where,
        hint="raise --idle-timeout, or check that the server is sending",
        reason=IDLE_TIMEOUT,
    )


def count_not_reached(
    got: int, count: int, duration: float | None, *, where: str | None
) -> TimedOut:
    """``--duration`` ended before ``-n`` messages arrived."""
    within = f"within {duration:g} s (--duration)" if duration else "before the deadline"
    return TimedOut(
        f"too few messages: only {got} of {count} messages {within}",
        where=where,
        hint="raise --duration or lower -n",
        reason=COUNT_NOT_REACHED,
    )


def closed_early(got: int, count: int, close: str, *, where: str | None) -> CheckFailed:
    """The server closed normally before ``-n`` messages: the expectation was not met."""
    return CheckFailed(
        f"server closed the stream ({close}) after {got} of {count} messages", where=where
    )


# -- holding signals while a report is written -------------------------------------------------


class HeldSignals:
    """The signals that arrived while held; :meth:`exception` turns the first into its error."""

    def __init__(self) -> None:
        self.received: list[int] = []

    def __bool__(self) -> bool:
        return bool(self.received)

    def exception(self) -> KeyboardInterrupt | None:
        if not self.received:
            return None
        return Terminated() if self.received[0] == signal.SIGTERM else KeyboardInterrupt()


@contextmanager
def signals_deferred() -> Iterator[HeldSignals]:
    """Hold a first SIGINT/SIGTERM until the block is done (reports are written whole).

    Only a signal whose handler raises is held: after a first SIGTERM the handler
    is SIG_DFL, so a second one still kills at once, as users expect. Outside the
    main thread (CliRunner in a worker, a server thread) nothing changes.
    """
    held = HeldSignals()
    if threading.current_thread() is not threading.main_thread():
        yield held
        return

    def hold(signum: int, frame: Any) -> None:
        if held.received:  # a second signal while writing: stop holding
            restore()
            raise held.exception() or KeyboardInterrupt()
        held.received.append(signum)

    previous: dict[int, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        current = signal.getsignal(signum)
        if callable(current):
            previous[signum] = signal.signal(signum, hold)

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        previous.clear()

    try:
        yield held
    finally:
        restore()
