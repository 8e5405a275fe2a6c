"""Opening WebSocket connections and keeping a stream of messages flowing.

The one module (with :mod:`wscli.transport`) that talks to websocket-client.
It owns the connection options, TLS, proxies and headers, the heartbeat, the
reconnect policy, and :func:`classify`, the single place where library and
socket errors become :class:`~wscli.errors.WscliError` with SPEC's exit codes.
"""

from __future__ import annotations

import errno
import math
import os
import random
import time
from collections.abc import Callable, Iterator
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
    OP_BINARY,
    OP_CLOSE,
    OP_PONG,
    OP_TEXT,
    describe_close,
    parse_close_payload,
)
from wscli.tap import Tap

if TYPE_CHECKING:
    from wscli.transport import BufferedWebSocket

DEFAULT_URL = "ws://localhost:8000/api/ws/sensor/stream"
BACKOFF_CAP = 30.0
NORMAL_CLOSE_CODES = frozenset({1000})


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


# --- streaming ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamEvent:
    """Something the user should hear about on stderr (drop, reconnect)."""

    kind: str  # "disconnected" | "retrying" | "reconnected"
    cause: str = ""
    attempt: int = 0
    retries: int = 0
    gap: float = 0.0
    delay: float = 0.0
    close_code: int | None = None


@dataclass
class StreamPolicy:
    """How long and how hard to keep a stream going."""

    reconnect: bool = True
    retries: int = 5
    backoff: float = 0.5
    backoff_cap: float = BACKOFF_CAP
    idle_timeout: float | None = None
    end_at: float = math.inf  # monotonic deadline (--duration)


class _Dropped(Exception):
    def __init__(self, error: WscliError, *, retryable: bool = True) -> None:
        super().__init__(error.message)
        self.error = error
        self.retryable = retryable


class ServerClosed(Exception):
    """The server ended the stream with a normal close (1000)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(describe_close(code, reason))
        self.code = code
        self.reason = reason


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter (AWS architecture blog, 2015)."""
    return rng.uniform(0, min(cap, base * (2 ** max(0, attempt - 1))))


def is_retryable(error: WscliError) -> bool:
    """Transient failures are worth another attempt; auth, TLS, DNS and size are not."""
    if isinstance(error, ConnectionLost):
        return error.close_code != 1009  # the same oversized frame would come again
    if isinstance(error, (ConnectionRefused, TimedOut)):
        return True
    if isinstance(error, HandshakeRejected):
        return error.status is not None and (error.status >= 500 or error.status == 429)
    return False


