"""What ``wscli probe`` produces, as plain values: steps, the listening window, assertions.

No sockets and no Click here (STYLE "a pure core"): :mod:`wscli.diagnose` fills these
in, :mod:`wscli.probe_reports` draws them, and the CI assertions are computed from
the window by :func:`evaluate` so they can be tested by feeding values in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from wscli.errors import WscliError

OK = "ok"
FAILED = "failed"
NOT_RUN = "not run"
SKIPPED = "skipped"  # does not apply to this URL (TLS on ws://, proxy without one)

STEP_NAMES = ("url", "resolve", "tcp", "proxy", "tls", "upgrade", "first message", "ping")


@dataclass
class Step:
    """One step of the diagnosis: name, status, seconds, details, and on failure error+hint."""

    name: str
    status: str = NOT_RUN
    seconds: float | None = None
    summary: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    hint: str | None = None
    exit_code: int | None = None

    @property
    def ok(self) -> bool | None:
        """True or False once run; None when not run or not applicable."""
        if self.status in (NOT_RUN, SKIPPED):
            return None
        return self.status == OK


@dataclass(frozen=True)
class Plan:
    """The CI assertions asked for (flags of ``wscli probe``); all optional."""

    timeout: float = 10.0
    expect_message: bool = False
    min_count: int | None = None
    within: float | None = None
    expect_types: tuple[str, ...] = ()
    forbid_types: tuple[str, ...] = ()
    max_gap: float | None = None
    max_latency_ms: float | None = None
    validate: bool = False
    health: Any = None  # a wscli.health.HealthConfig: --health and its flags (probe_health)

    @property
    def asserting(self) -> bool:
        return bool(
            self.health is not None
            or self.expect_message
            or self.min_count is not None
            or self.expect_types
            or self.forbid_types
            or self.max_gap is not None
            or self.max_latency_ms is not None
            or self.validate
        )

    @property
    def window(self) -> float:
        """Seconds from the upgrade that the assertions may need: ``--within`` or ``--timeout``."""
        return self.within if self.within is not None else self.timeout

    @property
    def holds_window(self) -> bool:
        """Silence and forbidden types can only be judged after the whole window."""
        return bool(self.forbid_types) or self.max_gap is not None or self.health is not None

    def satisfied(self, window: Window) -> bool:
        """True when listening longer cannot change any verdict (stop early)."""
        if self.holds_window:
            return False
        if (self.expect_message or self.max_latency_ms is not None) and not window.messages:
            return False
        if self.min_count is not None and len(window.messages) < self.min_count:
            return False
        return all(t in window.types_seen for t in self.expect_types)


@dataclass
class Window:
    """What arrived after the upgrade: (seconds since upgrade, type, valid) per message."""

    messages: list[tuple[float, str, bool | None]] = field(default_factory=list)
    seconds: float = 0.0  # how long probe listened
    ended: str = ""  # why listening stopped: "window elapsed", "satisfied", "closed 1000 (OK)"
    health: Any = None  # the --health engine fed each message (wscli.probe_health)
    health_result: Any = None  # its verdict, once the assertions are evaluated

    @property
    def types_seen(self) -> set[str]:
        return {kind for _, kind, _ in self.messages}

    def add(self, at: float, kind: str, valid: bool | None) -> None:
        self.messages.append((at, kind, valid))

    def longest_gap(self) -> float:
        """Longest silence between messages, counting the silence after the last one."""
        times = [at for at, _, _ in self.messages]
        if not times:
            return self.seconds
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        gaps.append(max(0.0, self.seconds - times[-1]))
        return max(gaps)


@dataclass
class Assertion:
    """One CI check with what was expected and what was measured."""

    name: str
    ok: bool | None  # None: not evaluated (the connection never got that far)
    expected: str
    measured: str


def _count_in(window: Window, seconds: float) -> int:
    return sum(1 for at, _, _ in window.messages if at <= seconds)


def evaluate(plan: Plan, window: Window | None) -> list[Assertion]:
    """Every assertion of the plan against the window; ``None`` window: none evaluated."""
    wanted: list[tuple[str, str]] = []
    if plan.expect_message:
        wanted.append(("expect-message", f">= 1 message within {plan.timeout:g} s"))
    if plan.min_count is not None:
        wanted.append(("min-count", f">= {plan.min_count} messages within {plan.window:g} s"))
    for kind in plan.expect_types:
        wanted.append((f"expect-type {kind}", f"a {kind} message within {plan.window:g} s"))
    for kind in plan.forbid_types:
        wanted.append((f"forbid-type {kind}", f"no {kind} message within {plan.window:g} s"))
    if plan.max_gap is not None:
        wanted.append(("max-gap", f"<= {plan.max_gap:g} s between messages"))
    if plan.max_latency_ms is not None:
        wanted.append(("max-latency", f"first message <= {plan.max_latency_ms:g} ms"))
    if plan.validate:
        wanted.append(("validate", "every message valid"))
    from wscli.probe_health import health_assertions

    if window is None:
        return [
            *(Assertion(name, None, expected, "not measured") for name, expected in wanted),
            *health_assertions(plan, window),
        ]
    results: list[Assertion] = []
    first = window.messages[0][0] if window.messages else None
    for name, expected in wanted:
        ok, measured = _measure(name, plan, window, first)
        results.append(Assertion(name, ok, expected, measured))
    return results + health_assertions(plan, window)


def _measure(name: str, plan: Plan, window: Window, first: float | None) -> tuple[bool, str]:
    """(ok, measured) for one assertion."""
    messages = window.messages
    if name == "expect-message":
        got = first is not None and first <= plan.timeout
        return got, (f"first after {first * 1000:.0f} ms" if first is not None else "none")
    if name == "min-count":
        assert plan.min_count is not None
        count = _count_in(window, plan.window)
        return count >= plan.min_count, f"{count} in {min(window.seconds, plan.window):.2f} s"
    if name.startswith("expect-type "):
        kind = name.split(" ", 1)[1]
        seen = [at for at, k, _ in messages if k == kind]
        return bool(seen), (f"first after {seen[0]:.2f} s" if seen else "none seen")
    if name.startswith("forbid-type "):
        kind = name.split(" ", 1)[1]
        count = sum(1 for _, k, _ in messages if k == kind)
        return count == 0, f"{count} seen"
    if name == "max-gap":
        assert plan.max_gap is not None
        gap = window.longest_gap()
        return gap <= plan.max_gap, f"{gap:.2f} s"
    if name == "max-latency":
        assert plan.max_latency_ms is not None
        if first is None:
            return False, "no message"
        return first * 1000 <= plan.max_latency_ms, f"{first * 1000:.1f} ms"
    # validate
    checked = [valid for _, _, valid in messages if valid is not None]
    invalid = sum(1 for valid in checked if not valid)
    if not checked:
        return False, "no message to validate"
    return invalid == 0, f"{invalid} invalid of {len(checked)}"


def first_failure(steps: list[Step]) -> Step | None:
    return next((step for step in steps if step.status == FAILED), None)


def rounded(seconds: float | None) -> float | None:
    """Seconds for reports: millisecond precision, never NaN."""
    if seconds is None or math.isnan(seconds):
        return None
    return round(seconds, 4)


class StepFailed(Exception):
    """Raised inside a step: the classified error that ends the chain there."""

    def __init__(self, error: WscliError) -> None:
        from wscli.hints import PROBE_TIP

        super().__init__(error.message)
        if error.hint:
            error.hint = error.hint.removesuffix(PROBE_TIP)  # we are the probe
        self.error = error
