"""What ``wscli serve`` is asked to do, and what each connection was sent.

Plain data, apart from the server itself: the command builds a
:class:`ServerConfig` from its options and checks it before anything listens,
and tests compare a connection's :class:`ConnectionStats` with what the client saw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wscli.errors import BadUsage

if TYPE_CHECKING:
    from wscli.checks.clients import ClientBook
    from wscli.playback import ReplayPlan
    from wscli.server.simulator import StreamFaults

DEFAULT_PATH = "/api/ws/sensor/stream"
MESSAGE_TYPES = ("sensor_reading", "sensor_status", "error")


@dataclass
class ServerConfig:
    """Everything ``wscli serve`` can be asked to do; defaults match SPEC.

    Rates are probabilities per frame; ``rate`` is frames per second per client.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    path: str = DEFAULT_PATH
    rate: float = 10.0  # messages per second per client; 0 = as fast as possible
    seed: int | None = None
    count: int | None = None  # send this many, then close 1000
    certfile: str | None = None
    keyfile: str | None = None
    drop_after: int | None = None  # then drop TCP without a close frame (client sees 1006)
    close_after: int | None = None  # then close with close_code / close_reason
    close_code: int = 1011
    close_reason: str = ""
    malformed_rate: float = 0.0
    invalid_rate: float = 0.0
    binary_rate: float = 0.0
    require_token: str | None = None  # "Authorization: Bearer <t>" or "?token=<t>", else 401
    allowed_origin: tuple[str, ...] = ()  # if set, any other or missing Origin gets 403
    handshake_delay: float = 0.0  # seconds before answering the upgrade request
    ping_interval: float | None = 20.0  # server keepalive pings (websockets' default); None = off
    ping_timeout: float | None = 20.0  # close 1011 when a pong takes longer; None = wait forever
    log: Callable[[str], None] | None = None  # one line per connection; None = silent
    echo: bool = False  # answer each text frame with {"type":"echo",...} instead of streaming
    replay: ReplayPlan | None = None  # play a recording to each client instead of simulating
    replay_loop: bool = False  # start the recording over instead of closing at its end
    broadcast: bool = False  # one shared stream for every client (wscli.server.broadcast)
    fanout_loss: float = 0.0  # with broadcast: each client silently misses this share
    refuse_next: int = 0  # answer the next N upgrade requests with 503: the client must back off
    clients: ClientBook | None = None  # keep a timeline per client (wscli.checks.clients)
    stream_faults: StreamFaults | None = None  # --stale-sensor, --skew, ...: what --health catches

    def check(self) -> None:
        """Reject settings that cannot work, with the option name in the message.

        Raises:
            BadUsage: a rate outside 0..1, an unsendable close code, and the like.
        """
        from websockets.frames import EXTERNAL_CLOSE_CODES

        rates = {
            "--malformed-rate": self.malformed_rate,
            "--invalid-rate": self.invalid_rate,
            "--binary-rate": self.binary_rate,
        }
        for name, value in rates.items():
            if not 0.0 <= value <= 1.0:
                raise BadUsage(f"{name} must be between 0 and 1, got {value}")
        if sum(rates.values()) > 1.0:
            raise BadUsage("--malformed-rate, --invalid-rate and --binary-rate add up to over 1")
        if (
            min(self.rate, self.handshake_delay, self.ping_interval or 0, self.ping_timeout or 0)
            < 0
        ):
            raise BadUsage("--rate, --handshake-delay and --ping-interval cannot be negative")
        for name, limit in (
            ("--count", self.count),
            ("--drop-after", self.drop_after),
            ("--close-after", self.close_after),
            ("--refuse-next", self.refuse_next),
        ):
            if limit is not None and limit < 0:
                raise BadUsage(f"{name} cannot be negative")
        if not (self.close_code in EXTERNAL_CLOSE_CODES or 3000 <= self.close_code < 5000):
            raise BadUsage(
                f"--close-code {self.close_code} cannot be sent in a close frame",
                hint="use 1000-1003, 1007-1014 or 3000-4999 (RFC 6455 section 7.4)",
            )
        if len(self.close_reason.encode()) > 123:
            raise BadUsage("--close-reason is longer than 123 bytes (RFC 6455 section 5.5)")
        if not self.path.startswith("/"):
            raise BadUsage(f"--path must start with '/', got {self.path!r}")
        if self.keyfile and not self.certfile:
            raise BadUsage("--keyfile needs --certfile")
        if not 0.0 <= self.fanout_loss <= 1.0:
            raise BadUsage(f"--fanout-loss must be between 0 and 1, got {self.fanout_loss}")
        if self.fanout_loss and not self.broadcast:
            raise BadUsage("--fanout-loss needs --broadcast")
        if self.broadcast and self.rate <= 0:
            raise BadUsage("--broadcast needs a --rate above 0", hint="try --rate 10")

    @property
    def scheme(self) -> str:
        return "wss" if self.certfile else "ws"


