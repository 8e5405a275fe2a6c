"""Which protocol a port speaks, asked with one short connection of its own.

A ``ws://`` URL pointed at a TLS port fails as a dropped upgrade; a ``wss://`` URL
at a plain port fails as a TLS error. Both read as something else unless the port
is asked directly: ``probe`` names the step, and every command's error says which
scheme to use (exit 5). Stdlib only (``socket``, ``ssl``).
"""

from __future__ import annotations

import socket
import ssl

SNIFF_TIMEOUT = 2.0  # seconds for each sniff connection


def speaks_tls(peer: tuple[str, int], host: str) -> bool:
    """Does the port complete a TLS handshake? (A ws:// URL was given.)"""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection(peer, timeout=SNIFF_TIMEOUT) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            return True
    except (OSError, ssl.SSLError):
        return False


def speaks_plain_http(peer: tuple[str, int], host: str) -> bool:
    """Does the port answer a plain HTTP request? (TLS was expected there.)"""
    try:
        with socket.create_connection(peer, timeout=SNIFF_TIMEOUT) as raw:
            raw.sendall(f"HEAD / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            return raw.recv(5) == b"HTTP/"
    except OSError:
        return False
