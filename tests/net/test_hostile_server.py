"""Hostile servers on raw sockets: deadlines, oversized answers, protocol breaks, escapes.

Issue #6 items 8, 9 and 15: each test runs the installed ``wscli`` against a real
socket that misbehaves, and fails on the code before the fix.
"""

from __future__ import annotations

import time

import pytest
from websocket._abnf import ABNF

from tests.support.cli import run_wscli, unit
from tests.support.hostile_server import (
    HostileServer,
    Peer,
    close_frame,
    server_frame,
    switching_protocols,
)


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("wscli: error: ")
    return lines[0]


@pytest.mark.slow
def test_trickled_101_cannot_stretch_the_connect_timeout() -> None:
    """A 101 sent one byte every 0.2 s ends at --connect-timeout (it took 64 s before)."""

    def trickle(peer: Peer, request: bytes) -> None:
        for byte in switching_protocols(request):
            if not peer.send(bytes([byte])) or not peer.wait(0.2):
                return

    with HostileServer(trickle) as server:
        started = time.monotonic()
        result = run_wscli("tail", server.url, "-n", "1", "--connect-timeout", "1", expect=7)
        took = time.monotonic() - started
    line = one_line(result.stderr)
    assert "connect timeout after 1 s" in line and "upgrade" in line
    assert took < unit(6), took


@pytest.mark.slow
def test_megabytes_of_headers_are_refused_at_64_kib() -> None:
    """2 MB of response headers: exit 6 "response headers too large", quickly."""

    def flood(peer: Peer, request: bytes) -> None:
        if not peer.send(b"HTTP/1.1 101 Switching Protocols\r\n"):
            return
        pad = b"X-Pad: " + b"a" * 1000 + b"\r\n"
        for _ in range(2000):
            if not peer.send(pad):
                return

    with HostileServer(flood) as server:
        started = time.monotonic()
        result = run_wscli("tail", server.url, "-n", "1", "--connect-timeout", "20", expect=6)
        took = time.monotonic() - started
    assert "response headers too large" in one_line(result.stderr)
    assert took < unit(10), took


