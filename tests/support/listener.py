"""The one accept loop of the tests' raw peers: a TCP listener on 127.0.0.1:0.

Subclasses say what to do with each accepted socket (``_handle``); starting,
stopping and joining every thread is done here once. ``concurrent=False`` handles
clients one after another in the accept thread, for peers whose script assumes
one client at a time.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import TypeVar

_L = TypeVar("_L", bound="ThreadedListener")  # typing.Self is 3.11+; we support 3.10


class ThreadedListener:
    """Accepts on an ephemeral loopback port until the ``with`` block ends."""

    def __init__(self, accept_timeout: float = 0.2, *, concurrent: bool = True) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(accept_timeout)  # how often the accept loop checks for stop
        self.port: int = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self.concurrent = concurrent
        self._threads: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self: _L) -> _L:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            if not self.concurrent:
                with client:
                    self._handle(client)
                continue
            thread = threading.Thread(target=self._handle, args=(client,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, client: socket.socket) -> None:
        raise NotImplementedError
