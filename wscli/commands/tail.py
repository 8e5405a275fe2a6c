"""``wscli tail``: watch a stream, readable on a terminal, clean JSON Lines in a pipe."""

from __future__ import annotations

import math
import time
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import click

from wscli.cli import AppState, pass_state
from wscli.connection import ConnectOptions
from wscli.errors import EXIT_CODE_HELP, BadUsage, CheckFailed, ExitStatus, TimedOut, WscliError
from wscli.filters import MessageFilter, parse_field_path
from wscli.frames import OP_TEXT, describe_close
from wscli.messages import Malformed, parse_json
from wscli.options import connection_options
from wscli.render import MODES, MessageRenderer, Output, StreamStats, print_stats_table
from wscli.stream import ServerClosed, Stream, StreamEvent, StreamPolicy
from wscli.tap import Tap

if TYPE_CHECKING:
    from wscli.recording import RecordingWriter
    from wscli.schema import Validator

DEMO_RATE = 5.0


@click.command(epilog=EXIT_CODE_HELP)
@connection_options
@click.option(
    "-o",
    "--output",
    "mode",
    type=click.Choice(MODES),
    default="auto",
    show_default=True,
    help="pretty on a terminal, jsonl in a pipe; raw prints payloads as they came.",
)
@click.option("--type", "types", multiple=True, help="Only this message type (repeatable).")
@click.option("--sensor", "sensors", multiple=True, help="Only this sensor_id (repeatable).")
@click.option("--location", "locations", multiple=True, help="Only this location (repeatable).")
@click.option("--field", "field_path", metavar="PATH", help="Print one field, e.g. data.value.")
@click.option("-n", "--count", type=click.IntRange(min=1), help="Stop after N messages shown.")
@click.option(
    "--duration", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS", help="Stop after."
)
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Exit 7 when no message arrives for this long.",
)
@click.option("--validate", is_flag=True, help="Check each message against the schema.")
@click.option(
    "--schema",
    "schema_file",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON Schema to validate with (default: the built-in sensor stream schema).",
)
@click.option("--fail-on-invalid", is_flag=True, help="Stop with exit 1 at the first invalid one.")
@click.option(
    "--record",
    "record_file",
    type=click.Path(dir_okay=False, writable=True),
    help="Save received messages as a recording (flushed line by line).",
)
@click.option("--retries", type=click.IntRange(min=0), default=5, show_default=True)
@click.option(
    "--backoff",
    type=click.FloatRange(min=0),
    default=0.5,
    show_default=True,
    metavar="SECONDS",
    help="Base of the exponential reconnect backoff (full jitter, capped at 30 s).",
)
@click.option("--no-reconnect", is_flag=True, help="Exit on the first drop instead.")
@click.option("--stats", is_flag=True, help="Print a summary table on stderr at exit.")
@click.option("--demo", is_flag=True, help="Tail the built-in simulated sensor stream.")
@pass_state
def tail(
    state: AppState,
    conn: ConnectOptions,
    tap: Tap,
    mode: str,
    types: tuple[str, ...],
    sensors: tuple[str, ...],
    locations: tuple[str, ...],
    field_path: str | None,
    count: int | None,
    duration: float | None,
    idle_timeout: float | None,
    validate: bool,
    schema_file: str | None,
    fail_on_invalid: bool,
    record_file: str | None,
    retries: int,
    backoff: float,
    no_reconnect: bool,
    stats: bool,
    demo: bool,
) -> None:
    """Stream messages from URL (default $WSCLI_URL, else the local sensor stream).

    \b
    Examples:
      wscli tail --demo                         the built-in simulated stream
      wscli tail ws://localhost:8000/api/ws/sensor/stream -n 10
      wscli tail --type sensor_reading --location attic --field data.value
      wscli tail --validate --fail-on-invalid -n 100 URL    a CI smoke check
      wscli tail -o jsonl URL | jq .data.value
    """
    output = Output(color=state.color)
    if field_path is not None:
        try:
            path: tuple[str | int, ...] | None = parse_field_path(field_path)
        except ValueError as exc:
            raise BadUsage(str(exc), hint="write paths like data.value") from exc
    else:
        path = None
    if fail_on_invalid or schema_file:
        validate = True
    validator = _load_validator(schema_file) if validate else None
    renderer = MessageRenderer(output, mode, field_path=path)
    run = TailRun(
        output=output,
        renderer=renderer,
        message_filter=MessageFilter.from_options(types, sensors, locations),
        validator=validator,
        fail_on_invalid=fail_on_invalid,
        count=count,
        show_stats=stats,
    )
    with ExitStack() as stack:
        if demo:
            conn = _start_demo(stack, conn)
            if output.err_is_tty:
                output.note(f"wscli: demo stream at {conn.url} (Ctrl-C to stop)")
        policy = StreamPolicy(
            reconnect=not no_reconnect,
            retries=retries,
            backoff=backoff,
            idle_timeout=idle_timeout,
            end_at=time.monotonic() + duration if duration else math.inf,
        )
        stream = Stream(conn, policy, tap=tap, on_event=run.on_event, before_block=output.flush)
        stack.callback(stream.close)
        if record_file:
            from wscli.recording import RecordingWriter

            run.recorder = RecordingWriter(record_file, conn.url)
            stack.callback(run.recorder.close)
        run.execute(stream, duration=duration)


def _load_validator(schema_file: str | None) -> Validator:
    from pathlib import Path

    from wscli.schema import Validator, load_schema

    schema = load_schema(schema_file)
    base = Path(schema_file).resolve().parent if schema_file else None
    return Validator(schema, base_path=base)


