"""connection.py's words, exactly: every error classify() makes, the tap's predicted headers,
the -v target line, probe's proxy source and the port-mismatch errors.

In-process and table-driven: each library or socket exception is built by hand, so
each branch's message, hint, where, exit code and extra attributes are pinned whole.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
import websocket
from python_socks import ProxyConnectionError, ProxyError, ProxyTimeoutError

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
from wscli.net.connection import (
    _classify_dns,
    _connect_target,
    _proxy_options,
    _sent_headers,
    _ssl_options,
    classify,
    open_connection,
    plain_port_error,
    proxy_source,
    request_headers_for_tap,
    tls_port_error,
)
from wscli.net.handshake import (
    ConnectTimeout,
    ResponseHeadersTooLarge,
    TLSAnswer,
    TLSClosed,
    UpgradeUnanswered,
)
from wscli.net.target import ConnectOptions, Handshake, check_url
from wscli.net.transport import FrameTooLarge

PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
)

WS = "ws://Example.COM:8080/ws"
WSS = "wss://Example.COM:8443/ws"
WS_WHERE = "Example.COM:8080"
WSS_WHERE = "Example.COM:8443"
PROBE_TIP = " (`wscli probe URL` checks each step)"


@pytest.fixture(autouse=True)
def _no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without proxy variables; a test sets the ones it means."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@dataclass(frozen=True)
class Want:
    """What one classified error must look like, every attribute of it."""

    kind: type[WscliError]
    message: str
    where: str | None
    hint: str | None
    extra: tuple[tuple[str, Any], ...] = ()


def check(error: WscliError, want: Want) -> None:
    assert type(error) is want.kind
    assert error.exit_code == want.kind.exit_code
    assert error.message == want.message
    assert error.where == want.where
    assert error.hint == want.hint
    for name, value in want.extra:
        assert getattr(error, name) == value


def cert_error(verify_message: str | None, reason: str | None) -> ssl.SSLCertVerificationError:
    exc = ssl.SSLCertVerificationError(1, "certificate verify failed")
    exc.verify_message = verify_message  # type: ignore[assignment]
    exc.reason = reason  # type: ignore[assignment]
    return exc


def ssl_error(reason: str | None, text: str = "ssl text") -> ssl.SSLError:
    exc = ssl.SSLError(1, text)
    exc.reason = reason  # type: ignore[assignment]
    return exc


def bad_status(
    status: Any,
    message: str | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> websocket.WebSocketBadStatusException:
    return websocket.WebSocketBadStatusException("bad status", status, message, headers, body)


TLS_HINT_PLAIN = "the server does not speak TLS on this port: try ws://Example.COM:8443/ws"
CERT_HINT = "trust a private CA with --cacert FILE, or skip verification with -k (insecure)"
DROP_HINT = "the peer or a proxy dropped the TCP connection without a close frame"
LOST_1006 = "connection lost: 1006 (abnormal closure)"

DIRECT: list[tuple[str, BaseException, str, Want]] = [
    (
        "address-again",
        websocket.WebSocketAddressException(
            socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        ),
        WS,
        Want(
            NameResolutionFailed,
            "temporary failure resolving 'example.com'",
            None,
            "the DNS server did not answer: check your network or resolver",
        ),
    ),
    (
        "address-noname",
        websocket.WebSocketAddressException(
            socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        ),
        WSS,
        Want(
            NameResolutionFailed,
            "cannot resolve host 'example.com'",
            None,
            "check the spelling of the host name, or use an IP address",
        ),
    ),
    (
        "address-no-args",
        websocket.WebSocketAddressException(),
        WS,
        Want(
            NameResolutionFailed,
            "cannot resolve host 'example.com'",
            None,
            "check the spelling of the host name, or use an IP address",
        ),
    ),
    (
        "gaierror-again",
        socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
        WS,
        Want(
            NameResolutionFailed,
            "temporary failure resolving 'example.com'",
            None,
            "the DNS server did not answer: check your network or resolver",
        ),
    ),
    (
        "gaierror-noname",
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
        WS,
        Want(
            NameResolutionFailed,
            "cannot resolve host 'example.com'",
            None,
            "check the spelling of the host name, or use an IP address",
        ),
    ),
    (
        "cert-verify-message",
        cert_error("self-signed certificate", "CERTIFICATE_VERIFY_FAILED"),
        WSS,
        Want(
            TLSFailure,
            "certificate verification failed: self-signed certificate",
            WSS_WHERE,
            CERT_HINT,
        ),
    ),
    (
        "cert-reason-only",
        cert_error(None, "CERTIFICATE_VERIFY_FAILED"),
        WSS,
        Want(
            TLSFailure,
            "certificate verification failed: CERTIFICATE_VERIFY_FAILED",
            WSS_WHERE,
            CERT_HINT,
        ),
    ),
    (
        "ssl-other",
        ssl_error("TLSV1_ALERT_INTERNAL_ERROR"),
        WSS,
        Want(
            TLSFailure,
            "TLS handshake failed: TLSV1_ALERT_INTERNAL_ERROR",
            WSS_WHERE,
            "check the server's TLS setup",
        ),
    ),
    (
        "ssl-no-reason",
        ssl_error(None, "handshake went wrong"),
        WSS,
        Want(
            TLSFailure,
            "TLS handshake failed: handshake went wrong",
            WSS_WHERE,
            "check the server's TLS setup",
        ),
    ),
    (
        "ssl-wrong-version",
        ssl_error("WRONG_VERSION_NUMBER"),
        WSS,
        Want(TLSFailure, "TLS handshake failed: WRONG_VERSION_NUMBER", WSS_WHERE, TLS_HINT_PLAIN),
    ),
    (
        "ssl-wrong-version-lower",
        ssl_error("wrong_version_number"),
        WSS,
        Want(TLSFailure, "TLS handshake failed: wrong_version_number", WSS_WHERE, TLS_HINT_PLAIN),
    ),
    (
        "ssl-http-request",
        ssl_error("HTTP_REQUEST"),
        WSS,
        Want(TLSFailure, "TLS handshake failed: HTTP_REQUEST", WSS_WHERE, TLS_HINT_PLAIN),
    ),
    (
        "ssl-record-layer",
        ssl_error("record_layer_failure"),
        WSS,
        Want(TLSFailure, "TLS handshake failed: record_layer_failure", WSS_WHERE, TLS_HINT_PLAIN),
    ),
    (
        "ssl-packet-length",
        ssl_error("Packet_Length_Too_Long"),
        WSS,
        Want(TLSFailure, "TLS handshake failed: Packet_Length_Too_Long", WSS_WHERE, TLS_HINT_PLAIN),
    ),
    (
        "tls-closed",
        TLSClosed("closed"),
        WSS,
        Want(
            TLSFailure,
            "TLS handshake failed: the server closed the connection",
            WSS_WHERE,
            "if the server does not speak TLS on this port, try ws://Example.COM:8443/ws;"
            " else check its TLS setup",
        ),
    ),
    (
        "tls-answer",
        TLSAnswer("tls"),
        WS,
        Want(
            TLSFailure,
            "the server answered the plain upgrade with TLS",
            WS_WHERE,
            "this port speaks TLS: try wss://Example.COM:8080/ws",
        ),
    ),
    (
        "headers-too-large",
        ResponseHeadersTooLarge(65536),
        WS,
        Want(
            HandshakeRejected,
            "response headers too large (more than 64 KiB)",
            WS_WHERE,
            "the server or a proxy in between sent an oversized upgrade response",
            (("status", None),),
        ),
    ),
    (
        "headers-too-large-odd",
        ResponseHeadersTooLarge(3000),
        WS,
        Want(
            HandshakeRejected,
            "response headers too large (more than 2 KiB)",
            WS_WHERE,
            "the server or a proxy in between sent an oversized upgrade response",
        ),
    ),
    (
        "status-404-phrase",
        bad_status(404),
        WS,
        Want(
            HandshakeRejected,
            "handshake rejected: HTTP 404 Not Found",
            WS_WHERE,
            "no WebSocket endpoint at this path: check the URL path",
            (("status", 404),),
        ),
    ),
    (
        "status-text-code",
        bad_status("404"),
        WS,
        Want(
            HandshakeRejected,
            "handshake rejected: HTTP 404 Not Found",
            WS_WHERE,
            "no WebSocket endpoint at this path: check the URL path",
            (("status", 404),),
        ),
    ),
    (
        "status-own-message-and-body",
        bad_status(403, "Go Away", {}, b"  denied here  \nsecond line\n"),
        WS,
        Want(
            HandshakeRejected,
            "handshake rejected: HTTP 403 Go Away (denied here)",
            WS_WHERE,
            "forbidden: the server may check Origin (try --origin URL) or your credentials",
            (("status", 403),),
        ),
    ),
    (
        "status-unknown",
        bad_status(599),
        WS,
        Want(
            HandshakeRejected,
            "handshake rejected: HTTP 599",
            WS_WHERE,
            "the server failed while handling the upgrade: check its logs",
            (("status", 599),),
        ),
    ),
    (
        "status-429-retry-after",
        bad_status(429, None, {"Retry-After": "30"}),
        WS,
        Want(
            HandshakeRejected,
            "handshake rejected: HTTP 429 Too Many Requests",
            WS_WHERE,
            "rate limited: the server asks to wait 30 s before retrying",
            (("status", 429),),
        ),
    ),
    (
        "status-301-location",
        bad_status(301, None, {"LOCATION": "wss://Other.example/ws"}),
        WS,
        Want(
            HandshakeRejected,
            "handshake rejected: HTTP 301 Moved Permanently",
            WS_WHERE,
            "the server redirects to wss://Other.example/ws: connect to that URL directly"
            " (wscli does not follow redirects, so credentials stay with this host)",
            (("status", 301),),
        ),
    ),
    (
        "status-400-https-port",
        bad_status(400, None, None, b"The plain HTTP request was sent to HTTPS port"),
        WS,
        Want(
            HandshakeRejected,
            "handshake rejected: HTTP 400 Bad Request"
            " (The plain HTTP request was sent to HTTPS port)",
            WS_WHERE,
            "the server speaks TLS on this port: try wss://Example.COM:8080/ws",
            (("status", 400),),
        ),
    ),
    (
        "library-proxy",
        websocket.WebSocketProxyException("failed CONNECT via proxy status: 502"),
        WS,
        Want(
            ConnectionRefused,
            "proxy failed: failed CONNECT via proxy status: 502",
            WS_WHERE,
            "check --proxy and the proxy environment variables (--no-proxy ignores them)",
        ),
    ),
    (
        "frame-too-large",
        FrameTooLarge(2000, 1000),
        WS,
        Want(
            ConnectionLost,
            "frame of 2000 bytes exceeds --max-size 1000",
            WS_WHERE,
            "raise --max-size if such frames are expected",
            (("close_code", 1009),),
        ),
    ),
    (
        "timeout-library",
        websocket.WebSocketTimeoutException("timed out"),
        WS,
        Want(TimedOut, "timed out after 10 s", WS_WHERE, "the server did not answer in time"),
    ),
    (
        "timeout-builtin",
        TimeoutError("timed out"),
        WS,
        Want(TimedOut, "timed out after 10 s", WS_WHERE, "the server did not answer in time"),
    ),
    (
        "refused-explicit-port",
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        WS,
        Want(
            ConnectionRefused,
            "connection refused",
            WS_WHERE,
            "nothing is listening on port 8080: is the server running?" + PROBE_TIP,
        ),
    ),
    (
        "refused-ws-default-port",
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        "ws://example.com/ws",
        Want(
            ConnectionRefused,
            "connection refused",
            "example.com",
            "nothing is listening on port 80: is the server running?" + PROBE_TIP,
        ),
    ),
    (
        "refused-wss-default-port",
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        "wss://example.com/ws",
        Want(
            ConnectionRefused,
            "connection refused",
            "example.com",
            "nothing is listening on port 443: is the server running?" + PROBE_TIP,
        ),
    ),
    (
        "refused-upper-wss-default-port",
        OSError(errno.ECONNREFUSED, "Connection refused"),
        "WSS://example.com/ws",
        Want(
            ConnectionRefused,
            "connection refused",
            "example.com",
            "nothing is listening on port 443: is the server running?" + PROBE_TIP,
        ),
    ),
    (
        "host-unreachable",
        OSError(errno.EHOSTUNREACH, "No route to host"),
        WS,
        Want(
            ConnectionRefused,
            "host unreachable: No route to host",
            WS_WHERE,
            "check the address, your network and any firewall" + PROBE_TIP,
        ),
    ),
    (
        "network-unreachable",
        OSError(errno.ENETUNREACH, "Network is unreachable"),
        WS,
        Want(
            ConnectionRefused,
            "host unreachable: Network is unreachable",
            WS_WHERE,
            "check the address, your network and any firewall" + PROBE_TIP,
        ),
    ),
    (
        "upgrade-unanswered-ws",
        UpgradeUnanswered("closed"),
        WS,
        Want(
            ConnectionLost,
            "the server closed the connection without answering the upgrade",
            WS_WHERE,
            "if this port speaks TLS, try wss://Example.COM:8080/ws;"
            " else check the URL path and the server's logs",
            (("close_code", 1006),),
        ),
    ),
    (
        "upgrade-unanswered-wss",
        UpgradeUnanswered("closed"),
        WSS,
        Want(
            ConnectionLost,
            "the server closed the connection without answering the upgrade",
            WSS_WHERE,
            "check the URL path and the server's logs",
            (("close_code", 1006),),
        ),
    ),
    (
        "upgrade-unanswered-upper-wss",
        UpgradeUnanswered("closed"),
        "WSS://example.com/ws",
        Want(
            ConnectionLost,
            "the server closed the connection without answering the upgrade",
            "example.com",
            "check the URL path and the server's logs",
            (("close_code", 1006),),
        ),
    ),
    (
        "closed-library",
        websocket.WebSocketConnectionClosedException("gone"),
        WS,
        Want(ConnectionLost, LOST_1006, WS_WHERE, DROP_HINT, (("close_code", 1006),)),
    ),
    (
        "closed-reset",
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        WS,
        Want(ConnectionLost, LOST_1006, WS_WHERE, DROP_HINT, (("close_code", 1006),)),
    ),
    (
        "closed-pipe",
        BrokenPipeError(errno.EPIPE, "Broken pipe"),
        WS,
        Want(ConnectionLost, LOST_1006, WS_WHERE, DROP_HINT, (("close_code", 1006),)),
    ),
    (
        "closed-aborted",
        ConnectionAbortedError(errno.ECONNABORTED, "Software caused connection abort"),
        WS,
        Want(ConnectionLost, LOST_1006, WS_WHERE, DROP_HINT, (("close_code", 1006),)),
    ),
    (
        "protocol",
        websocket.WebSocketProtocolException("Invalid close opcode 1005"),
        WS,
        Want(
            ConnectionLost,
            "protocol error: the server sent close code 1005, which RFC 6455 does not allow",
            WS_WHERE,
            None,
            (("close_code", None),),
        ),
    ),
    (
        "payload",
        websocket.WebSocketPayloadException("Invalid text frame"),
        WS,
        Want(
            ConnectionLost,
            "protocol error: Invalid text frame",
            WS_WHERE,
            None,
            (("close_code", None),),
        ),
    ),
    (
        "library-ssl-text",
        websocket.WebSocketException("SSL is not available"),
        WSS,
        Want(TLSFailure, "SSL is not available", WSS_WHERE, "check --cacert/--cert/--key files"),
    ),
    (
        "library-certificate-text",
        websocket.WebSocketException("bad certificate file"),
        WSS,
        Want(TLSFailure, "bad certificate file", WSS_WHERE, "check --cacert/--cert/--key files"),
    ),
    (
        "library-invalid-header-no-subprotocols",
        websocket.WebSocketException("Invalid WebSocket Header"),
        WS,
        Want(
            HandshakeRejected,
            "handshake failed: Invalid WebSocket Header",
            WS_WHERE,
            "the server did not complete a valid WebSocket upgrade",
            (("status", None),),
        ),
    ),
    (
        "value-error",
        ValueError("port could not be cast"),
        WS,
        Want(
            BadUsage,
            "invalid URL 'ws://Example.COM:8080/ws': port could not be cast",
            None,
            "use ws://HOST[:PORT]/PATH",
        ),
    ),
    (
        "os-error-strerror",
        OSError(errno.EIO, "Input/output error"),
        WS,
        Want(ConnectionLost, "network error: Input/output error", WS_WHERE, None),
    ),
    (
        "os-error-text",
        OSError("something odd"),
        WS,
        Want(ConnectionLost, "network error: something odd", WS_WHERE, None),
    ),
    (
        "anything-else",
        KeyError("k"),
        WS,
        Want(ConnectionLost, "KeyError: 'k'", WS_WHERE, None, (("close_code", None),)),
    ),
]


@pytest.mark.parametrize(
    ("exc", "url", "want"), [case[1:] for case in DIRECT], ids=[case[0] for case in DIRECT]
)
def test_classify_without_proxy(exc: BaseException, url: str, want: Want) -> None:
    """Each exception a direct connection can raise becomes exactly one worded error."""
    check(classify(exc, ConnectOptions(url=url)), want)


@pytest.mark.parametrize(
    ("phase", "words", "hint"),
    [
        (
            "dns",
            "name resolution",
            "the name server did not answer in time: check DNS (resolv.conf, a VPN),"
            " use the IP address, or raise --connect-timeout" + PROBE_TIP,
        ),
        (
            "tcp",
            "TCP connect",
            "the host did not accept TCP in time (a firewall dropping packets, or the"
            " wrong address or port?): check them, or raise --connect-timeout" + PROBE_TIP,
        ),
        (
            "tls",
            "TLS handshake",
            "the server accepted TCP but did not finish TLS: is this a TLS port"
            " (else try ws://Example.COM:8443/ws)? or raise --connect-timeout",
        ),
        (
            "upgrade",
            "waiting for the upgrade response",
            "the server accepted the connection but did not answer the upgrade in time:"
            " raise --connect-timeout, or run with -v to see where it stops",
        ),
        (
            "elsewhere",
            "elsewhere",
            "the server accepted the connection but did not answer the upgrade in time:"
            " raise --connect-timeout, or run with -v to see where it stops",
        ),
    ],
)
def test_connect_timeout_names_its_phase(phase: str, words: str, hint: str) -> None:
    """A connect deadline says which step it stopped in, with that step's hint."""
    options = ConnectOptions(url=WSS, connect_timeout=2.5)
    error = classify(ConnectTimeout(phase), options)
    check(
        error,
        Want(
            TimedOut,
            f"connect timeout after 2.5 s ({words})",
            WSS_WHERE,
            hint,
            (("reason", "connect_timeout"),),
        ),
    )


