"""``wscli tap``: a transparent WebSocket proxy that shows, records and disturbs the traffic.

Built on the ``websockets`` asyncio server and client: each client that connects
gets its own upstream connection, opened while the client's upgrade request waits,
so the backend's answer (a 401, a chosen subprotocol, its cookies) reaches the client
as if there were no tap. Messages are forwarded whole and in order; each connection
class sees every frame it receives (``process_event``), pings and closes included,
which is what the ``-v``-style lines, the recording and the client timeline
(:mod:`wscli.checks.clients`) are made from. Pings are answered hop by hop: the tap
answers the client's, the library answers the backend's.

A pair (client and its upstream) ends on its own: whichever side closes, vanishes or
breaks the protocol, the tap says so in one line and mirrors the ending to the other
side (a close code is passed on, a vanished upstream drops the client too). Nothing a
peer does ends the proxy. Faults (``--drop-after`` and friends) are applied between the
two, counted in messages the backend sent to the client, like ``serve``'s.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import json
import logging
import signal
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, cast
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.frames import EXTERNAL_CLOSE_CODES, Frame, Opcode
from websockets.http11 import Request, Response

from wscli.checks.clients import (
    BY_CLIENT,
    BY_SERVER,
    REFUSED,
    SHUTDOWN,
    ClientBook,
    Connection,
    host_of,
)
from wscli.errors import BadUsage, WscliError, safe_line
from wscli.frames import OP_BINARY, describe_close
from wscli.net.tap import StderrTapSink
from wscli.redact import Redactor

OPEN_TIMEOUT = 10.0  # seconds for the upstream to answer the upgrade
CLOSE_TIMEOUT = 2.0  # seconds to wait for a close frame back; bounds every ending
STOP_TIMEOUT = 5.0  # the tap's own shutdown gives up on slow pairs after this
MAX_QUEUE = 4  # messages read ahead per connection: backpressure (at worst 4 x --max-size)
LISTEN_BACKLOG = 1024

# Request headers that belong to one hop's handshake, never passed on.
_HOP_HEADERS = frozenset(
    {
        "host",
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
        "sec-websocket-accept",
        "content-length",
        "transfer-encoding",
        "keep-alive",
        "te",
        "trailer",
        "proxy-authorization",
        "proxy-connection",
        "date",
        "server",
    }
)


@dataclass
class TapSettings:
    """Everything ``wscli tap`` is asked to do."""

    host: str
    port: int
    upstream: str  # ws:// or wss:// URL of the backend
    certfile: str | None = None
    keyfile: str | None = None
    upstream_ssl: ssl.SSLContext | None = None
    rewrite_host: bool = False  # send the backend its own Host instead of the client's
    origin: str | None = None  # replace the client's Origin
    max_size: int | None = 16 * 1024 * 1024
    drop_after: int | None = None
    close_after: int | None = None
    close_code: int = 1011
    close_reason: str = ""
    delay: float = 0.0  # seconds before forwarding each message, both ways
    stall_after: int | None = None
    refuse_next: int = 0
    show_frames: bool = True
    record: Any = None  # a RecordingWriter
    validator: Any = None  # a wscli.checks.schema.Validator for messages to the client
    redactor: Redactor = field(default_factory=Redactor)
    log: Callable[[str], None] | None = None

    def check(self) -> None:
        """Reject settings that cannot work before anything listens."""
        parts = urlsplit(self.upstream)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise BadUsage(
                f"--to must be a ws:// or wss:// URL, got {self.upstream!r}",
                hint="e.g. --to ws://localhost:8000/api/ws/sensor/stream",
            )
        if not (self.close_code in EXTERNAL_CLOSE_CODES or 3000 <= self.close_code < 5000):
            raise BadUsage(
                f"--close-code {self.close_code} cannot be sent in a close frame",
                hint="use 1000-1003, 1007-1014 or 3000-4999 (RFC 6455 section 7.4)",
            )
        if self.keyfile and not self.certfile:
            raise BadUsage("--keyfile needs --certfile")


class _PairSink(StderrTapSink):
    """The ``-v`` line format, with the client id in front: many clients share stderr."""

    def __init__(self, label: str, stream: IO[str]) -> None:
        super().__init__(stream)
        self.label = label

    def _write(self, line: str) -> None:
        super()._write(f"{self.label} {line}")


class Pair:
    """One client and its upstream: counters, the timeline record, how it ended."""

    def __init__(self, tap: TapProxy, number: int, peer: str, record: Connection) -> None:
        self.tap = tap
        self.id = f"c{number}"
        self.peer = peer
        self.record = record
        self.upstream: ClientConnection | None = None
        self.to_client = 0  # messages forwarded to the client (what faults count)
        self.to_upstream = 0
        self.started = False
        self.client_gone = False  # the client left while its upstream was being opened
        self.sink = _PairSink(f"[{self.id}]", sys.stderr) if tap.settings.show_frames else None

    def frame(self, direction: str, frame: Frame) -> None:
        """Every frame either side sent us: shown, recorded, counted in the timeline."""
        opcode = int(frame.opcode)
        payload = bytes(frame.data)
        if frame.opcode is Opcode.PING:
            if direction == "out":  # the backend's pings never reach the client
                self.record.ping(direction)
        elif frame.opcode is Opcode.PONG:
            self.record.pong(direction)
        elif frame.fin and frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            self.record.message(direction)
        if self.sink is None and self.tap.settings.record is None:
            return
        if opcode != OP_BINARY:
            payload = self.tap.settings.redactor.payload(payload)
        if self.sink is not None:
            self.sink.frame(direction, opcode, payload)
        if self.tap.settings.record is not None:
            self.tap.record_frame(self.id, direction, opcode, payload)


class _TappedServerConnection(ServerConnection):
    """The client's connection: every frame it sends goes to its pair first."""

    pair: Pair | None = None

    def process_event(self, event: Any) -> None:
        if self.pair is not None and isinstance(event, Frame):
            self.pair.frame("out", event)
        super().process_event(event)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        pair = self.pair
        if pair is not None:
            pair.client_gone = True
        if pair is not None and not pair.started and pair.upstream is not None:
            # The client left during its handshake: its upstream must not linger.
            pair.tap.spawn(_close(pair.upstream, 1001))
            pair.record.ended("client left during the handshake", BY_CLIENT)


