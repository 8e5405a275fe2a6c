"""Opening WebSocket connections: options, TLS, proxies, headers, and error classes.

The one module (with :mod:`wscli.transport`) that talks to websocket-client. It
owns :func:`classify`, the single place where library and socket errors become
:class:`~wscli.errors.WscliError` with SPEC's exit codes. Keeping a stream
flowing (heartbeat, reconnect) is :mod:`wscli.stream`'s job.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from wscli.errors import (
    BadUsage,
    ConnectionLost,
    ConnectionRefused,
    HandshakeRejected,
    NameResolutionFailed,
    TimedOut,
    TLSFailure,
    WscliError,
)
from wscli.frames import (
    ABNORMAL_CLOSURE,
    describe_close,
)
from wscli.tap import Tap

if TYPE_CHECKING:
    from wscli.transport import BufferedWebSocket

DEFAULT_URL = "ws://localhost:8000/api/ws/sensor/stream"


@dataclass(frozen=True)
class ConnectOptions:
    """Everything SPEC's "Connection options" lets a user say about one connection."""

    url: str = DEFAULT_URL
    # HTTP
    headers: tuple[str, ...] = ()
    origin: str | None = None
    subprotocols: tuple[str, ...] = ()
    token: str | None = None
    # TLS
    insecure: bool = False
    cacert: str | None = None
    cert: str | None = None
    key: str | None = None
    # Proxy
    proxy: str | None = None
    no_proxy: bool = False
    # Timeouts and limits
    connect_timeout: float = 10.0
    max_size: int | None = 16 * 1024 * 1024
    ping_interval: float | None = 20.0
    ping_timeout: float = 20.0

    @property
    def where(self) -> str:
        parts = urlsplit(self.url)
        return parts.netloc.rsplit("@", 1)[-1] or self.url

    def header_pairs(self) -> list[tuple[str, str]]:
        """User headers as (name, value), ``--token`` as a bearer Authorization."""
        pairs: list[tuple[str, str]] = []
        for raw in self.headers:
            name, sep, value = raw.partition(":")
            if not sep or not name.strip():
                raise BadUsage(f"bad header {raw!r}", hint='write headers as "Name: value"')
            pairs.append((name.strip(), value.strip()))
        if self.token:
            pairs.append(("Authorization", f"Bearer {self.token}"))
        return pairs


def check_url(url: str) -> str:
    """The URL to connect to; refuse one that cannot be a WebSocket endpoint.

    A URL without a scheme gets ``ws://``, as wscat does (``localhost:8000/ws``).

    Raises:
        BadUsage: not ws:// or wss://, no host, or a port out of range.
    """
    if "://" not in url:
        url = f"ws://{url}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadUsage(f"invalid URL {url!r}: {exc}", hint="use ws://HOST[:PORT]/PATH") from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        raise BadUsage(
            f"invalid URL {url!r}: {scheme}:// is not a WebSocket URL",
            hint=f"use {'wss' if scheme == 'https' else 'ws'}://{parts.netloc}{parts.path}",
        )
    if scheme not in ("ws", "wss") or not parts.hostname:
        raise BadUsage(f"invalid URL {url!r}", hint="use ws://HOST[:PORT]/PATH or wss://...")
    if port == 0:
        raise BadUsage(f"invalid URL {url!r}: port 0", hint="give the server's port")
    return url


@dataclass
class Handshake:
    """What the upgrade looked like, for the tap and for ``probe``."""

    status: int | None
    request: list[tuple[str, str]]
    response: list[tuple[str, str]] = field(default_factory=list)
    subprotocol: str | None = None


# --- errors -------------------------------------------------------------------------------


def _status_hint(status: int) -> str:
    if status in (400, 426):
        return "the server refused the upgrade headers: is this a WebSocket endpoint and path?"
    if status == 401:
        return "authentication required: pass --token TOKEN or -H 'Authorization: ...'"
    if status == 403:
        return "forbidden: the server may check Origin (try --origin URL) or your credentials"
    if status == 404:
        return "no WebSocket endpoint at this path: check the URL path"
    if status == 429:
        return "rate limited: wait before retrying"
    if status in (502, 503, 504):
        return "a proxy answered but the backend is down or unreachable"
    if 300 <= status < 400:
        return "the server redirects: use the Location URL directly"
    return "the server refused the WebSocket upgrade"


def _reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _body_snippet(body: bytes | None) -> str:
    if not body:
        return ""
    text = body.decode("utf-8", errors="replace").strip().splitlines()
    first = text[0].strip() if text else ""
    return (first[:77] + "...") if len(first) > 80 else first


