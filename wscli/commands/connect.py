"""``wscli connect``: talk to an endpoint, by hand on a terminal or from a script.

Thin: options in, then either the prompt (:mod:`wscli.session.interactive`, which alone
imports prompt_toolkit) or an :class:`~wscli.net.conversation.Exchange` read by tail's
loop (:class:`~wscli.session.tailing.TailRun`), so replies print exactly as ``tail``
prints messages.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING

import click

from wscli.durations import SECONDS
from wscli.errors import EXIT_CODE_HELP, BadUsage, CheckFailed
from wscli.frames import OP_TEXT
from wscli.net.tap import Tap
from wscli.net.target import ConnectOptions
from wscli.options.connection import AliasedChoice, connection_options
from wscli.options.help import GroupedCommand
from wscli.options.state import AppState, pass_state
from wscli.output.terminal import MODE_ALIASES, MODES

if TYPE_CHECKING:
    from wscli.recording import RecordingWriter
    from wscli.session.expect import Expectation
    from wscli.session.stdinlines import StdinLines

DEFAULT_WAIT = 1.0  # seconds to wait for replies after the input ends, without -n
DEFAULT_WAIT_FOR_COUNT = 10.0  # with -n and no --wait: then exit 7


@click.command(cls=GroupedCommand, epilog=EXIT_CODE_HELP)
@connection_options
@click.option(
    "--send",
    "sends",
    multiple=True,
    metavar="TEXT",
    help="Send TEXT as a text frame (repeatable); piped stdin lines follow.",
)
@click.option(
    "-n",
    "--count",
    type=click.IntRange(min=1),
    help=f"Wait for N replies after the input (up to {DEFAULT_WAIT_FOR_COUNT:g} s, else exit 7).",
)
@click.option(
    "--wait",
    type=SECONDS,
    metavar="SECONDS",
    help=f"Wait this long for replies after the input (default {DEFAULT_WAIT:g} s without -n).",
)
@click.option(
    "--expect",
    "expects",
    multiple=True,
    metavar="REGEX",
    help="Every reply must match REGEX, else exit 1 (repeatable).",
)
@click.option(
    "--expect-json",
    "expect_jsons",
    multiple=True,
    metavar="PATH=VALUE",
    help="Every reply must be JSON with PATH equal to VALUE, e.g. type=echo (repeatable).",
)
@click.option(
    "-o",
    "--output",
    "mode",
    type=AliasedChoice(MODES, aliases=MODE_ALIASES),
    default="auto",
    show_default=True,
    help="Replies when not interactive, as tail prints messages (jsonl in a pipe).",
)
@click.option("--pretty", is_flag=True, help="Interactive: indent JSON frames.")
@click.option(
    "--record",
    "record_file",
    type=click.Path(dir_okay=False, writable=True),
    help="Save sent and received frames as a recording (for replay --to).",
)
@click.option("--no-history", is_flag=True, help="Interactive: keep no history file.")
@pass_state
def connect(
    state: AppState,
    conn: ConnectOptions,
    tap: Tap,
    sends: tuple[str, ...],
    count: int | None,
    wait: float | None,
    expects: tuple[str, ...],
    expect_jsons: tuple[str, ...],
    mode: str,
    pretty: bool,
    record_file: str | None,
    no_history: bool,
) -> None:
    """Open a session with URL: type frames on a terminal, or script one.

    On a terminal the prompt stays at the bottom while frames print above it.
    Each line is sent as a text frame; commands start with a slash:

    \b
      /ping [DATA]            ping, and print the round trip
      /close [CODE] [REASON]  close (default 1000) and quit
      /binary HEX             send a binary frame, e.g. /binary 0a ff
      /send-file PATH         send a file as one frame (text if UTF-8)
      /quit                   close with 1000 and quit (also Ctrl-D)
      /help                   list the commands
      //TEXT                  send /TEXT
    Ctrl-C clears the line; at an empty prompt it quits (exit 130).

    From a script: --send and piped stdin lines are sent in order (lines that
    arrive before the handshake are queued), then replies are awaited (-n,
    --wait), then the connection closes with 1000.

    \b
    Examples:
      wscli connect ws://localhost:8000/echo
      wscli connect URL --send '{"cmd":"status"}' -n 1 --expect-json type=status
      printf 'a\\nb\\n' | wscli connect URL -n 2 -o jsonl
      wscli connect URL --record session.jsonl   then: wscli replay session.jsonl --to URL
    """
    from wscli.session.expect import Expectation

    try:
        expectations = [Expectation.regex(e) for e in expects] + [
            Expectation.json_field(e) for e in expect_jsons
        ]
    except ValueError as exc:
        raise BadUsage(str(exc)) from None
    scripted = bool(sends or count or wait is not None or expectations)
    with ExitStack() as stack:
        recorder = None
        if record_file:
            from wscli.recording import RecordingWriter

            recorder = RecordingWriter(record_file, tap.redactor.url(conn.url))
            stack.callback(recorder.close)
        if not scripted and _isatty(sys.stdin) and _isatty(sys.stdout):
            from wscli.session.interactive import run_interactive

            run_interactive(
                conn,
                tap,
                recorder=recorder,
                pretty=pretty,
                color=state.color,
                history=not no_history,
            )
            return
        _run_scripted(state, conn, tap, recorder, sends, count, wait, expectations, mode, stack)


def _run_scripted(
    state: AppState,
    conn: ConnectOptions,
    tap: Tap,
    recorder: RecordingWriter | None,
    sends: tuple[str, ...],
    count: int | None,
    wait: float | None,
    expectations: list[Expectation],
    mode: str,
    stack: ExitStack,
) -> None:
    """Send, then wait for replies, printing them through tail's loop."""
    from wscli.filters import MessageFilter
    from wscli.net.conversation import Conversation, Exchange
    from wscli.output.terminal import Output
    from wscli.session.expect import CheckedSource, Findings, preview
    from wscli.session.render import MessageRenderer
    from wscli.session.stdinlines import StdinLines
    from wscli.session.tailing import TailRun
    from wscli.validate.lines import DEFAULT_LIMIT

    lines = (
        # A line is one frame: --max-size bounds it (64 MiB when frames are unbounded).
        StdinLines(sys.stdin, conn.max_size or DEFAULT_LIMIT)
        if sys.stdin is not None and not (sends and _isatty(sys.stdin))
        else None
    )
    if lines is not None:
        lines.start()  # before the handshake: nothing typed or piped meanwhile is lost
    output = Output(color=state.color)
    conversation = Conversation(conn, tap, recorder=recorder)
    stack.callback(conversation.shutdown)
    exchange = Exchange(
        conversation,
        _outgoing(sends, lines),
        want=count,
        wait=wait if wait is not None else (DEFAULT_WAIT_FOR_COUNT if count else DEFAULT_WAIT),
        wait_is_limit=wait is None,
        before_block=output.flush,
    )
    findings = Findings()
    checks = expectations

    def check(number: int, opcode: int, payload: bytes) -> None:
        for expectation in checks:
            failure = expectation.failure(opcode, payload)
            if failure is not None:
                findings.add(f"reply #{number} {failure}: {preview(opcode, payload)}")

    run = TailRun(
        output=output,
        renderer=MessageRenderer(output, mode),
        message_filter=MessageFilter(),
        validator=None,
        fail_on_invalid=False,
        count=None,
        show_stats=False,
    )
    run.execute(CheckedSource(exchange, check) if checks else exchange, duration=wait)
    if checks and exchange.received == 0:
        findings.add("no reply arrived to check against the expectations")
    if findings.total:
        output.flush()
        for line in findings.summary()[1:]:
            output.note(f"wscli: {line}")
        raise CheckFailed(findings.lines[0], where=conn.where)


def _outgoing(sends: tuple[str, ...], lines: StdinLines | None) -> Iterator[tuple[int, bytes]]:
    for text in sends:
        yield OP_TEXT, text.encode("utf-8")
    if lines is not None:
        for line in lines:
            yield OP_TEXT, line


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False