class Stream:
    """Iterate over ``(opcode, payload)`` data messages, surviving drops.

    Heartbeat: a ping every ``ping_interval``; if nothing at all arrives within
    ``ping_timeout`` of a ping, the peer is declared dead (a stopped process
    keeps the TCP connection open forever otherwise). Any inbound frame counts
    as life, so a client that is behind on a busy stream is not misjudged.
    """

    def __init__(
        self,
        options: ConnectOptions,
        policy: StreamPolicy,
        *,
        tap: Tap | None = None,
        on_event: Callable[[StreamEvent], None] | None = None,
        before_block: Callable[[], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.options = options
        self.policy = policy
        self.tap = tap
        self.on_event = on_event
        self.before_block = before_block
        self.rng = rng or random.Random()
        self.ws: BufferedWebSocket | None = None
        self.handshake: Handshake | None = None
        self.reconnects = 0
        self.close_code: int | None = None
        self.close_reason = ""
        self._delivered = False  # since the last drop
        self._failures = 0

    def connect(self) -> None:
        """First connection: failures are reported at once, not retried (like curl)."""
        self._open()

    def _open(self) -> None:
        ws, handshake = open_connection(self.options, self.tap)
        ws.before_block = self.before_block
        self.ws, self.handshake = ws, handshake
        if self.tap is not None and self.tap.enabled:
            self.tap.event("connect", url=self.tap.redactor.url(self.options.url))

    def close(self) -> None:
        ws = self.ws
        self.ws = None
        if ws is None:
            return
        try:
            ws.before_block = None
            ws.deadline = time.monotonic() + 1.0
            ws.close(timeout=1.0)
        except Exception:
            ws.shutdown()

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        if self.ws is None:
            self._open()
        while True:
            try:
                yield from self._pump()
                return
            except _Dropped as dropped:
                if not self._reconnect(dropped):
                    return

    def _pump(self) -> Iterator[tuple[int, bytes]]:
        import websocket

        ws = self.ws
        assert ws is not None
        options, policy = self.options, self.policy
        monotonic = time.monotonic
        inf = math.inf
        interval = options.ping_interval if options.ping_interval else None
        idle = policy.idle_timeout
        end_at = policy.end_at
        now = monotonic()
        next_ping = now + interval if interval else inf
        pong_due = inf
        idle_due = now + idle if idle else inf
        while True:
            ws.deadline = min(next_ping, pong_due, idle_due, end_at)
            try:
                opcode, frame = ws.next_frame()
            except websocket.WebSocketTimeoutException:
                now = monotonic()
                if now >= end_at:
                    return
                if now >= pong_due:
                    raise _Dropped(
                        ConnectionLost(
                            f"no answer to ping within {options.ping_timeout:g} s:"
                            " peer unresponsive",
                            close_code=ABNORMAL_CLOSURE,
                            where=options.where,
                            hint="the server or the network path is stalled",
                        )
                    ) from None
                if now >= idle_due:
                    raise TimedOut(
                        f"no message for {idle:g} s",
                        where=options.where,
                        hint="raise --idle-timeout, or check that the server is sending",
                    ) from None
                if now >= next_ping:
                    self._send_ping(ws)
                    pong_due = min(pong_due, now + options.ping_timeout)
                    next_ping = now + interval if interval else inf
                continue
            except Exception as exc:  # every library/socket failure is a drop
                error = classify(exc, options)
                raise _Dropped(error, retryable=is_retryable(error)) from exc
            pong_due = inf
            data = frame.data
            payload: bytes = data if isinstance(data, bytes) else data.encode("utf-8")
            if opcode == OP_TEXT or opcode == OP_BINARY:
                if idle:
                    idle_due = monotonic() + idle
                self._delivered = True
                yield opcode, payload
            elif opcode == OP_CLOSE:
                code, reason = parse_close_payload(payload)
                self.close_code, self.close_reason = code, reason
                ws.shutdown()
                if code is None or code in NORMAL_CLOSE_CODES:
                    raise ServerClosed(code, reason)
                raise _Dropped(
                    ConnectionLost(
                        f"server closed the connection: {describe_close(code, reason)}",
                        close_code=code,
                        where=options.where,
                    )
                )
            elif opcode == OP_PONG:
                continue

    def _send_ping(self, ws: BufferedWebSocket) -> None:
        try:
            ws.ping(b"wscli")
        except Exception as exc:
            raise _Dropped(classify(exc, self.options)) from exc

    def _reconnect(self, dropped: _Dropped) -> bool:
        """Reconnect with backoff; False when the deadline ends the stream meanwhile."""
        error = dropped.error
        lost_at = time.monotonic()
        if self.ws is not None:
            self.ws.shutdown()
        self.ws = None
        if self.tap is not None and self.tap.enabled:
            self.tap.event("disconnect", reason=error.message)
        policy = self.policy
        if not policy.reconnect or not dropped.retryable:
            raise error
        if self._delivered:
            self._failures = 0
            self._delivered = False
        cause = describe_close(getattr(error, "close_code", None) or ABNORMAL_CLOSURE)
        first_error = error
        while True:
            self._failures += 1
            attempt = self._failures
            if attempt > policy.retries:
                raise self._gave_up(first_error, error, policy.retries)
            delay = backoff_delay(attempt, policy.backoff, policy.backoff_cap, self.rng)
            self._emit(
                StreamEvent(
                    "disconnected" if error is first_error else "retrying",
                    cause=cause if error is first_error else error.message,
                    attempt=attempt,
                    retries=policy.retries,
                    delay=delay,
                    close_code=getattr(error, "close_code", None),
                )
            )
            if time.monotonic() + delay >= policy.end_at:
                return False
            time.sleep(delay)
            try:
                self._open()
            except WscliError as exc:
                if not is_retryable(exc):
                    raise
                error = exc
                continue
            self.reconnects += 1
            if self.tap is not None and self.tap.enabled:
                self.tap.event("reconnect", attempt=attempt)
            self._emit(
                StreamEvent(
                    "reconnected",
                    cause=cause,
                    attempt=attempt,
                    retries=policy.retries,
                    gap=time.monotonic() - lost_at,
                )
            )
            return True

    @staticmethod
    def _gave_up(first: WscliError, last: WscliError, retries: int) -> WscliError:
        """The stream is lost for good: exit 8, saying what the last attempt met."""
        if retries == 0 or last is first:
            return first
        return ConnectionLost(
            f"{first.message}; gave up after {retries} reconnect attempts (last: {last.message})",
            close_code=getattr(first, "close_code", None),
            where=first.where,
            hint=last.hint,
        )

    def _emit(self, event: StreamEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)