def test_plain_timeout_uses_the_configured_seconds() -> None:
    """The timed-out message quotes --connect-timeout in its short form."""
    error = classify(TimeoutError(), ConnectOptions(url=WS, connect_timeout=0.25))
    check(
        error,
        Want(TimedOut, "timed out after 0.25 s", WS_WHERE, "the server did not answer in time"),
    )


def test_rejected_status_without_headers_uses_the_bare_hint() -> None:
    """A 429 without headers (None) still has its generic rate-limit hint."""
    error = classify(bad_status(429, None, None), ConnectOptions(url=WS))
    check(
        error,
        Want(
            HandshakeRejected,
            "handshake rejected: HTTP 429 Too Many Requests",
            WS_WHERE,
            "rate limited: wait before retrying",
            (("status", 429),),
        ),
    )


def test_rejected_401_knows_the_token_was_sent() -> None:
    """The status hint sees the options: a refused --token is named as such."""
    error = classify(bad_status(401), ConnectOptions(url=WS, token="tok-123"))
    check(
        error,
        Want(
            HandshakeRejected,
            "handshake rejected: HTTP 401 Unauthorized",
            WS_WHERE,
            "the --token was sent and refused: check it is the right one and not expired",
            (("status", 401),),
        ),
    )


def test_subprotocol_mismatch_lists_the_offered_ones() -> None:
    """An unacceptable upgrade with --subprotocol blames the subprotocols, all of them."""
    options = ConnectOptions(url=WS, subprotocols=("chat", "superchat"))
    error = classify(websocket.WebSocketException("Invalid WebSocket Header"), options)
    check(
        error,
        Want(
            HandshakeRejected,
            "handshake failed: the upgrade response was not acceptable",
            WS_WHERE,
            "the server selected none of the offered subprotocols (chat, superchat),"
            " or sent wrong upgrade headers: try without --subprotocol",
            (("status", None),),
        ),
    )


