"""After the upgrade: ``wscli probe``'s first message, ping, and the assertions' window.

Reads frames straight from the connection (no reconnects: a probe reports what
happened), records each data message in a :class:`~wscli.probe_checks.Window` with its
type and, with ``--validate``, its validity.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from wscli.connection import ConnectOptions, classify
from wscli.endings import IDLE_TIMEOUT
from wscli.errors import CheckFailed, ConnectionLost, TimedOut, WscliError
from wscli.frames import OP_BINARY, OP_CLOSE, OP_PONG, OP_TEXT, describe_close, parse_close_payload
from wscli.probe_checks import Plan, Step, StepFailed, Window

if TYPE_CHECKING:
    from wscli.schema import Validator
    from wscli.transport import BufferedWebSocket

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
    ) -> None:
        self.ws = ws
        self.options = options
        self.plan = plan
        self.validator = validator
        self.upgraded_at = upgraded_at
        self.clock = clock
        self.window = Window()
        if plan.health is not None:  # no import, so no delay, without --health
            from wscli.probe_health import engine_for

            self.window.health = engine_for(plan)
        self.expectation_failed = False  # no first message, and assertions were asked for
        self.first_problem = ""
        self.pong_at: float | None = None

    def first_message(self, step: Step) -> None:
        self.ws.deadline = self.upgraded_at + self.plan.timeout
        while not self.window.messages:
            self._read_one(self._no_first_message)
        at, kind, valid = self.window.messages[0]
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
        if self.plan.asserting:
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
        """Keep reading until the assertions are settled or their window has passed."""
        plan = self.plan
        need = plan.window
        if not self.window.messages and (plan.expect_message or plan.max_latency_ms is not None):
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
                ended = "assertions settled"
        except StepFailed as stopped:
            if not isinstance(stopped.error, TimedOut):
                ended = self.window.ended or f"stopped: {stopped.error.message}"
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
            code, reason = parse_close_payload(payload)
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
        from wscli.messages import Malformed, parse_json

        checking = self.validator is not None
        valid: bool | None = False if checking else None
        if opcode == OP_BINARY:
            kind = "(binary)"
        else:
            try:
                obj = parse_json(payload)
            except Malformed:
                kind = "(not JSON)"
            else:
                if self.window.health is not None:
                    self.window.health.observe(obj, time.time())
                raw = obj.get("type") if isinstance(obj, dict) else None
                kind = raw if isinstance(raw, str) else "(other)"
                if self.validator is not None:
                    valid = self.validator.is_valid(obj)
                    if not valid and not self.first_problem:
                        problems = self.validator.problems(obj)
                        if problems:
                            first = problems[0]
                            self.first_problem = f"{first.path or '/'}: {first.reason}"
        self.window.add(at, kind, valid)

    def close(self) -> None:
        try:
            self.ws.deadline = time.monotonic() + 1.0
            self.ws.close(timeout=1.0)
        except Exception:
            self.ws.shutdown()  # type: ignore[no-untyped-call]
