"""A hostile or scripted WebSocket peer on a raw socket, for what wscli's server won't do.

websockets' sans-I/O :class:`~websockets.server.ServerProtocol` does the handshake and
builds every frame (no hand-written framing); the test's script decides what is sent
and when: fragments, a frame of an exact size, silence that ignores pings. Each
connection runs the script in turn on one thread; :meth:`RawPeer.close` stops it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

from websockets.server import ServerProtocol

from tests.support.cli import unit
from tests.support.listener import ThreadedListener


class PeerConnection:
    """One accepted client: send frames through the protocol, or stay silent."""

    def __init__(self, sock: socket.socket, proto: ServerProtocol, stop: threading.Event) -> None:
        self.sock = sock
        self.proto = proto
        self.stop = stop
        self.received = 0  # bytes read while silent

    def _flush(self) -> None:
        for chunk in self.proto.data_to_send():
            if chunk:
                self.sock.sendall(chunk)

    def text(self, data: str, *, fin: bool = True) -> None:
        self.proto.send_text(data.encode("utf-8"), fin=fin)
        self._flush()

    def continuation(self, data: str, *, fin: bool) -> None:
        self.proto.send_continuation(data.encode("utf-8"), fin=fin)
        self._flush()

    def ping(self, data: bytes = b"") -> None:
        self.proto.send_ping(data)
        self._flush()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """A close frame, then wait for the client's answer (or give up after a while)."""
        self.proto.send_close(code, reason)
        self._flush()
        self.silence(unit(2), until_eof=True)

    def silence(self, seconds: float, *, until_eof: bool = False) -> None:
        """Read and discard whatever arrives, answering nothing (not even pings)."""
        end = time.monotonic() + seconds
        while not self.stop.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return
            self.sock.settimeout(min(left, 0.05))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data and until_eof:
                return
            if not data:
                self.stop.wait(left)  # the client left; keep the silence, quietly
                return
            self.received += len(data)


Script = Callable[[PeerConnection], None]


class RawPeer(ThreadedListener):
    """Listens on 127.0.0.1:0; every connection is upgraded, then handed to ``script``."""

    def __init__(self, script: Script, *, path: str = "/ws") -> None:
        super().__init__(accept_timeout=0.05, concurrent=False)
        self.script = script
        self.path = path
        self.stop = self._stop  # the scripts' PeerConnection waits on it
        self.connections = 0
        self.errors: list[BaseException] = []

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.path}"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        super().__exit__(None, None, None)
        assert not self._thread.is_alive(), "the raw peer did not stop"
        assert not self.errors, f"the raw peer's script failed: {self.errors!r}"

    def _handle(self, sock: socket.socket) -> None:
        self.connections += 1
        try:
            conn = self._upgrade(sock)
            if conn is not None:
                self.script(conn)
        except OSError:
            pass  # the client went away mid-script: its test says what that means
        except Exception as exc:  # a broken script must fail its test, not hang
            self.errors.append(exc)

    def _upgrade(self, sock: socket.socket) -> PeerConnection | None:
        proto = ServerProtocol()
        sock.settimeout(unit(5))
        while True:
            data = sock.recv(65536)
            if not data:
                return None
            proto.receive_data(data)
            events = proto.events_received()
            if events:
                break
        response = proto.accept(events[0])  # type: ignore[arg-type]
        proto.send_response(response)
        conn = PeerConnection(sock, proto, self.stop)
        conn._flush()
        return conn
