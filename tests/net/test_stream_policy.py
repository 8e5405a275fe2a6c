"""Reconnect policy, as pure functions: backoff bounds and what is worth retrying."""

from __future__ import annotations

import random

from wscli.errors import (
    ConnectionLost,
    ConnectionRefused,
    HandshakeRejected,
    NameResolutionFailed,
    TimedOut,
    TLSFailure,
)
from wscli.net.stream import backoff_delay, is_retryable


def test_backoff_grows_exponentially_with_full_jitter_and_a_cap() -> None:
    """Each delay lies in [0, min(cap, base * 2**(attempt-1))]."""
    rng = random.Random(1)
    for attempt in range(1, 12):
        ceiling = min(5.0, 0.5 * 2 ** (attempt - 1))
        delays = [backoff_delay(attempt, 0.5, 5.0, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # jitter spreads over the whole range


def test_what_is_retried() -> None:
    """Drops, refusals, timeouts, 5xx and 429 are retried; auth, TLS, DNS and size are not."""
    assert is_retryable(ConnectionLost("x", close_code=1006))
    assert not is_retryable(ConnectionLost("x", close_code=1009))
    assert is_retryable(ConnectionRefused("x"))
    assert is_retryable(TimedOut("x"))
    assert is_retryable(HandshakeRejected("x", status=503))
    assert is_retryable(HandshakeRejected("x", status=429))
    assert not is_retryable(HandshakeRejected("x", status=401))
    assert not is_retryable(TLSFailure("x"))
    assert not is_retryable(NameResolutionFailed("x"))
