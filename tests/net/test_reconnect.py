"""Reconnect policy pinned: full jitter's spread, the 30 s cap, and when retries reset."""

from __future__ import annotations

import json
import random
import re
import statistics
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli, unit
from wscli.net.stream import BACKOFF_CAP, backoff_delay


class Ceiling(random.Random):
    """A seeded RNG whose ``uniform`` answers its upper bound: the ceiling itself."""

    def uniform(self, a: float, b: float) -> float:
        assert a == 0
        return b


def test_full_jitter_spreads_evenly_over_zero_to_the_ceiling() -> None:
    """2000 seeded draws at ceiling 2 s: every tenth of [0, 2] gets its share."""
    rng = random.Random(12)
    ceiling = 0.5 * 2**2  # attempt 3, base 0.5
    delays = [backoff_delay(3, 0.5, BACKOFF_CAP, rng) for _ in range(2000)]
    assert all(0.0 <= d <= ceiling for d in delays)
    bins = [0] * 10
    for d in delays:
        bins[min(int(d / ceiling * 10), 9)] += 1
    assert all(150 <= b <= 250 for b in bins), bins  # 200 expected in each
    assert min(delays) < 0.01 * ceiling and max(delays) > 0.99 * ceiling
    assert statistics.mean(delays) == pytest.approx(ceiling / 2, rel=0.05)


def test_same_seed_same_delays() -> None:
    first = [backoff_delay(a, 0.5, 30, random.Random(7)) for a in range(1, 8)]
    again = [backoff_delay(a, 0.5, 30, random.Random(7)) for a in range(1, 8)]
    assert first == again


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(0, 0.5), (1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (6, 16.0), (7, 30.0), (8, 30.0)],
)
def test_ceiling_doubles_per_attempt_up_to_the_cap(attempt: int, ceiling: float) -> None:
    assert backoff_delay(attempt, 0.5, BACKOFF_CAP, Ceiling()) == ceiling


@pytest.mark.parametrize("attempt", [64, 1024, 1025, 1100, 10**6])
def test_cap_holds_at_high_attempt_numbers(attempt: int) -> None:
    """Thousands of attempts (``--retries 100000`` through a long outage): 30 s, no overflow."""
    assert backoff_delay(attempt, 0.5, BACKOFF_CAP, Ceiling()) == 30.0
    assert 0 <= backoff_delay(attempt, 0.5, BACKOFF_CAP, random.Random(attempt)) <= 30.0


def test_cap_is_30_seconds() -> None:
    assert BACKOFF_CAP == 30.0


def test_base_scales_the_ceiling() -> None:
    assert backoff_delay(1, 0.05, BACKOFF_CAP, Ceiling()) == 0.05
    assert backoff_delay(3, 0.05, BACKOFF_CAP, Ceiling()) == pytest.approx(0.2)


# -- the retry count resets once a connection delivers messages -----------------------------


def test_retries_reset_after_a_connection_delivers(serve: Any) -> None:
    """Each connection delivers 3 then drops: --retries 1 still reaches 10 messages.

    Without the reset the second drop would be attempt 2 of 1 and end the run.
    """
    server = serve(drop_after=3, rate=0)
    result = run_cli("tail", server.url, "-n", "10", "--retries", "1", "--backoff", "0.01")
    assert len(result.json_lines) == 10
    assert result.stderr.count("(attempt 1/1)") == 3, result.stderr
    assert "attempt 2/" not in result.stderr


def test_retries_do_not_reset_for_connections_that_deliver_nothing(serve: Any) -> None:
    """Connections that open and drop at once are failures that add up: exit 8 at 3 of 2."""
    server = serve(drop_after=0, rate=0)
    start = time.monotonic()
    result = run_cli(
        "tail", server.url, "--retries", "2", "--backoff", "0.01",
        "--duration", str(unit(10)), "--ping-interval", "0",
        expect=8,
    )  # fmt: skip
    assert time.monotonic() - start < unit(5)
    lines = result.stderr.splitlines()
    assert lines[-1] == (
        "wscli: error: connection lost: 1006 (abnormal closure); gave up after 2 reconnect"
        " attempts (each new connection dropped before a message came)"
        f" (127.0.0.1:{server.port}):"
        " the peer or a proxy dropped the TCP connection without a close frame"
    ), result.stderr
    assert "(attempt 1/2)" in result.stderr and "(attempt 2/2)" in result.stderr
    assert "attempt 3/" not in result.stderr
    assert len(server.connections) == 3  # the first connection and two reconnects


def test_no_reconnect_means_no_second_connection(serve: Any) -> None:
    server = serve(drop_after=2, rate=0)
    result = run_cli("tail", server.url, "--no-reconnect", expect=8)
    assert len(result.json_lines) == 2
    assert "reconnect" not in result.stderr
    assert len(server.connections) == 1


