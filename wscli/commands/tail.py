"""``wscli tail``: watch a stream, readable on a terminal, clean JSON Lines in a pipe."""

from __future__ import annotations

import math
import time
from contextlib import ExitStack
from typing import Any

import click
from click.core import ParameterSource

from wscli.durations import POSITIVE_SECONDS, SECONDS
from wscli.errors import EXIT_CODE_HELP
from wscli.net.stream import Stream, StreamPolicy
from wscli.net.tap import Tap
from wscli.net.target import ConnectOptions
from wscli.options.connection import connection_options
from wscli.options.health import health_options
from wscli.options.help import GroupedCommand
from wscli.options.state import AppState, pass_state
from wscli.options.view import ViewOptions, view_options

DEMO_RATE = 5.0


@click.command(cls=GroupedCommand, epilog=EXIT_CODE_HELP)
@connection_options
@view_options
@click.option("--duration", type=POSITIVE_SECONDS, metavar="SECONDS", help="Stop after.")
@click.option(
    "--idle-timeout",
    type=POSITIVE_SECONDS,
    metavar="SECONDS",
    help="Exit 7 when no message arrives for this long.",
)
@click.option(
    "--record",
    "record_file",
    type=click.Path(dir_okay=False, writable=True),
    help="Save received messages as a recording (each message is in it before it is printed).",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Reconnect attempts after a drop before giving up (0: none).",
)
@click.option(
    "--backoff",
    type=SECONDS,
    default=0.5,
    show_default=True,
    metavar="SECONDS",
    help="Base of the exponential reconnect backoff (full jitter, capped at 30 s).",
)
@click.option("--no-reconnect", is_flag=True, help="Exit on the first drop instead.")
@click.option("--demo", is_flag=True, help="Tail the built-in simulated sensor stream.")
@health_options()
@click.option("--strict", is_flag=True, help="With --health, a suspect check fails too.")
@pass_state
def tail(
    state: AppState,
    conn: ConnectOptions,
    tap: Tap,
    view: ViewOptions,
    duration: float | None,
    idle_timeout: float | None,
    record_file: str | None,
    retries: int,
    backoff: float,
    no_reconnect: bool,
    demo: bool,
    health_values: dict[str, Any],
    strict: bool,
) -> None:
    """Stream messages from URL (default $WSCLI_URL, else the local sensor stream).

    \b
    Examples:
      wscli tail --demo                         the built-in simulated stream
      wscli tail ws://localhost:8000/api/ws/sensor/stream -n 10
      wscli tail --type sensor_reading --location attic --field data.value
      wscli tail --validate --fail-on-invalid -n 100 URL    a CI smoke check
      wscli tail -o jsonl URL | jq .data.value
      wscli tail --health --expect-sensors 8 URL   a live per-source health table

    --health judges the stream as it flows: on a terminal a per-source table
    redrawn in place (at most 10 times a second) instead of the lines; in a pipe
    the usual JSON Lines, then the health report on stderr. Exit 1 when a check
    fails (a suspect one with --strict).
    """
    if (
        demo
        and click.get_current_context().get_parameter_source("url") is ParameterSource.COMMANDLINE
    ):
        raise click.UsageError("--demo tails the built-in stream: give --demo or a URL, not both")
    run = view.tail_run(state.color)
    output = run.output
    from wscli.options.health import health_config

    health = health_config(health_values, strict=strict)
    if health is not None:
        from wscli.session.health_view import HealthView

        live = output.is_tty and run.pretty and run.renderer.field_path is None
        run.health = HealthView(health, output, live=live)
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

            run.recorder = RecordingWriter(
                record_file, conn.url, redact=tap.redactor.url, batched=True
            )
            stack.callback(run.recorder.close)
        # stdout in batches; with --record, the recording's lines always reach it first.
        output.batch(run.recorder.flush if run.recorder is not None else None)
        run.execute(stream, duration=duration)


def _start_demo(stack: ExitStack, conn: ConnectOptions) -> ConnectOptions:
    """Run the simulated backend in-process on a free port and point ``conn`` at it."""
    from dataclasses import replace

    from wscli.server.backend import start_in_thread
    from wscli.server.config import ServerConfig

    server = start_in_thread(ServerConfig(port=0, rate=DEMO_RATE))
    stack.callback(server.stop)
    return replace(conn, url=server.url)
