"""``--max-size`` at its boundary: whole frames, K/M units, and fragmented messages.

A scripted raw peer sends frames of exact sizes (a JSON string padded to N bytes),
so the limit is tested where it bites: N passes, N + 1 ends the run with exit 8.
"""

from __future__ import annotations

import json

import click
import pytest

from tests.support.cli import run_cli
from tests.support.raw_peer import PeerConnection, RawPeer
from wscli.options.connection import ByteSize


def json_of_size(size: int) -> str:
    """A JSON string value exactly ``size`` bytes long (ASCII)."""
    assert size >= 2
    return '"' + "a" * (size - 2) + '"'


def send_then_close(*frames: str) -> RawPeer:
    def script(conn: PeerConnection) -> None:
        for frame in frames:
            conn.text(frame)
        conn.close(1000)

    return RawPeer(script)


def send_fragments_then_close(*fragments: str) -> RawPeer:
    """One text message split into ``fragments`` (a text frame, then continuations)."""

    def script(conn: PeerConnection) -> None:
        first, *rest = fragments
        conn.text(first, fin=not rest)
        for index, fragment in enumerate(rest):
            conn.continuation(fragment, fin=index == len(rest) - 1)
        conn.close(1000)

    return RawPeer(script)


def tail(url: str, *args: str, expect: int) -> tuple[list[object], str]:
    result = run_cli("tail", url, "--no-reconnect", "--ping-interval", "0", *args, expect=expect)
    return result.json_lines, result.stderr


@pytest.mark.parametrize("limit", [64, 1000])
def test_a_frame_of_exactly_the_limit_passes(limit: int) -> None:
    with send_then_close(json_of_size(limit)) as peer:
        lines, err = tail(peer.url, "--max-size", str(limit), expect=0)
    assert lines == ["a" * (limit - 2)], err


@pytest.mark.parametrize("limit", [64, 1000])
def test_a_frame_one_byte_over_the_limit_ends_with_exit_8(limit: int) -> None:
    with send_then_close(json_of_size(limit + 1)) as peer:
        lines, err = tail(peer.url, "--max-size", str(limit), expect=8)
    assert lines == []
    assert f"frame of {limit + 1} bytes exceeds --max-size {limit}" in err
    assert err.count("\n") == 1, err


def test_an_oversized_frame_is_not_retried() -> None:
    """The same frame would come again: no reconnect, exit 8 at once."""
    with send_then_close(json_of_size(65)) as peer:
        result = run_cli("tail", peer.url, "--max-size", "64", "--retries", "3", expect=8)
        assert peer.connections == 1
    assert "reconnect" not in result.stderr


@pytest.mark.parametrize(
    ("option", "limit"),
    [("1K", 1024), ("1k", 1024), ("2KiB", 2048), ("1M", 1024**2)],
)
def test_k_and_m_are_binary_units_end_to_end(option: str, limit: int) -> None:
    with send_then_close(json_of_size(limit), json_of_size(limit + 1)) as peer:
        lines, err = tail(peer.url, "--max-size", option, expect=8)
    assert len(lines) == 1 and len(json.dumps(lines[0])) == limit
    assert f"frame of {limit + 1} bytes exceeds --max-size {limit}" in err


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 0),
        ("65536", 65536),
        ("64K", 64 * 1024),
        ("64k", 64 * 1024),
        ("64KB", 64 * 1024),
        ("64KiB", 64 * 1024),
        ("1.5K", 1536),
        ("16M", 16 * 1024**2),
        ("16MiB", 16 * 1024**2),
        ("2G", 2 * 1024**3),
        (" 3 m ", 3 * 1024**2),
    ],
)
def test_byte_size_units(text: str, size: int) -> None:
    assert ByteSize().convert(text, None, None) == size


def test_byte_size_passes_integers_through() -> None:
    assert ByteSize().convert(4096, None, None) == 4096


@pytest.mark.parametrize("text", ["", "K", "12T", "-5", "1.2.3", "ten", "5 KK"])
def test_byte_size_rejects_what_is_not_a_size(text: str) -> None:
    with pytest.raises(click.BadParameter, match="is not a size like 65536, 64K or 16M"):
        ByteSize().convert(text, None, None)


def test_a_bad_size_is_a_usage_error() -> None:
    result = run_cli("tail", "ws://127.0.0.1:9/", "--max-size", "lots", expect=2)
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Usage: ") and lines[0].endswith(" tail [OPTIONS] [URL]")
    assert lines[-1] == (
        "Error: Invalid value for '--max-size': 'lots' is not a size like 65536, 64K or 16M"
    )


# -- fragmented messages: the limit is on the whole message ---------------------------------


def test_fragments_whose_total_passes_the_limit_fail() -> None:
    """Three fragments of 40 bytes, each under 100, add up to 120: exit 8."""
    parts = ['"' + "a" * 39, "b" * 40, "c" * 39 + '"']
    with send_fragments_then_close(*parts) as peer:
        lines, err = tail(peer.url, "--max-size", "100", expect=8)
    assert lines == []
    assert "frame of 120 bytes exceeds --max-size 100" in err


def test_fragments_one_byte_over_the_limit_fail() -> None:
    parts = ['"' + "a" * 49, "b" * 50 + '"']  # 50 + 51 = 101
    with send_fragments_then_close(*parts) as peer:
        lines, err = tail(peer.url, "--max-size", "100", expect=8)
    assert lines == []
    assert "frame of 101 bytes exceeds --max-size 100" in err


def test_fragments_adding_up_to_exactly_the_limit_pass() -> None:
    parts = ['"' + "a" * 49, "b" * 49 + '"']  # 50 + 50 = 100
    with send_fragments_then_close(*parts) as peer:
        lines, err = tail(peer.url, "--max-size", "100", expect=0)
    assert lines == ["a" * 49 + "b" * 49], err


def test_fragmented_messages_are_reassembled_between_whole_ones() -> None:
    """Whole frame, fragmented message, whole frame: three messages in order."""

    def script(conn: PeerConnection) -> None:
        conn.text('{"n": 1}')
        conn.text('{"n": ', fin=False)
        conn.continuation("2", fin=False)
        conn.continuation("}", fin=True)
        conn.text('{"n": 3}')
        conn.close(1000)

    with RawPeer(script) as peer:
        lines, err = tail(peer.url, "--max-size", "8", expect=0)
    assert lines == [{"n": 1}, {"n": 2}, {"n": 3}], err
