"""Opening a WebSocket within one deadline: TCP, TLS and the HTTP upgrade.

websocket-client gives each socket operation the whole ``timeout``: a server that
answers the upgrade one byte at a time, or with megabytes of headers, stretches
``--connect-timeout`` without limit, and it follows redirects with our
``Authorization`` header to wherever ``Location`` points. This module keeps the
library's own parts (socket opening and proxies in ``_http.connect``, the request
in ``_get_handshake_headers``, ``read_headers``, the ``Sec-WebSocket-Accept``
check in ``_validate``) and only composes them differently:

- one monotonic deadline shared by the TLS handshake and every read and write of
  the upgrade (:class:`DeadlineSocket`);
- response headers limited to :data:`MAX_RESPONSE_HEADERS`;
- a callback with the exact request before it is sent (``-v`` shows where a
  handshake hangs, as curl does);
- a rejected upgrade (any status but 101, redirects included) is an error, and its
  body is read only as far as a snippet needs.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import websocket
from websocket._handshake import _get_handshake_headers, _validate, handshake_response
from websocket._http import _get_addrinfo_list, _ssl_socket, _tunnel, proxy_info, read_headers
from websocket._http import connect as open_socket
from websocket._socket import DEFAULT_SOCKET_OPTION
from websocket._url import parse_url

from wscli.net.resolving import ResolveTimeout, resolve_within

if TYPE_CHECKING:
    import socket

MAX_RESPONSE_HEADERS = 64 * 1024
MAX_BODY_SNIPPET = 8 * 1024
SWITCHING_PROTOCOLS = 101


class ResponseHeadersTooLarge(websocket.WebSocketException):
    """The upgrade response's headers passed :data:`MAX_RESPONSE_HEADERS`."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"response headers larger than {limit} bytes")
        self.limit = limit


class TLSAnswer(websocket.WebSocketException):
    """A plain ``ws://`` upgrade was answered with TLS records: the port speaks TLS."""


class UpgradeUnanswered(websocket.WebSocketConnectionClosedException):
    """The peer closed the connection before sending any byte of an upgrade response."""


class ConnectTimeout(websocket.WebSocketTimeoutException):
    """The connect deadline passed; ``phase`` names the step: dns, tcp, tls or upgrade."""

    def __init__(self, phase: str) -> None:
        super().__init__(f"connect deadline reached during {phase}")
        self.phase = phase


class TLSClosed(websocket.WebSocketException):
    """The peer closed or reset the connection during the TLS handshake."""


class DeadlineSocket:
    """A connected socket whose reads and writes all end by one deadline.

    Handed to the library's ``read_headers`` in place of the socket: each ``recv``
    gets only the time left, so a response trickled byte by byte ends at the
    deadline, not after a full timeout per byte. While ``limit`` is set, reading
    more than ``limit`` bytes raises :class:`ResponseHeadersTooLarge`.
    """

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.limit: int | None = None
        self.received = 0
        self.first = b""

    def _remaining(self) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("connect deadline reached")
        return remaining

    def gettimeout(self) -> float:
        return self._remaining()

    def fileno(self) -> int:
        return self.sock.fileno()

    def recv(self, bufsize: int) -> bytes:
        self.sock.settimeout(self._remaining())
        if self.limit is not None:
            bufsize = max(1, min(bufsize, self.limit + 1 - self.received))
        data = self.sock.recv(bufsize)
        if len(self.first) < 8:
            self.first += data[: 8 - len(self.first)]
        self.received += len(data)
        if self.limit is not None and self.received > self.limit:
            raise ResponseHeadersTooLarge(self.limit)
        return data

    def send(self, data: bytes) -> int:
        self.sock.settimeout(self._remaining())
        return self.sock.send(data)

    def sendall(self, data: bytes) -> None:
        self.sock.settimeout(self._remaining())
        self.sock.sendall(data)

    def tls_handshake(self) -> None:
        """Run the TLS handshake (deferred by ``do_handshake_on_connect=False``) in time."""
        if isinstance(self.sock, ssl.SSLSocket):
            self.sock.settimeout(self._remaining())
            self.sock.do_handshake()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


def open_within(
    ws: websocket.WebSocket,
    url: str,
    options: dict[str, Any],
    *,
    on_request: Callable[[list[str]], None] | None = None,
) -> None:
    """``WebSocket.connect`` with one deadline (``options["timeout"]``) for every step."""
    timeout = float(options.get("timeout") or 10.0)
    deadline = time.monotonic() + timeout
    ws.sock_opt.timeout = timeout
    phase = "tcp"  # TCP connect, and the proxy's tunnel when there is one
    try:
        ws.sock, addrs = _open_transport(ws, url, options, deadline)
        guarded = DeadlineSocket(ws.sock, deadline)
        guarded.gettimeout()  # the deadline may have passed already
        phase = "tls"
        try:
            guarded.tls_handshake()
        except (ssl.SSLEOFError, ConnectionError) as exc:
            raise TLSClosed(f"connection closed during the TLS handshake: {exc}") from exc
        phase = "upgrade"
        ws.handshake_response = upgrade(guarded, url, *addrs, options, on_request=on_request)
        ws.sock.settimeout(timeout)
        ws.connected = True
    except BaseException as exc:
        if ws.sock is not None:
            ws.sock.close()
            ws.sock = None
        if isinstance(exc, ConnectTimeout):
            raise
        if isinstance(exc, (TimeoutError, websocket.WebSocketTimeoutException)):
            raise ConnectTimeout(phase) from exc
        raise


