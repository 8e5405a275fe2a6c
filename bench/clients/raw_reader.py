"""Sender check: the cheapest possible client, reading the socket into nothing.

Usage: python raw_reader.py HOST PORT EXPECTED_BYTES

Does a bare HTTP upgrade by hand, then reads until EXPECTED_BYTES of frames
(the data frames plus the server's close frame) have arrived, answers with a
masked close frame and exits. It parses nothing, so its rate is what the
sender and the loopback can push: every real client should be far below it.
Prints the number of bytes read after the handshake.
"""

from __future__ import annotations

import base64
import os
import socket
import sys

# A masked close frame, code 1000, with an all-zero mask key (legal, and no XOR needed).
CLOSE_1000_MASKED = b"\x88\x82\x00\x00\x00\x00\x03\xe8"


def main(argv: list[str]) -> int:
    host, port, expected = argv[0], int(argv[1]), int(argv[2])
    sock = socket.create_connection((host, port), timeout=60)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            print("EOF during handshake", file=sys.stderr)
            return 1
        head += chunk
    status, _, rest = head.partition(b"\r\n\r\n")
    if not status.startswith(b"HTTP/1.1 101"):
        print(f"handshake refused: {status[:80]!r}", file=sys.stderr)
        return 1
    total = len(rest)
    buf = bytearray(1 << 20)
    while total < expected:
        n = sock.recv_into(buf)
        if not n:
            break
        total += n
    sock.sendall(CLOSE_1000_MASKED)
    sock.close()
    print(total)
    return 0 if total == expected else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
