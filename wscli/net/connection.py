"""Opening WebSocket connections: options, TLS, proxies, headers, and error classes.

The one module (with :mod:`wscli.net.transport`) that talks to websocket-client. It
owns :func:`classify`, the single place where library and socket errors become
:class:`~wscli.errors.WscliError` with SPEC's exit codes. Keeping a stream
flowing (heartbeat, reconnect) is :mod:`wscli.net.stream`'s job.
"""

from __future__ import annotations

import errno
import functools
import os
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
from wscli.net.hints import (
    PROBE_TIP,
    TIMEOUT_PHASES,
    body_snippet,
    protocol_text,
    reason_phrase,
    status_hint,
    swap_scheme,
    timeout_hint,
)
from wscli.net.tap import Tap
from wscli.net.target import ConnectOptions, Handshake
from wscli.redact import redact_text, redact_url

if TYPE_CHECKING:
    import socket

    from wscli.net.proxies import ProxyChoice
    from wscli.net.transport import BufferedWebSocket

# --- errors -------------------------------------------------------------------------------


def classify(exc: BaseException, options: ConnectOptions) -> WscliError:
    """Turn any library or socket error into the wscli error with SPEC's exit code.

    Commands never catch websocket-client exceptions; everything funnels here.
    """
    if isinstance(exc, WscliError):
        return exc
    from wscli.net.proxies import proxy_choice

    try:
        proxy = proxy_choice(options)
    except BadUsage as bad_proxy:
        return bad_proxy
    error = _classify_proxy(exc, options, proxy) if proxy is not None else None
    if error is None:
        error = _classify(exc, options)
    # Server text (a body echoing the query string, a close reason) can carry our
    # own credentials back: hide every one these options know of.
    secrets = options.secrets()
    error.message = redact_text(error.message, secrets)  # type: ignore[misc]  # Final in click stubs only
    if error.hint:
        error.hint = redact_text(error.hint, secrets)
    return error


def _tls_behind_plain_upgrade(exc: BaseException, options: ConnectOptions) -> bool:
    """A direct ``ws://`` upgrade the server closed unanswered, on a port that speaks TLS.

    A TLS server hangs up on the plain ``GET`` without a word; a second short
    connection that completes a TLS handshake tells that apart from a server that
    just closed. The verdict is then ``probe``'s: a TLS failure (exit 5), not a lost
    connection (8), in every command (issue 17 item 7).
    """
    from wscli.net.handshake import UpgradeUnanswered
    from wscli.net.proxies import proxy_choice

    if not isinstance(exc, UpgradeUnanswered) or options.url.lower().startswith("wss"):
        return False
    try:
        if proxy_choice(options) is not None:
            return False  # the port behind the proxy is not ours to sniff
        parts = urlsplit(options.url)
        port = parts.port or 80
    except (BadUsage, ValueError):
        return False
    return bool(parts.hostname) and _speaks_tls(parts.hostname or "", port)


@functools.lru_cache(maxsize=64)
def _speaks_tls(host: str, port: int) -> bool:
    """Sniffed once per port and process: a reconnecting tail or a thousand load users
    must not open a second connection for every failed attempt."""
    from wscli.net.sniff import speaks_tls

    return speaks_tls((host, port), host)


