"""A minimal HTTP CONNECT proxy on loopback, for proxy tests (a real peer, not a mock)."""

from __future__ import annotations

import socket
import threading

from tests.support.listener import ThreadedListener


class ConnectProxy(ThreadedListener):
    """Accepts CONNECT host:port, answers 200, then relays bytes both ways."""

    def __init__(self) -> None:
        super().__init__(accept_timeout=0.2)
        self.url = f"http://127.0.0.1:{self.port}"
        self.tunnels: list[str] = []

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(5)
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = client.recv(4096)
            if not chunk:
                client.close()
                return
            request += chunk
        method, target, _ = request.split(b"\r\n", 1)[0].decode().split(" ", 2)
        if method != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            client.close()
            return
        host, port = target.rsplit(":", 1)
        self.tunnels.append(target)
        upstream = socket.create_connection((host, int(port)), timeout=5)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        pump = threading.Thread(target=self._relay, args=(upstream, client), daemon=True)
        pump.start()
        self._relay(client, upstream)
        pump.join(timeout=5)

    def _relay(self, source: socket.socket, sink: socket.socket) -> None:
        source.settimeout(0.2)
        try:
            while not self._stop.is_set():
                try:
                    data = source.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