@pytest.mark.slow
def test_rejection_with_a_huge_content_length_reports_the_status() -> None:
    """A 401 announcing a 1 GB body it never sends is still reported as HTTP 401 (exit 6)."""

    def liar(peer: Peer, request: bytes) -> None:
        peer.send(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 1000000000\r\n\r\ntoken expired\n")
        peer.drain(10)

    with HostileServer(liar) as server:
        result = run_wscli("tail", server.url, "-n", "1", "--connect-timeout", "1", expect=6)
    line = one_line(result.stderr)
    assert "HTTP 401" in line and "token expired" in line


@pytest.mark.slow
def test_masked_frame_from_the_server_fails_the_connection() -> None:
    """RFC 6455 §5.1: a client must fail the connection on a masked frame: exit 8."""

    def masked(peer: Peer, request: bytes) -> None:
        peer.send(switching_protocols(request))
        peer.send(server_frame(ABNF.OPCODE_TEXT, b'{"type": "x"}', masked=True))
        peer.drain(5)

    with HostileServer(masked) as server:
        result = run_wscli("tail", server.url, "-n", "1", "--no-reconnect", expect=8)
    assert result.stdout == ""
    assert "the server sent a masked frame (RFC 6455 section 5.1 forbids it)" in one_line(
        result.stderr
    )


@pytest.mark.slow
def test_close_code_999_is_called_a_close_code() -> None:
    """A close with the forbidden code 999 is a protocol error (exit 8) that says "close code"."""

    def bad_close(peer: Peer, request: bytes) -> None:
        peer.send(switching_protocols(request))
        peer.send(close_frame(999, b"bye"))
        peer.drain(5)

    with HostileServer(bad_close) as server:
        result = run_wscli("tail", server.url, "-n", "1", "--no-reconnect", expect=8)
    line = one_line(result.stderr)
    assert "close code 999" in line and "opcode" not in line


HOSTILE = "\x1b]0;PWNED\x07\x1b[2J\u202eevil\u200f\u061c"


def _assert_escaped(stderr: str) -> None:
    for raw in ("\x1b", "\x07", "\u202e", "\u200f", "\u061c"):
        assert raw not in stderr, repr(stderr)
    assert "\\x1b]0;PWNED\\x07" in stderr and "\\u202e" in stderr
    assert "\\u200f" in stderr and "\\u061c" in stderr


@pytest.mark.slow
@pytest.mark.parametrize("place", ["close reason", "status line", "header", "body"])
def test_server_text_in_error_lines_is_escaped(place: str) -> None:
    """Close reasons, status lines, headers and bodies reach stderr escaped, bidi marks too."""
    hostile = HOSTILE.encode()

    def script(peer: Peer, request: bytes) -> None:
        if place == "close reason":
            peer.send(switching_protocols(request))
            peer.send(close_frame(4001, hostile))
        elif place == "status line":
            peer.send(b"HTTP/1.1 403 " + hostile + b"\r\nContent-Length: 0\r\n\r\n")
        elif place == "header":
            peer.send(b"HTTP/1.1 302 Found\r\nLocation: " + hostile + b"\r\n\r\n")
        else:
            body = b"denied " + hostile + b"\n"
            peer.send(b"HTTP/1.1 400 Bad\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        peer.drain(5)

    with HostileServer(script) as server:
        result = run_wscli("tail", server.url, "-n", "1", "--no-reconnect", expect=None)
    assert result.exit_code in (6, 8), result.stderr
    _assert_escaped(one_line(result.stderr))


@pytest.mark.slow
def test_a_reconnect_note_escapes_the_close_reason_too() -> None:
    """The reconnect notes on stderr carry the same escaped text as the final error."""

    def script(peer: Peer, request: bytes) -> None:
        peer.send(switching_protocols(request))
        peer.send(close_frame(4001, HOSTILE.encode()))
        peer.drain(5)

    with HostileServer(script) as server:
        result = run_wscli(
            "tail", server.url, "--retries", "1", "--backoff", "0.01", "-v", expect=8
        )
    _assert_escaped(result.stderr)


def test_serve_log_escapes_what_a_client_sent() -> None:
    """serve's stderr quotes the client's path: a hostile path cannot drive the terminal."""
    import socket
    import subprocess
    from urllib.parse import urlsplit

    from tests.support.cli import clean_env, wscli_executable

    proc = subprocess.Popen(
        [wscli_executable(), "serve", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=clean_env(),
        text=True,
    )
    try:
        assert proc.stderr is not None
        url = proc.stderr.readline().split()[1]
        port = urlsplit(url).port
        assert port
        with socket.create_connection(("127.0.0.1", port), timeout=unit(5)) as sock:
            sock.sendall(
                b"GET /\x1b]0;PWNED\x07 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n"
            )
            assert sock.recv(100).startswith(b"HTTP/1.1 404")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=unit(10))
    assert "rejected 404" in err
    assert "\x1b" not in err and "\\x1b]0;PWNED\\x07" in err


@pytest.mark.slow
def test_trickling_http_proxy_cannot_stretch_the_connect_timeout() -> None:
    """A proxy answering CONNECT one byte every 0.5 s: exit 7 at the deadline, proxy named."""

    def trickle(peer: Peer, request: bytes) -> None:
        for byte in b"HTTP/1.1 200 Connection established\r\n\r\n":
            if not peer.send(bytes([byte])) or not peer.wait(0.5):
                return

    with HostileServer(trickle) as proxy:
        started = time.monotonic()
        result = run_wscli(
            "tail", "ws://127.0.0.1:9/x", "--proxy", f"http://127.0.0.1:{proxy.port}",
            "--connect-timeout", "1", expect=7,
        )  # fmt: skip
        took = time.monotonic() - started
    line = one_line(result.stderr)
    assert "connect timeout after 1 s (reaching the proxy)" in line
    assert f"http proxy 127.0.0.1:{proxy.port} (from --proxy)" in line
    assert took < unit(5), took
