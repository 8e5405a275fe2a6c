"""After the upgrade: ``wscli probe``'s first message, ping, and the checks' window.

Reads frames straight from the connection (no reconnects: a probe reports what
happened), records each data message in a :class:`~wscli.probe.checks.Window` with its
type and, with ``--validate``, its validity.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from wscli.checks.judgement import BINARY, judge
from wscli.endings import IDLE_TIMEOUT
from wscli.errors import CheckFailed, ConnectionLost, TimedOut, WscliError
from wscli.frames import OP_BINARY, OP_CLOSE, OP_PONG, OP_TEXT, describe_close
from wscli.net.connection import classify
from wscli.net.target import ConnectOptions, server_close
from wscli.probe.checks import EXAMPLE_CHARS, Plan, Step, StepFailed, Window

if TYPE_CHECKING:
    from wscli.checks.schema import Validator
    from wscli.net.transport import BufferedWebSocket

SILENT_HINT = "the server accepted the WebSocket but sent nothing: it may wait for a subscribe"


class StreamCheck:
    """The steps and the window that read from an upgraded connection."""

    def __init__(
        self,
        ws: BufferedWebSocket,
        options: ConnectOptions,
        plan: Plan,
        *,
        validator: Validator | None,
        upgraded_at: float,
        clock: Callable[[], float] = time.monotonic,
        redact: Callable[[str], str] = str,
    ) -> None:
        self.ws = ws
        self.options = options
        self.plan = plan
        self.validator = validator
        self.upgraded_at = upgraded_at
        self.clock = clock
        self.redact = redact
        self.window = Window(
            limit=plan.window, watched=frozenset(plan.expect_types + plan.forbid_types)
        )
        self.expectation_failed = False  # no first message, and checks were asked for
        if plan.health is not None:  # no import, so no delay, without --health
            from wscli.probe.health import engine_for

            self.window.health = engine_for(plan)
        self.first_problem = ""
        self.pong_at: float | None = None
        self.lost: WscliError | None = None  # the connection ended inside the window

    def first_message(self, step: Step) -> None:
        self.ws.deadline = self.upgraded_at + self.plan.timeout
        window = self.window
        while not window.count:
            self._read_one(self._no_first_message)
        at, kind, valid = window.first_at or 0.0, window.first_label, window.first_valid
        step.details = {"latency_ms": round(at * 1000, 2), "type": kind}
        step.summary = f"{kind} after {at * 1000:.0f} ms"
        if valid is not None:
            step.details["valid"] = valid
            step.summary += ", valid" if valid else ", INVALID"
            if not valid and self.first_problem:
                step.details["problem"] = self.first_problem
                step.summary += f" ({self.first_problem})"

    def _no_first_message(self) -> WscliError:
        seconds = self.plan.timeout
        if self.plan.checking:
            self.expectation_failed = True
            return CheckFailed(
                f"no message within {seconds:g} s",
                where=self.options.where,
                hint=f"{SILENT_HINT} message, or the stream is idle",
            )
        return TimedOut(
            f"no message within --timeout {seconds:g} s",
            where=self.options.where,
            hint=f"{SILENT_HINT} message; raise --timeout for a slow stream",
            reason=IDLE_TIMEOUT,
        )

    def ping(self, step: Step) -> None:
        wait = min(self.options.ping_timeout, self.plan.timeout)
        sent = self.clock()
        self.ws.deadline = sent + wait
        try:
            self.ws.ping(b"wscli-probe")
        except Exception as exc:
            raise StepFailed(classify(exc, self.options)) from exc

        def no_pong() -> WscliError:
            return ConnectionLost(
                f"no answer to ping within {wait:g} s",
                where=self.options.where,
                hint="the server or a proxy on the way does not answer WebSocket pings",
            )

        self.pong_at = None
        while self.pong_at is None:
            self._read_one(no_pong)
        rtt = self.pong_at - sent
        step.details = {"rtt_ms": round(rtt * 1000, 3)}
        step.summary = f"round trip {rtt * 1000:.1f} ms"

    def listen(self) -> None:
        """Keep reading until the checks are settled or their window has passed.

        Every message of the window is judged. A close or a drop before the window ends
        is kept in :attr:`lost`: the run reports it as what it is (exit 8), and the
        silence from there to the window's end counts as a gap.
        """
        plan = self.plan
        need = plan.window
        if not self.window.count and (plan.expect_message or plan.max_latency_ms is not None):
            need = max(need, plan.timeout)
        end = self.upgraded_at + need
        ended = "window elapsed"
        try:
            while not plan.satisfied(self.window):
                if self.clock() >= end:
                    break
                self.ws.deadline = end
                self._read_one(lambda: TimedOut("window elapsed"))
            else:
                ended = "assertions settled"  # a JSON value CI jobs may match: kept
        except StepFailed as stopped:
            if not isinstance(stopped.error, TimedOut):
                error = stopped.error
                setattr(error, "message", self.redact(error.message))  # noqa: B010
                error.hint = "the stream ended inside the checks' window (--within)"
                self.lost = error
                ended = self.window.ended or f"stopped: {error.message}"
                self.window.lost = ended
        self.window.ended = ended
        self.window.seconds = min(self.clock(), end) - self.upgraded_at

    def _read_one(self, on_timeout: Callable[[], WscliError]) -> None:
        """Read one frame: a message goes into the window, a pong is noted, a close fails."""
        import websocket

        try:
            opcode, frame = self.ws.next_frame()
        except websocket.WebSocketTimeoutException:
            raise StepFailed(on_timeout()) from None
        except Exception as exc:
            raise StepFailed(classify(exc, self.options)) from exc
        now = self.clock()
        data = frame.data
        payload: bytes = data if isinstance(data, bytes) else data.encode("utf-8")
        if opcode == OP_TEXT or opcode == OP_BINARY:
            self._record(now - self.upgraded_at, opcode, payload)
        elif opcode == OP_PONG:
            self.pong_at = now
        elif opcode == OP_CLOSE:
            code, reason = server_close(payload, self.options)
            closed = describe_close(code, reason)
            self.window.ended = f"closed {closed}"
            raise StepFailed(
                ConnectionLost(
                    f"server closed the connection: {closed}",
                    close_code=code,
                    where=self.options.where,
                    hint="the server ended the stream before this step",
                )
            )

    def _record(self, at: float, opcode: int, payload: bytes) -> None:
        """Judge one message (:func:`wscli.checks.judgement.judge`) and count it; keep nothing
        of it but the first few offenders a failed check will show."""
        window = self.window
        checking = self.validator is not None
        verdict = judge(opcode, payload, self.validator, explain=False)
        valid = (not verdict.failed) if checking else None
        kind = verdict.label
        if window.health is not None and verdict.is_json:
            window.health.observe(verdict.value, time.time())
        window.add(at, kind, valid)
        offends = [f"forbid-type {kind}"] if kind in self.plan.forbid_types else []
        if valid is False:
            offends.append("validate")
        wanted = [label for label in offends if window.wants_example(label)]
        if not wanted and (valid is not False or self.first_problem):
            return
        if valid is False and verdict.is_json:
            verdict = judge(opcode, payload, self.validator, explain=True)
        if valid is False and not self.first_problem:
            self.first_problem = self.redact(verdict.problem)
        if wanted:
            problem = verdict.problem if valid is False and verdict.verdict != BINARY else ""
            binary = verdict.verdict == BINARY
            shown = verdict.reason if binary else payload.decode("utf-8", "replace")
            example = self._example(window.count, at, shown, problem)
            for label in wanted:
                window.add_example(label, example)

    def _example(self, number: int, at: float, text: str, problem: str) -> str:
        """``#12 at 0.53 s (/data: ...): {"type": "error", ...}``: redacted, then cut."""
        from wscli.frames import elide

        shown = elide(self.redact(text), EXAMPLE_CHARS)
        said = f" ({self.redact(problem)})" if problem else ""
        return f"#{number} at {at:.2f} s{said}: {shown}"

    def close(self) -> None:
        try:
            self.ws.deadline = time.monotonic() + 1.0
            self.ws.close(timeout=1.0)
        except Exception:
            self.ws.shutdown()  # type: ignore[no-untyped-call]
