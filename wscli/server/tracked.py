"""``serve``'s connection class: the websockets sync connection, feeding a client timeline.

Every frame the client sends passes through ``process_event`` (pings and pongs
included, which the library answers on its own) and every keepalive ping the
server sends through ``ping``: overriding those two is where the timeline of
:mod:`wscli.checks.clients` sees a client's keep-alive. Imported only when a
server starts, since it imports ``websockets``.
"""

from __future__ import annotations

import threading
from typing import Any

from websockets.frames import Frame, Opcode
from websockets.sync.server import ServerConnection

from wscli.checks.clients import Connection


class TrackedConnection(ServerConnection):
    """A server connection that reports to its :class:`Connection` record, if it has one."""

    client: Connection | None = None

    def process_event(self, event: Any) -> None:
        record = self.client
        if record is not None and isinstance(event, Frame):
            _observe(record, event, "out")
        super().process_event(event)

    def ping(self, data: Any = None, *, ack_on_close: bool = False) -> threading.Event:
        if self.client is not None:
            self.client.ping("in")
        return super().ping(data, ack_on_close=ack_on_close)


def _observe(record: Connection, frame: Frame, direction: str) -> None:
    """Count one frame: whole messages (the last fragment), pings and pongs."""
    if frame.opcode is Opcode.PING:
        record.ping(direction)
    elif frame.opcode is Opcode.PONG:
        record.pong(direction)
    elif frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT) and frame.fin:
        record.message(direction)