@dataclass
class ConnectionStats:
    """What one connection was sent and how it ended, as the server saw it."""

    peer: str
    index: int
    seed: int | None
    by_type: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MESSAGE_TYPES, 0))
    malformed: int = 0
    invalid: int = 0
    binary: int = 0
    received: int = 0  # frames the client sent us (read and ignored)
    ending: str = ""  # closed | closed by client | dropped | lost | failed
    close_code: int | None = None  # sent by us when we closed, else received
    close_reason: str = ""
    error: str = ""
    done: bool = False
    dropped: int = 0  # broadcast frames this client was made to miss (--fanout-loss)
    dropped_ids: list[Any] = field(default_factory=list)  # their data.id values
    lagged: int = 0  # broadcast frames dropped because this client fell behind

    @property
    def sent(self) -> int:
        """Data frames sent, faults included."""
        return sum(self.by_type.values()) + self.malformed + self.invalid + self.binary

    def summary(self) -> str:
        """One log line, e.g. ``serve: 127.0.0.1:51234 closed 1000 after 25 messages (...)``."""
        types = ", ".join(f"{name} {n}" for name, n in self.by_type.items())
        faults = f"malformed {self.malformed}, invalid {self.invalid}, binary {self.binary}"
        how = {
            "closed": f"closed {self.close_code}",
            "closed by client": f"closed {self.close_code} by client",
            "dropped": "dropped (no close frame)",
            "lost": "lost (no close frame from client)",
            "failed": f"failed ({self.error})",
        }.get(self.ending, self.ending or "ended")
        line = f"serve: {self.peer} {how} after {self.sent} messages ({types}; {faults})"
        if self.dropped or self.lagged:
            line += f"; fan-out loss dropped {self.dropped}, lagged {self.lagged}"
        return line


def stream_faults(
    *,
    stale: tuple[str, ...] = (),
    duplicate_rate: float = 0.0,
    reorder_rate: float = 0.0,
    skew: tuple[str, ...] = (),
    spike_rate: float = 0.0,
    flatline: tuple[str, ...] = (),
    status_rate: float = 0.0,
) -> StreamFaults | None:
    """``serve``'s stream-fault options as one value; ``None`` when none is asked for.

    Raises:
        BadUsage: an ``ID[:SECONDS]`` that is neither, naming the option.
    """
    from wscli.server.simulator import DEFAULT_STALE_AFTER, StreamFaults

    stale_after: dict[int, float] = {}
    for text in stale:
        sensor, _, after = text.partition(":")
        stale_after[_sensor_id("--stale-sensor", sensor, text)] = (
            _seconds("--stale-sensor", after, text) if after else DEFAULT_STALE_AFTER
        )
    shifts: dict[int | None, float] = {}
    for text in skew:
        sensor, colon, seconds = text.rpartition(":")
        key = _sensor_id("--skew", sensor, text) if colon else None
        shifts[key] = _seconds("--skew", seconds, text, signed=True)
    faults = StreamFaults(
        stale=stale_after,
        duplicate_rate=duplicate_rate,
        reorder_rate=reorder_rate,
        skew=shifts,
        spike_rate=spike_rate,
        flatline=frozenset(_sensor_id("--flatline", s, s) for s in flatline),
        status_rate=status_rate,
    )
    return faults if faults else None


def _sensor_id(option: str, text: str, whole: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise BadUsage(
            f"{option} {whole!r}: {text!r} is not a sensor id",
            hint="sensor ids are whole numbers, e.g. 3 (serve's sensors are 1-8)",
        ) from None


def _seconds(option: str, text: str, whole: str, *, signed: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if value != value or (value < 0 and not signed) or abs(value) == float("inf"):
        raise BadUsage(f"{option} {whole!r}: {text!r} is not a number of seconds")
    return value
