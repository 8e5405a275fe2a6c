"""The per-message loop shared by the commands that show a stream (tail, replay).

Option parsing stays in the command files; what happens to each message (filter,
validate, render, record, count) and how a run ends lives here, once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

import click

from wscli.checks.judgement import BINARY, INVALID, MALFORMED, judge, judge_value
from wscli.checks.seen import TAIL_PATIENCE, FilterWatch
from wscli.endings import closed_early, count_not_reached, signals_deferred
from wscli.errors import CheckFailed, WscliError, interrupt_status
from wscli.filters import MessageFilter
from wscli.frames import describe_close
from wscli.net.stream import ServerClosed, StreamEvent
from wscli.output.files import ReportFiles
from wscli.output.terminal import Output
from wscli.session.render import MessageRenderer, StreamStats, host_port, print_stats_table

FLUSH_EVERY = 0.05  # seconds: the longest stdout holds lines on a stream that never pauses

if TYPE_CHECKING:
    from wscli.checks.health import HealthResult
    from wscli.checks.schema import Validator
    from wscli.recording import RecordingWriter
    from wscli.session.health_view import HealthView


def load_validator(schema_file: str | None) -> Validator:
    """Compile the schema once for the whole run (never per message)."""
    from pathlib import Path

    from wscli.checks.schema import Validator, load_schema

    schema = load_schema(schema_file)
    base = Path(schema_file).resolve().parent if schema_file else None
    return Validator(schema, base_path=base)


class SourceInfo(Protocol):
    """Where a source's frames come from, for error messages and recordings."""

    @property
    def url(self) -> str: ...

    @property
    def where(self) -> str: ...


