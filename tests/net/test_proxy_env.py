"""``--no-proxy`` and NO_PROXY decide per connection, never by editing the process's environment."""

from __future__ import annotations

import os

import pytest

from wscli.net.connection import open_connection
from wscli.net.target import ConnectOptions


def test_no_proxy_leaves_the_environment_alone(
    serve: object, monkeypatch: pytest.MonkeyPatch, free_port: int
) -> None:
    """A dead http_proxy is ignored with ``--no-proxy`` and is still set afterwards."""
    server = serve()  # type: ignore[operator]
    dead = f"http://127.0.0.1:{free_port}"
    monkeypatch.setenv("http_proxy", dead)
    monkeypatch.setenv("HTTPS_PROXY", dead)
    ws, _ = open_connection(ConnectOptions(url=server.url, no_proxy=True, connect_timeout=5))
    try:
        assert ws.recv()
    finally:
        ws.close()
    assert os.environ["http_proxy"] == dead
    assert os.environ["HTTPS_PROXY"] == dead


def test_no_proxy_host_match_goes_direct_without_the_library_rereading_env(
    serve: object, monkeypatch: pytest.MonkeyPatch, free_port: int
) -> None:
    """NO_PROXY matching the host means direct, even though http_proxy points nowhere."""
    server = serve()  # type: ignore[operator]
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{free_port}")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    ws, _ = open_connection(ConnectOptions(url=server.url, connect_timeout=5))
    try:
        assert ws.recv()
    finally:
        ws.close()