def test_subprotocols_without_the_header_complaint_stay_generic() -> None:
    """--subprotocol alone does not turn every handshake failure into a subprotocol one."""
    options = ConnectOptions(url=WS, subprotocols=("chat",))
    error = classify(websocket.WebSocketException("Handshake status 200 OK"), options)
    check(
        error,
        Want(
            HandshakeRejected,
            "handshake failed: Handshake status 200 OK",
            WS_WHERE,
            "the server did not complete a valid WebSocket upgrade",
        ),
    )


def test_wscli_errors_pass_through_untouched() -> None:
    """An error already classified is returned as the same object, not re-wrapped or redacted."""
    original = ConnectionLost("keep tok-123 as is", where="w", hint="h tok-123")
    assert classify(original, ConnectOptions(url=WS, token="tok-123")) is original
    assert original.message == "keep tok-123 as is"
    assert original.hint == "h tok-123"


def test_an_unusable_proxy_is_the_usage_error() -> None:
    """A proxy wscli cannot use is reported instead of the connection failure it caused."""
    error = classify(ConnectionRefusedError(), ConnectOptions(url=WS, proxy="ftp://p:21"))
    check(
        error,
        Want(
            BadUsage, "unsupported proxy scheme 'ftp' in --proxy", None, "use http:// or socks5://"
        ),
    )