class FrameSource(Protocol):
    """What :class:`TailRun` reads: a live :class:`~wscli.net.stream.Stream`, a recording
    played back (``replay``), or the replies of a ``connect`` session.

    Iterating yields ``(opcode, payload)`` data frames as they are due; a source
    that ends with the peer's normal close raises :class:`ServerClosed`. A source
    may say ``network = False`` (nothing to connect to) and offer ``handshake``.
    """

    @property
    def options(self) -> SourceInfo: ...

    def connect(self) -> None: ...

    def __iter__(self) -> Iterator[tuple[int, bytes]]: ...


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
        self.watch = (
            FilterWatch(message_filter.types, message_filter.sensors, message_filter.locations)
            if message_filter.active
            else None
        )
        self.patient = False  # no --duration: say so once when the filter keeps missing
        self.validator = validator
        self.fail_on_invalid = fail_on_invalid
        self.count = count
        self.show_stats = show_stats
        self.stats = StreamStats()
        self.recorder: RecordingWriter | None = None
        self.stats_json: str | None = None  # --stats-json FILE
        self.reports = ReportFiles()
        self.pretty = renderer.mode == "pretty"
        self.health: HealthView | None = None  # --health (wscli.session.health_view)
        self.health_result: HealthResult | None = None  # its verdict, once finished

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

    def execute(self, stream: FrameSource, *, duration: float | None) -> None:
        """Run the loop to its end, then leave with the run's verdict.

        Every ending prints its summary: the count or deadline reached, a close,
        an error, Ctrl-C or SIGTERM (130/143), and a closed stdout (`| head`, exit 0).
        With ``--validate`` any invalid or malformed message makes the exit 1. A
        ``--stats-json`` that could not be written fails the run (exit 2).
        """
        self.patient = duration is None
        try:
            self._execute(stream, duration=duration)
        except click.exceptions.Exit:  # 130/143: the signal's code stays
            self.reports.signalled(self.output.note)
            raise
        except WscliError as exc:
            error = self.reports.ending(exc, self.output.note) or exc
            if error is exc:
                raise
            raise error from None
        except BrokenPipeError:
            unwritten = self.reports.ending(None, self.output.note)
            if unwritten is None:
                raise
            raise unwritten from None
        unwritten = self.reports.ending(None, self.output.note)
        if unwritten is not None:
            raise unwritten

    def _execute(self, stream: FrameSource, *, duration: float | None) -> None:
        try:
            self._connect(stream)
            if self.recorder is not None:
                self.recorder.event("connect", url=stream.options.url)
            if self.health is not None:
                self.health.start()
            self._loop(stream)
        except KeyboardInterrupt as exc:
            self._finish(interrupted=True)
            raise click.exceptions.Exit(interrupt_status(exc)) from None
        except BrokenPipeError:
            self._finish()  # the reader has all it wanted: cli.main exits 0
            raise
        except ServerClosed as closed:
            self._finish()
            if self.count is not None and self.stats.shown < self.count:
                raise closed_early(
                    self.stats.shown,
                    self.count,
                    describe_close(closed.code, closed.reason),
                    where=stream.options.where,
                ) from None
            self.output.note(f"wscli: server closed the stream: {closed}")
            self._verdict(stream)
            return
        except WscliError:
            self._finish()
            raise
        self._finish()
        if self.count is not None and self.stats.shown < self.count:
            raise count_not_reached(
                self.stats.shown, self.count, duration, where=stream.options.where
            )
        self._verdict(stream)

    def _connect(self, stream: FrameSource) -> None:
        """Connect, with a transient ``connecting to HOST:PORT...`` line on a terminal."""
        if not getattr(stream, "network", True):  # a recording being played: nothing to open
            stream.connect()
            return
        self.output.begin_status(f"connecting to {host_port(stream.options.url)}...")
        started = time.monotonic()
        try:
            stream.connect()
        except BaseException:
            self.output.end_status(None)
            raise
        handshake = getattr(stream, "handshake", None)  # a Stream's, or a conversation's
        status = handshake.status if handshake is not None else 101
        elapsed_ms = (time.monotonic() - started) * 1000
        self.output.end_status(f"connected (HTTP {status}, {elapsed_ms:.0f} ms)")

    def _finish(self, *, interrupted: bool = False) -> None:
        """The summary; a first SIGTERM/Ctrl-C meanwhile waits until it is printed."""
        with signals_deferred() as held:
            self.output.flush()
            if self.health is not None:
                self.health_result = self.health.finish(
                    stopped="interrupted" if interrupted else ""
                )
            if interrupted and self.output.err_is_tty:
                self.output.note("")  # end the terminal's ^C echo line
            self._tell_misses()
            if self.show_stats:
                print_stats_table(self.output, self.stats)
            elif interrupted:
                self.output.note(f"wscli: {self.stats.one_line()}")
            if self.stats_json is not None:
                self._write_stats_json(interrupted)
        late = held.exception()
        if late is not None and not interrupted:
            raise click.exceptions.Exit(interrupt_status(late))

    def _tell_misses(self, *, still_listening: bool = False) -> None:
        """A filter that matched nothing says what was seen instead, once per run."""
        watch = self.watch
        if watch is None or watch.told or watch.matched or not watch.messages:
            return
        report = watch.report()
        if report is None:
            return
        watch.told = True
        if still_listening:
            report += f" (in {self.stats.total} messages; still listening)"
        self.output.note(f"wscli: {report}")

    def _missed(self, obj: Any) -> None:
        """A message the filter dropped: remember its values until something matches."""
        watch = self.watch
        assert watch is not None
        watch.observe(obj)
        if self.patient and not watch.told and self.stats.total >= TAIL_PATIENCE:
            self._tell_misses(still_listening=True)

    def _write_stats_json(self, interrupted: bool) -> None:
        """``--stats-json``: the table's fields, written atomically on every ending."""
        import json

        document = {
            **self.stats.as_dict(utc=self.output.clock.utc),
            "interrupted": interrupted,
            "checks": self.checks(),
        }
        data = json.dumps(document, indent=2).encode() + b"\n"
        self.reports.write(self.stats_json or "", data, option="--stats-json")

    def checks(self) -> list[dict[str, Any]]:
        """The checks this run was held to, named as in every report (wscli.checks.specs)."""
        if self.validator is None:
            return []
        from wscli.checks.specs import VALIDATE

        stats = self.stats
        bad = stats.invalid + stats.malformed + stats.binary
        return [
            {
                "name": VALIDATE.name,
                "ok": bad == 0,
                "expected": "every message valid",
                "measured": f"{bad:,} of {stats.total:,} messages failed validation",
            }
        ]

    def _verdict(self, stream: FrameSource) -> None:
        """``--validate``: exit 1 with the counts in one line if any message failed.

        ``--health``: exit 1 with the health verdict when a check failed.
        """
        health = self.health_result
        if health is not None and not health.ok and self.validator is None:
            raise CheckFailed(health.verdict(), where=stream.options.where)
        if self.validator is None:
            return
        stats = self.stats
        bad = stats.invalid + stats.malformed + stats.binary
        counts = f"{stats.invalid} invalid, {stats.malformed} malformed"
        if stats.binary:
            counts += f", {stats.binary} binary"
        if not bad:
            if health is not None and not health.ok:
                raise CheckFailed(health.verdict(), where=stream.options.where)
            return  # success is quiet: stderr stays empty for `tail --validate | ...`
        noun = "message" if stats.total == 1 else "messages"
        raise CheckFailed(
            f"{bad} of {stats.total} {noun} failed validation ({counts})",
            where=stream.options.where,
            hint="see the messages reported above; --fail-on-invalid stops at the first",
        )

    def _loop(self, stream: FrameSource) -> None:
        """The hot path: everything per message is a local name or a C call."""
        renderer, recorder, validator = self.renderer, self.recorder, self.validator
        mfilter, stats, count = self.filter, self.stats, self.count
        watch = self.watch
        emit, by_type, now = renderer.message, stats.by_type, time.time
        health = self.health
        if health is not None and health.live:
            emit = health.message  # the live table replaces the scrolling lines
        skip_non_json = mfilter is not None or renderer.field_path is not None
        # One shared judgement per message (wscli.checks.judgement); with --filter only the
        # messages that pass the filter are validated, so it judges those afterwards.
        checker = validator if mfilter is None else None
        malformed, binary, invalid = MALFORMED, BINARY, INVALID
        # stdout (and a --record file) is flushed before each wait for the network and
        # at least this often, so a busy stream shows up in `tail | jq` in bursts.
        flush, flush_due = self.output.flush, now() + FLUSH_EVERY
        for opcode, data in stream:
            stats.total += 1
            stats.last_message_at = received = now()
            if received >= flush_due:
                flush()
                flush_due = received + FLUSH_EVERY
            if recorder is not None:
                recorder.frame("in", opcode, data)
            verdict = judge(opcode, data, checker)
            kind = verdict.verdict
            if kind is malformed:
                self._malformed(data, verdict.reason)
                if skip_non_json:
                    continue
            elif kind is binary:
                stats.binary += 1
                if skip_non_json:
                    continue
                renderer.binary(data)
            else:
                by_type[verdict.label] += 1
                obj = verdict.value
                if health is not None:
                    health.observe(obj)
                if mfilter is not None:
                    if not mfilter.matches(obj):
                        if watch is not None:
                            self._missed(obj)
                        continue
                    if watch is not None:
                        watch.matched = True  # nothing left to explain
                        watch = None
                    if validator is not None:
                        verdict = judge_value(obj, validator)
                problems = None
                if verdict.verdict is invalid:
                    problems = list(verdict.problems)
                    self._invalid(obj, problems)
                if not emit(data, obj, problems):
                    continue
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
