"""Which proxy a connection goes through, and where that choice came from.

Resolved once, here, for two users: the connection (websocket-client's proxy
options) and :func:`wscli.net.connection.classify`, whose errors must name the proxy,
its address and the variable it came from when the proxy is what failed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from wscli.errors import BadUsage
from wscli.redact import redact_url

if TYPE_CHECKING:
    from wscli.net.target import ConnectOptions

PROXY_KINDS = ("http", "socks4", "socks4a", "socks5", "socks5h")


@dataclass(frozen=True)
class ProxyChoice:
    """A proxy in use: ``kind`` (http, socks5...), address, and ``source``.

    ``source`` is ``--proxy`` or the environment variable's name as set
    (``http_proxy``, ``HTTPS_PROXY``, ``all_proxy``...).
    """

    kind: str
    host: str
    port: int
    source: str
    url: str  # as given, for the library; never printed (it may hold a password)
    username: str | None = None
    password: str | None = None

    @property
    def from_environment(self) -> bool:
        return self.source != "--proxy"

    def describe(self) -> str:
        """``http proxy 127.0.0.1:3128 (from http_proxy)``, credentials never shown."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.kind} proxy {host}:{self.port} (from {self.source})"

    def bypass_hint(self) -> str:
        if self.from_environment:
            return f"check the proxy, or ignore {self.source} with --no-proxy"
        return "check the --proxy address, or drop --proxy to connect directly"


def _bypassed(host: str) -> bool:
    """``no_proxy`` names ``host``: the standard library's reading of the variable.

    urllib.request (with http.client and email behind it) is imported only when a
    ``no_proxy`` variable is set: a few milliseconds of every start-up otherwise.
    """
    if not any(name.lower() == "no_proxy" and value for name, value in os.environ.items()):
        return False
    import urllib.request

    return bool(urllib.request.proxy_bypass_environment(host))  # type: ignore[attr-defined]


def proxy_choice(options: ConnectOptions) -> ProxyChoice | None:
    """The proxy this connection uses, or None (``--no-proxy``, no variable, no_proxy match).

    Raises:
        BadUsage: the proxy URL has a scheme websocket-client cannot use.
    """
    if options.no_proxy:
        return None
    parts = urlsplit(options.url)
    value, source = options.proxy, "--proxy"
    if not value:
        if _bypassed(parts.hostname or ""):
            return None
        keys = (
            ("https_proxy", "all_proxy") if parts.scheme == "wss" else ("http_proxy", "all_proxy")
        )
        for key in keys:
            for name in (key, key.upper()):
                if os.environ.get(name):
                    value, source = os.environ[name], name
                    break
            if value:
                break
    if not value:
        return None
    proxy = urlsplit(value if "://" in value else f"http://{value}")
    kind = proxy.scheme.lower()
    if kind not in PROXY_KINDS:
        raise BadUsage(
            f"unsupported proxy scheme {kind!r} in {source}", hint="use http:// or socks5://"
        )
    try:
        port = proxy.port
    except ValueError:
        raise BadUsage(
            f"invalid proxy URL {redact_url(value)!r} in {source}",
            hint="write it as http://HOST:PORT or socks5://HOST:PORT",
        ) from None
    return ProxyChoice(
        kind=kind,
        host=proxy.hostname or "",
        port=port or (1080 if kind.startswith("socks") else 80),
        source=source,
        url=value,
        username=proxy.username,
        password=proxy.password,
    )


def library_proxy_options(choice: ProxyChoice | None, timeout: float) -> dict[str, Any]:
    """websocket-client's ``connect()`` keyword arguments for ``choice``."""
    if choice is None:
        return {}
    result: dict[str, Any] = {
        "http_proxy_host": choice.host,
        "http_proxy_port": choice.port,
        "proxy_type": choice.kind,
        "http_proxy_timeout": timeout,
    }
    if choice.username:
        result["http_proxy_auth"] = (choice.username, choice.password or "")
    return result