def classify(exc: BaseException, options: ConnectOptions) -> WscliError:
    """Turn any library or socket error into the wscli error with SPEC's exit code.

    Commands never catch websocket-client exceptions; everything funnels here.
    """
    import socket
    import ssl

    import websocket

    from wscli.transport import FrameTooLarge

    where = options.where
    if isinstance(exc, WscliError):
        return exc
    if isinstance(exc, websocket.WebSocketAddressException):
        inner = exc.args[0] if exc.args else exc
        return _classify_dns(inner, urlsplit(options.url).hostname or where)
    if isinstance(exc, socket.gaierror):
        return _classify_dns(exc, urlsplit(options.url).hostname or where)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TLSFailure(
            f"certificate verification failed: {exc.verify_message or exc.reason}",
            where=where,
            hint="trust a private CA with --cacert FILE, or skip verification with -k (insecure)",
        )
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or str(exc)
        hint = "check the server's TLS setup"
        if "WRONG_VERSION_NUMBER" in str(reason).upper():
            hint = "the server does not speak TLS on this port: try ws:// instead of wss://"
        return TLSFailure(f"TLS handshake failed: {reason}", where=where, hint=hint)
    if isinstance(exc, websocket.WebSocketBadStatusException):
        status = int(exc.status_code)
        phrase = exc.status_message or _reason_phrase(status)
        snippet = _body_snippet(exc.resp_body)
        message = f"handshake rejected: HTTP {status} {phrase}".rstrip()
        if snippet:
            message += f" ({snippet})"
        return HandshakeRejected(message, status=status, where=where, hint=_status_hint(status))
    if isinstance(exc, websocket.WebSocketProxyException):
        return ConnectionRefused(
            f"proxy failed: {exc}",
            where=where,
            hint="check --proxy and the proxy environment variables (--no-proxy ignores them)",
        )
    if isinstance(exc, FrameTooLarge):
        return ConnectionLost(
            f"frame of {exc.length} bytes exceeds --max-size {exc.limit}",
            close_code=1009,
            where=where,
            hint="raise --max-size if such frames are expected",
        )
    if isinstance(exc, (websocket.WebSocketTimeoutException, TimeoutError, socket.timeout)):
        return TimedOut(
            f"timed out after {options.connect_timeout:g} s",
            where=where,
            hint="the server accepted TCP but did not answer: raise --connect-timeout or probe it",
        )
    if isinstance(exc, ConnectionRefusedError):
        port = urlsplit(options.url).port or (443 if options.url.startswith("wss") else 80)
        return ConnectionRefused(
            "connection refused",
            where=where,
            hint=f"nothing is listening on port {port}: is the server running?",
        )
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return ConnectionRefused(
            f"host unreachable: {exc.strerror}",
            where=where,
            hint="check the address, your network and any firewall",
        )
    if isinstance(exc, websocket.WebSocketConnectionClosedException) or isinstance(
        exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)
    ):
        return ConnectionLost(
            f"connection lost: {describe_close(ABNORMAL_CLOSURE)}",
            close_code=ABNORMAL_CLOSURE,
            where=where,
            hint="the peer or a proxy dropped the TCP connection without a close frame",
        )
    if isinstance(exc, (websocket.WebSocketProtocolException, websocket.WebSocketPayloadException)):
        return ConnectionLost(f"protocol error: {exc}", where=where)
    if isinstance(exc, websocket.WebSocketException):
        text = str(exc)
        if "SSL" in text or "certificate" in text:
            return TLSFailure(text, where=where, hint="check --cacert/--cert/--key files")
        if options.subprotocols and "Invalid WebSocket Header" in text:
            offered = ", ".join(options.subprotocols)
            return HandshakeRejected(
                "handshake failed: the upgrade response was not acceptable",
                where=where,
                hint=f"the server selected none of the offered subprotocols ({offered}),"
                " or sent wrong upgrade headers: try without --subprotocol",
            )
        return HandshakeRejected(
            f"handshake failed: {text}",
            where=where,
            hint="the server did not complete a valid WebSocket upgrade",
        )
    if isinstance(exc, ValueError):
        return BadUsage(f"invalid URL {options.url!r}: {exc}", hint="use ws://HOST[:PORT]/PATH")
    if isinstance(exc, OSError):
        return ConnectionLost(f"network error: {exc.strerror or exc}", where=where)
    return ConnectionLost(f"{type(exc).__name__}: {exc}", where=where)


def _classify_dns(exc: BaseException, host: str) -> WscliError:
    import socket

    code = getattr(exc, "errno", None)
    if code == socket.EAI_AGAIN:
        return NameResolutionFailed(
            f"temporary failure resolving {host!r}",
            hint="the DNS server did not answer: check your network or resolver",
        )
    return NameResolutionFailed(
        f"cannot resolve host {host!r}",
        hint="check the spelling of the host name, or use an IP address",
    )


# --- opening ------------------------------------------------------------------------------