def _start_demo(stack: ExitStack, conn: ConnectOptions) -> ConnectOptions:
    """Run the simulated backend in-process on a free port and point ``conn`` at it."""
    from dataclasses import replace

    from wscli.server import ServerConfig, start_in_thread

    server = start_in_thread(ServerConfig(port=0, rate=DEMO_RATE))
    stack.callback(server.stop)
    return replace(conn, url=server.url)


class TailRun:
    """The per-message loop and its bookkeeping, kept apart from option parsing."""

    def __init__(
        self,
        *,
        output: Output,
        renderer: MessageRenderer,
        message_filter: MessageFilter,
        validator: Validator | None,
        fail_on_invalid: bool,
        count: int | None,
        show_stats: bool,
    ) -> None:
        self.output = output
        self.renderer = renderer
        self.filter = message_filter if message_filter.active else None
        self.validator = validator
        self.fail_on_invalid = fail_on_invalid
        self.count = count
        self.show_stats = show_stats
        self.stats = StreamStats()
        self.recorder: RecordingWriter | None = None
        self.pretty = renderer.mode == "pretty"

    def on_event(self, event: StreamEvent) -> None:
        if event.kind == "disconnected":
            self.output.flush()
            self.output.note(
                f"wscli: connection lost ({event.cause}); reconnecting in {event.delay:.1f} s"
                f" (attempt {event.attempt}/{event.retries})"
            )
        elif event.kind == "retrying":
            self.output.note(
                f"wscli: reconnect failed ({event.cause}); retrying in {event.delay:.1f} s"
                f" (attempt {event.attempt}/{event.retries})"
            )
        elif event.kind == "reconnected":
            self.stats.reconnects += 1
            self.output.note(
                f"wscli: reconnected after {event.gap:.1f} s ({event.cause}),"
                f" attempt {event.attempt}/{event.retries}"
            )
            if self.recorder is not None:
                self.recorder.event("reconnect", attempt=event.attempt, gap=round(event.gap, 3))

    def execute(self, stream: Stream, *, duration: float | None) -> None:
        try:
            stream.connect()
            if self.recorder is not None:
                self.recorder.event("connect", url=stream.options.url)
            self._loop(stream)
        except KeyboardInterrupt:
            self._finish(interrupted=True)
            raise click.exceptions.Exit(ExitStatus.INTERRUPTED) from None
        except ServerClosed as closed:
            self._finish()
            if self.count is not None and self.stats.shown < self.count:
                raise CheckFailed(
                    f"server closed the stream ({describe_close(closed.code, closed.reason)})"
                    f" after {self.stats.shown} of {self.count} messages",
                    where=stream.options.where,
                ) from None
            self.output.note(f"wscli: server closed the stream: {closed}")
            return
        except WscliError:
            self._finish()
            raise
        self._finish()
        if self.count is not None and self.stats.shown < self.count:
            raise TimedOut(
                f"only {self.stats.shown} of {self.count} messages within {duration:g} s",
                where=stream.options.where,
            )

    def _finish(self, *, interrupted: bool = False) -> None:
        self.output.flush()
        if interrupted and self.output.err_is_tty:
            self.output.note("")  # end the terminal's ^C echo line
        if self.show_stats:
            print_stats_table(self.output, self.stats)
        elif interrupted:
            self.output.note(f"wscli: {self.stats.one_line()}")

    def _loop(self, stream: Stream) -> None:
        """The hot path: everything per message is a local name or a C call."""
        renderer, recorder, validator = self.renderer, self.recorder, self.validator
        mfilter, stats, count = self.filter, self.stats, self.count
        emit, by_type, now = renderer.message, stats.by_type, time.time
        skip_non_json = mfilter is not None or renderer.field_path is not None
        text_op = OP_TEXT
        for opcode, data in stream:
            stats.total += 1
            stats.last_message_at = now()
            if recorder is not None:
                recorder.frame("in", opcode, data)
            if opcode == text_op:
                try:
                    obj = parse_json(data)
                except Malformed as exc:
                    self._malformed(data, exc.reason)
                    if skip_non_json:
                        continue
                else:
                    kind = obj.get("type") if type(obj) is dict else None
                    by_type[kind if type(kind) is str else "(other)"] += 1
                    if mfilter is not None and not mfilter.matches(obj):
                        continue
                    problems = None
                    if validator is not None and not validator.is_valid(obj):
                        problems = validator.problems(obj)
                        self._invalid(obj, problems)
                    if not emit(data, obj, problems):
                        continue
            else:
                stats.binary += 1
                if skip_non_json:
                    continue
                renderer.binary(data)
            stats.shown += 1
            if count is not None and stats.shown >= count:
                return

    def _malformed(self, data: bytes, reason: str) -> None:
        self.stats.malformed += 1
        number = self.stats.total
        if self.fail_on_invalid:
            raise CheckFailed(f"message #{number} is malformed: {reason}")
        if self.renderer.field_path is None and self.filter is None:
            self.renderer.malformed(data, reason)
        if not self.pretty:
            self.output.note(f"wscli: message #{number} is malformed: {reason}")

    def _invalid(self, obj: Any, problems: list[Any]) -> None:
        self.stats.invalid += 1
        number = self.stats.total
        kind = obj.get("type") if isinstance(obj, dict) else None
        first = problems[0] if problems else None
        detail = f"{first.path or '/'}: {first.reason}" if first else "invalid"
        label = f" ({kind})" if isinstance(kind, str) else ""
        if self.fail_on_invalid:
            self.output.flush()
            raise CheckFailed(f"message #{number}{label} is invalid at {detail}")
        if not self.pretty:
            self.output.note(f"wscli: message #{number}{label} is invalid at {detail}")
