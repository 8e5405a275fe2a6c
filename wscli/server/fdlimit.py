"""Room for thousands of sockets: raise the soft open-file limit when it is low.

Many systems start processes with a soft ``RLIMIT_NOFILE`` of 1024 while the hard
limit is far higher; ``wscli serve`` and ``wscli load`` hold a socket per client,
so they lift the soft limit up to the hard one (no privileges needed). When even
that runs out, ``serve`` says so once and goes on serving the clients it has.
"""

from __future__ import annotations

import errno
import math
import threading
import time
from typing import Any

WANTED = 65536


def raise_open_file_limit(wanted: int = WANTED) -> int:
    """Lift the soft limit towards ``wanted`` (never above the hard limit); returns it."""
    try:
        import resource
    except ImportError:  # not on this platform
        return -1
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return -1
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return int(soft)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target <= soft:
        return int(soft)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (OSError, ValueError):
        return int(soft)
    return int(target)


# -- at the limit --------------------------------------------------------------------------

EMFILE_PAUSE = 0.1  # seconds to wait before accepting again when out of descriptors
EMFILE_REPEAT = 60.0  # say it again at most this often


def is_out_of_descriptors(exc: BaseException) -> bool:
    """The process (EMFILE) or the whole system (ENFILE) has no file descriptor left."""
    return isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE)


class DescriptorAlarm:
    """Says "too many open files" in one line, at most once a minute.

    websockets' sync server spends a few descriptors per client: the accepted
    socket, then a socketpair and a poller made in another thread. Which of those
    meets the limit first is a race, so both places report through one alarm.
    """

    def __init__(self, hub: Any) -> None:
        self._hub = hub
        self._warned_at = -math.inf
        self._lock = threading.Lock()

    def ring(self) -> None:
        with self._lock:
            if time.monotonic() - self._warned_at < EMFILE_REPEAT:
                return
            self._warned_at = time.monotonic()
        open_now = sum(1 for s in self._hub.stats if not s.done)
        self._hub.log(
            f"serve: error: too many open files ({open_now} client{'' if open_now == 1 else 's'}"
            " connected):"
            " new clients wait until some leave; raise the limit with `ulimit -n`"
        )


class _GuardedSocket:
    """The listening socket, with ``accept`` surviving EMFILE/ENFILE.

    websockets' ``serve_forever`` stops serving on any ``accept`` error; out of file
    descriptors is not a reason to stop. It waits a moment and tries again.
    """

    def __init__(self, sock: Any, hub: Any, alarm: DescriptorAlarm) -> None:
        self._sock = sock
        self._hub = hub
        self._alarm = alarm

    def accept(self) -> Any:
        while True:
            try:
                return self._sock.accept()
            except OSError as exc:
                if not is_out_of_descriptors(exc) or self._hub.stopping.is_set():
                    raise
                self._alarm.ring()
                time.sleep(EMFILE_PAUSE)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def connection_factory(alarm: DescriptorAlarm, cls: Any = None) -> Any:
    """A ``create_connection`` for websockets' ``serve`` that rings ``alarm`` at the limit.

    The connection's own descriptors are made in its handler thread; when they
    cannot be, websockets closes the socket quietly (the client sees a reset), and
    without this the server would say nothing at all.
    """
    from websockets.sync.server import ServerConnection

    make = cls or ServerConnection  # serve's subclass, which feeds the client timeline

    def create(*args: Any, **kwargs: Any) -> ServerConnection:
        try:
            connection: ServerConnection = make(*args, **kwargs)
            return connection
        except OSError as exc:
            if is_out_of_descriptors(exc):
                alarm.ring()
            raise

    return create


def guard_accept(server: Any, hub: Any, alarm: DescriptorAlarm) -> None:
    """Make ``server`` (a websockets sync ``Server``) survive running out of descriptors."""
    server.socket = _GuardedSocket(server.socket, hub, alarm)