def _ssl_options(options: ConnectOptions) -> dict[str, Any]:
    import ssl

    for label, path in (("--cacert", options.cacert), ("--cert", options.cert)):
        if path and not os.path.isfile(path):
            raise BadUsage(f"{label} {path}: no such file")
    if options.key and not options.cert:
        raise BadUsage("--key needs --cert")
    sslopt: dict[str, Any] = {}
    if options.insecure:
        sslopt.update(cert_reqs=ssl.CERT_NONE, check_hostname=False)
    else:
        sslopt.update(cert_reqs=ssl.CERT_REQUIRED, check_hostname=True)
        if options.cacert:
            sslopt["ca_certs"] = options.cacert
    if options.cert:
        sslopt["certfile"] = options.cert
        if options.key:
            sslopt["keyfile"] = options.key
    return sslopt


def _proxy_options(options: ConnectOptions) -> dict[str, Any]:
    """Resolve ``--proxy`` or the environment into websocket-client's proxy options.

    Done here rather than left to the library because it reads only
    ``http(s)_proxy`` and always as HTTP, while users also set ``all_proxy`` and
    ``socks5://`` URLs.
    """
    import urllib.request

    if options.no_proxy:
        # websocket-client reads http(s)_proxy itself whenever no proxy host is
        # passed, and offers no switch to stop it: drop them for this process.
        for key in ("http_proxy", "https_proxy", "all_proxy"):
            os.environ.pop(key, None)
            os.environ.pop(key.upper(), None)
        return {}
    parts = urlsplit(options.url)
    host = parts.hostname or ""
    value = options.proxy
    if not value:
        if urllib.request.proxy_bypass_environment(host):  # type: ignore[attr-defined]
            return {}
        secure = parts.scheme == "wss"
        keys = ("https_proxy", "all_proxy") if secure else ("http_proxy", "all_proxy")
        for key in keys:
            value = os.environ.get(key) or os.environ.get(key.upper())
            if value:
                break
    if not value:
        return {}
    proxy = urlsplit(value if "://" in value else f"http://{value}")
    kind = proxy.scheme.lower()
    if kind not in ("http", "socks4", "socks4a", "socks5", "socks5h"):
        raise BadUsage(f"unsupported proxy scheme {kind!r}", hint="use http:// or socks5://")
    result: dict[str, Any] = {
        "http_proxy_host": proxy.hostname,
        "http_proxy_port": proxy.port or (1080 if kind.startswith("socks") else 80),
        "proxy_type": kind,
        "http_proxy_timeout": options.connect_timeout,
    }
    if proxy.username:
        result["http_proxy_auth"] = (proxy.username, proxy.password or "")
    return result


def request_headers_for_tap(
    options: ConnectOptions, extra: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The upgrade request as sent: the library's fixed headers plus ours."""
    parts = urlsplit(options.url)
    headers = [
        ("Host", parts.netloc.rsplit("@", 1)[-1]),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Version", "13"),
    ]
    if options.origin:
        headers.append(("Origin", options.origin))
    if options.subprotocols:
        headers.append(("Sec-WebSocket-Protocol", ", ".join(options.subprotocols)))
    return headers + extra


def open_connection(
    options: ConnectOptions, tap: Tap | None = None
) -> tuple[BufferedWebSocket, Handshake]:
    """Connect and upgrade; every failure raises the classified :class:`WscliError`."""
    from wscli.transport import BufferedWebSocket, TappedWebSocket

    header_pairs = options.header_pairs()
    connect_kwargs: dict[str, Any] = {
        "header": [f"{name}: {value}" for name, value in header_pairs],
        "timeout": options.connect_timeout,
        # websocket-client invents an Origin; wscat and websocat send one only when asked.
        "suppress_origin": options.origin is None,
        **_proxy_options(options),
    }
    if options.origin:
        connect_kwargs["origin"] = options.origin
    if options.subprotocols:
        connect_kwargs["subprotocols"] = list(options.subprotocols)

    tapped = tap is not None and tap.enabled
    sslopt = _ssl_options(options)
    ws: BufferedWebSocket
    if tap is not None and tap.enabled:
        ws = TappedWebSocket(sslopt=sslopt, max_size=options.max_size)
        ws.tap = tap
    else:
        ws = BufferedWebSocket(sslopt=sslopt, max_size=options.max_size)
    request = request_headers_for_tap(options, header_pairs)
    try:
        ws.connect(options.url, **connect_kwargs)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        import websocket

        if tapped and isinstance(exc, websocket.WebSocketBadStatusException):
            assert tap is not None
            tap.handshake(
                url=options.url,
                request=request,
                status=exc.status_code,
                response=list((exc.resp_headers or {}).items()),
            )
        if tapped:
            assert tap is not None
            tap.event("error", message=classify(exc, options).message)
        raise classify(exc, options) from exc
    handshake = Handshake(
        status=ws.getstatus(),
        request=request,
        response=list((ws.getheaders() or {}).items()),
        subprotocol=ws.getsubprotocol(),
    )
    if tapped:
        assert tap is not None
        tap.handshake(
            url=options.url,
            request=request,
            status=handshake.status,
            response=handshake.response,
        )
    return ws, handshake
