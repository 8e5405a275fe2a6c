"""How wscli writes times: a terminal clock, or RFC 3339 with the date (``--timestamps iso``).

Local time by default, UTC with ``--utc`` (marked ``Z``). JSON output always uses
RFC 3339, which is what SPEC requires of every timestamp a machine reads.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone


class Clock:
    """Formats wall-clock times for pretty output and the ``--stats`` summary."""

    __slots__ = ("utc", "iso")

    def __init__(self, *, utc: bool = False, iso: bool = False) -> None:
        self.utc = utc
        self.iso = iso

    def format(self, epoch: float) -> str:
        if self.iso:
            return rfc3339(epoch, utc=self.utc)
        parts = time.gmtime(epoch) if self.utc else time.localtime(epoch)
        millis = int(epoch * 1000) % 1000
        return time.strftime("%H:%M:%S", parts) + f".{millis:03d}" + ("Z" if self.utc else "")

    def now(self) -> str:
        return self.format(time.time())


def rfc3339(epoch: float, *, utc: bool = True) -> str:
    """``2024-01-15T12:00:00.123Z`` (or with the local offset), milliseconds kept."""
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    if not utc:
        moment = moment.astimezone()
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
