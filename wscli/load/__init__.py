"""``wscli load``: many streaming users on Locust's engine, and what their run measured.

``user``    one Locust user holding a WebSocket stream, and what it records
``run``     starting Locust (local, master or worker) and stopping it on every ending
``report``  the summary, thresholds and report files
``view``    the live progress view on a terminal
``fanout``  the broadcast check: did every user get every message
"""

from __future__ import annotations

from typing import Any

# A custom locustfile writes ``from wscli.load import StreamUser`` (README, "wscli load").
# Resolved on first use, so importing ``wscli.load.report`` does not import Locust.
_PUBLIC = ("LoadSettings", "StreamUser")


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        from wscli.load import user

        return getattr(user, name)
    raise AttributeError(f"module 'wscli.load' has no attribute {name!r}")
