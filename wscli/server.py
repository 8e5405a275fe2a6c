"""The simulated Home Inspection backend: ``wscli serve``, ``tail --demo`` and the tests.

Built on the ``websockets`` sync server (a thread per connection), the only place in
wscli that imports ``websockets``; commands import this module lazily. Every client
gets its own seeded :class:`~wscli.simulator.Simulator` and fault dice, so a
``--seed`` reproduces what each connection sees. Faults are injected on demand:
malformed, schema-invalid and binary frames at given rates; an abrupt TCP close or a
close frame with a chosen code after N messages; HTTP 401/403/404 at the handshake.
Each connection ends with one summary line, and the same numbers stay available as
:class:`ConnectionStats` so tests can compare them with what the client saw.
"""

from __future__ import annotations

import errno
import hmac
import itertools
import json
import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from wscli.errors import BadUsage
from wscli.simulator import Simulator

if TYPE_CHECKING:
    from websockets.http11 import Request, Response
    from websockets.sync.server import Server, ServerConnection

DEFAULT_PATH = "/api/ws/sensor/stream"
MESSAGE_TYPES = ("sensor_reading", "sensor_status", "error")
CLOSE_TIMEOUT = 2.0  # seconds to wait for the peer's close frame; bounds stop()
OPEN_TIMEOUT = 10.0  # seconds for a client to finish the opening handshake
STOP_TIMEOUT = 5.0  # stop() gives up waiting for handler threads after this
MAX_LAG = 1.0  # a paced sender this far behind schedule stops trying to catch up
DRAIN_EVERY = 64  # at rate 0, read what the client sent every this many frames
BINARY_MAGIC = b"\x89WSCLI\x00"  # starts every binary fault frame: not UTF-8, not JSON


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
        return f"serve: {self.peer} {how} after {self.sent} messages ({types}; {faults})"