class _TappedClientConnection(ClientConnection):
    """The upstream connection: every frame the backend sends goes to the pair first."""

    pair: Pair | None = None
    host_header: str | None = None

    def __init__(self, protocol: Any, **kwargs: Any) -> None:
        super().__init__(protocol, **kwargs)
        make_request = protocol.connect

        def with_host() -> Request:  # the client's Host, unless --rewrite-host
            request: Request = make_request()
            if self.host_header:
                del request.headers["Host"]
                request.headers["Host"] = self.host_header
            return request

        protocol.connect = with_host

    def process_event(self, event: Any) -> None:
        if self.pair is not None and isinstance(event, Frame):
            self.pair.frame("in", event)
        super().process_event(event)


class TapProxy:
    """The proxy: accepts clients, pairs each with an upstream, forwards, reports."""

    def __init__(self, settings: TapSettings, book: ClientBook) -> None:
        self.settings = settings
        self.book = book
        self.counter = itertools.count(1)
        self.refuse_left = settings.refuse_next
        self.pairs: set[Pair] = set()
        self.stopping = False
        self.validated = 0
        self.invalid = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self.fatal: WscliError | None = None  # a failure that stops the whole tap
        self._stop: asyncio.Event | None = None
        self._record_start = time.monotonic()

    # -- plumbing ------------------------------------------------------------------------

    def log(self, line: str) -> None:
        if self.settings.log is not None:
            self.settings.log(safe_line(line))

    def spawn(self, coro: Any) -> None:
        """Run ``coro`` in the background, keeping a reference until it is done."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def record_frame(self, client: str, direction: str, opcode: int, payload: bytes) -> None:
        try:
            self.settings.record.frame(direction, opcode, payload, client=client)
        except WscliError as exc:
            self.fail(exc)

    def record_event(self, name: str, **fields: Any) -> None:
        if self.settings.record is not None:
            try:
                self.settings.record.event(name, **fields)
            except WscliError as exc:
                self.fail(exc)

    def fail(self, error: WscliError) -> None:
        """A failure of the tap itself (the recording cannot be written): stop everything.

        Raised from :func:`run_tap` once every pair has ended, so it becomes the
        command's one-line error and exit status; a recording missing frames must
        not look complete.
        """
        if self.fatal is None:
            self.fatal = error
            self.settings.record = None  # nothing more to write into it
        if self._stop is not None:
            self._stop.set()

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """asyncio's own complaints (a task that failed) as one line, never a traceback."""
        exc = context.get("exception")
        detail = f"{type(exc).__name__}: {exc}" if exc is not None else context.get("message")
        self.log(f"tap: error: {detail} (a bug in wscli: please report it)")

    # -- the handshake -------------------------------------------------------------------

    def upstream_url(self, target: str) -> str:
        """The client's path and query on the upstream; ``/`` alone means --to's path."""
        base = urlsplit(self.settings.upstream)
        wanted = urlsplit(target)
        path = wanted.path if wanted.path not in ("", "/") else base.path or "/"
        query = wanted.query or (base.query if wanted.path in ("", "/") else "")
        return urlunsplit((base.scheme, base.netloc, path, query, ""))

    async def process_request(
        self, connection: _TappedServerConnection, request: Request
    ) -> Response | None:
        """Open the upstream while the client waits: its answer is the client's answer."""
        peer = _peer(connection)
        agent = request.headers.get("User-Agent", "")
        key = self.book.identify(request.path, request.headers)
        record = self.book.attempt(host_of(peer), agent, key)
        pair = Pair(self, next(self.counter), peer, record)
        connection.pair = pair
        if self.refuse_left > 0:
            self.refuse_left -= 1
            record.ended("refused 503", REFUSED)
            self.log(f"tap: {pair.id} {peer} refused 503 (--refuse-next)")
            return connection.respond(503, "refused on purpose (wscli tap --refuse-next)\n")
        url = self.upstream_url(request.path)
        shown = self.settings.redactor.url(url)
        headers = Headers()
        for name, value in request.headers.raw_items():
            if name.lower() in _HOP_HEADERS:
                continue
            if name.lower() == "origin" and self.settings.origin is not None:
                continue
            headers[name] = value
        offered = request.headers.get_all("Sec-WebSocket-Protocol")
        subprotocols = [p.strip() for line in offered for p in line.split(",") if p.strip()]

        def factory(protocol: Any, **kwargs: Any) -> _TappedClientConnection:
            upstream = _TappedClientConnection(protocol, **kwargs)
            upstream.pair = pair
            if not self.settings.rewrite_host:
                upstream.host_header = request.headers.get("Host")
            return upstream

        try:
            upstream = await connect(
                url,
                additional_headers=headers,
                user_agent_header=None,
                origin=cast(Any, self.settings.origin),
                subprotocols=cast(Any, subprotocols or None),
                ssl=self.settings.upstream_ssl if url.startswith("wss:") else None,
                compression=None,
                open_timeout=OPEN_TIMEOUT,
                ping_interval=None,
                close_timeout=CLOSE_TIMEOUT,
                max_size=self.settings.max_size,
                max_queue=MAX_QUEUE,
                proxy=None,
                logger=_quiet_logger(),
                create_connection=cast(Any, factory),
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            record.ended(f"refused {status} by upstream", REFUSED)
            self.log(f"tap: {pair.id} {peer} upstream {shown} answered {status}: passed on")
            response = connection.respond(status, "")
            response.body = bytes(exc.response.body or b"")
            for name in ("Content-Length", "Content-Type"):
                if name in response.headers:
                    del response.headers[name]
            for name, value in exc.response.headers.raw_items():
                if name.lower() not in _HOP_HEADERS:
                    response.headers[name] = value
            response.headers["Content-Length"] = str(len(response.body))
            return response
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            why = _connect_failure(exc)
            record.ended("refused 502 (upstream unreachable)", REFUSED)
            self.log(f"tap: {pair.id} {peer} cannot reach upstream {shown}: {why}: answered 502")
            return connection.respond(502, f"wscli tap: cannot reach upstream {shown}: {why}\n")
        pair.upstream = upstream
        self._show_handshake(pair, request, upstream, shown)
        if pair.client_gone:  # it gave up waiting: nobody to forward to
            record.ended("client left during the handshake", BY_CLIENT)
            self.spawn(_close(upstream, 1001))
        return None

    def _show_handshake(
        self, pair: Pair, request: Request, upstream: ClientConnection, url: str
    ) -> None:
        """The client's upgrade request and the backend's answer, as ``-v`` shows them."""
        redactor = self.settings.redactor
        response = upstream.response
        sent = redactor.headers(request.headers.raw_items())
        got = redactor.headers(response.headers.raw_items()) if response is not None else []
        status = response.status_code if response is not None else None
        if pair.sink is not None:
            first = f"GET {redactor.target(request.path)} HTTP/1.1"
            pair.sink.lines(">", [first, *(f"{k}: {v}" for k, v in sent)])
            phrase = response.reason_phrase if response is not None else ""
            pair.sink.lines("<", [f"HTTP/1.1 {status} {phrase}", *(f"{k}: {v}" for k, v in got)])
        self.record_event(
            "handshake",
            client=pair.id,
            url=url,
            request=dict(sent),
            status=status,
            response=dict(got),
        )

    def select_subprotocol(self, connection: _TappedServerConnection, offered: Any) -> str | None:
        """The subprotocol the backend chose, so the client gets the backend's choice."""
        pair = connection.pair
        if pair is None or pair.upstream is None:
            return None
        chosen = pair.upstream.subprotocol
        return str(chosen) if chosen is not None and chosen in offered else None

    def process_response(
        self, connection: _TappedServerConnection, request: Request, response: Response
    ) -> Response:
        """Pass the backend's own response headers (cookies and the like) to the client."""
        pair = connection.pair
        upstream = pair.upstream if pair is not None else None
        if upstream is not None and upstream.response is not None and response.status_code == 101:
            for name, value in upstream.response.headers.raw_items():
                if name.lower() not in _HOP_HEADERS:
                    response.headers[name] = value
        return response

    # -- forwarding ----------------------------------------------------------------------

    async def handle(self, client: ServerConnection) -> None:
        """Forward both ways until one side ends; then end the other the same way."""
        assert isinstance(client, _TappedServerConnection)
        pair = client.pair
        if pair is None or pair.upstream is None:
            return
        upstream = pair.upstream
        pair.started = True
        pair.record.opened()
        self.pairs.add(pair)
        shown = self.settings.redactor.url(
            self.upstream_url(client.request.path if client.request else "/")
        )
        self.log(f"tap: {pair.id} {pair.peer} connected through to {shown}")
        self.record_event("connect", client=pair.id, peer=pair.peer, url=shown)
        try:
            down = asyncio.ensure_future(self._pump(pair, client, upstream, "out"))
            up = asyncio.ensure_future(self._pump(pair, upstream, client, "in"))
            done, _ = await asyncio.wait({down, up}, return_when=asyncio.FIRST_COMPLETED)
            ending = done.pop().result()
            await self._end(pair, client, upstream, ending)
            for task in (down, up):
                if not task.done():
                    task.cancel()
            await asyncio.gather(down, up, return_exceptions=True)
        finally:
            self.pairs.discard(pair)
            pair.record.from_server = pair.to_client

    async def _pump(self, pair: Pair, src: Any, dst: Any, direction: str) -> tuple[str, Any]:
        """Forward messages ``src`` to ``dst``; returns what ended it: (who, detail)."""
        settings = self.settings
        src_side = "client" if direction == "out" else "upstream"
        dst_side = "upstream" if direction == "out" else "client"
        while True:
            try:
                message = await src.recv()
            except ConnectionClosed as exc:
                return src_side, exc
            if settings.delay:
                await asyncio.sleep(settings.delay)
            if direction == "in":
                if settings.stall_after is not None and pair.to_client >= settings.stall_after:
                    return "stall", None
                if settings.validator is not None:
                    self._validate(pair, message)
            try:
                await dst.send(message)
            except ConnectionClosed as exc:
                return dst_side, exc
            if direction == "out":
                pair.to_upstream += 1
                continue
            pair.to_client += 1
            if settings.drop_after is not None and pair.to_client >= settings.drop_after:
                return "drop", None
            if settings.close_after is not None and pair.to_client >= settings.close_after:
                return "close", None

    def _validate(self, pair: Pair, message: str | bytes) -> None:
        """--validate: each message to the client against the schema, failures on stderr."""
        self.validated += 1
        number = pair.to_client + 1
        try:
            if isinstance(message, bytes):
                raise ValueError("a binary frame, not a JSON message")
            parsed = json.loads(message)
        except ValueError as exc:
            self.invalid += 1
            self.log(f"tap: {pair.id} < message {number}: malformed: {exc}")
            return
        if self.settings.validator.is_valid(parsed):
            return
        self.invalid += 1
        for problem in self.settings.validator.problems(parsed)[:3]:
            self.log(f"tap: {pair.id} < message {number}: {problem.path or '/'}: {problem.reason}")

    async def _end(self, pair: Pair, client: Any, upstream: Any, ending: tuple[str, Any]) -> None:
        """Say which side ended the pair and how; end the other side the same way."""
        who, exc = ending
        record = pair.record
        settings = self.settings
        label = f"tap: {pair.id} {pair.peer}"
        if self.stopping:
            record.ended("closed 1001 (tap stopping)", SHUTDOWN)
            await _close_both(client, upstream, 1001)
            return
        if who == "drop":
            self.log(
                f"{label} dropped after {pair.to_client} messages (--drop-after): client sees 1006"
            )
            record.ended("dropped by tap (--drop-after)", BY_SERVER)
            _abort(client)
            await _close(upstream, 1000)
            return
        if who == "close":
            code, reason = settings.close_code, settings.close_reason
            self.log(f"{label} closed {code} after {pair.to_client} messages (--close-after)")
            record.ended(f"closed {code} by tap (--close-after)", BY_SERVER)
            await asyncio.gather(_close(client, code, reason), _close(upstream, 1000))
            return
        if who == "stall":
            self.log(
                f"{label} stalled after {pair.to_client} messages (--stall-after): TCP kept open"
            )
            record.ended("stalled by tap (--stall-after)", BY_SERVER)
            await self._stall(client, upstream)
            return
        other_side = "upstream" if who == "client" else "client"
        other = upstream if who == "client" else client
        how, code, reason = _how_it_ended(exc)
        by = BY_CLIENT if who == "client" else BY_SERVER
        if how == "closed":
            passed = code if _sendable(code) else 1000
            how_closed = describe_close(code, reason)
            self.log(f"{label} {who} closed {how_closed}; closed the {other_side} with {passed}")
            record.ended(f"closed {code} by {'client' if who == 'client' else 'server'}", by)
            await _close(other, passed, reason)
        elif how == "vanished":
            if who == "client":
                self.log(
                    f"{label} client went away (no close frame); closed the upstream with 1001"
                )
                record.ended("client went away (no close frame)", BY_CLIENT)
                await _close(upstream, 1001)
            else:
                self.log(f"{label} upstream went away (no close frame); dropped the client too")
                record.ended("upstream went away (no close frame)", BY_SERVER)
                _abort(client)
        else:  # broke the protocol: websockets already closed that side with a code
            passed = 1001 if who == "client" else 1014
            self.log(
                f"{label} {who} broke the protocol ({reason}; closed it with {code});"
                f" closed the {other_side} with {passed}"
            )
            record.ended(f"{who} broke the protocol ({code})", by)
            await _close(other, passed)
        self.record_event("close", client=pair.id, side=who, how=how, code=code, reason=reason)

    async def _stall(self, client: Any, upstream: Any) -> None:
        """A half-open link: read nothing more from either side, keep TCP open until we stop.

        The client's pings go unanswered, as behind a dead NAT entry: only its own
        keep-alive can notice.
        """
        for conn in (client, upstream):
            transport = getattr(conn, "transport", None)
            if transport is not None and not transport.is_closing():
                transport.pause_reading()
        while not self.stopping:
            await asyncio.sleep(0.2)
        _abort(client)
        _abort(upstream)

    # -- running -------------------------------------------------------------------------

    async def run(self, on_ready: Callable[[int], None], duration: float | None) -> str:
        """Listen until SIGINT/SIGTERM or ``duration``; returns how the run was stopped."""
        settings = self.settings
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self._loop_error)
        stop = self._stop = asyncio.Event()
        reason = [""]

        def stopped(name: str) -> None:
            reason[0] = reason[0] or name
            stop.set()

        for signum, name in ((signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated")):
            try:
                loop.add_signal_handler(signum, stopped, name)
            except (ValueError, RuntimeError):  # not the main thread (tests)
                pass
        server = await self._listen()
        try:
            port = server.sockets[0].getsockname()[1] if server.sockets else settings.port
            on_ready(port)
            try:
                await asyncio.wait_for(stop.wait(), duration)
            except TimeoutError:
                pass
        finally:
            self.stopping = True
            server.close(close_connections=True)
            for pair in list(self.pairs):
                if pair.upstream is not None:
                    self.spawn(_close(pair.upstream, 1001))
            try:
                await asyncio.wait_for(server.wait_closed(), STOP_TIMEOUT)
            except TimeoutError:
                pass
        return reason[0]

    async def _listen(self) -> Server:
        settings = self.settings
        context = None
        if settings.certfile:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            try:
                context.load_cert_chain(settings.certfile, settings.keyfile)
            except (OSError, ssl.SSLError) as exc:
                why = getattr(exc, "strerror", None) or exc
                raise BadUsage(
                    f"cannot load certificate {settings.certfile}: {why}",
                    hint="give a PEM certificate with --certfile and its key with --keyfile",
                ) from exc
        try:
            return await serve(
                self.handle,
                settings.host,
                settings.port,
                ssl=context,
                process_request=cast(Any, self.process_request),
                process_response=cast(Any, self.process_response),
                select_subprotocol=cast(Any, self.select_subprotocol),
                create_connection=_TappedServerConnection,
                compression=None,
                server_header=None,
                open_timeout=OPEN_TIMEOUT,
                ping_interval=None,
                close_timeout=CLOSE_TIMEOUT,
                max_size=settings.max_size,
                max_queue=MAX_QUEUE,
                logger=_quiet_logger(),
                backlog=LISTEN_BACKLOG,
            )
        except OSError as exc:
            where = f"{settings.host}:{settings.port}"
            if exc.errno == errno.EADDRINUSE:
                raise BadUsage(
                    f"cannot listen on {where}: address already in use",
                    hint="--listen HOST:0 picks a free port",
                ) from exc
            raise BadUsage(f"cannot listen on {where}: {exc.strerror or exc}") from exc


def run_tap(
    settings: TapSettings,
    book: ClientBook,
    on_ready: Callable[[int], None],
    duration: float | None = None,
) -> tuple[str, TapProxy]:
    """Run the tap in this thread; returns ('' | 'interrupted' | 'terminated', the proxy)."""
    settings.check()
    proxy = TapProxy(settings, book)
    stopped = asyncio.run(proxy.run(on_ready, duration))
    if proxy.fatal is not None:
        raise proxy.fatal
    return stopped, proxy


# -- helpers ------------------------------------------------------------------------------


def _how_it_ended(exc: ConnectionClosed) -> tuple[str, int, str]:
    """``closed`` (the peer sent a close frame), ``vanished`` (no close frame) or
    ``protocol`` (it broke the protocol; websockets closed it), with code and reason."""
    if exc.rcvd is not None:
        return "closed", int(exc.rcvd.code), exc.rcvd.reason
    if exc.sent is not None and int(exc.sent.code) not in (1000, 1001):
        cause = exc.__cause__ or exc.__context__
        reason = str(cause) if cause is not None else exc.sent.reason
        return "protocol", int(exc.sent.code), reason or "protocol error"
    return "vanished", 1006, ""


def _sendable(code: int) -> bool:
    return code in EXTERNAL_CLOSE_CODES or 3000 <= code < 5000


async def _close(conn: Any, code: int, reason: str = "") -> None:
    try:
        await conn.close(code, reason.encode()[:123].decode("utf-8", "ignore"))
    except Exception:  # already gone: nothing to end
        pass


async def _close_both(a: Any, b: Any, code: int) -> None:
    await asyncio.gather(_close(a, code), _close(b, code))


def _abort(conn: Any) -> None:
    """Cut TCP without a close frame: the peer sees 1006, as after a real drop."""
    transport = getattr(conn, "transport", None)
    if transport is not None:
        transport.abort()


def _connect_failure(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return f"no answer within {OPEN_TIMEOUT:g} s"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc}"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


def _peer(connection: Any) -> str:
    try:
        address = connection.remote_address
    except OSError:
        return "?"
    if not address:
        return "?"
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _quiet_logger() -> logging.Logger:
    logger = logging.getLogger("wscli.net.tap.websockets")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    logger.propagate = False
    logger.setLevel(logging.CRITICAL + 1)
    return logger