def _classify(exc: BaseException, options: ConnectOptions) -> WscliError:
    import socket
    import ssl

    import websocket

    from wscli.net.handshake import (
        ConnectTimeout,
        ResponseHeadersTooLarge,
        TLSAnswer,
        TLSClosed,
        UpgradeUnanswered,
    )
    from wscli.net.transport import FrameTooLarge

    where = options.where
    secure = options.url.lower().startswith("wss")
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
        reason = str(exc.reason or exc)
        hint = "check the server's TLS setup"
        plain = ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "RECORD_LAYER_FAILURE", "PACKET_LENGTH")
        if any(mark in reason.upper() for mark in plain):
            hint = (
                f"the server does not speak TLS on this port: try {swap_scheme(options.url, 'ws')}"
            )
        return TLSFailure(f"TLS handshake failed: {reason}", where=where, hint=hint)
    if isinstance(exc, TLSClosed):
        return TLSFailure(
            "TLS handshake failed: the server closed the connection",
            where=where,
            hint="if the server does not speak TLS on this port, try"
            f" {swap_scheme(options.url, 'ws')}; else check its TLS setup",
        )
    if isinstance(exc, TLSAnswer):
        return TLSFailure(
            "the server answered the plain upgrade with TLS",
            where=where,
            hint=f"this port speaks TLS: try {swap_scheme(options.url, 'wss')}",
        )
    if isinstance(exc, ResponseHeadersTooLarge):
        return HandshakeRejected(
            f"response headers too large (more than {exc.limit // 1024} KiB)",
            where=where,
            hint="the server or a proxy in between sent an oversized upgrade response",
        )
    if isinstance(exc, websocket.WebSocketBadStatusException):
        status = int(exc.status_code)
        phrase = exc.status_message or reason_phrase(status)
        snippet = body_snippet(exc.resp_body)
        message = f"handshake rejected: HTTP {status} {phrase}".rstrip()
        if snippet:
            message += f" ({snippet})"
        headers = {str(k).lower(): str(v) for k, v in (exc.resp_headers or {}).items()}
        hint = status_hint(status, options, headers, snippet)
        return HandshakeRejected(message, status=status, where=where, hint=hint)
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
    if isinstance(exc, ConnectTimeout):
        return TimedOut(
            f"connect timeout after {options.connect_timeout:g} s"
            f" ({TIMEOUT_PHASES.get(exc.phase, exc.phase)})",
            where=where,
            hint=timeout_hint(exc.phase, options),
        )
    if isinstance(exc, (websocket.WebSocketTimeoutException, TimeoutError, socket.timeout)):
        return TimedOut(
            f"timed out after {options.connect_timeout:g} s",
            where=where,
            hint="the server did not answer in time",
        )
    if isinstance(exc, ConnectionRefusedError):
        port = urlsplit(options.url).port or (443 if secure else 80)
        return ConnectionRefused(
            "connection refused",
            where=where,
            hint=f"nothing is listening on port {port}: is the server running?" + PROBE_TIP,
        )
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return ConnectionRefused(
            f"host unreachable: {exc.strerror}",
            where=where,
            hint="check the address, your network and any firewall" + PROBE_TIP,
        )
    if isinstance(exc, UpgradeUnanswered):
        hint = "check the URL path and the server's logs"
        if not secure:
            hint = f"if this port speaks TLS, try {swap_scheme(options.url, 'wss')}; else {hint}"
        return ConnectionLost(
            "the server closed the connection without answering the upgrade",
            close_code=ABNORMAL_CLOSURE,
            where=where,
            hint=hint,
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
        return ConnectionLost(f"protocol error: {protocol_text(str(exc))}", where=where)
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
        return BadUsage(
            f"invalid URL {redact_url(options.url, options.secrets())!r}: {exc}",
            hint="use ws://HOST[:PORT]/PATH",
        )
    if isinstance(exc, OSError):
        return ConnectionLost(f"network error: {exc.strerror or exc}", where=where)
    return ConnectionLost(f"{type(exc).__name__}: {exc}", where=where)


def _classify_proxy(
    exc: BaseException, options: ConnectOptions, proxy: ProxyChoice
) -> WscliError | None:
    """Failures of the proxy itself, named as such; None when the proxy is not to blame."""
    import websocket

    from wscli.net.handshake import ConnectTimeout

    try:
        from python_socks import ProxyConnectionError, ProxyError, ProxyTimeoutError
    except ImportError:  # pragma: no cover - a dependency, but SOCKS is optional in the library
        ProxyConnectionError = ProxyError = ProxyTimeoutError = ()  # type: ignore[misc,assignment]  # noqa: N806

    where = proxy.describe()
    target = options.where
    bypass = proxy.bypass_hint()
    if isinstance(exc, ConnectTimeout) and exc.phase == "tcp" or isinstance(exc, ProxyTimeoutError):
        return TimedOut(
            f"connect timeout after {options.connect_timeout:g} s (reaching the proxy)",
            where=where,
            hint=f"the proxy did not answer in time: {bypass}",
        )
    if isinstance(exc, ProxyConnectionError) or (
        proxy.kind == "http"
        and isinstance(exc, OSError)
        and exc.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH)
    ):
        return ConnectionRefused(
            f"cannot reach the proxy: {getattr(exc, 'strerror', None) or exc}",
            where=where,
            hint=f"nothing accepted the connection at the proxy's address: {bypass}",
        )
    if isinstance(exc, ProxyError):
        return ConnectionRefused(
            f"the proxy could not connect to {target}: {exc}",
            where=where,
            hint=f"the proxy is up but refused or failed the tunnel: {bypass}",
        )
    if isinstance(exc, websocket.WebSocketProxyException):
        text = str(exc)
        if "407" in text:
            hint = "the proxy wants credentials: put them in the proxy URL (http://USER:PASS@HOST:PORT)"
        else:
            hint = f"the proxy is up but refused or failed the tunnel: {bypass}"
        return ConnectionRefused(
            f"the proxy refused to connect to {target}: {text}", where=where, hint=hint
        )
    if isinstance(exc, (websocket.WebSocketAddressException,)) and proxy.kind == "http":
        return NameResolutionFailed(
            f"cannot resolve the proxy host {proxy.host!r}",
            where=where,
            hint=f"check the proxy's host name: {bypass}",
        )
    return None


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
    from wscli.net.proxies import library_proxy_options, proxy_choice

    choice = None if options.no_proxy else proxy_choice(options)
    if choice is None:
        # wscli has decided "direct": the library must not read http(s)_proxy itself.
        # Its own no-proxy list says so for this connection only; the process's
        # environment stays as the user set it.
        return {"http_no_proxy": ["*"]}
    return library_proxy_options(choice, options.connect_timeout)


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


