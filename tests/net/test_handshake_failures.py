"""Upgrade answers that are not a WebSocket: HTTP statuses, a bad accept key, bad frames.

A raw HTTP responder answers the upgrade request with a canned response, so each
status the server might send is met for real. Hint wording belongs to the hints'
own tests; these pin the exit code, the status and the one-line shape.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.cli import run_cli, unit
from tests.support.raw_peer import PeerConnection, RawPeer


@contextmanager
def http_responder(response: bytes) -> Iterator[str]:
    """Answer every request on 127.0.0.1:0 with ``response``, then close; yield the URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(unit(5))
                request = b""
                try:
                    while b"\r\n\r\n" not in request:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        request += chunk
                    conn.sendall(response)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"ws://127.0.0.1:{listener.getsockname()[1]}/ws"
    finally:
        stop.set()
        thread.join(timeout=unit(10))
        listener.close()


def http(status: str, body: bytes = b"", *headers: str) -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers, "", ""]
    return "\r\n".join(head).encode() + body


def one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("wscli: error: "), stderr
    return lines[0]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (http("503 Service Unavailable", b"backend down\n"), "HTTP 503 Service Unavailable"),
        (http("502 Bad Gateway"), "HTTP 502 Bad Gateway"),
        (http("429 Too Many Requests", b"", "Retry-After: 5"), "HTTP 429 Too Many Requests"),
        (http("500 Internal Server Error"), "HTTP 500 Internal Server Error"),
        (http("418 I'm a teapot"), "HTTP 418"),
    ],
)
def test_http_statuses_are_handshake_rejections(response: bytes, expected: str) -> None:
    with http_responder(response) as url:
        result = run_cli("tail", url, "--retries", "3", expect=6)
    line = one_error_line(result.stderr)
    assert f"handshake rejected: {expected}" in line


def test_the_body_first_line_is_quoted_and_cut_only_past_the_limit() -> None:
    """The first line of the body, whole up to SNIPPET_LIMIT (issue #7: never cut a hint)."""
    from wscli.net.hints import SNIPPET_LIMIT

    body = b"x" * (SNIPPET_LIMIT + 50) + b"\nsecond line"
    with http_responder(http("503 Service Unavailable", body)) as url:
        result = run_cli("tail", url, expect=6)
    line = one_error_line(result.stderr)
    assert f"({'x' * (SNIPPET_LIMIT - 1)}…)" in line and "second line" not in line


def test_short_body_is_quoted_whole() -> None:
    with http_responder(http("503 Service Unavailable", b"  maintenance until 5  \n")) as url:
        result = run_cli("tail", url, expect=6)
    assert "HTTP 503 Service Unavailable (maintenance until 5)" in result.stderr


def test_unknown_status_without_a_phrase() -> None:
    with http_responder(http("599 ")) as url:
        result = run_cli("tail", url, expect=6)
    assert one_error_line(result.stderr).startswith("wscli: error: handshake rejected: HTTP 599 (")


def test_a_101_with_a_wrong_accept_key_is_a_failed_handshake() -> None:
    bad = http(
        "101 Switching Protocols",
        b"",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=",
    ).replace(b"Content-Length: 0\r\n", b"")
    with http_responder(bad) as url:
        result = run_cli("tail", url, expect=6)
    assert "handshake failed" in one_error_line(result.stderr)


def test_the_tap_records_a_rejected_handshake(tmp_path: Path) -> None:
    tap = tmp_path / "tap.jsonl"
    with http_responder(http("503 Service Unavailable", b"down")) as url:
        run_cli("tail", url, "--tap", str(tap), expect=6)
    assert "503" in tap.read_text()


def test_a_frame_with_a_reserved_opcode_is_a_protocol_error() -> None:
    """A peer that breaks the framing rules (opcode 3 is reserved): exit 8, one line."""

    def broken(conn: PeerConnection) -> None:
        conn.text('{"ok": 1}')
        conn.sock.sendall(b"\x83\x00")  # FIN + reserved opcode 3, empty payload
        conn.silence(unit(5))

    with RawPeer(broken) as peer:
        result = run_cli("tail", peer.url, "--no-reconnect", "--ping-interval", "0", expect=8)
    assert result.json_lines == [{"ok": 1}]
    assert "protocol error" in one_error_line(result.stderr)


@pytest.mark.parametrize(
    "status", ["301 Moved Permanently", "302 Found", "303 See Other", "307 Temporary Redirect"]
)
def test_a_redirect_is_reported_not_followed(status: str) -> None:
    """Following it would send the token to another host, and the error named the first.

    A redirect is a rejected handshake (exit 6) naming the status; the target never
    hears from wscli.
    """
    with http_responder(http("404 Not Found")) as elsewhere:
        target = elsewhere.replace("127.0.0.1", "localhost")
        with http_responder(http(status, b"", f"Location: {target}")) as url:
            result = run_cli("tail", url, "--token", "tok-never-forwarded", expect=6)
    line = one_error_line(result.stderr)
    assert f"handshake rejected: HTTP {status}" in line
    assert "HTTP 404" not in line and "Not Found" not in line  # (its port may hold "404")