def test_server_text_and_hints_are_redacted() -> None:
    """A body or Location echoing our credentials never reaches the message or the hint."""
    options = ConnectOptions(url="ws://example.com/ws", token="tok-123")
    exc = bad_status(302, None, {"Location": "/login?next=tok-123"}, b"echo tok-123")
    check(
        classify(exc, options),
        Want(
            HandshakeRejected,
            "handshake rejected: HTTP 302 Found (echo [redacted])",
            "example.com",
            "the server redirects to /login?next=[redacted]: connect to that URL directly"
            " (wscli does not follow redirects, so credentials stay with this host)",
            (("status", 302),),
        ),
    )


def test_redaction_leaves_a_missing_hint_missing() -> None:
    """An error without a hint keeps hint None after redaction."""
    error = classify(KeyError("tok-123"), ConnectOptions(url=WS, token="tok-123"))
    check(error, Want(ConnectionLost, "KeyError: '[redacted]'", WS_WHERE, None))


def test_value_error_quotes_the_url_redacted() -> None:
    """A URL the library could not parse is quoted with its password hidden."""
    error = classify(ValueError("bad port"), ConnectOptions(url="ws://user:pw9@example.com:x/ws"))
    check(
        error,
        Want(
            BadUsage,
            "invalid URL 'ws://redacted@example.com:x/ws': bad port",
            None,
            "use ws://HOST[:PORT]/PATH",
        ),
    )


def test_dns_names_the_host_when_the_url_has_none() -> None:
    """With no host name in the URL, the DNS error falls back to where."""
    error = classify(socket.gaierror(socket.EAI_NONAME, "x"), ConnectOptions(url="ws://:81/ws"))
    check(
        error,
        Want(
            NameResolutionFailed,
            "cannot resolve host ':81'",
            None,
            "check the spelling of the host name, or use an IP address",
        ),
    )


@pytest.mark.parametrize(
    ("code", "message", "hint"),
    [
        (
            socket.EAI_AGAIN,
            "temporary failure resolving 'h.example'",
            "the DNS server did not answer: check your network or resolver",
        ),
        (
            socket.EAI_NONAME,
            "cannot resolve host 'h.example'",
            "check the spelling of the host name, or use an IP address",
        ),
        (
            None,
            "cannot resolve host 'h.example'",
            "check the spelling of the host name, or use an IP address",
        ),
    ],
)
def test_classify_dns_directly(code: int | None, message: str, hint: str) -> None:
    """Only EAI_AGAIN is a temporary failure; anything else is an unknown name."""
    exc: BaseException = socket.gaierror(code, "x") if code is not None else RuntimeError("x")
    check(_classify_dns(exc, "h.example"), Want(NameResolutionFailed, message, None, hint))


# --- through a proxy ----------------------------------------------------------------------

HTTP_PROXY_WHERE = "http proxy 10.0.0.9:3128 (from --proxy)"
SOCKS_PROXY_WHERE = "socks5 proxy 10.0.0.9:1080 (from --proxy)"
FLAG_BYPASS = "check the --proxy address, or drop --proxy to connect directly"

PROXIED: list[tuple[str, BaseException, str, Want]] = [
    (
        "deadline-tcp",
        ConnectTimeout("tcp"),
        "http://10.0.0.9:3128",
        Want(
            TimedOut,
            "connect timeout after 10 s (reaching the proxy)",
            HTTP_PROXY_WHERE,
            f"the proxy did not answer in time: {FLAG_BYPASS}",
        ),
    ),
    (
        "socks-timeout",
        ProxyTimeoutError("Proxy connection timed out"),
        "socks5://10.0.0.9",
        Want(
            TimedOut,
            "connect timeout after 10 s (reaching the proxy)",
            SOCKS_PROXY_WHERE,
            f"the proxy did not answer in time: {FLAG_BYPASS}",
        ),
    ),
    (
        "deadline-upgrade-is-not-the-proxy",
        ConnectTimeout("upgrade"),
        "http://10.0.0.9:3128",
        Want(
            TimedOut,
            "connect timeout after 10 s (waiting for the upgrade response)",
            WS_WHERE,
            "the server accepted the connection but did not answer the upgrade in time:"
            " raise --connect-timeout, or run with -v to see where it stops",
        ),
    ),
    (
        "socks-unreachable",
        ProxyConnectionError("Could not connect to proxy 10.0.0.9:1080"),
        "socks5://10.0.0.9",
        Want(
            ConnectionRefused,
            "cannot reach the proxy: Could not connect to proxy 10.0.0.9:1080",
            SOCKS_PROXY_WHERE,
            f"nothing accepted the connection at the proxy's address: {FLAG_BYPASS}",
        ),
    ),
    (
        "socks-unreachable-strerror",
        ProxyConnectionError(errno.ECONNREFUSED, "Connection refused"),
        "socks5://10.0.0.9",
        Want(
            ConnectionRefused,
            "cannot reach the proxy: Connection refused",
            SOCKS_PROXY_WHERE,
            f"nothing accepted the connection at the proxy's address: {FLAG_BYPASS}",
        ),
    ),
    (
        "http-refused",
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        "http://10.0.0.9:3128",
        Want(
            ConnectionRefused,
            "cannot reach the proxy: Connection refused",
            HTTP_PROXY_WHERE,
            f"nothing accepted the connection at the proxy's address: {FLAG_BYPASS}",
        ),
    ),
    (
        "http-host-unreachable",
        OSError(errno.EHOSTUNREACH, "No route to host"),
        "http://10.0.0.9:3128",
        Want(
            ConnectionRefused,
            "cannot reach the proxy: No route to host",
            HTTP_PROXY_WHERE,
            f"nothing accepted the connection at the proxy's address: {FLAG_BYPASS}",
        ),
    ),
    (
        "http-net-unreachable",
        OSError(errno.ENETUNREACH, "Network is unreachable"),
        "http://10.0.0.9:3128",
        Want(
            ConnectionRefused,
            "cannot reach the proxy: Network is unreachable",
            HTTP_PROXY_WHERE,
            f"nothing accepted the connection at the proxy's address: {FLAG_BYPASS}",
        ),
    ),
    (
        "http-other-oserror-is-not-the-proxy",
        OSError(errno.EIO, "Input/output error"),
        "http://10.0.0.9:3128",
        Want(ConnectionLost, "network error: Input/output error", WS_WHERE, None),
    ),
    (
        "socks-refused-oserror-is-the-target",
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        "socks5://10.0.0.9",
        Want(
            ConnectionRefused,
            "connection refused",
            WS_WHERE,
            "nothing is listening on port 8080: is the server running?" + PROBE_TIP,
        ),
    ),
    (
        "socks-tunnel-failed",
        ProxyError("Host unreachable", 4),
        "socks5://10.0.0.9",
        Want(
            ConnectionRefused,
            "the proxy could not connect to Example.COM:8080: Host unreachable",
            SOCKS_PROXY_WHERE,
            f"the proxy is up but refused or failed the tunnel: {FLAG_BYPASS}",
        ),
    ),
    (
        "http-407",
        websocket.WebSocketProxyException("failed CONNECT via proxy status: 407"),
        "http://10.0.0.9:3128",
        Want(
            ConnectionRefused,
            "the proxy refused to connect to Example.COM:8080:"
            " failed CONNECT via proxy status: 407",
            HTTP_PROXY_WHERE,
            "the proxy wants credentials: put them in the proxy URL (http://USER:PASS@HOST:PORT)",
        ),
    ),
    (
        "http-403",
        websocket.WebSocketProxyException("failed CONNECT via proxy status: 403"),
        "http://10.0.0.9:3128",
        Want(
            ConnectionRefused,
            "the proxy refused to connect to Example.COM:8080:"
            " failed CONNECT via proxy status: 403",
            HTTP_PROXY_WHERE,
            f"the proxy is up but refused or failed the tunnel: {FLAG_BYPASS}",
        ),
    ),
    (
        "http-proxy-name",
        websocket.WebSocketAddressException(socket.gaierror(socket.EAI_AGAIN, "again")),
        "http://10.0.0.9:3128",
        Want(
            NameResolutionFailed,
            "cannot resolve the proxy host '10.0.0.9'",
            HTTP_PROXY_WHERE,
            f"check the proxy's host name: {FLAG_BYPASS}",
        ),
    ),
    (
        "socks-name-is-the-target",
        websocket.WebSocketAddressException(socket.gaierror(socket.EAI_AGAIN, "again")),
        "socks5://10.0.0.9",
        Want(
            NameResolutionFailed,
            "temporary failure resolving 'example.com'",
            None,
            "the DNS server did not answer: check your network or resolver",
        ),
    ),
    (
        "http-gaierror-is-the-target",
        socket.gaierror(socket.EAI_NONAME, "nope"),
        "http://10.0.0.9:3128",
        Want(
            NameResolutionFailed,
            "cannot resolve host 'example.com'",
            None,
            "check the spelling of the host name, or use an IP address",
        ),
    ),
    (
        "other-is-not-the-proxy",
        FrameTooLarge(5, 4),
        "http://10.0.0.9:3128",
        Want(
            ConnectionLost,
            "frame of 5 bytes exceeds --max-size 4",
            WS_WHERE,
            "raise --max-size if such frames are expected",
            (("close_code", 1009),),
        ),
    ),
]