def _connect_target(options: ConnectOptions) -> str:
    """``127.0.0.1:8000``, or the proxy first when there is one (for ``-v``)."""
    from wscli.net.proxies import proxy_choice

    parts = urlsplit(options.url)
    port = parts.port or (443 if parts.scheme.lower() == "wss" else 80)
    host = parts.hostname or ""
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    proxy = None if options.no_proxy else proxy_choice(options)
    if proxy is None:
        return target
    return f"{proxy.describe()} for {target}"


def _sent_headers(
    ws: BufferedWebSocket, options: ConnectOptions, header_pairs: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The upgrade request's headers as sent; predicted when it was never sent."""
    if not ws.request_lines:
        return request_headers_for_tap(options, header_pairs)
    pairs = []
    for line in ws.request_lines[1:]:
        name, _, value = line.partition(":")
        pairs.append((name.strip(), value.strip()))
    return pairs


def open_connection(
    options: ConnectOptions,
    tap: Tap | None = None,
    *,
    sock: socket.socket | None = None,
    threadsafe: bool = False,
) -> tuple[BufferedWebSocket, Handshake]:
    """Connect and upgrade; every failure raises the classified :class:`WscliError`.

    ``sock``, already connected (and TLS-wrapped for wss://), skips the library's own
    TCP, proxy and TLS steps: ``wscli probe`` runs and times those itself.
    ``threadsafe`` locks sends, for callers that send from one thread while another
    receives (and answers pings): ``connect`` and ``replay --to``.
    """
    from wscli.net.transport import BufferedWebSocket, TappedWebSocket

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
    if sock is not None:
        sock.settimeout(options.connect_timeout)
        connect_kwargs["socket"] = sock

    tapped = tap is not None and tap.enabled
    sslopt = _ssl_options(options)
    ws: BufferedWebSocket
    if tap is not None and tap.enabled:
        ws = TappedWebSocket(
            sslopt=sslopt, max_size=options.max_size, enable_multithread=threadsafe
        )
        ws.tap = tap
        # -v shows where a handshake hangs: the address before TCP, the request
        # before it is sent (curl's "Trying..." and "> GET").
        tap.connecting(_connect_target(options))
        ws.on_request = tap.request
    else:
        ws = BufferedWebSocket(
            sslopt=sslopt, max_size=options.max_size, enable_multithread=threadsafe
        )
    try:
        ws.connect(options.url, **connect_kwargs)
    except BaseException as exc:
        if not isinstance(exc, Exception):
            # Ctrl-C, SystemExit, and a greenlet being killed (wscli load stopping a user
            # mid-connect): not connection failures; turned into one, the kill was lost.
            raise
        import websocket

        error = classify(exc, options)
        if sock is None and _tls_behind_plain_upgrade(exc, options):
            error = tls_port_error(options.where, redact_url(options.url, options.secrets()))
        if tapped:
            assert tap is not None
            if isinstance(exc, websocket.WebSocketBadStatusException):
                tap.handshake(
                    url=options.url,
                    request=_sent_headers(ws, options, header_pairs),
                    status=exc.status_code,
                    response=list((exc.resp_headers or {}).items()),
                )
            tap.event("error", message=error.message)
        raise error from exc
    handshake = Handshake(
        status=ws.getstatus(),
        request=_sent_headers(ws, options, header_pairs),
        response=list((ws.getheaders() or {}).items()),
        subprotocol=ws.getsubprotocol(),
    )
    if tapped:
        assert tap is not None
        tap.handshake(
            url=options.url,
            request=handshake.request,
            status=handshake.status,
            response=handshake.response,
        )
    return ws, handshake


# --- hints only a step-by-step probe can give (issue #8) ----------------------------------
# ``wscli probe`` sees which address, proxy or certificate was involved; these add that
# knowledge to the errors above rather than keeping a second table of words.


def proxy_source(options: ConnectOptions) -> tuple[str, str] | None:
    """The proxy this connection goes through and where it came from, or None.

    :func:`wscli.net.proxies.proxy_choice` decides; this is its ``(url, "$variable")``
    view for probe's step lines. A proxy URL wscli cannot use is left for the
    upgrade step, which reports it as the usage error it is.
    """
    from wscli.net.proxies import proxy_choice

    try:
        choice = proxy_choice(options)
    except BadUsage:
        return None
    if choice is None:
        return None
    return choice.url, choice.source if choice.source == "--proxy" else f"${choice.source}"


def plain_port_error(where: str, *, scheme: str) -> TLSFailure:
    """TLS (wss://) was spoken to a port that answers plain HTTP."""
    return TLSFailure(
        "TLS handshake failed: the port speaks plain HTTP, not TLS",
        where=where,
        hint=f"use ws:// instead of {scheme}://, or the server's TLS port",
    )


def tls_port_error(where: str, url: str | None = None) -> TLSFailure:
    """A plain ws:// upgrade was sent to a port that speaks TLS (``url``: the one given)."""
    target = f"try {swap_scheme(url, 'wss')}" if url else "use wss:// for this port"
    return TLSFailure(
        "the port speaks TLS, but the URL is ws://",
        where=where,
        hint=f"{target} (add --cacert FILE for a private CA)",
    )