def _open_transport(
    ws: websocket.WebSocket, url: str, options: dict[str, Any], deadline: float
) -> tuple[Any, tuple[str, int, str]]:
    """TCP (each address in turn), the HTTP proxy's tunnel, and the TLS wrapper.

    The library's own steps (``_get_addrinfo_list``, ``_tunnel``, ``_ssl_socket``),
    run so that every address and the proxy's answer share the connect deadline:
    the library gives each address, and each byte of the proxy's answer, a full
    timeout. SOCKS proxies go through python-socks, bounded by its own timeout.
    """
    hostname, port, resource, secure = parse_url(url)
    given = options.get("socket")
    if given is not None:  # `wscli probe` ran TCP, proxy and TLS itself, each timed
        return given, (hostname, port, resource)
    proxy = proxy_info(**options)  # type: ignore[no-untyped-call]
    if proxy.no_proxy is None:
        # proxy_info keeps http_no_proxy only beside a proxy host; without one the
        # library would fall back to the environment's proxies, which wscli has
        # already weighed (``--no-proxy``, NO_PROXY, all_proxy) in ``proxy_choice``.
        proxy.no_proxy = options.get("http_no_proxy")
    if proxy.proxy_host and proxy.proxy_protocol != "http":
        return open_socket(url, ws.sock_opt, proxy, None)
    try:
        addresses, need_tunnel, auth = resolve_within(
            deadline - time.monotonic(),
            proxy.proxy_host or hostname,
            lambda: _get_addrinfo_list(hostname, port, secure, proxy),
        )
    except ResolveTimeout as exc:
        raise ConnectTimeout("dns") from exc
    if not addresses:
        raise websocket.WebSocketException(f"Host not found.: {hostname}:{port}")
    sock = _connect_first(addresses, ws.sock_opt.sockopt, deadline)
    try:
        if need_tunnel:
            guarded = DeadlineSocket(sock, deadline)
            guarded.limit = MAX_RESPONSE_HEADERS
            try:
                _tunnel(guarded, hostname, port, auth)  # type: ignore[arg-type]
            except websocket.WebSocketProxyException:
                guarded.gettimeout()  # a proxy that ran out the clock is a timeout
                raise
        if secure:
            sock = _ssl_socket(sock, ws.sock_opt.sslopt, hostname)
    except BaseException:
        sock.close()
        raise
    return sock, (hostname, port, resource)


def _connect_first(addresses: list[Any], sockopt: list[Any], deadline: float) -> socket.socket:
    """Connect to the first address that accepts, all within the deadline.

    As the library does, a refused or unreachable address moves on to the next one
    and any other failure ends the attempt.
    """
    import errno
    import socket

    last: OSError | None = None
    for family, socktype, proto, _name, address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("connect deadline reached")
        sock = socket.socket(family, socktype, proto)
        try:
            for option in (*DEFAULT_SOCKET_OPTION, *sockopt):
                sock.setsockopt(*option)
            sock.settimeout(remaining)
            sock.connect(address)
        except OSError as exc:
            sock.close()
            if exc.errno not in (errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH):
                raise
            last = exc
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    assert last is not None
    raise last


def upgrade(
    sock: DeadlineSocket,
    url: str,
    hostname: str,
    port: int,
    resource: str,
    options: dict[str, Any],
    *,
    on_request: Callable[[list[str]], None] | None = None,
) -> handshake_response:
    """Send the upgrade request and check the answer; the library's ``handshake`` otherwise.

    Raises:
        websocket.WebSocketBadStatusException: any status but 101, with a bounded body.
        ResponseHeadersTooLarge: the headers passed the limit.
        TLSAnswer: the answer was TLS (``ws://`` to a TLS port).
    """
    lines, key = _get_handshake_headers(resource, url, hostname, port, options)
    if on_request is not None:
        on_request([line for line in lines if line])
    sock.sendall("\r\n".join(lines).encode("utf-8"))
    sock.limit = MAX_RESPONSE_HEADERS
    try:
        status, headers, message = read_headers(sock)  # type: ignore[arg-type]
    except (websocket.WebSocketException, OSError) as exc:
        if isinstance(exc, ResponseHeadersTooLarge) or isinstance(exc, TimeoutError):
            raise
        if sock.first[:1] in (b"\x15", b"\x16") and sock.first[1:2] == b"\x03":
            raise TLSAnswer("the server answered with TLS") from exc
        if sock.received == 0 and isinstance(
            exc, (websocket.WebSocketConnectionClosedException, ConnectionError)
        ):
            raise UpgradeUnanswered("closed before answering the upgrade") from exc
        raise
    sock.limit = None
    if status != SWITCHING_PROTOCOLS:
        body = _read_body(sock, headers)
        raise websocket.WebSocketBadStatusException(
            f"Handshake status {status} {message}", status, message, headers, body
        )
    success, subprotocol = _validate(headers, key, options.get("subprotocols"))
    if not success:
        raise websocket.WebSocketException("Invalid WebSocket Header")
    return handshake_response(status, headers, subprotocol)


def _read_body(sock: DeadlineSocket, headers: dict[str, str]) -> bytes | None:
    """Up to :data:`MAX_BODY_SNIPPET` bytes of a rejection's body, whatever its length.

    A body cut short (the deadline, a closed connection) keeps what arrived: the
    status is the news, the body only explains it.
    """
    try:
        wanted = min(int(headers.get("content-length", "0")), MAX_BODY_SNIPPET)
    except ValueError:
        return None
    body = b""
    while len(body) < wanted:
        try:
            chunk = sock.recv(wanted - len(body))
        except (OSError, websocket.WebSocketException):
            break
        if not chunk:
            break
        body += chunk
    return body or None