@pytest.mark.parametrize(
    ("exc", "proxy", "want"), [case[1:] for case in PROXIED], ids=[case[0] for case in PROXIED]
)
def test_classify_through_a_proxy_flag(exc: BaseException, proxy: str, want: Want) -> None:
    """With --proxy, failures of the proxy name the proxy; others still name the target."""
    check(classify(exc, ConnectOptions(url=WS, proxy=proxy)), want)


def test_proxy_from_the_environment_offers_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy from https_proxy is named by its variable, and --no-proxy is the way around it."""
    monkeypatch.setenv("HTTPS_PROXY", "http://[fd00::9]:8080")
    error = classify(ConnectTimeout("tcp"), ConnectOptions(url=WSS, connect_timeout=3))
    check(
        error,
        Want(
            TimedOut,
            "connect timeout after 3 s (reaching the proxy)",
            "http proxy [fd00::9]:8080 (from HTTPS_PROXY)",
            "the proxy did not answer in time:"
            " check the proxy, or ignore HTTPS_PROXY with --no-proxy",
        ),
    )


def test_no_proxy_flag_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """With --no-proxy an http_proxy variable changes nothing in the classification."""
    monkeypatch.setenv("http_proxy", "http://10.0.0.9:3128")
    options = ConnectOptions(url=WS, no_proxy=True)
    error = classify(ConnectionRefusedError(errno.ECONNREFUSED, "refused"), options)
    check(
        error,
        Want(
            ConnectionRefused,
            "connection refused",
            WS_WHERE,
            "nothing is listening on port 8080: is the server running?" + PROBE_TIP,
        ),
    )


def test_proxy_errors_are_redacted_too() -> None:
    """The proxy's own text echoing the proxy password is hidden like server text."""
    options = ConnectOptions(url=WS, proxy="http://bob:hunter22@10.0.0.9:3128")
    exc = websocket.WebSocketProxyException("auth hunter22 refused")
    check(
        classify(exc, options),
        Want(
            ConnectionRefused,
            "the proxy refused to connect to Example.COM:8080: auth [redacted] refused",
            HTTP_PROXY_WHERE,
            f"the proxy is up but refused or failed the tunnel: {FLAG_BYPASS}",
        ),
    )


# --- the tap, -v, probe -------------------------------------------------------------------


def test_request_headers_for_tap_minimal() -> None:
    """The predicted request: the library's four fixed headers, Host without userinfo."""
    options = ConnectOptions(url="wss://user:pw@Example.COM:8443/ws?x=1")
    assert request_headers_for_tap(options, []) == [
        ("Host", "Example.COM:8443"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Version", "13"),
    ]


def test_request_headers_for_tap_host_after_the_last_at_sign() -> None:
    """Userinfo holding an "@" of its own is still cut off the Host header."""
    options = ConnectOptions(url="ws://a@b:c@host.example:81/ws")
    assert request_headers_for_tap(options, [])[0] == ("Host", "host.example:81")


def test_request_headers_for_tap_full() -> None:
    """Origin and subprotocols come after the fixed headers, the user's headers last."""
    options = ConnectOptions(
        url="ws://example.com/ws", origin="https://app.example", subprotocols=("a", "b")
    )
    extra = [("X-One", "1"), ("Authorization", "Bearer t")]
    assert request_headers_for_tap(options, extra) == [
        ("Host", "example.com"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Version", "13"),
        ("Origin", "https://app.example"),
        ("Sec-WebSocket-Protocol", "a, b"),
        ("X-One", "1"),
        ("Authorization", "Bearer t"),
    ]


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("ws://Example.COM:8000/ws", "example.com:8000"),
        ("ws://example.com/ws", "example.com:80"),
        ("wss://example.com/ws", "example.com:443"),
        ("WSS://example.com/ws", "example.com:443"),
        ("wss://u:p@[::1]:9443/ws", "[::1]:9443"),
        ("ws://[fe80::1]/ws", "[fe80::1]:80"),
    ],
)
def test_connect_target_direct(url: str, target: str) -> None:
    """-v's target: host and port, the scheme's default port, IPv6 in brackets."""
    assert _connect_target(ConnectOptions(url=url)) == target


def test_connect_target_without_a_host_name() -> None:
    """A URL without a host name leaves the host empty rather than inventing one."""
    assert _connect_target(ConnectOptions(url="ws://:81/ws")) == ":81"


def test_connect_target_names_the_proxy_first() -> None:
    """Through a proxy, -v names the proxy and then the target."""
    options = ConnectOptions(url="wss://example.com/ws", proxy="socks5h://10.0.0.9:9050")
    assert (
        _connect_target(options) == "socks5h proxy 10.0.0.9:9050 (from --proxy) for example.com:443"
    )


