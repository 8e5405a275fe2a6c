"""``wscli replay``: play a recording on the terminal, as a mock server, or to a server.

Thin: the recording is read by :mod:`wscli.recording`, paced by
:mod:`wscli.playback`, shown by tail's loop (:class:`~wscli.session.tailing.TailRun`),
served by :mod:`wscli.server.backend` and sent by :mod:`wscli.net.conversation`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from wscli.durations import SECONDS, FiniteFloatRange
from wscli.errors import EXIT_CODE_HELP, BadUsage, CheckFailed, interrupt_status
from wscli.options.connection import build_connection, connection_params
from wscli.options.help import GroupedCommand
from wscli.options.state import AppState, pass_state
from wscli.options.view import ViewOptions, view_options

if TYPE_CHECKING:
    from wscli.playback import ReplayPlan
    from wscli.recording import RecordingProblem

from wscli.server.config import DEFAULT_PATH

DEFAULT_REPLY_WAIT = 5.0


@click.command(cls=GroupedCommand, epilog=EXIT_CODE_HELP)
@click.argument("recording", type=click.Path(exists=True, dir_okay=False))
# Timing
@click.option(
    "--speed",
    type=FiniteFloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    metavar="X",
    help="Play X times faster (0.5 is half speed).",
)
@click.option("--no-delay", is_flag=True, help="Play as fast as possible, ignoring the timing.")
@click.option(
    "--from",
    "start",
    type=SECONDS,
    default=0.0,
    metavar="SECONDS",
    help="Skip what was recorded before this many seconds.",
)
@click.option(
    "--until",
    type=SECONDS,
    metavar="SECONDS",
    help="Stop at what was recorded after this many seconds.",
)
@click.option("--lenient", is_flag=True, help="Play a damaged recording's readable lines.")
# Serving
@click.option(
    "--serve",
    "serve_at",
    metavar="[HOST:]PORT",
    help="Serve the recording to every client that connects (port 0 picks one).",
)
@click.option("--path", default=DEFAULT_PATH, show_default=True, help="--serve: endpoint path.")
@click.option("--certfile", type=click.Path(dir_okay=False), help="--serve: PEM certificate.")
@click.option("--keyfile", type=click.Path(dir_okay=False), help="--serve: PEM private key.")
@click.option("--loop", is_flag=True, help="--serve: start over at the end instead of closing.")
@click.option("-q", "--quiet", is_flag=True, help="--serve: no per-connection lines on stderr.")
# Sending
@click.option("--to", "to_url", metavar="URL", help="Send the recorded frames to URL.")
@click.option("--expect-same", is_flag=True, help="--to: exit 1 unless the replies match.")
@click.option(
    "--ignore",
    "ignores",
    multiple=True,
    metavar="PATH",
    help="--expect-same: leave this field out, e.g. data.timestamp (repeatable).",
)
@click.option(
    "--wait",
    type=SECONDS,
    default=DEFAULT_REPLY_WAIT,
    show_default=True,
    metavar="SECONDS",
    help="--to: wait this long for replies after the last frame (all of it with --expect-same).",
)
@view_options
@connection_params(without_url=True)
@pass_state
def replay(
    state: AppState,
    conn_values: dict[str, Any],
    view: ViewOptions,
    recording: str,
    speed: float,
    no_delay: bool,
    start: float,
    until: float | None,
    lenient: bool,
    serve_at: str | None,
    path: str,
    certfile: str | None,
    keyfile: str | None,
    loop: bool,
    quiet: bool,
    to_url: str | None,
    expect_same: bool,
    ignores: tuple[str, ...],
    wait: float,
) -> None:
    """Play RECORDING (from tail --record, connect --record or --tap).

    With no target, the received messages are shown as tail shows them, with
    their original gaps, and every tail filter and output mode applies.

    --serve makes it a mock server: every client gets the received frames with
    their original timing, then the recorded close. --to sends the recording's
    sent frames to a live server with their original timing and shows the
    replies; --expect-same compares them with the recorded ones.

    \b
    Examples:
      wscli replay session.jsonl --speed 10
      wscli replay session.jsonl --type sensor_reading --field data.value
      wscli replay session.jsonl --serve 8000 --loop      # a mock backend
      wscli replay session.jsonl --to ws://staging/ws --expect-same --ignore data.timestamp

    A damaged recording (a cut-off last line, a bad line, a newer format) is an
    error naming the line (exit 2); --lenient plays the rest.
    """
    from wscli.playback import ReplayPlan, check_recording, skip_problem

    if serve_at and to_url:
        raise BadUsage("--serve and --to cannot be combined", hint="pick one target")
    if until is not None and until < start:
        raise BadUsage(f"--until {until:g} is before --from {start:g}")
    if (expect_same or ignores) and not to_url:
        raise BadUsage("--expect-same and --ignore compare replies: they need --to URL")
    for problem in check_recording(recording, lenient):
        _warn(recording, problem)
    plan = ReplayPlan(
        recording,
        speed=speed,
        no_delay=no_delay,
        start=start,
        until=until,
        on_problem=skip_problem if lenient else None,
    )
    if serve_at:
        _serve(plan, serve_at, path, certfile, keyfile, loop, quiet)
    elif to_url:
        _send_to(state, plan, to_url, conn_values, view, expect_same, ignores, wait)
    else:
        _show(state, plan, view)


def _warn(recording: str, problem: RecordingProblem) -> None:
    where = f"line {problem.line}: " if problem.line else ""
    sys.stderr.write(f"wscli: warning: {recording} {where}{problem.message}; skipped\n")


# -- on the terminal ------------------------------------------------------------------------


class _Where:
    def __init__(self, url: str, where: str) -> None:
        self.url = url
        self.where = where


class RecordedSource:
    """A recording as a frame source for tail's loop: frames arrive when they are due."""

    network = False  # no "connecting to" status: the file is read as it plays

    def __init__(self, plan: ReplayPlan, before_wait: Any) -> None:
        self.plan = plan
        self.options = _Where(plan.path, plan.path)
        self.before_wait = before_wait

    def connect(self) -> None:
        """Nothing to open: the file is read as it plays."""

    def _wait(self, deadline: float) -> None:
        import time

        self.before_wait()  # flush, or a pipe holds the lines back until the end
        delay = deadline - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        for frame in self.plan.timed(wait=self._wait):
            yield frame.opcode, frame.payload