def test_zero_retries_gives_up_on_the_first_drop(serve: Any) -> None:
    server = serve(drop_after=2, rate=0)
    result = run_cli("tail", server.url, "--retries", "0", expect=8)
    assert len(result.json_lines) == 2
    assert "1006 (abnormal closure)" in result.stderr
    assert len(server.connections) == 1


@pytest.mark.parametrize("retries", [1, 2])
def test_giving_up_names_the_drop_and_the_last_failure(retries: int) -> None:
    """One message, then the server is gone: two refused reconnects, exit 8 naming both."""
    from tests.support.raw_peer import PeerConnection, RawPeer

    peers: list[RawPeer] = []

    def once_then_gone(conn: PeerConnection) -> None:
        conn.text('{"n": 1}')
        peers[0].listener.close()  # no more connections: reconnects are refused

    peers.append(RawPeer(once_then_gone))
    with peers[0] as peer:
        result = run_cli(
            "tail", peer.url, "--retries", str(retries), "--backoff", "0.01",
            "--ping-interval", "0",
            expect=8,
        )  # fmt: skip
    lines = result.stderr.splitlines()
    assert result.json_lines == [{"n": 1}]
    assert ("reconnect failed (connection refused); retrying in" in result.stderr) == (retries > 1)
    assert lines[-1] == (
        "wscli: error: connection lost: 1006 (abnormal closure); gave up after"
        f" {retries} reconnect"
        " attempts (last: connection refused) (127.0.0.1:" + str(peer.port) + "): nothing is"
        " listening on port " + str(peer.port) + ": is the server running?"
        " (`wscli probe URL` checks each step)"
    )


@pytest.mark.parametrize(
    ("status", "retried"), [(499, False), (500, True), (503, True), (429, True), (401, False)]
)
def test_handshake_statuses_worth_a_reconnect(status: int, retried: bool) -> None:
    from wscli.errors import HandshakeRejected
    from wscli.net.stream import is_retryable

    assert is_retryable(HandshakeRejected("x", status=status)) is retried
    assert is_retryable(HandshakeRejected("x")) is False


# -- what a reconnect says, on stderr and in the tap --------------------------------------


def test_reconnect_messages_name_the_cause_attempt_and_gap(serve: Any) -> None:
    server = serve(close_after=3, close_code=1011, rate=0)
    result = run_cli("tail", server.url, "-n", "7", "--retries", "4", "--backoff", "0.01")
    notes = [line for line in result.stderr.splitlines() if "connection lost" in line]
    assert len(notes) == 2
    assert all(
        re.fullmatch(
            r"wscli: connection lost \(1011 \(internal error\)\); reconnecting in 0\.0 s"
            r" \(attempt 1/4\)",
            note,
        )
        for note in notes
    ), notes
    back = [line for line in result.stderr.splitlines() if "reconnected" in line]
    assert len(back) == 2
    assert all(
        re.fullmatch(
            r"wscli: reconnected after \d\.\d s \(1011 \(internal error\)\), attempt 1/4", line
        )
        for line in back
    ), back


def test_the_tap_records_each_disconnect_and_reconnect(serve: Any, tmp_path: Path) -> None:
    server = serve(drop_after=2, rate=0)
    tap = tmp_path / "tap.jsonl"
    run_cli("tail", server.url, "-n", "5", "--backoff", "0.01", "--tap", str(tap))
    events = [
        (record["event"], record.get("attempt"), record.get("reason"))
        for record in map(json.loads, tap.read_text().splitlines()[1:])
        if record.get("event") in ("disconnect", "reconnect")
    ]
    lost = "connection lost: 1006 (abnormal closure)"
    assert events == [
        ("disconnect", None, lost),
        ("reconnect", 1, None),
        ("disconnect", None, lost),
        ("reconnect", 1, None),
    ]


def test_a_backoff_past_the_duration_ends_the_run_cleanly(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--duration 1 and a 30 s delay (the cap): stop at the drop, exit 0, no reconnect.

    The jitter is pinned at its ceiling: a uniform draw over [0, 30 s] lands inside
    the remaining second about one run in 30, and then the run rightly reconnects.
    """
    import wscli.net.stream

    def at_ceiling(attempt: int, base: float, cap: float, rng: random.Random) -> float:
        return backoff_delay(attempt, base, cap, Ceiling())

    monkeypatch.setattr(wscli.net.stream, "backoff_delay", at_ceiling)
    server = serve(drop_after=2, rate=0)
    start = time.monotonic()
    result = run_cli("tail", server.url, "--duration", "1", "--backoff", "10000")
    assert time.monotonic() - start < unit(3)
    assert len(result.json_lines) == 2
    assert "reconnecting in 30.0 s" in result.stderr and "reconnected" not in result.stderr
    assert len(server.connections) == 1