def test_connect_target_without_proxy_ignores_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--no-proxy drops the variable's proxy from the -v line; without it, it is shown."""
    monkeypatch.setenv("http_proxy", "http://10.0.0.9:3128")
    assert _connect_target(ConnectOptions(url="ws://example.com/ws", no_proxy=True)) == (
        "example.com:80"
    )
    assert _connect_target(ConnectOptions(url="ws://example.com/ws")) == (
        "http proxy 10.0.0.9:3128 (from http_proxy) for example.com:80"
    )


def test_proxy_source_from_the_flag() -> None:
    """--proxy is its own source, without a dollar sign."""
    options = ConnectOptions(url=WS, proxy="http://10.0.0.9:3128")
    assert proxy_source(options) == ("http://10.0.0.9:3128", "--proxy")


def test_proxy_source_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A variable's proxy is named as a shell variable, as the user set it."""
    monkeypatch.setenv("ALL_PROXY", "socks5://10.0.0.9:1080")
    assert proxy_source(ConnectOptions(url=WS)) == ("socks5://10.0.0.9:1080", "$ALL_PROXY")


def test_proxy_source_none() -> None:
    """No proxy, --no-proxy, or a proxy wscli cannot use: nothing for probe to show."""
    assert proxy_source(ConnectOptions(url=WS)) is None
    assert proxy_source(ConnectOptions(url=WS, proxy="http://p:1", no_proxy=True)) is None
    assert proxy_source(ConnectOptions(url=WS, proxy="ftp://p:21")) is None


def test_plain_port_error() -> None:
    """wss:// to a plain-HTTP port: a TLS failure naming the scheme to drop."""
    check(
        plain_port_error("h:8080", scheme="wss"),
        Want(
            TLSFailure,
            "TLS handshake failed: the port speaks plain HTTP, not TLS",
            "h:8080",
            "use ws:// instead of wss://, or the server's TLS port",
        ),
    )


def test_tls_port_error() -> None:
    """ws:// to a TLS port: a TLS failure pointing at wss://."""
    check(
        tls_port_error("h:8443"),
        Want(
            TLSFailure,
            "the port speaks TLS, but the URL is ws://",
            "h:8443",
            "use wss:// for this port (add --cacert FILE for a private CA)",
        ),
    )


# --- options: headers, secrets, the URL, TLS and proxy settings ---------------------------


def test_header_pairs_split_at_the_first_colon_and_add_the_token() -> None:
    """-H values keep later colons, names and values are trimmed, --token comes last."""
    options = ConnectOptions(headers=("X-A: 1", "X-Time:12:30", " Z : v "), token="t0k3n")
    assert options.header_pairs() == [
        ("X-A", "1"),
        ("X-Time", "12:30"),
        ("Z", "v"),
        ("Authorization", "Bearer t0k3n"),
    ]
    assert ConnectOptions(headers=("X-A: 1",)).header_pairs() == [("X-A", "1")]


@pytest.mark.parametrize("raw", ["no-colon", ": value", "   :value"])
def test_header_pairs_refuse_a_header_without_name_or_colon(raw: str) -> None:
    """A header with no colon or an empty name is a usage error quoting it."""
    with pytest.raises(BadUsage) as caught:
        ConnectOptions(headers=("X-Ok: 1", raw)).header_pairs()
    check(
        caught.value, Want(BadUsage, f"bad header {raw!r}", None, 'write headers as "Name: value"')
    )


def test_secrets_collects_every_credential_once() -> None:
    """Token, URL password and parameters, proxy password and secret headers, in order."""
    options = ConnectOptions(
        url="ws://user:pass1@h/ws?token=abc%20d&x=1",
        token="tok-1234",
        proxy="http://pu:ppw9@p:1",
        headers=("Authorization: Bearer hdr-secret", "X-Plain: v", "Cookie: a=c1; b=c2"),
    )
    assert options.secrets() == [
        "tok-1234",
        "pass1",
        "abc%20d",
        "abc d",
        "ppw9",
        "Bearer hdr-secret",
        "hdr-secret",
        "a=c1; b=c2",
        "b=c2",
        "c1",
        "c2",
    ]


def test_secrets_split_headers_at_the_first_colon() -> None:
    """A secret header's value may itself hold colons; the name ends at the first one."""
    options = ConnectOptions(url="ws://h/", headers=("X-Api-Key: k3y:v4lue",))
    assert options.secrets() == ["k3y:v4lue"]


def test_secrets_of_plain_options_are_none() -> None:
    """Nothing secret given, nothing to hide; a lone URL username counts as a secret."""
    assert ConnectOptions(url="ws://h/ws", headers=("X-Plain: v",)).secrets() == []
    assert ConnectOptions(url="ws://loneuser@h/").secrets() == ["loneuser"]
    assert ConnectOptions(
        url="ws://h/", token="tok-1234", headers=("X-Api-Key: tok-1234",)
    ).secrets() == ["tok-1234"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("localhost:8000/ws", "ws://localhost:8000/ws"),
        ("ws://h/ws", "ws://h/ws"),
        ("WSS://h:8443/x", "WSS://h:8443/x"),
        ("wss://u:p@h/x?token=1", "wss://u:p@h/x?token=1"),
    ],
)
def test_check_url_accepts(url: str, expected: str) -> None:
    """A WebSocket URL comes back as given; one without a scheme gets ws://."""
    assert check_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message", "hint"),
    [
        (
            "ws://h:99999/",
            "invalid URL 'ws://h:99999/': Port out of range 0-65535",
            "use ws://HOST[:PORT]/PATH",
        ),
        (
            "http://h:1/p?q=1",
            "invalid URL 'http://h:1/p?q=1': http:// is not a WebSocket URL",
            "use ws://h:1/p",
        ),
        (
            "https://u:p@h/p",
            "invalid URL 'https://redacted@h/p': https:// is not a WebSocket URL",
            "use wss://h/p",
        ),
        (
            "https://a@b@h/p",
            "invalid URL 'https://redacted@h/p': https:// is not a WebSocket URL",
            "use wss://h/p",
        ),
        (
            "HTTP://h/x",
            "invalid URL 'HTTP://h/x': http:// is not a WebSocket URL",
            "use ws://h/x",
        ),
        ("ftp://h/", "invalid URL 'ftp://h/'", "use ws://HOST[:PORT]/PATH or wss://..."),
        ("ws:///path", "invalid URL 'ws:///path'", "use ws://HOST[:PORT]/PATH or wss://..."),
        ("ws://h:0/", "invalid URL 'ws://h:0/': port 0", "give the server's port"),
        (
            "ws://h:/x",
            "invalid URL 'ws://h:/x': empty port",
            "give the port after the colon, or drop the colon for 80",
        ),
        (
            "wss://h:/x",
            "invalid URL 'wss://h:/x': empty port",
            "give the port after the colon, or drop the colon for 443",
        ),
        (
            "ws://h:0/?x=sekrit1",
            "invalid URL 'ws://h:0/?x=[redacted]': port 0",
            "give the server's port",
        ),
    ],
)
def test_check_url_refuses(url: str, message: str, hint: str) -> None:
    """Each way a URL cannot be a WebSocket endpoint has its own words, the URL redacted."""
    with pytest.raises(BadUsage) as caught:
        check_url(url, ["sekrit1"])
    check(caught.value, Want(BadUsage, message, None, hint))