def _show(state: AppState, plan: ReplayPlan, view: ViewOptions) -> None:
    from wscli.errors import TimedOut

    run = view.tail_run(state.color)
    try:
        run.execute(RecordedSource(plan, run.output.flush), duration=None)
    except TimedOut:
        if view.count is None or run.stats.shown >= view.count:
            raise
        # Not a timeout: the recording holds fewer matching messages than -n asked for.
        raise CheckFailed(
            f"the recording holds only {run.stats.shown} of {view.count} messages asked for",
            where=plan.path,
            hint="lower -n, or widen --from/--until and the filters",
        ) from None


# -- as a server ----------------------------------------------------------------------------


def parse_listen(value: str) -> tuple[str, int]:
    """``8000``, ``:8000``, ``0.0.0.0:8000``, ``[::1]:8000`` → (host, port)."""
    host, sep, port_text = value.rpartition(":")
    if not sep:
        host, port_text = "127.0.0.1", value
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise BadUsage(f"--serve {value!r}: expected [HOST:]PORT, e.g. 8000 or 0.0.0.0:8000")
    return host, port


def _serve(
    plan: ReplayPlan,
    serve_at: str,
    path: str,
    certfile: str | None,
    keyfile: str | None,
    loop: bool,
    quiet: bool,
) -> None:
    from wscli.server.backend import serve_forever
    from wscli.server.config import ServerConfig

    host, port = parse_listen(serve_at)
    config = ServerConfig(
        host=host,
        port=port,
        path=path,
        certfile=certfile,
        keyfile=keyfile,
        replay=plan,
        replay_loop=loop,
        log=None if quiet else _to_stderr,
    )

    def announce(url: str) -> None:
        _to_stderr(f"replaying {plan.path} at {url} (Ctrl-C to stop)")

    try:
        serve_forever(config, on_ready=announce)
    except KeyboardInterrupt as exc:
        raise click.exceptions.Exit(interrupt_status(exc)) from None


def _to_stderr(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


# -- to a server ----------------------------------------------------------------------------


def _send_to(
    state: AppState,
    plan: ReplayPlan,
    to_url: str,
    conn_values: dict[str, Any],
    view: ViewOptions,
    expect_same: bool,
    ignores: tuple[str, ...],
    wait: float,
) -> None:
    """Send the recorded sent frames with their timing; show (and compare) the replies."""
    from dataclasses import replace

    from wscli.filters import parse_field_path
    from wscli.net.conversation import Conversation, Exchange
    from wscli.session.expect import CheckedSource, Findings, frame_differences

    try:
        ignore = tuple(parse_field_path(p) for p in ignores)
    except ValueError as exc:
        raise BadUsage(str(exc), hint="write paths like data.timestamp") from None
    conn, tap = build_connection({**conn_values, "url": to_url})
    recorded = replace(plan, direction="in")
    want = sum(1 for _ in recorded.frames())
    run = view.tail_run(state.color)
    conversation = Conversation(conn, tap)
    outgoing = ((f.opcode, f.payload) for f in replace(plan, direction="out").timed())
    exchange = Exchange(
        conversation,
        outgoing,
        want=want,
        wait=wait,
        wait_is_limit=False,
        linger=expect_same,  # a reply beyond the recorded ones is a difference too
        before_block=run.output.flush,
    )
    findings = Findings()
    expected = iter(recorded.frames())

    def compare(number: int, opcode: int, payload: bytes) -> None:
        frame = next(expected, None)
        pair = None if frame is None else (frame.opcode, frame.payload)
        findings.extend(frame_differences(number, pair, (opcode, payload), ignore))

    try:
        run.execute(CheckedSource(exchange, compare) if expect_same else exchange, duration=wait)
    finally:
        conversation.shutdown()
        tap.close()
    if not expect_same:
        return
    for number, frame in enumerate(expected, start=exchange.received + 1):
        findings.extend(frame_differences(number, (frame.opcode, frame.payload), None))
    if findings.total:
        run.output.flush()
        for line in findings.summary():
            run.output.note(line)
        raise CheckFailed(
            f"{findings.total} difference{'s' if findings.total != 1 else ''} from the recording",
            where=conn.where,
            hint="--ignore PATH leaves out fields that change on every run",
        )
    run.output.note(f"wscli: {exchange.received} replies match the recording")
