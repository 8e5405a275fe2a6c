"""Heartbeat: when a silent peer is declared dead, and what keeps it alive.

A scripted raw peer that never answers pings stands in for a stopped server
process (TCP stays open, nothing arrives). Timings are chosen so that each wrong
rule gives an answer seconds away from the right one; lower bounds are exact,
upper bounds scale with ``WSCLI_TEST_TIMEOUT_FACTOR``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.cli import run_cli, unit
from tests.support.raw_peer import PeerConnection, RawPeer


def silent_after_hello(conn: PeerConnection) -> None:
    conn.text('{"hello": 1}')
    conn.silence(unit(30))


def tail_until_dead(url: str, interval: float, timeout: float) -> tuple[float, str]:
    """Seconds from connecting until tail declares the peer dead (exit 8)."""
    start = time.monotonic()
    result = run_cli(
        "tail", url, "--no-reconnect", "--duration", str(unit(6)),
        "--ping-interval", str(interval), "--ping-timeout", str(timeout),
        expect=8,
    )  # fmt: skip
    elapsed = time.monotonic() - start
    assert result.json_lines == [{"hello": 1}]
    assert f"no answer to ping within {timeout:g} s" in result.stderr, result.stderr
    return elapsed, result.stderr


@pytest.mark.slow
def test_deadline_comes_from_ping_timeout_not_interval() -> None:
    """Ping at 0.1 s, dead at 0.1 + 1.0 s: not at 0.2 s (the interval used twice)."""
    with RawPeer(silent_after_hello) as peer:
        elapsed, _ = tail_until_dead(peer.url, interval=0.1, timeout=1.0)
    assert 1.1 - 0.05 <= elapsed < 1.1 + unit(3)


@pytest.mark.slow
def test_short_timeout_after_a_long_interval() -> None:
    """Ping at 1.0 s, dead at 1.0 + 0.3 s, not 1.0 + 1.0 s and not at the first ping."""
    with RawPeer(silent_after_hello) as peer:
        elapsed, _ = tail_until_dead(peer.url, interval=1.0, timeout=0.3)
    assert 1.3 - 0.05 <= elapsed < 1.3 + unit(3)


@pytest.mark.slow
def test_deadline_is_not_pushed_back_by_later_pings() -> None:
    """Pings every 0.2 s keep going, but the first unanswered one sets the deadline."""
    received: list[int] = []

    def count_pings(conn: PeerConnection) -> None:
        conn.text('{"hello": 1}')
        conn.silence(unit(30))
        received.append(conn.received)

    with RawPeer(count_pings) as peer:
        elapsed, _ = tail_until_dead(peer.url, interval=0.2, timeout=1.0)
    assert 1.2 - 0.05 <= elapsed < 1.2 + unit(3)
    # Each masked client ping with the 5-byte payload "wscli" is 2 + 4 + 5 = 11 bytes:
    # at least five (at 0.2 ... 1.0 s) were sent while the first went unanswered.
    assert received and received[0] >= 5 * 11


# Life tests: frames 0.1 s apart for three timeouts' time, never a pong. The timeout
# scales with the machine's load so that a late frame is not mistaken for death.
LIFE_TIMEOUT = round(unit(0.4), 2)
LIFE_FRAMES = int(LIFE_TIMEOUT * 3 / 0.1)


def tail_chatty_peer(script: Callable[[PeerConnection], None]) -> tuple[float, Any]:
    with RawPeer(script) as peer:
        start = time.monotonic()
        result = run_cli(
            "tail", peer.url, "--no-reconnect", "--duration", str(unit(8)),
            "--ping-interval", "0.1", "--ping-timeout", str(LIFE_TIMEOUT),
            expect=8,
        )  # fmt: skip
        elapsed = time.monotonic() - start
    assert f"no answer to ping within {LIFE_TIMEOUT:g} s" in result.stderr, result.stderr
    return elapsed, result


@pytest.mark.slow
def test_any_inbound_frame_counts_as_life() -> None:
    """Data frames and pings from the peer, never a pong: alive while they keep coming."""

    def chatty_without_pongs(conn: PeerConnection) -> None:
        for n in range(LIFE_FRAMES):
            conn.text(f'{{"n": {n}}}') if n % 2 == 0 else conn.ping(b"x")
            conn.silence(0.1)  # reads the client's pings, answers none
        conn.silence(unit(30))

    elapsed, result = tail_chatty_peer(chatty_without_pongs)
    assert result.json_lines == [{"n": n} for n in range(0, LIFE_FRAMES, 2)]
    assert elapsed >= (LIFE_FRAMES - 1) * 0.1 + LIFE_TIMEOUT - 0.05  # last frame, then dead


@pytest.mark.slow
def test_only_pings_from_the_peer_also_count_as_life() -> None:
    """A peer that sends nothing but pings is alive, not dead one timeout after our ping."""

    def pings_only(conn: PeerConnection) -> None:
        conn.text('{"hello": 1}')
        for _ in range(LIFE_FRAMES):
            conn.ping(b"p")
            conn.silence(0.1)
        conn.silence(unit(30))

    elapsed, result = tail_chatty_peer(pings_only)
    assert result.json_lines == [{"hello": 1}]
    assert elapsed >= (LIFE_FRAMES - 1) * 0.1 + LIFE_TIMEOUT - 0.05  # last frame, then dead


@pytest.mark.slow
def test_ping_interval_zero_disables_the_heartbeat() -> None:
    """--ping-interval 0: no pings, no deadline; a silent peer ends only by --duration."""
    received: list[int] = []

    def quiet(conn: PeerConnection) -> None:
        conn.text('{"hello": 1}')
        conn.silence(unit(30))
        received.append(conn.received)

    with RawPeer(quiet) as peer:
        start = time.monotonic()
        result = run_cli(
            "tail", peer.url, "--duration", "0.5", "--ping-interval", "0", "--ping-timeout", "0.1"
        )
        elapsed = time.monotonic() - start
    assert result.json_lines == [{"hello": 1}]
    assert 0.5 - 0.05 <= elapsed < 0.5 + unit(3)
    # Only the client's close frame (masked, code 1000: 2 + 4 + 2 bytes) arrived.
    assert received == [8]


def test_ping_interval_zero_with_a_server_close() -> None:
    """No timer at all: the stream still reads until the server's normal close."""

    def hello_then_close(conn: PeerConnection) -> None:
        conn.text('{"hello": 1}')
        conn.silence(0.3)
        conn.close(1000)

    with RawPeer(hello_then_close) as peer:
        result = run_cli("tail", peer.url, "--ping-interval", "0")
    assert result.json_lines == [{"hello": 1}]
    assert "server closed the stream" in result.stderr
