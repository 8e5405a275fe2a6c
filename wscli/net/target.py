"""Where to connect and how: ``ConnectOptions``, the URL check, and what the upgrade looked like.

Apart from :mod:`wscli.net.connection` so that the modules it uses (hints, proxies)
can name the options without importing the module that imports them: the import
graph has no circle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from wscli.errors import BadUsage
from wscli.frames import parse_close_payload
from wscli.redact import redact_text, redact_url

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

    def secrets(self) -> list[str]:
        """Every literal credential these options carry, for redaction.

        The ``--token``, the URL's password (or a lone username) and credential
        parameter values, secret ``-H`` header values, the proxy URL's password.
        """
        from wscli.redact import header_secrets, url_secrets

        found = [self.token or "", *url_secrets(self.url), *url_secrets(self.proxy or "")]
        for raw in self.headers:
            name, _, value = raw.partition(":")
            found += header_secrets(name, value)
        return [value for value in dict.fromkeys(found) if value]

    def redact(self, text: str) -> str:
        """Server text (a close reason) with every credential these options carry hidden."""
        return redact_text(text, self.secrets())

    def header_pairs(self) -> list[tuple[str, str]]:
        """User headers as (name, value), ``--token`` as a bearer Authorization."""
        pairs: list[tuple[str, str]] = []
        for raw in self.headers:
            name, sep, value = raw.partition(":")
            if not sep or not name.strip():
                raise BadUsage(f"bad header {raw!r}", hint='write headers as "Name: value"')
            pairs.append((name.strip(), value.strip()))
        if self.token and not self.has_authorization_header():
            pairs.append(("Authorization", f"Bearer {self.token}"))
        return pairs

    def has_authorization_header(self) -> bool:
        """A ``-H`` (or profile) ``Authorization`` header, which wins over ``--token``.

        Two Authorization headers are ambiguous (RFC 9110 allows one): servers
        answer 400 or 500, or pick either. The explicit header is sent alone.
        """
        return any(raw.partition(":")[0].strip().lower() == "authorization" for raw in self.headers)


def server_close(payload: bytes, options: ConnectOptions) -> tuple[int | None, str]:
    """A close frame's code and reason, the reason with our own credentials hidden.

    Servers put the offending token in the reason (``1008 bad token abc``); every
    place that reads a close frame goes through here, so the reason is clean before
    it reaches an error line, a note, a report or a recording.
    """
    code, reason = parse_close_payload(payload)
    return code, options.redact(reason)


def check_url(url: str, secrets: Iterable[str] = ()) -> str:
    """The URL to connect to; refuse one that cannot be a WebSocket endpoint.

    A URL without a scheme gets ``ws://``, as wscat does (``localhost:8000/ws``).

    Raises:
        BadUsage: not ws:// or wss://, no host, or a port empty or out of range. The
            message quotes the URL redacted (``secrets``: e.g. the ``--token``).
    """
    url = url.strip()  # a value read from a file or a variable may end with a newline
    if "://" not in url:
        url = f"ws://{url}"
    shown = redact_url(url, secrets)
    blank = next((ch for ch in url if ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F), None)
    if blank is not None:
        # urlsplit drops CR/LF/tab silently and a space reaches the request line as
        # is: either way the request sent is not the URL given.
        raise BadUsage(
            f"invalid URL {shown!r}: it holds {blank!r}",
            hint="percent-encode spaces (%20) and remove line breaks and control characters",
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadUsage(f"invalid URL {shown!r}: {exc}", hint="use ws://HOST[:PORT]/PATH") from None
    scheme = parts.scheme.lower()
    hostport = parts.netloc.rsplit("@", 1)[-1]
    if scheme in ("http", "https"):
        raise BadUsage(
            f"invalid URL {shown!r}: {scheme}:// is not a WebSocket URL",
            hint=f"use {'wss' if scheme == 'https' else 'ws'}://{hostport}{parts.path}",
        )
    if scheme not in ("ws", "wss") or not parts.hostname:
        raise BadUsage(f"invalid URL {shown!r}", hint="use ws://HOST[:PORT]/PATH or wss://...")
    if port == 0:
        raise BadUsage(f"invalid URL {shown!r}: port 0", hint="give the server's port")
    if hostport.endswith(":"):
        raise BadUsage(
            f"invalid URL {shown!r}: empty port",
            hint=f"give the port after the colon, or drop the colon for"
            f" {'443' if scheme == 'wss' else '80'}",
        )
    return url


@dataclass
class Handshake:
    """What the upgrade looked like, for the tap and for ``probe``."""

    status: int | None
    request: list[tuple[str, str]]
    response: list[tuple[str, str]] = field(default_factory=list)
    subprotocol: str | None = None
