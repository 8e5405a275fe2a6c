"""What to try next: the hint text for each way a connection can fail.

Pure functions of a status, headers and the options, used by
:func:`wscli.net.connection.classify` (which decides the error and its exit code).
A hint is never cut (issue #7): a user acts on its last words.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import TYPE_CHECKING

from wscli.redact import redact_url

if TYPE_CHECKING:
    from wscli.net.target import ConnectOptions


def status_hint(
    status: int, options: ConnectOptions, headers: dict[str, str], body: str = ""
) -> str:
    """What to try after an HTTP status other than 101; never cut (issue #7)."""
    if status == 400 and "https port" in body.lower():
        return f"the server speaks TLS on this port: try {swap_scheme(options.url, 'wss')}"
    other = not_websocket_hint(status, headers, body)
    if other:
        return other
    if status in (400, 426):
        return "the server refused the upgrade headers: is this a WebSocket endpoint and path?"
    if status == 401:
        if options.token:
            return "the --token was sent and refused: check it is the right one and not expired"
        if sends_header(options, "authorization"):
            return "the Authorization header was sent and refused: check the credentials"
        return "authentication required: pass --token TOKEN or -H 'Authorization: ...'"
    if status == 403:
        return "forbidden: the server may check Origin (try --origin URL) or your credentials"
    if status == 404:
        return "no WebSocket endpoint at this path: check the URL path"
    if status == 429:
        wait = headers.get("retry-after", "").strip()
        if wait.isdigit():
            return f"rate limited: the server asks to wait {wait} s before retrying"
        return "rate limited: wait before retrying"
    if status in (502, 503, 504):
        return "a proxy answered but the backend is down or unreachable"
    if 500 <= status < 600:
        return "the server failed while handling the upgrade: check its logs"
    if 300 <= status < 400:
        from wscli.redact import redact_location

        location = redact_location(headers.get("location", "").strip(), options.secrets())
        if location:
            return (
                f"the server redirects to {location}: connect to that URL directly"
                " (wscli does not follow redirects, so credentials stay with this host)"
            )
        return "the server redirects without a Location: check the URL"
    return "the server refused the WebSocket upgrade"


# ``Server`` values of front ends that must be told to pass the upgrade on.
_PROXIES = (
    "nginx",
    "envoy",
    "awselb",
    "elb",
    "cloudflare",
    "haproxy",
    "traefik",
    "caddy",
    "apache",
    "squid",
    "varnish",
    "openresty",
    "istio",
    "kong",
)
# Plain file servers: nothing on this port speaks WebSocket at all.
_FILE_SERVERS = ("simplehttp", "http-server")  # python -m http.server, node http-server
# Backends that answer 403 with an empty body when the endpoint closes before accept().
_ASGI_SERVERS = ("uvicorn", "hypercorn", "daphne", "granian")
# Words of a backend that got the request without its Upgrade/Connection headers.
_NO_UPGRADE = ("upgrade", "connection header")

PROXY_UPGRADE_FIX = (
    "nginx needs proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade;"
    ' proxy_set_header Connection "upgrade"; an AWS Classic ELB needs a TCP/SSL'
    " listener (an ALB passes WebSocket on)"
)


def _server(headers: dict[str, str]) -> str:
    return headers.get("server", "").strip()


def not_websocket_hint(status: int, headers: dict[str, str], body: str) -> str:
    """Something other than a WebSocket endpoint answered: name the likely cause, or ``""``.

    A web page (200), a proxy that dropped the ``Upgrade``/``Connection`` headers
    (426, or 400 from a proxy or about the upgrade), a file server on the wrong port
    (``SimpleHTTP`` 404), and an ASGI app that closed before ``accept()`` (empty 403).
    """
    server = _server(headers)
    lowered = server.lower()
    named = f" ({server})" if server else ""
    if 200 <= status < 300:
        kind = headers.get("content-type", "").split(";")[0].strip() or "a page"
        return (
            f"a plain HTTP server{named} answered with {kind}, not a WebSocket upgrade:"
            " wrong port or path? a WebSocket endpoint answers 101"
        )
    via = headers.get("via", "").strip()
    proxy = via or (server if any(p in lowered for p in _PROXIES) else "")
    about_upgrade = any(word in body.lower() for word in _NO_UPGRADE)
    if status == 426 or (status == 400 and (proxy or about_upgrade)):
        front = f"a proxy ({proxy})" if proxy else "a proxy in between"
        return (
            f"the upgrade headers did not reach the WebSocket server: {front} may not pass"
            f" Upgrade/Connection on; {PROXY_UPGRADE_FIX}"
        )
    if status == 404 and any(f in lowered for f in _FILE_SERVERS):
        return (
            f"a plain file server{named} answered, not a WebSocket server:"
            " wrong port? check which port the WebSocket server listens on"
        )
    if status == 403 and not body.strip():
        app = next((a for a in _ASGI_SERVERS if a in lowered), "")
        who = f"{server} (an ASGI server)" if app else "the server"
        return (
            f"{who} answered 403 with no body: the endpoint closed before accept()"
            " (FastAPI/Starlette do this when an auth dependency or Origin check fails):"
            " check the auth dependency, pass --token, or try --origin URL"
        )
    return ""


def sends_header(options: ConnectOptions, name: str) -> bool:
    return any(raw.partition(":")[0].strip().lower() == name for raw in options.headers)


def swap_scheme(url: str, scheme: str) -> str:
    """The URL with another scheme, redacted (hints quote it)."""
    return redact_url(f"{scheme}://{url.split('://', 1)[-1]}")


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


SNIPPET_LIMIT = 300


def body_snippet(body: bytes | None) -> str:
    """The body's first line, whole up to :data:`SNIPPET_LIMIT` characters."""
    if not body:
        return ""
    text = body.decode("utf-8", errors="replace").strip().splitlines()
    first = text[0].strip() if text else ""
    return (first[: SNIPPET_LIMIT - 1] + "…") if len(first) > SNIPPET_LIMIT else first


TIMEOUT_PHASES = {
    "dns": "name resolution",
    "tcp": "TCP connect",
    "tls": "TLS handshake",
    "upgrade": "waiting for the upgrade response",
}


# Appended where a step-by-step view helps most; ``wscli probe`` drops it from its own steps.
PROBE_TIP = " (`wscli probe URL` checks each step)"


def timeout_hint(phase: str, options: ConnectOptions) -> str:
    if phase == "dns":
        return (
            "the name server did not answer in time: check DNS (resolv.conf, a VPN),"
            " use the IP address, or raise --connect-timeout" + PROBE_TIP
        )
    if phase == "tcp":
        return (
            "the host did not accept TCP in time (a firewall dropping packets, or the"
            " wrong address or port?): check them, or raise --connect-timeout" + PROBE_TIP
        )
    if phase == "tls":
        return (
            "the server accepted TCP but did not finish TLS: is this a TLS port"
            f" (else try {swap_scheme(options.url, 'ws')})? or raise --connect-timeout"
        )
    return (
        "the server accepted the connection but did not answer the upgrade in time:"
        " raise --connect-timeout, or run with -v to see where it stops"
    )


def protocol_text(text: str) -> str:
    """The library's wording made right: a close *code*, not a close opcode."""
    match = re.fullmatch(r"Invalid close opcode (\d+)", text.strip())
    if match:
        return f"the server sent close code {match.group(1)}, which RFC 6455 does not allow"
    return text


# --- hints only a step-by-step probe can give (issue #8) ----------------------------------


def proxy_hint(source: str) -> str:
    """What to try when the proxy named by ``source`` could not be used."""
    if source == "--proxy":
        return "check the --proxy URL, or connect without it"
    return f"the proxy comes from {source}: fix or unset it, or ignore it with --no-proxy"


def family_mismatch_hint(refused: list[str], connected: str, port: int) -> str:
    """One address family refused and the other connected: the server binds only one."""
    family = "IPv6" if ":" in connected else "IPv4"
    return (
        f"{', '.join(refused)} refused but {connected} connected: the server listens on"
        f" {family} only; use {connected} in the URL, or bind the server to both"
        f" (e.g. '::' or 'localhost') on port {port}"
    )


# OpenSSL X509_V_ERR_* codes that ``ssl.SSLCertVerificationError.verify_code`` carries.
_VERIFY_REASONS = {
    9: "the certificate is not valid yet (check this machine's clock)",
    10: "the certificate has expired",
    18: "the certificate is self-signed",
    19: "the certificate chain ends in a self-signed CA that is not trusted here",
    20: "the certificate is issued by an unknown CA (not in the trust store)",
    21: "the certificate is issued by an unknown CA, or the server sends an incomplete chain",
    62: "the certificate is for another name",
    64: "the certificate is for another IP address",
}
_NAME_MISMATCH = (62, 64)


def tls_verify_reason(code: int | None, message: str, host: str, names: list[str]) -> str:
    """A certificate verification error in plain words; a name mismatch lists the names."""
    reason = _VERIFY_REASONS.get(code or 0, f"certificate verification failed: {message}")
    if code in _NAME_MISMATCH:
        covered = ", ".join(names) if names else "names not readable"
        reason = f"the certificate is not valid for {host}; it covers {covered}"
    return reason


def tls_verify_hint(code: int | None) -> str:
    """What to try for a certificate that did not verify."""
    if code == 10 or code == 9:
        return "the server must renew its certificate; -k skips the check (insecure)"
    if code in _NAME_MISMATCH:
        return "connect with a name the certificate covers; -k skips the check (insecure)"
    return "trust a private CA with --cacert FILE, or skip verification with -k (insecure)"