def test_ssl_options_verify_by_default() -> None:
    """Without -k the certificate and host name are checked; no files, no file options."""
    assert _ssl_options(ConnectOptions()) == {
        "cert_reqs": ssl.CERT_REQUIRED,
        "check_hostname": True,
    }


def test_ssl_options_with_every_file(tmp_path: Path) -> None:
    """--cacert, --cert and --key each reach the library under its own name."""
    ca, cert, key = (tmp_path / name for name in ("ca.pem", "cert.pem", "key.pem"))
    for path in (ca, cert, key):
        path.write_text("x")
    options = ConnectOptions(cacert=str(ca), cert=str(cert), key=str(key))
    assert _ssl_options(options) == {
        "cert_reqs": ssl.CERT_REQUIRED,
        "check_hostname": True,
        "ca_certs": str(ca),
        "certfile": str(cert),
        "keyfile": str(key),
    }
    assert _ssl_options(ConnectOptions(cert=str(cert))) == {
        "cert_reqs": ssl.CERT_REQUIRED,
        "check_hostname": True,
        "certfile": str(cert),
    }


def test_ssl_options_insecure_drops_the_ca(tmp_path: Path) -> None:
    """-k turns verification off and so has no use for --cacert; a client cert still goes."""
    ca, cert = tmp_path / "ca.pem", tmp_path / "cert.pem"
    ca.write_text("x")
    cert.write_text("x")
    options = ConnectOptions(insecure=True, cacert=str(ca), cert=str(cert))
    assert _ssl_options(options) == {
        "cert_reqs": ssl.CERT_NONE,
        "check_hostname": False,
        "certfile": str(cert),
    }


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("cacert", "--cacert {missing}: no such file"),
        ("cert", "--cert {missing}: no such file"),
        ("key", "--key needs --cert"),
    ],
)
def test_ssl_options_refuse_missing_files(tmp_path: Path, which: str, message: str) -> None:
    """A TLS file that is not there, or --key alone, is a usage error before connecting."""
    missing = str(tmp_path / "missing.pem")
    key = tmp_path / "key.pem"
    key.write_text("x")
    options = {
        "cacert": ConnectOptions(cacert=missing),
        "cert": ConnectOptions(cert=missing, key=str(key)),
        "key": ConnectOptions(key=str(key)),
    }[which]
    with pytest.raises(BadUsage) as caught:
        _ssl_options(options)
    check(caught.value, Want(BadUsage, message.format(missing=missing), None, None))


def test_ssl_options_refuse_a_directory_as_a_file(tmp_path: Path) -> None:
    """--cacert must name a file; a directory is not one."""
    with pytest.raises(BadUsage) as caught:
        _ssl_options(ConnectOptions(cacert=str(tmp_path)))
    assert caught.value.message == f"--cacert {tmp_path}: no such file"


def test_proxy_options_for_a_proxy() -> None:
    """--proxy becomes the library's proxy options, with the connect timeout and auth."""
    options = ConnectOptions(url=WS, proxy="http://bob:pw@10.0.0.9:3128", connect_timeout=2.5)
    assert _proxy_options(options) == {
        "http_proxy_host": "10.0.0.9",
        "http_proxy_port": 3128,
        "proxy_type": "http",
        "http_proxy_timeout": 2.5,
        "http_proxy_auth": ("bob", "pw"),
    }
    assert _proxy_options(ConnectOptions(url=WS)) == DIRECT


# websocket-client's own argument for "no proxy for this connection, whatever the env says".
DIRECT = {"http_no_proxy": ["*"]}


def test_proxy_options_no_proxy_keeps_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """--no-proxy tells the library "direct" per connection; the environment is left alone."""
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, "http://10.0.0.9:3128")
    assert _proxy_options(ConnectOptions(url=WS, proxy="http://p:1", no_proxy=True)) == DIRECT
    assert {name for name in PROXY_VARIABLES if name in os.environ} == set(PROXY_VARIABLES)


@pytest.mark.parametrize("present", [(), ("HTTP_PROXY",), ("https_proxy",)])
def test_proxy_options_no_proxy_with_variables_missing(
    monkeypatch: pytest.MonkeyPatch, present: tuple[str, ...]
) -> None:
    """--no-proxy works whichever spelling of the variables is unset."""
    for name in present:
        monkeypatch.setenv(name, "http://10.0.0.9:3128")
    assert _proxy_options(ConnectOptions(url=WS, no_proxy=True)) == DIRECT
    assert [name for name in PROXY_VARIABLES if name in os.environ] == [
        name for name in PROXY_VARIABLES if name in present
    ]


# --- opening: what reaches the library, the tap and the caller ----------------------------


class FakeSocket:
    """A stand-in for the library's WebSocket: records what it is given, answers or fails."""

    made: list[FakeSocket] = []
    failure: BaseException | None = None
    lines: list[str] = []

    def __init__(self, **kwargs: Any) -> None:
        self.init = kwargs
        self.url = ""
        self.kwargs: dict[str, Any] = {}
        self.request_lines: list[str] = []
        self.on_request: Any = None
        self.tap: Any = None
        FakeSocket.made.append(self)

    def connect(self, url: str, **kwargs: Any) -> None:
        self.url, self.kwargs = url, kwargs
        self.request_lines = list(FakeSocket.lines)
        if FakeSocket.failure is not None:
            raise FakeSocket.failure

    def getstatus(self) -> int:
        return 101

    def getheaders(self) -> dict[str, str] | None:
        return {"Upgrade": "websocket", "Sec-WebSocket-Protocol": "chat"}

    def getsubprotocol(self) -> str:
        return "chat"


class FakeTapped(FakeSocket):
    """The tapped variant, told apart from the plain one by its class."""


@dataclass
class FakeTap:
    """Records every call the connection makes on its tap."""

    enabled: bool = True
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def connecting(self, target: str) -> None:
        self.calls.append(("connecting", target))

    def request(self, lines: list[str]) -> None:
        self.calls.append(("request", lines))

    def handshake(self, **fields: Any) -> None:
        self.calls.append(("handshake", fields))

    def event(self, name: str, **fields: Any) -> None:
        self.calls.append((name, fields))


@pytest.fixture
def fake_library(monkeypatch: pytest.MonkeyPatch) -> type[FakeSocket]:
    """The transport's WebSocket classes replaced by recording fakes."""
    import wscli.net.transport

    monkeypatch.setattr(wscli.net.transport, "BufferedWebSocket", FakeSocket)
    monkeypatch.setattr(wscli.net.transport, "TappedWebSocket", FakeTapped)
    monkeypatch.setattr(FakeSocket, "made", [])
    monkeypatch.setattr(FakeSocket, "failure", None)
    monkeypatch.setattr(FakeSocket, "lines", [])
    return FakeSocket


REQUEST_LINES = ["GET /ws HTTP/1.1", "Host: Example.COM:8080", "X-Time: 12:30"]
VERIFY = {"cert_reqs": ssl.CERT_REQUIRED, "check_hostname": True}


