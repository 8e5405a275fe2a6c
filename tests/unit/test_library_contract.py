"""websocket-client's private functions that wscli calls still exist, with the same parameters.

``wscli.net.handshake`` (and the frame reader in ``wscli.net.transport``) call the
library's internals to time each connection step. pyproject pins the tested range
(``websocket-client>=1.8,<2``); when a release inside it changes one of these, this
test names the function instead of every command failing with a TypeError.
"""

from __future__ import annotations

import inspect
from importlib import import_module
from importlib.metadata import version

import pytest

# module, name, the leading parameters wscli passes (positionally or by name)
PRIVATE_API = [
    (
        "websocket._handshake",
        "_get_handshake_headers",
        ["resource", "url", "host", "port", "options"],
    ),
    ("websocket._handshake", "_validate", ["headers", "key", "subprotocols"]),
    ("websocket._handshake", "handshake_response", []),
    ("websocket._http", "_get_addrinfo_list", ["hostname", "port", "is_secure", "proxy"]),
    ("websocket._http", "_ssl_socket", ["sock", "user_sslopt", "hostname"]),
    ("websocket._http", "_tunnel", ["sock", "host", "port", "auth"]),
    ("websocket._http", "proxy_info", []),
    ("websocket._http", "read_headers", ["sock"]),
    ("websocket._http", "connect", ["url", "options", "proxy", "socket"]),
    ("websocket._socket", "DEFAULT_SOCKET_OPTION", None),
    ("websocket._socket", "recv", ["sock", "bufsize"]),
    ("websocket._url", "parse_url", ["url"]),
    ("websocket._abnf", "ABNF", None),
    ("websocket._abnf", "frame_buffer", None),
]


def test_the_installed_release_is_in_the_tested_range() -> None:
    """The pin in pyproject.toml is what this suite ran against."""
    major, minor = (int(part) for part in version("websocket-client").split(".")[:2])
    assert (major, minor) >= (1, 8) and major < 2


@pytest.mark.parametrize(("module", "name", "params"), PRIVATE_API, ids=lambda v: str(v))
def test_private_function_is_still_there(module: str, name: str, params: list[str] | None) -> None:
    """Each internal wscli calls exists and takes the parameters wscli passes, in order."""
    found = getattr(import_module(module), name, None)
    assert found is not None, f"websocket-client no longer has {module}.{name}"
    if params:
        signature = list(inspect.signature(found).parameters)
        assert signature[: len(params)] == params, f"{module}.{name}{signature}"


def test_proxy_info_keeps_its_fields() -> None:
    """handshake.py reads and sets these attributes of the library's proxy_info."""
    from websocket._http import proxy_info

    info = proxy_info()
    for field in ("proxy_host", "proxy_port", "auth", "no_proxy", "proxy_protocol"):
        assert hasattr(info, field), field
