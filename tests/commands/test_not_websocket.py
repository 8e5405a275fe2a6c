"""Something other than a WebSocket server answered: the hint names the likely cause (#22).

Real peers on loopback: the standard library's ``http.server`` (a web page, and its
``Server: SimpleHTTP`` 404 on a wrong port) and raw socket peers answering as a
proxy that drops the upgrade or as Starlette closing before ``accept()``.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli, run_wscli
from tests.support.hostile_server import HostileServer, Peer


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test's output clean."""


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[int]:
    """``python -m http.server`` on 127.0.0.1:0, serving a folder with an index page."""
    (tmp_path / "index.html").write_text("<html><body>hello</body></html>\n")
    handler = partial(_QuietFiles, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _hint(stderr: str) -> str:
    line = stderr.strip().splitlines()[-1]
    assert line.startswith("wscli: error: handshake rejected"), stderr
    return line


@pytest.mark.slow
def test_a_web_page_is_not_a_websocket_server(file_server: int) -> None:
    """HTTP 200 with a page: a plain HTTP server on this port or path."""
    result = run_wscli("tail", f"ws://127.0.0.1:{file_server}/", "--no-reconnect", expect=6)
    line = _hint(result.stderr)
    assert "HTTP 200" in line
    assert "a plain HTTP server (SimpleHTTP/" in line and "answered with text/html" in line
    assert "wrong port or path?" in line


def test_a_file_server_404_means_the_wrong_port(file_server: int) -> None:
    """``Server: SimpleHTTP`` 404: nothing on this port speaks WebSocket."""
    result = run_cli("tail", f"ws://127.0.0.1:{file_server}/ws", "--no-reconnect", expect=6)
    line = _hint(result.stderr)
    assert "HTTP 404" in line and "a plain file server (SimpleHTTP/" in line
    assert "wrong port?" in line


def test_probe_gives_the_same_hint(file_server: int) -> None:
    """probe's upgrade step carries the hint too."""
    result = run_cli("probe", f"ws://127.0.0.1:{file_server}/ws", expect=6)
    assert "a plain file server (SimpleHTTP/" in result.stdout


def _answer(head: bytes, body: bytes = b"") -> Any:
    def script(peer: Peer, request: bytes) -> None:
        length = b"Content-Length: %d\r\n" % len(body)
        peer.send(head.replace(b"\n", b"\r\n") + length + b"\r\n" + body)

    return script


@pytest.mark.parametrize(
    ("head", "body", "words"),
    [
        (
            b"HTTP/1.1 426 Upgrade Required\nServer: uvicorn\n",
            b"",
            "a proxy in between may not pass Upgrade/Connection on",
        ),
        (
            b"HTTP/1.1 400 Bad Request\nServer: nginx/1.25.3\n",
            b"<html>400 Bad Request</html>",
            "a proxy (nginx/1.25.3) may not pass Upgrade/Connection on",
        ),
        (
            b"HTTP/1.1 400 Bad Request\nServer: Python/3.12 websockets/12.0\n",
            b"Failed to open a WebSocket connection: missing Connection header.\n",
            "a proxy in between may not pass",
        ),
    ],
)
def test_a_proxy_that_drops_the_upgrade_headers(head: bytes, body: bytes, words: str) -> None:
    """400/426 about the upgrade: name the proxy and the nginx lines that fix it."""
    with HostileServer(_answer(head, body)) as server:
        result = run_cli("tail", server.url, "--no-reconnect", expect=6)
    line = _hint(result.stderr)
    assert words in line
    assert "proxy_set_header Upgrade $http_upgrade" in line
    assert 'proxy_set_header Connection "upgrade"' in line


def test_starlette_closing_before_accept_points_at_the_auth_dependency() -> None:
    """An empty-body 403 from uvicorn: the endpoint closed before accept()."""
    head = b"HTTP/1.1 403 Forbidden\nServer: uvicorn\nDate: Sat, 05 Dec 2026 08:00:00 GMT\n"
    with HostileServer(_answer(head)) as server:
        result = run_cli("tail", server.url, "--no-reconnect", expect=6)
    line = _hint(result.stderr)
    assert "uvicorn (an ASGI server) answered 403 with no body" in line
    assert "closed before accept()" in line and "check the auth dependency" in line


def test_a_403_with_a_reason_keeps_the_origin_hint() -> None:
    """A 403 that says why is not guessed at."""
    head = b"HTTP/1.1 403 Forbidden\nServer: uvicorn\n"
    with HostileServer(_answer(head, b"origin not allowed")) as server:
        result = run_cli("tail", server.url, "--no-reconnect", expect=6)
    assert "the server may check Origin" in _hint(result.stderr)


@pytest.mark.parametrize(
    ("head", "body", "words"),
    [
        (
            b"HTTP/1.1 404 Not Found\nServer: Python/3.12 websockets/14.0\n",
            b"",
            "check the URL path",
        ),
        (
            b"HTTP/1.1 400 Bad Request\nServer: Python/3.12 websockets/14.0\n",
            b"Failed to open a WebSocket connection: invalid Origin header: x.\n",
            "refused the upgrade headers",
        ),
    ],
)
def test_a_websocket_server_is_not_mistaken_for_something_else(
    head: bytes, body: bytes, words: str
) -> None:
    """websockets' own 404 and a 400 about the Origin keep their usual hints."""
    with HostileServer(_answer(head, body)) as server:
        result = run_cli("tail", server.url, "--no-reconnect", expect=6)
    line = _hint(result.stderr)
    assert words in line and "proxy" not in line and "file server" not in line
