"""The simulated Home Inspection backend: ``wscli serve``, ``tail --demo`` and the tests.

Built on the ``websockets`` sync server (a thread per connection), the only place in
wscli that imports ``websockets``; commands import this module lazily. Every client
gets its own seeded :class:`~wscli.server.simulator.Simulator` and fault dice, so a
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
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from wscli.errors import BadUsage
from wscli.server.config import ConnectionStats, ServerConfig
from wscli.server.simulator import Simulator

if TYPE_CHECKING:
    from websockets.http11 import Request, Response
    from websockets.sync.server import Server, ServerConnection

    from wscli.playback import ReplayPlan


ECHO_PATH = "/echo"  # every server also answers here as an echo peer (``connect``'s partner)
CLOSE_TIMEOUT = 2.0  # seconds to wait for the peer's close frame; bounds stop()
OPEN_TIMEOUT = 10.0  # seconds for a client to finish the opening handshake
STOP_TIMEOUT = 5.0  # stop() gives up waiting for handler threads after this
MAX_LAG = 1.0  # a paced sender this far behind schedule stops trying to catch up
DRAIN_EVERY = 64  # at rate 0, read what the client sent every this many frames
BINARY_MAGIC = b"\x89WSCLI\x00"  # starts every binary fault frame: not UTF-8, not JSON
LISTEN_BACKLOG = 1024  # thousands of clients connecting at once (the kernel caps it)


class _Hub:
    """State shared by all connections of one server: config, stop flag, stats."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.stopping = threading.Event()
        self.lock = threading.Condition()
        self.stats: list[ConnectionStats] = []
        self.counter = itertools.count()
        self.log_lock = threading.Lock()
        self.broadcaster: Any = None
        self.refuse_left = config.refuse_next  # under ``lock``
        if config.broadcast:
            from wscli.server.broadcast import Broadcaster

            self.broadcaster = Broadcaster(config, self.stopping)

    # -- binding ----------------------------------------------------------------------

    def bind(self) -> Server:
        """Listen now (so port 0 is known), without accepting yet.

        Raises:
            BadUsage: the address is in use or not ours, or the certificate will not load.
        """
        from websockets.sync.server import serve
        from websockets.version import version as websockets_version

        from wscli.server.fdlimit import DescriptorAlarm, connection_factory, guard_accept
        from wscli.server.tracked import TrackedConnection

        config = self.config
        config.check()
        context = self._tls_context()
        alarm = DescriptorAlarm(self)
        try:
            server = serve(
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
                backlog=LISTEN_BACKLOG,
                create_connection=connection_factory(alarm, TrackedConnection),
            )
        except OSError as exc:
            where = f"{config.host}:{config.port}"
            if exc.errno == errno.EADDRINUSE:
                raise BadUsage(
                    f"cannot listen on {where}: address already in use",
                    hint="--port 0 picks a free port",
                ) from exc
            raise BadUsage(f"cannot listen on {where}: {exc.strerror or exc}") from exc
        guard_accept(server, self, alarm)
        return server

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
        """Delay, then check path, Origin and token; a rejection is a short text body.

        A check that fails unexpectedly is logged and answered 500: websockets'
        own answer to an exception here is a 500 its (silenced) logger alone sees.
        """
        from websockets.datastructures import MultipleValuesError

        try:
            return self._check_request(connection, request)
        except MultipleValuesError as exc:  # two Origin headers: the client's mistake
            name = exc.args[0] if exc.args else "a"
            return self._reject(connection, 400, f"more than one {name} header: send exactly one\n")
        except Exception as exc:
            return self._reject(
                connection, 500, f"error while checking the upgrade: {type(exc).__name__}: {exc}\n"
            )

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        config = self.config
        self._track(connection, request)
        with self.lock:
            refuse = self.refuse_left > 0
            self.refuse_left -= refuse
        if refuse:
            return self._reject(connection, 503, "refused on purpose (--refuse-next)\n")
        if config.handshake_delay and self.stopping.wait(config.handshake_delay):
            return self._reject(connection, 503, "server is shutting down\n")
        parts = urlsplit(request.path)
        if parts.path != config.path and parts.path != ECHO_PATH:
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
        if config.require_token and len(request.headers.get_all("Authorization")) > 1:
            # websockets' headers.get() raises on a repeated header: that was an
            # unlogged HTTP 500. Two credentials are the client's mistake: say so.
            return self._reject(
                connection,
                400,
                "more than one Authorization header: send exactly one"
                " ('Authorization: Bearer <token>') or use ?token=<token>\n",
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
        from wscli.checks.clients import REFUSED

        self.log(f"serve: {_peer(connection)} rejected {status}: {body.strip()}")
        record = getattr(connection, "client", None)
        if record is not None:
            record.ended(f"refused {status}", REFUSED)
        return connection.respond(status, body)

    def _track(self, connection: ServerConnection, request: Request) -> None:
        """Start this attempt's record in the client timeline (``serve`` with a verdict)."""
        book = self.config.clients
        if book is None:
            return
        from wscli.checks.clients import host_of

        agent = request.headers.get("User-Agent", "")
        key = book.identify(request.path, request.headers)
        connection.client = book.attempt(host_of(_peer(connection)), agent, key)  # type: ignore[attr-defined]

    # -- streaming --------------------------------------------------------------------

    def handle(self, connection: ServerConnection) -> None:
        """Stream to one client until a limit, the client, or stop() ends it."""
        from websockets.exceptions import ConnectionClosed

        index = next(self.counter)
        seed = None if self.config.seed is None else self.config.seed + index
        stats = ConnectionStats(peer=_peer(connection), index=index, seed=seed)
        record = getattr(connection, "client", None)
        if record is not None:
            record.opened()
        with self.lock:
            self.stats.append(stats)
        try:
            if self.config.echo or _request_path(connection) == ECHO_PATH:
                self._echo(connection, stats)
            elif self.config.replay is not None:
                self._replay(connection, stats, self.config.replay)
            elif self.broadcaster is not None:
                from wscli.server.broadcast import stream_broadcast

                stream_broadcast(self, connection, stats)
            else:
                dice = random.Random(f"faults-{seed}" if seed is not None else None)
                self._stream(
                    connection, stats, Simulator(seed, faults=self.config.stream_faults), dice
                )
        except ConnectionClosed as exc:
            self._closed_elsewhere(stats, exc.rcvd.code if exc.rcvd else None, exc)
        except OSError as exc:
            stats.ending, stats.close_code = "lost", 1006
            stats.error = str(exc)
        except Exception as exc:  # a bug here must not take the server down
            stats.ending, stats.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            if record is not None:
                _record_ending(record, stats, self.stopping.is_set())
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

    def _echo(self, connection: ServerConnection, stats: ConnectionStats) -> None:
        """``serve --echo``: answer each text frame with an echo envelope, binary as is.

        Runs until the client closes (or stop() closes with 1001): both arrive as
        ``ConnectionClosed`` and are summarised by :meth:`handle`.
        """
        stats.by_type = {"echo": 0}
        while True:
            message = connection.recv()
            stats.received += 1
            if isinstance(message, str):
                reply = {"type": "echo", "data": {"text": message}}
                connection.send(json.dumps(reply, ensure_ascii=False))
                stats.by_type["echo"] += 1
            else:
                connection.send(message)
                stats.binary += 1

    def _replay(
        self, connection: ServerConnection, stats: ConnectionStats, plan: ReplayPlan
    ) -> None:
        """``replay --serve``: the recording's received frames with their original timing,
        then the recorded close (``--loop``: from the top again instead)."""
        from wscli.frames import OP_TEXT

        stats.by_type = {"text": 0}

        def wait(due: float) -> None:
            self._drain(connection, stats, due)  # keeps reading the client meanwhile

        while True:
            for frame in plan.timed(wait=wait):
                if self.stopping.is_set():
                    self._closed_elsewhere(stats, 1001, None)
                    return
                if frame.opcode == OP_TEXT:
                    connection.send(frame.payload.decode("utf-8", "replace"))
                    stats.by_type["text"] += 1
                else:
                    connection.send(frame.payload)
                    stats.binary += 1
            if not self.config.replay_loop or self.stopping.is_set():
                break
        self._end_like_recording(connection, stats, plan.close_frame())

    def _end_like_recording(
        self,
        connection: ServerConnection,
        stats: ConnectionStats,
        recorded: tuple[int | None, str] | None,
    ) -> None:
        """Close as the recorded server did: its code and reason, or a drop for 1006."""
        from websockets.frames import EXTERNAL_CLOSE_CODES

        code, reason = recorded if recorded is not None else (1000, "")
        if code == 1006:
            _abort(connection)
            stats.ending, stats.close_code = "dropped", 1006
            return
        if code is None or not (code in EXTERNAL_CLOSE_CODES or 3000 <= code < 5000):
            code, reason = 1000, ""  # 1005/1015 and the like cannot be sent (RFC 6455 7.4)
        reason = reason.encode()[:123].decode("utf-8", "ignore")
        connection.close(code, reason)
        stats.ending, stats.close_code, stats.close_reason = "closed", code, reason

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


def serve_forever(
    config: ServerConfig,
    on_ready: Callable[[str], None] | None = None,
    *,
    duration: float | None = None,
) -> None:
    """Serve in this thread until interrupted or ``duration`` ends; ``on_ready(url)`` once bound.

    Ctrl-C (KeyboardInterrupt) closes the connections with 1001, then propagates;
    the end of ``duration`` does the same and returns.

    Raises:
        BadUsage: as :func:`start_in_thread`.
    """
    hub = _Hub(config)
    server = hub.bind()
    timer = threading.Timer(duration, server.shutdown) if duration else None
    try:
        if on_ready is not None:
            on_ready(_url(config, server.socket.getsockname()[1]))
        if timer is not None:
            timer.daemon = True
            timer.start()
        server.serve_forever()
    finally:
        if timer is not None:
            timer.cancel()
        hub.stop(server)


# -- helpers ------------------------------------------------------------------------------


def _record_ending(record: Any, stats: ConnectionStats, stopping: bool) -> None:
    """Tell the client timeline how this connection ended, and whose doing it was."""
    from wscli.checks.clients import BY_CLIENT, BY_SERVER, SHUTDOWN

    record.from_server = stats.sent
    ending, code = stats.ending, stats.close_code
    if stopping and ending == "closed" and code == 1001:
        record.ended("closed 1001 (server stopping)", SHUTDOWN)
    elif ending == "closed by client":
        record.ended(f"closed {code} by client", BY_CLIENT)
    elif ending == "lost":
        record.ended("client went away (no close frame)", BY_CLIENT)
    elif ending == "dropped":
        record.ended("dropped by server (no close frame)", BY_SERVER)
    elif ending == "closed":
        record.ended(f"closed {code} by server", BY_SERVER)
    else:
        record.ended(f"failed on the server ({stats.error})", BY_SERVER)


def _abort(connection: ServerConnection) -> None:
    """Drop the TCP connection without a close frame: the client sees 1006."""
    try:
        connection.socket.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already gone
    connection.close_socket()


def _request_path(connection: ServerConnection) -> str:
    request = connection.request
    return urlsplit(request.path).path if request is not None else ""


def _quiet_logger() -> logging.Logger:
    """websockets' logger for our server: silent, so a client hanging up prints nothing."""
    logger = logging.getLogger("wscli.server.backend.websockets")
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
