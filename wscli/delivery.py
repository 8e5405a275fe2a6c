"""When a message says it was produced: ``data.timestamp`` as epoch seconds.

``wscli load`` reports each message's delivery delay (receive time minus this).
Pure, and kept apart from :mod:`wscli.load` so it can be tested without Locust.
"""

from __future__ import annotations

from datetime import datetime, timezone


def parse_timestamp(value: object) -> float | None:
    """An RFC 3339 timestamp as epoch seconds; ``None`` when it is not one.

    ``Z`` is accepted on every Python version; a timestamp without an offset (not
    RFC 3339, but common) is read as UTC rather than the load machine's local time.
    """
    if type(value) is not str:
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
