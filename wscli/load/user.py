"""The Locust user behind ``wscli load``: one simulated dashboard, one stream.

Importing this module imports Locust, which monkey-patches the process with gevent
(Locust does that in its ``__init__``). Only ``wscli load`` and locustfiles import it;
``tests/test_imports.py`` checks that no other command does.

Each :class:`StreamUser` opens one stream through wscli's own connection module
(:class:`wscli.net.stream.Stream`, so every connection option, the heartbeat and the
reconnect policy are ``tail``'s) and reports to Locust's ``request`` event:

=================  ===================  ==============================================
request_type       name                 response_time
=================  ===================  ==============================================
``connect``        ``connect``          TCP + TLS + upgrade, ms (a failure on error)
``recv``           the message type     delivery delay from ``data.timestamp``, ms
``recv-untimed``   the message type     0: the message carries no timestamp
``stream``         ``drop``             0, always a failure (the connection was lost)
``stream``         ``reconnect``        the gap until the stream was back, ms
=================  ===================  ==============================================

Invalid (``--validate``) and malformed messages are ``recv`` failures, so Locust's
own failure ratio, CSV files and HTML report count them. For people who already
run Locust, subclass it in a locustfile::

    from wscli.load import LoadSettings, StreamUser

    class Dashboard(StreamUser):
        settings = LoadSettings(validate=True)

and run ``locust -f locustfile.py --host ws://localhost:8000/api/ws/sensor/stream``.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

import gevent
from locust import User, task

from wscli.checks import judgement
from wscli.checks.judgement import judge
from wscli.errors import ExitStatus, WscliError
from wscli.filters import MISSING, get_field, parse_field_path
from wscli.messages import parse_timestamp
from wscli.net.stream import ServerClosed, Stream, StreamEvent, StreamPolicy, backoff_delay
from wscli.net.target import ConnectOptions

if TYPE_CHECKING:
    from wscli.checks.schema import Validator
    from wscli.net.tap import Tap

# Process-wide cap on fan-out ids kept in memory (ids x users): memory stays
# bounded on any run; past it the fan-out check says it is incomplete.
FANOUT_BUDGET = 2_000_000
OTHER_TYPES = "(other types)"  # types past MAX_TYPES (as validate's report rows)
MAX_TYPES = 100  # distinct message types tracked by name
MAX_REASONS = 200  # distinct failure reasons listed
MALFORMED = "(malformed)"
BINARY = "(binary)"


@dataclass
class LoadSettings:
    """What every user of one run shares; plain values so it travels to workers.

    ``connect`` holds :class:`~wscli.net.connection.ConnectOptions` fields; the URL comes
    from Locust's host (``--host``) when ``connect["url"]`` is empty.
    """

    connect: dict[str, Any] = field(default_factory=dict)
    validate: bool = False
    schema: dict[str, Any] | None = None  # the schema document itself: workers may lack the file
    schema_dir: str | None = None
    fanout: bool = False
    id_field: str = "data.id"
    retries: int = 5
    backoff: float = 0.5
    health: dict[str, Any] | None = None  # the --health flags' values (wscli.checks.health)
    health_strict: bool = False

    def to_wire(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> LoadSettings:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class UserRecord:
    """What one user saw, as plain data (it travels from workers to the master).

    ``intervals`` are ``[connected_at, disconnected_at]`` wall-clock pairs (``inf``
    while connected); ``ids``/``times`` are the fan-out ids and when they arrived.
    """

    label: str
    intervals: list[list[float]] = field(default_factory=list)
    ids: list[Any] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    messages: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    failures: int = 0
    reconnects: int = 0
    error_code: int | None = None  # the last connect error's code, until the user connects
    error: str = ""
    retrying: bool = False  # that error will be retried (the user has not given up)
    connected_seconds: float = 0.0

    @property
    def ever_connected(self) -> bool:
        return bool(self.intervals)

    def to_wire(self) -> dict[str, Any]:
        data = asdict(self)
        data["intervals"] = [[a, b if math.isfinite(b) else None] for a, b in self.intervals]
        return data

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> UserRecord:
        record = cls(**data)
        record.intervals = [[a, math.inf if b is None else b] for a, b in record.intervals]
        return record


class Registry:
    """Every user record of this process, and what the users share (validator, settings)."""

    def __init__(self) -> None:
        self.records: list[UserRecord] = []
        self.fanout_budget = FANOUT_BUDGET
        self.fanout_truncated = False
        self.connected = 0
        self.names: set[str] = set()  # message types seen, each a Locust stats entry
        self.reasons: set[str] = set()  # failure texts seen, each a Locust error row
        self.tap: Tap | None = None  # -v / --tap of a local run: shared by every user
        self.health: list[Any] = []  # --health: one engine per user (local runs)
        self._health_config: tuple[int, Any] | None = None
        self._prepared: tuple[int, ConnectOptions, Validator | None, tuple[str | int, ...]] | None
        self._prepared = None

    def health_engine(self, settings: LoadSettings) -> Any:
        """A new engine for one user (each user's stream is judged on its own)."""
        if settings.health is None:
            return None
        from wscli.checks.health import HealthEngine, config_from_values

        if self._health_config is None or self._health_config[0] != id(settings):
            config = config_from_values(settings.health, strict=settings.health_strict)
            self._health_config = (id(settings), config)
        engine = HealthEngine(self._health_config[1])
        self.health.append(engine)
        return engine

    def reset(self) -> None:
        self.health = []
        self.records = []
        self.fanout_budget = FANOUT_BUDGET
        self.fanout_truncated = False
        self.connected = 0
        self.names = set()
        self.reasons = set()

    def prepare(
        self, settings: LoadSettings, host: str | None
    ) -> tuple[ConnectOptions, Validator | None, tuple[str | int, ...]]:
        """Connection options, the compiled schema and the id path: built once per run."""
        if self._prepared is not None and self._prepared[0] == id(settings):
            return self._prepared[1], self._prepared[2], self._prepared[3]
        from wscli.net.target import check_url

        values = dict(settings.connect)
        values["url"] = check_url(values.get("url") or host or "")
        known = {f.name for f in fields(ConnectOptions)}
        for key in ("headers", "subprotocols"):
            if key in values:
                values[key] = tuple(values[key])
        options = ConnectOptions(**{k: v for k, v in values.items() if k in known})
        validator = None
        if settings.validate:
            from pathlib import Path

            from wscli.checks.schema import Validator, load_schema

            schema = settings.schema if settings.schema is not None else load_schema(None)
            base = Path(settings.schema_dir) if settings.schema_dir else None
            validator = Validator(schema, base_path=base)
        path = parse_field_path(settings.id_field)
        self._prepared = (id(settings), options, validator, path)
        return options, validator, path


REGISTRY = Registry()


class InvalidMessage(Exception):
    """A message that breaks the schema; a Locust failure, never raised past the user."""


class MalformedMessage(Exception):
    """A frame that is not JSON."""


class StreamUser(User):
    """One simulated client holding one stream open until Locust stops it.

    ``settings`` is shared by every user of the class; ``wscli load`` sets it (and
    sends it to workers); a locustfile may set its own.
    """

    abstract = True
    settings: LoadSettings = LoadSettings()

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        settings = _settings_for(environment, type(self).settings)
        self._settings = settings
        self.options, self.validator, self.id_path = REGISTRY.prepare(settings, self.host)
        self.record = UserRecord(label=f"user-{len(REGISTRY.records) + 1}")
        REGISTRY.records.append(self.record)
        self.health = REGISTRY.health_engine(settings)
        self.stream: Stream | None = None
        self._fire = environment.events.request.fire
        self._dropping = False  # lost, and not (yet) reconnected

    # -- Locust's hooks ------------------------------------------------------------------

    def on_stop(self) -> None:
        """Close with 1000 and end the connected interval."""
        stream, self.stream = self.stream, None
        if stream is not None:
            try:
                stream.close()
            except Exception:
                pass
        self._disconnected()

    @task
    def hold_stream(self) -> None:
        """Connect (retrying like ``tail``), then read until Locust stops this user."""
        try:
            stream = self._connect()
            if stream is not None:
                self._read(stream)
        finally:
            self._disconnected()
        while True:  # the stream has ended for good: stay idle until the run stops
            gevent.sleep(3600)

    # -- connecting ----------------------------------------------------------------------

    def _policy(self) -> StreamPolicy:
        s = self._settings
        return StreamPolicy(reconnect=s.retries > 0, retries=s.retries, backoff=s.backoff)

    def _connect(self) -> Stream | None:
        from wscli.net.stream import is_retryable

        settings = self._settings
        attempt = 0
        while True:
            stream = Stream(self.options, self._policy(), tap=REGISTRY.tap, on_event=self._on_event)
            started = time.perf_counter()
            try:
                stream.connect()
            except WscliError as exc:
                elapsed = (time.perf_counter() - started) * 1000
                self._fire(
                    request_type="connect",
                    name="connect",
                    response_time=elapsed,
                    response_length=0,
                    exception=exc,
                    context={},
                )
                attempt += 1
                self.record.failures += 1
                # The last error stays on the record while it retries: a run that ends
                # now reports what this user met, not "still connecting" (issue 17).
                self.record.error_code = int(exc.exit_code)
                self.record.error = exc.one_line()
                self.record.retrying = is_retryable(exc) and attempt <= settings.retries
                if not self.record.retrying:
                    return None
                gevent.sleep(backoff_delay(attempt, settings.backoff, 30.0, stream.rng))
                continue
            self._fire(
                request_type="connect",
                name="connect",
                response_time=(time.perf_counter() - started) * 1000,
                response_length=0,
                exception=None,
                context={},
            )
            self.record.error_code, self.record.error = None, ""
            self.record.retrying = False
            self._connected(stream)
            self.stream = stream
            return stream

    def _connected(self, stream: Stream) -> None:
        record = self.record
        if not record.intervals and stream.ws is not None and stream.ws.sock is not None:
            try:
                host, port = stream.ws.sock.getsockname()[:2]
                record.label = f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
            except OSError:
                pass
        record.intervals.append([time.time(), math.inf])
        REGISTRY.connected += 1

    def _disconnected(self) -> None:
        intervals = self.record.intervals
        if intervals and intervals[-1][1] == math.inf:
            now = time.time()
            intervals[-1][1] = now
            self.record.connected_seconds += now - intervals[-1][0]
            REGISTRY.connected -= 1

    def _on_event(self, event: StreamEvent) -> None:
        if event.kind == "disconnected":
            self._drop(f"connection lost: {event.cause}")
        elif event.kind == "reconnected":
            self._dropping = False
            stream = self.stream
            if stream is not None:
                self._connected(stream)
            self.record.reconnects += 1
            self._fire(
                request_type="stream",
                name="reconnect",
                response_time=event.gap * 1000,
                response_length=0,
                exception=None,
                context={},
            )

    def _drop(self, reason: str) -> None:
        """The connection was lost: a failure in Locust's statistics."""
        self._dropping = True
        self._disconnected()
        self.record.failures += 1
        self._fire(
            request_type="stream",
            name="drop",
            response_time=0,
            response_length=0,
            exception=ConnectionError(_reason(reason)),
            context={},
        )

    # -- reading -------------------------------------------------------------------------

    def _read(self, stream: Stream) -> None:
        """The hot path: one Locust request event per message."""
        fire, record, validator, health = self._fire, self.record, self.validator, self.health
        by_type = record.by_type
        names = REGISTRY.names
        fanout = self._settings.fanout
        now = time.time
        binary, malformed, invalid = judgement.BINARY, judgement.MALFORMED, judgement.INVALID
        try:
            for opcode, payload in stream:
                record.messages += 1
                size = len(payload)
                # The shared judgement (wscli.checks.judgement): as tail and validate judge.
                verdict = judge(opcode, payload, validator)
                if verdict.verdict is binary:
                    by_type[BINARY] = by_type.get(BINARY, 0) + 1
                    failed = None
                    if validator is not None:  # not a valid message, as everywhere
                        record.failures += 1
                        failed = InvalidMessage(_reason(f"invalid: {verdict.reason}"))
                    fire(
                        request_type="recv-untimed",
                        name=BINARY,
                        response_time=0,
                        response_length=size,
                        exception=failed,
                        context={},
                    )
                    continue
                if verdict.verdict is malformed:
                    record.failures += 1
                    by_type[MALFORMED] = by_type.get(MALFORMED, 0) + 1
                    fire(
                        request_type="recv-untimed",
                        name=MALFORMED,
                        response_time=0,
                        response_length=size,
                        exception=MalformedMessage(_reason(f"malformed: {verdict.reason}")),
                        context={},
                    )
                    continue
                obj = verdict.value
                if health is not None:
                    health.observe(obj, now())
                data = obj.get("data") if type(obj) is dict else None
                kind = verdict.label
                name = kind if kind in names else _name_for(kind)
                by_type[name] = by_type.get(name, 0) + 1
                received = now()
                sent = parse_timestamp(data.get("timestamp")) if type(data) is dict else None
                error: Exception | None = None
                if verdict.verdict is invalid:
                    error = InvalidMessage(_reason(f"invalid {name}: {verdict.problem}"))
                    record.failures += 1
                if fanout:
                    self._note_id(obj, received)
                if sent is None:
                    fire(
                        request_type="recv-untimed",
                        name=name,
                        response_time=0,
                        response_length=size,
                        exception=error,
                        context={},
                    )
                else:
                    delay = (received - sent) * 1000
                    fire(
                        request_type="recv",
                        name=name,
                        response_time=delay if delay > 0 else 0,
                        response_length=size,
                        exception=error,
                        context={},
                    )
        except ServerClosed:
            return
        except WscliError as exc:  # lost for good (no reconnects, or all spent)
            self.record.error = exc.one_line()
            if not self._dropping:  # --retries 0: the stream raised before any event
                self._drop(exc.message)

    def _note_id(self, obj: Any, received: float) -> None:
        value = get_field(obj, self.id_path)
        if value is MISSING or value is None or isinstance(value, (dict, list, float)):
            return
        if REGISTRY.fanout_budget <= 0:
            REGISTRY.fanout_truncated = True
            return
        REGISTRY.fanout_budget -= 1
        self.record.ids.append(value)
        self.record.times.append(received)


def _reason(text: str) -> str:
    """A failure reason for Locust's error table; past :data:`MAX_REASONS` distinct ones,
    a generic one (each distinct text is a row kept for the whole run)."""
    reasons = REGISTRY.reasons
    text = text[:300]
    if text in reasons:
        return text
    if len(reasons) >= MAX_REASONS:
        return text.split(":", 1)[0] + ": (further reasons not listed)"
    reasons.add(text)
    return text


def _name_for(kind: str) -> str:
    """The stats name for a type label; past :data:`MAX_TYPES` distinct ones, "(other types)".

    Every name is an entry in Locust's statistics: a server inventing a type per
    message must not grow them without bound.
    """
    names = REGISTRY.names
    if kind in names:
        return kind
    if len(names) >= MAX_TYPES:
        return OTHER_TYPES
    names.add(kind)
    return kind


def _settings_for(environment: Any, default: LoadSettings) -> LoadSettings:
    """The master's settings on a worker (they arrive with the spawn message)."""
    options = getattr(environment, "parsed_options", None)
    wire = getattr(options, "wscli_load", None) if options is not None else None
    if isinstance(wire, dict):
        cached = getattr(environment, "_wscli_settings", None)
        if cached is not None and cached[0] is wire:
            return cached[1]  # type: ignore[no-any-return]
        settings = LoadSettings.from_wire(wire)
        environment._wscli_settings = (wire, settings)
        return settings
    return default


__all__ = ["ExitStatus", "LoadSettings", "StreamUser", "UserRecord", "REGISTRY"]