class _Hub:
    """State shared by all connections of one server: config, stop flag, stats."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.stopping = threading.Event()
        self.lock = threading.Condition()
        self.stats: list[ConnectionStats] = []
        self.counter = itertools.count()
        self.log_lock = threading.Lock()

    # -- binding ----------------------------------------------------------------------

    def bind(self) -> Server:
        """Listen now (so port 0 is known), without accepting yet.

        Raises:
            BadUsage: the address is in use or not ours, or the certificate will not load.
        """
        from websockets.sync.server import serve
        from websockets.version import version as websockets_version

        config = self.config
        config.check()
        context = self._tls_context()
        try:
            return serve(
                self.handle,
                config.host,
                config.port,
                ssl=context,
                process_request=self.process_request,
                compression=None,  # plain frames: what clients, taps and benchmarks expect
                server_header=f"wscli-serve websockets/{websockets_version}",
                open_timeout=OPEN_TIMEOUT,
                ping_interval=config.ping_interval or None,
                ping_timeout=config.ping_timeout,
                close_timeout=CLOSE_TIMEOUT,
                logger=_quiet_logger(),
            )
        except OSError as exc:
            where = f"{config.host}:{config.port}"
            if exc.errno == errno.EADDRINUSE:
                raise BadUsage(
                    f"cannot listen on {where}: address already in use",
                    hint="--port 0 picks a free port",
                ) from exc
            raise BadUsage(f"cannot listen on {where}: {exc.strerror or exc}") from exc

    def _tls_context(self) -> ssl.SSLContext | None:
        config = self.config
        if not config.certfile:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(config.certfile, config.keyfile)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise BadUsage(
                f"cannot load certificate {config.certfile}: {reason}",
                hint="give a PEM certificate with --certfile and its key with --keyfile",
            ) from exc
        return context

    # -- handshake --------------------------------------------------------------------

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Delay, then check path, Origin and token; a rejection is a short text body."""
        config = self.config
        if config.handshake_delay and self.stopping.wait(config.handshake_delay):
            return self._reject(connection, 503, "server is shutting down\n")
        parts = urlsplit(request.path)
        if parts.path != config.path:
            return self._reject(
                connection,
                404,
                f"no WebSocket endpoint at {parts.path}; the sensor stream is at {config.path}\n",
            )
        if config.allowed_origin:
            origin = request.headers.get("Origin")
            allowed = ", ".join(config.allowed_origin)
            if origin is None:
                return self._reject(connection, 403, f"missing Origin header; allowed: {allowed}\n")
            if origin not in config.allowed_origin:
                return self._reject(
                    connection, 403, f"origin {origin} is not allowed; allowed: {allowed}\n"
                )
        if config.require_token and not self._token_ok(request, parts.query):
            response = self._reject(
                connection,
                401,
                "missing or wrong token: send 'Authorization: Bearer <token>' or ?token=<token>\n",
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="wscli"'
            return response
        return None

    def _token_ok(self, request: Request, query: str) -> bool:
        expected = (self.config.require_token or "").encode()
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        candidates = parse_qs(query).get("token", [])
        if scheme.lower() == "bearer":
            candidates.append(given.strip())
        return any(hmac.compare_digest(c.encode(), expected) for c in candidates)

    def _reject(self, connection: ServerConnection, status: int, body: str) -> Response:
        self.log(f"serve: {_peer(connection)} rejected {status}: {body.strip()}")
        return connection.respond(status, body)

    # -- streaming --------------------------------------------------------------------

    def handle(self, connection: ServerConnection) -> None:
        """Stream to one client until a limit, the client, or stop() ends it."""
        from websockets.exceptions import ConnectionClosed

        index = next(self.counter)
        seed = None if self.config.seed is None else self.config.seed + index
        stats = ConnectionStats(peer=_peer(connection), index=index, seed=seed)
        with self.lock:
            self.stats.append(stats)
        try:
            dice = random.Random(f"faults-{seed}" if seed is not None else None)
            self._stream(connection, stats, Simulator(seed), dice)
        except ConnectionClosed as exc:
            self._closed_elsewhere(stats, exc.rcvd.code if exc.rcvd else None, exc)
        except OSError as exc:
            stats.ending, stats.close_code = "lost", 1006
            stats.error = str(exc)
        except Exception as exc:  # a bug here must not take the server down
            stats.ending, stats.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            self._finish(stats)

    def _stream(
        self,
        connection: ServerConnection,
        stats: ConnectionStats,
        sim: Simulator,
        dice: random.Random,
    ) -> None:
        config = self.config
        limit, ending = self._limit()
        interval = 1.0 / config.rate if config.rate > 0 else 0.0
        start = time.monotonic()
        for sent in itertools.count():
            if limit is not None and sent >= limit:
                break
            if interval:
                start = self._wait_until(connection, stats, start, sent, interval)
            elif sent % DRAIN_EVERY == 0:
                self._drain(connection, stats, 0.0)
            if self.stopping.is_set():
                self._closed_elsewhere(stats, 1001, None)
                return
            self._send_one(connection, stats, sim, dice)
        self._end(connection, stats, ending)

    def _limit(self) -> tuple[int | None, str]:
        """Which limit comes first: a drop, a chosen close, or --count (close 1000)."""
        config = self.config
        options = [
            (config.drop_after, 0, "drop"),
            (config.close_after, 1, "close"),
            (config.count, 2, "count"),
        ]
        chosen = min((o for o in options if o[0] is not None), default=None)
        return (None, "") if chosen is None else (chosen[0], chosen[2])

    def _wait_until(
        self,
        connection: ServerConnection,
        stats: ConnectionStats,
        start: float,
        sent: int,
        interval: float,
    ) -> float:
        """Pace on a fixed schedule (no drift), reading what the client sends meanwhile."""
        due = start + sent * interval
        now = time.monotonic()
        if now - due > MAX_LAG:  # the client stalled: start a fresh schedule, no burst
            return now - sent * interval
        self._drain(connection, stats, due)
        return start

    def _drain(self, connection: ServerConnection, stats: ConnectionStats, until: float) -> None:
        """Read (and ignore) client frames until ``until``; keeps pings and closes flowing.

        Unread frames would fill websockets' queue, pause reading, and leave the
        client's close frame unanswered.
        """
        while True:
            try:
                connection.recv(timeout=max(0.0, until - time.monotonic()))
            except TimeoutError:
                return
            stats.received += 1

    def _send_one(
        self,
        connection: ServerConnection,
        stats: ConnectionStats,
        sim: Simulator,
        dice: random.Random,
    ) -> None:
        config = self.config
        faulty = config.malformed_rate or config.invalid_rate or config.binary_rate
        roll = dice.random() if faulty else 1.0
        if roll < config.malformed_rate:
            connection.send(sim.malformed())
            stats.malformed += 1
        elif roll < config.malformed_rate + config.invalid_rate:
            connection.send(json.dumps(sim.invalid(), ensure_ascii=False))
            stats.invalid += 1
        elif roll < config.malformed_rate + config.invalid_rate + config.binary_rate:
            connection.send(BINARY_MAGIC + dice.randbytes(8))
            stats.binary += 1
        else:
            message = sim.next_message()
            connection.send(json.dumps(message, ensure_ascii=False))
            stats.by_type[message["type"]] += 1

    def _end(self, connection: ServerConnection, stats: ConnectionStats, ending: str) -> None:
        config = self.config
        if ending == "drop":
            _abort(connection)
            stats.ending, stats.close_code = "dropped", 1006
            return
        code, reason = (config.close_code, config.close_reason) if ending == "close" else (1000, "")
        connection.close(code, reason)
        stats.ending, stats.close_code, stats.close_reason = "closed", code, reason

    def _closed_elsewhere(self, stats: ConnectionStats, code: int | None, exc: Any) -> None:
        """The client closed, vanished, or stop() closed the connection with 1001."""
        if self.stopping.is_set():
            stats.ending, stats.close_code = "closed", 1001
        elif code is None:
            stats.ending, stats.close_code = "lost", 1006
        else:
            stats.ending, stats.close_code = "closed by client", code
            stats.close_reason = exc.rcvd.reason if exc is not None and exc.rcvd else ""

    def _finish(self, stats: ConnectionStats) -> None:
        with self.lock:
            stats.done = True
            self.lock.notify_all()
        self.log(stats.summary())

    def log(self, line: str) -> None:
        if self.config.log is not None:
            with self.log_lock:
                self.config.log(line)

    # -- stopping ---------------------------------------------------------------------

    def stop(self, server: Server, timeout: float = STOP_TIMEOUT) -> None:
        """Close connections with 1001 and stop accepting; bounded by ``timeout``."""
        self.stopping.set()
        closer = threading.Thread(target=server.shutdown, name="wscli-serve-stop", daemon=True)
        closer.start()
        closer.join(timeout)


class RunningServer:
    """A server listening in a background thread; a context manager that stops it.

    Attributes:
        url: ``ws://127.0.0.1:PORT/path`` (``wss://`` with TLS) with the bound port.
        port: the bound port (the real one when the config asked for 0).
    """

    def __init__(self, hub: _Hub, server: Server) -> None:
        self._hub = hub
        self._server = server
        self.port: int = server.socket.getsockname()[1]
        self.url = _url(hub.config, self.port)
        self._thread = threading.Thread(
            target=server.serve_forever, name=f"wscli-serve-{self.port}", daemon=True
        )
        self._stopped = False
        self._thread.start()

    @property
    def connections(self) -> list[ConnectionStats]:
        """Stats of every connection so far, oldest first (``done`` once it ended)."""
        with self._hub.lock:
            return list(self._hub.stats)

    def wait_for_connections(self, n: int, timeout: float) -> list[ConnectionStats]:
        """Wait until ``n`` connections have ended; returns them all (ended or not)."""
        deadline = time.monotonic() + timeout
        with self._hub.lock:
            while sum(s.done for s in self._hub.stats) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._hub.lock.wait(remaining)
            return list(self._hub.stats)

    def stop(self) -> None:
        """Close every connection (1001), stop listening, join; idempotent and bounded."""
        if self._stopped:
            return
        self._stopped = True
        self._hub.stop(self._server)
        self._thread.join(STOP_TIMEOUT)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_in_thread(config: ServerConfig) -> RunningServer:
    """Bind now (port 0 picks a free port) and serve from a daemon thread.

    Raises:
        BadUsage: the address cannot be used, the certificate cannot be loaded, or the
            configuration is contradictory.
    """
    hub = _Hub(config)
    return RunningServer(hub, hub.bind())


def serve_forever(config: ServerConfig, on_ready: Callable[[str], None] | None = None) -> None:
    """Serve in this thread until interrupted; ``on_ready(url)`` once bound.

    Ctrl-C (KeyboardInterrupt) closes the connections with 1001, then propagates.

    Raises:
        BadUsage: as :func:`start_in_thread`.
    """
    hub = _Hub(config)
    server = hub.bind()
    try:
        if on_ready is not None:
            on_ready(_url(config, server.socket.getsockname()[1]))
        server.serve_forever()
    finally:
        hub.stop(server)


# -- helpers ------------------------------------------------------------------------------


def _abort(connection: ServerConnection) -> None:
    """Drop the TCP connection without a close frame: the client sees 1006."""
    try:
        connection.socket.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already gone
    connection.close_socket()


def _quiet_logger() -> logging.Logger:
    """websockets' logger for our server: silent, so a client hanging up prints nothing."""
    logger = logging.getLogger("wscli.server.websockets")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    logger.propagate = False
    logger.setLevel(logging.CRITICAL + 1)
    return logger


def _peer(connection: ServerConnection) -> str:
    try:
        address = connection.remote_address
    except OSError:
        return "?"
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _url(config: ServerConfig, port: int) -> str:
    """A URL a client on this machine can use: wildcard hosts become loopback."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(config.host, config.host)
    if ":" in host:
        host = f"[{host}]"
    return f"{config.scheme}://{host}:{port}{config.path}"
