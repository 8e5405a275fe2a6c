"""Fixtures only: real servers on loopback, free ports, silent listeners.

Helpers that tests import live in ``tests/support/`` (``cli`` drives the CLI,
``raw_peer``/``hostile_server``/``listener`` are raw peers).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def serve() -> Iterator[Callable[..., Any]]:
    """Start wscli's own mock backend on 127.0.0.1:0; every server is stopped after the test."""
    from wscli.server.backend import start_in_thread
    from wscli.server.config import ServerConfig

    running: list[Any] = []

    def start(**config: Any) -> Any:
        config.setdefault("port", 0)
        config.setdefault("rate", 200.0)
        server = start_in_thread(ServerConfig(**config))
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def free_port() -> int:
    """A port with nothing listening on it (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_listener() -> Iterator[socket.socket]:
    """A listener that takes the upgrade request and never answers it (the handshake hangs)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener


# -- mutmut's stats run: calls made in wscli subprocesses count too -------------------------

if os.environ.get("MUTANT_UNDER_TEST") == "stats":
    _MUTMUT_SITE = str(Path(__file__).parent / "mutmut_site")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        part for part in (os.environ.get("PYTHONPATH"), _MUTMUT_SITE) if part
    )
    os.environ["WSCLI_MUTMUT_ROOT"] = str(Path(__file__).parent.parent)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
        """Add what this test's subprocesses ran (see mutmut_site/sitecustomize.py)."""
        import tempfile

        from mutmut.state import state

        handle, name = tempfile.mkstemp(prefix="wscli-mutmut-hits-")
        os.close(handle)
        hits = Path(name)
        os.environ["WSCLI_MUTMUT_HITS"] = name
        try:
            yield
        finally:
            del os.environ["WSCLI_MUTMUT_HITS"]
            state()._stats.update(hits.read_text(encoding="utf-8").split())
            hits.unlink()
