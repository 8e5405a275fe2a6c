"""A raw-socket peer on loopback that misbehaves on purpose (a real socket, not a mock).

Each accepted connection runs ``script(conn, request)`` in its own thread: the
script sends whatever bytes the test needs (a trickled 101, megabytes of
headers, a masked frame). Frames are built with websocket-client's own ``ABNF``;
only the ``Sec-WebSocket-Accept`` value is computed here, as RFC 6455 §4.2.2 says.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
import threading
from collections.abc import Callable

from websocket._abnf import ABNF

from tests.support.listener import ThreadedListener

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

Script = Callable[["Peer", bytes], None]


class Peer:
    """One accepted connection, handed to the script; sends stop quietly once the client left."""

    def __init__(self, sock: socket.socket, stop: threading.Event) -> None:
        self.sock = sock
        self.stop = stop

    def send(self, data: bytes) -> bool:
        """Send; False once the client has gone (the script should then return)."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def wait(self, seconds: float) -> bool:
        """Sleep unless the server stops; False when it does."""
        return not self.stop.wait(seconds)

    def drain(self, seconds: float) -> None:
        """Read (and drop) what the client sends until it closes or ``seconds`` pass."""
        self.sock.settimeout(0.1)
        for _ in range(int(seconds * 10)):
            if self.stop.is_set():
                return
            try:
                if not self.sock.recv(65536):
                    return
            except TimeoutError:
                continue
            except OSError:
                return


class HostileServer(ThreadedListener):
    """Listens on 127.0.0.1:0; ``url`` is ``ws://127.0.0.1:PORT/ws``; stops all on exit."""

    def __init__(self, script: Script, path: str = "/ws") -> None:
        super().__init__(accept_timeout=0.1)
        self.script = script
        self.url = f"ws://127.0.0.1:{self.port}{path}"
        self.requests: list[bytes] = []

    def _handle(self, client: socket.socket) -> None:
        with client:
            client.settimeout(5)
            request = b""
            try:
                while b"\r\n\r\n" not in request and len(request) < 65536:
                    chunk = client.recv(4096)
                    if not chunk:
                        break
                    request += chunk
            except OSError:
                return
            self.requests.append(request)
            self.script(Peer(client, self._stop), request)


def accept_value(request: bytes) -> str:
    """``Sec-WebSocket-Accept`` for the request's key (RFC 6455 §4.2.2)."""
    for line in request.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "sec-websocket-key":
            digest = hashlib.sha1((value.strip() + GUID).encode()).digest()
            return base64.b64encode(digest).decode()
    return ""


def switching_protocols(request: bytes, *extra: str) -> bytes:
    """A valid 101 answer to ``request``, with extra header lines."""
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {accept_value(request)}",
        *extra,
        "",
        "",
    ]
    return "\r\n".join(lines).encode("latin-1")


def server_frame(opcode: int, payload: bytes, *, masked: bool = False) -> bytes:
    """One frame as a server sends it (unmasked), or masked to break RFC 6455 §5.1."""
    return bytes(ABNF(fin=1, opcode=opcode, mask_value=1 if masked else 0, data=payload).format())


def close_frame(code: int, reason: bytes = b"") -> bytes:
    return server_frame(ABNF.OPCODE_CLOSE, struct.pack("!H", code) + reason)