def test_open_connection_plain(fake_library: type[FakeSocket]) -> None:
    """Defaults: headers with the bearer token, the timeout, no invented Origin, no proxy."""
    options = ConnectOptions(url=WS, headers=("X-A: 1",), token="t0k3n")
    ws, handshake = open_connection(options)
    (made,) = fake_library.made
    assert ws is cast(Any, made)
    assert type(made) is FakeSocket
    assert made.init == {
        "sslopt": VERIFY,
        "max_size": 16 * 1024 * 1024,
        "enable_multithread": False,
    }
    assert made.url == WS
    assert made.kwargs == {
        "header": ["X-A: 1", "Authorization: Bearer t0k3n"],
        "timeout": 10.0,
        "suppress_origin": True,
        **DIRECT,
    }
    assert handshake == Handshake(
        status=101,
        request=request_headers_for_tap(options, [("X-A", "1"), ("Authorization", "Bearer t0k3n")]),
        response=[("Upgrade", "websocket"), ("Sec-WebSocket-Protocol", "chat")],
        subprotocol="chat",
    )


def test_open_connection_passes_every_option(fake_library: type[FakeSocket]) -> None:
    """Origin, subprotocols, proxy, a given socket, max size and thread safety all reach it."""
    fake_library.lines = REQUEST_LINES
    timeouts: list[float] = []
    sock = SimpleNamespace(settimeout=timeouts.append)
    options = ConnectOptions(
        url=WS,
        origin="https://app.example",
        subprotocols=("chat", "v2"),
        proxy="socks5://10.0.0.9:1080",
        connect_timeout=4.0,
        max_size=None,
    )
    _, handshake = open_connection(options, sock=cast(Any, sock), threadsafe=True)
    (made,) = fake_library.made
    assert made.init == {"sslopt": VERIFY, "max_size": None, "enable_multithread": True}
    assert made.kwargs == {
        "header": [],
        "timeout": 4.0,
        "suppress_origin": False,
        "http_proxy_host": "10.0.0.9",
        "http_proxy_port": 1080,
        "proxy_type": "socks5",
        "http_proxy_timeout": 4.0,
        "origin": "https://app.example",
        "subprotocols": ["chat", "v2"],
        "socket": sock,
    }
    assert timeouts == [4.0]
    assert handshake.request == [("Host", "Example.COM:8080"), ("X-Time", "12:30")]


def test_open_connection_taps_the_handshake(fake_library: type[FakeSocket]) -> None:
    """An enabled tap gets the tapped socket, the target first, then the request and answer."""
    fake_library.lines = REQUEST_LINES
    tap = FakeTap()
    ws, handshake = open_connection(ConnectOptions(url=WS), cast(Any, tap))
    (made,) = fake_library.made
    assert type(made) is FakeTapped
    assert made.init == {
        "sslopt": VERIFY,
        "max_size": 16 * 1024 * 1024,
        "enable_multithread": False,
    }
    assert made.tap is tap
    assert made.on_request == tap.request
    assert tap.calls == [
        ("connecting", "example.com:8080"),
        (
            "handshake",
            {
                "url": WS,
                "request": [("Host", "Example.COM:8080"), ("X-Time", "12:30")],
                "status": 101,
                "response": [("Upgrade", "websocket"), ("Sec-WebSocket-Protocol", "chat")],
            },
        ),
    ]
    assert handshake.subprotocol == "chat"


def test_open_connection_with_a_disabled_tap(fake_library: type[FakeSocket]) -> None:
    """A tap that is not enabled is not used at all: plain socket, no calls."""
    tap = FakeTap(enabled=False)
    open_connection(ConnectOptions(url=WS), cast(Any, tap))
    (made,) = fake_library.made
    assert type(made) is FakeSocket
    assert made.tap is None
    assert made.on_request is None
    assert tap.calls == []


def test_open_connection_rejected_is_classified_and_tapped(fake_library: type[FakeSocket]) -> None:
    """A rejected upgrade raises the classified error, and the tap sees status and error."""
    exc = bad_status(404, None, {"Content-Type": "text/plain"})
    fake_library.failure = exc
    tap = FakeTap()
    options = ConnectOptions(url=WS, headers=("X-A: 1",))
    with pytest.raises(HandshakeRejected) as caught:
        open_connection(options, cast(Any, tap))
    assert caught.value.__cause__ is exc
    assert caught.value.message == "handshake rejected: HTTP 404 Not Found"
    assert tap.calls == [
        ("connecting", "example.com:8080"),
        (
            "handshake",
            {
                "url": WS,
                "request": request_headers_for_tap(options, [("X-A", "1")]),
                "status": 404,
                "response": [("Content-Type", "text/plain")],
            },
        ),
        ("error", {"message": "handshake rejected: HTTP 404 Not Found"}),
    ]


def test_open_connection_rejected_without_headers(fake_library: type[FakeSocket]) -> None:
    """A rejection without response headers is tapped with an empty response."""
    fake_library.lines = REQUEST_LINES
    fake_library.failure = bad_status(500)
    tap = FakeTap()
    with pytest.raises(HandshakeRejected):
        open_connection(ConnectOptions(url=WS), cast(Any, tap))
    assert tap.calls[1] == (
        "handshake",
        {
            "url": WS,
            "request": [("Host", "Example.COM:8080"), ("X-Time", "12:30")],
            "status": 500,
            "response": [],
        },
    )


def test_open_connection_other_failures_tap_only_the_error(fake_library: type[FakeSocket]) -> None:
    """A failure before any answer is tapped as an error event, no handshake."""
    exc = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    fake_library.failure = exc
    tap = FakeTap()
    with pytest.raises(ConnectionRefused) as caught:
        open_connection(ConnectOptions(url=WS), cast(Any, tap))
    assert caught.value.__cause__ is exc
    assert tap.calls == [
        ("connecting", "example.com:8080"),
        ("error", {"message": "connection refused"}),
    ]


def test_open_connection_failure_without_a_tap(fake_library: type[FakeSocket]) -> None:
    """Without a tap the failure is still classified and chained."""
    exc = TimeoutError("timed out")
    fake_library.failure = exc
    with pytest.raises(TimedOut) as caught:
        open_connection(ConnectOptions(url=WS))
    assert caught.value.__cause__ is exc
    assert caught.value.message == "timed out after 10 s"


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), SystemExit(3)])
def test_open_connection_lets_interrupts_through(
    fake_library: type[FakeSocket], stop: BaseException
) -> None:
    """Ctrl-C and exits are not connection failures: they propagate as themselves."""
    fake_library.failure = stop
    tap = FakeTap()
    with pytest.raises(type(stop)) as caught:
        open_connection(ConnectOptions(url=WS), cast(Any, tap))
    assert caught.value is stop
    assert tap.calls == [("connecting", "example.com:8080")]


def test_sent_headers_predicted_or_as_sent() -> None:
    """Before sending, the request is predicted; after, it is read from the lines sent."""
    options = ConnectOptions(url=WS, origin="https://o.example")
    pairs = [("X-A", "1")]
    unsent = cast(Any, SimpleNamespace(request_lines=[]))
    assert _sent_headers(unsent, options, pairs) == request_headers_for_tap(options, pairs)
    assert _sent_headers(unsent, options, pairs)[-1] == ("X-A", "1")
    sent = cast(Any, SimpleNamespace(request_lines=REQUEST_LINES))
    assert _sent_headers(sent, options, pairs) == [
        ("Host", "Example.COM:8080"),
        ("X-Time", "12:30"),
    ]
