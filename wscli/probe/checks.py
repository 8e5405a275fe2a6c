"""What ``wscli probe`` produces, as plain values: steps, the listening window, checks.

No sockets and no Click here (STYLE "a pure core"): :mod:`wscli.probe.steps` fills these
in, :mod:`wscli.probe.reports` draws them, and the checks (built from
:mod:`wscli.checks.specs`) are computed from the window by :func:`evaluate`, so they can
be tested by feeding values in.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from wscli.checks.specs import (
    EXPECT_MESSAGE,
    EXPECT_TYPE,
    FORBID_TYPE,
    MAX_GAP,
    MAX_LATENCY,
    MIN_COUNT,
    VALIDATE,
    CheckSpec,
)
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
    """The checks asked for (``wscli probe``'s flags, see :mod:`wscli.checks.specs`)."""

    timeout: float = 10.0
    expect_message: bool = False
    min_count: int | None = None
    within: float | None = None
    expect_types: tuple[str, ...] = ()
    forbid_types: tuple[str, ...] = ()
    max_gap: float | None = None
    max_latency_ms: float | None = None
    validate: bool = False
    health: Any = None  # a wscli.checks.health.HealthConfig: --health and its flags

    def specs(self) -> list[tuple[CheckSpec, str]]:
        """The checks asked for, in report order, each with its subject (a type, or "")."""
        wanted: list[tuple[CheckSpec, str]] = []
        if self.expect_message:
            wanted.append((EXPECT_MESSAGE, ""))
        if self.min_count is not None:
            wanted.append((MIN_COUNT, ""))
        wanted.extend((EXPECT_TYPE, kind) for kind in self.expect_types)
        wanted.extend((FORBID_TYPE, kind) for kind in self.forbid_types)
        if self.max_gap is not None:
            wanted.append((MAX_GAP, ""))
        if self.max_latency_ms is not None:
            wanted.append((MAX_LATENCY, ""))
        if self.validate:
            wanted.append((VALIDATE, ""))
        return wanted

    @property
    def checking(self) -> bool:
        """Whether any check was asked for (then probe listens for the window)."""
        return bool(self.specs()) or self.health is not None

    @property
    def window(self) -> float:
        """Seconds from the upgrade that the checks may need: ``--within`` or ``--timeout``."""
        return self.within if self.within is not None else self.timeout

    @property
    def holds_window(self) -> bool:
        """Silence, forbidden types and validity can only be judged after the whole window.

        A check another one settles early (``--min-count`` reached) never ends the window
        while one of these still needs it: every message of the window is judged.
        """
        whole = any(spec.whole_window for spec, _ in self.specs())
        return whole or self.health is not None  # health judges the whole window too

    def satisfied(self, window: Window) -> bool:
        """True when listening longer cannot change any verdict (stop early)."""
        if self.holds_window:
            return False
        if (self.expect_message or self.max_latency_ms is not None) and not window.count:
            return False
        if self.min_count is not None and window.count_within < self.min_count:
            return False
        return all(t in window.first_by_type for t in self.expect_types)


MAX_TYPES = 100  # distinct type labels a window keeps by name (a hostile stream invents more)
MAX_EXAMPLES = 3  # offending messages a failed check shows
EXAMPLE_CHARS = 200  # of each, after redaction


@dataclass
class Window:
    """What arrived after the upgrade, as counters: memory stays flat on any stream.

    ``limit`` is the checks' window (``--within``): a message later than that (the first
    message may come up to ``--timeout``) is seen but not counted by ``--min-count``.
    ``watched`` types (the ``--expect-type``/``--forbid-type`` ones) are always tracked;
    other labels past :data:`MAX_TYPES` are counted only in the total.
    """

    seconds: float = 0.0  # how long probe listened
    ended: str = (
        ""  # why listening stopped: "window elapsed", "assertions settled", "closed 1000 (OK)"
    )
    limit: float = math.inf
    watched: frozenset[str] = frozenset()
    count: int = 0
    count_within: int = 0
    first_at: float | None = None
    first_label: str = ""
    first_valid: bool | None = None
    last_at: float | None = None
    longest: float = 0.0  # longest silence between two messages
    first_by_type: dict[str, float] = field(default_factory=dict)
    count_by_type: dict[str, int] = field(default_factory=dict)
    validated: int = 0
    invalid: int = 0
    examples: dict[str, list[str]] = field(default_factory=dict)  # check label -> offenders
    lost: str = ""  # the connection ended inside the window: how (redacted)
    health: Any = None  # the --health engine fed each message (wscli.probe.health)
    health_result: Any = None  # its verdict, once the checks are evaluated

    @property
    def types_seen(self) -> set[str]:
        return set(self.first_by_type)

    def add(self, at: float, kind: str, valid: bool | None) -> None:
        """Count one message: ``valid`` ``None`` when no schema was asked for."""
        self.count += 1
        if at <= self.limit:
            self.count_within += 1
        if self.first_at is None:
            self.first_at, self.first_label, self.first_valid = at, kind, valid
        elif self.last_at is not None and at - self.last_at > self.longest:
            self.longest = at - self.last_at
        self.last_at = at
        counts = self.count_by_type
        seen = counts.get(kind)
        if seen is not None:
            counts[kind] = seen + 1
        elif len(counts) < MAX_TYPES or kind in self.watched:
            counts[kind] = 1
            self.first_by_type[kind] = at
        if valid is not None:
            self.validated += 1
            if not valid:
                self.invalid += 1

    def wants_example(self, label: str) -> bool:
        return len(self.examples.get(label, ())) < MAX_EXAMPLES

    def add_example(self, label: str, text: str) -> None:
        if self.wants_example(label):
            self.examples.setdefault(label, []).append(text)

    def longest_gap(self, until: float | None = None) -> float:
        """Longest silence between messages, counting the silence after the last one
        up to ``until`` (default: the end of listening)."""
        end = self.seconds if until is None else until
        if self.last_at is None:
            return end
        return max(self.longest, end - self.last_at, 0.0)


@dataclass
class CheckResult:
    """One check's outcome with what was expected and what was measured."""

    name: str
    ok: bool | None  # None: not evaluated (the run never got that far)
    expected: str
    measured: str
    examples: tuple[str, ...] = ()  # the first offending messages, redacted and cut


def evaluate(plan: Plan, window: Window | None) -> list[CheckResult]:
    """Every check of the plan against the window; ``None`` window: none evaluated."""
    wanted = [(spec, subject, _expected(spec, subject, plan)) for spec, subject in plan.specs()]
    if window is None:
        return [
            *(
                CheckResult(spec.label(subject), None, expected, "not measured")
                for spec, subject, expected in wanted
            ),
            *_health_checks(plan, window),
        ]
    results: list[CheckResult] = []
    for spec, subject, expected in wanted:
        ok, measured = _measure(spec, subject, plan, window)
        if window.lost and (spec.whole_window or not ok):
            measured += " (connection lost)"
        label = spec.label(subject)
        examples = tuple(window.examples.get(label, ())) if not ok else ()
        results.append(CheckResult(label, ok, expected, measured, examples))
    return results + _health_checks(plan, window)


def _health_checks(plan: Plan, window: Window | None) -> list[CheckResult]:
    """One probe check per health check; a suspect one fails only under ``--strict``."""
    from wscli.checks.health import PASS, SUSPECT
    from wscli.probe.health import expectation

    if plan.health is None:
        return []
    engine = None if window is None else window.health
    if window is None or engine is None:
        return [CheckResult("health", None, "every source healthy", "not measured")]
    result = engine.result(end=time.time())
    window.health_result = result
    strict = result.strict
    return [
        CheckResult(
            f"health {check.check}",
            check.level == PASS or (check.level == SUSPECT and not strict),
            expectation(check),
            f"{check.level}: {check.detail}",
        )
        for check in result.checks
    ]


def _expected(spec: CheckSpec, subject: str, plan: Plan) -> str:
    window = f"within {plan.window:g} s"
    if spec is EXPECT_MESSAGE:
        return f">= 1 message within {plan.timeout:g} s"
    if spec is MIN_COUNT:
        return f">= {plan.min_count} messages {window}"
    if spec is EXPECT_TYPE:
        return f"a {subject} message {window}"
    if spec is FORBID_TYPE:
        return f"no {subject} message {window}"
    if spec is MAX_GAP:
        return f"<= {plan.max_gap:g} s between messages {window}"
    if spec is MAX_LATENCY:
        return f"first message <= {plan.max_latency_ms:g} ms"
    return f"every message {window} valid"


def _measure(spec: CheckSpec, subject: str, plan: Plan, window: Window) -> tuple[bool, str]:
    """(ok, measured) for one check."""
    first = window.first_at
    # A connection lost inside the window: silence until the window's end, nothing more.
    until = max(plan.window, window.seconds) if window.lost else window.seconds
    if spec is EXPECT_MESSAGE:
        got = first is not None and first <= plan.timeout
        return got, (f"first after {first * 1000:.0f} ms" if first is not None else "none")
    if spec is MIN_COUNT:
        assert plan.min_count is not None
        count = window.count_within
        return count >= plan.min_count, f"{count} in {min(window.seconds, plan.window):.2f} s"
    if spec is EXPECT_TYPE:
        at = window.first_by_type.get(subject)
        if at is not None:
            return True, f"first after {at:.2f} s"
        from wscli.checks.seen import SeenValues, describe_seen

        kinds = SeenValues()
        for k in sorted(window.first_by_type):
            kinds.add(k)
        return False, describe_seen([subject], kinds)  # "seen: error, x (did you mean ...?)"
    if spec is FORBID_TYPE:
        count = window.count_by_type.get(subject, 0)
        return count == 0, f"{count} seen in {window.seconds:.2f} s"
    if spec is MAX_GAP:
        assert plan.max_gap is not None
        gap = window.longest_gap(until)
        return gap <= plan.max_gap, f"{gap:.2f} s"
    if spec is MAX_LATENCY:
        assert plan.max_latency_ms is not None
        if first is None:
            return False, "no message"
        return first * 1000 <= plan.max_latency_ms, f"{first * 1000:.1f} ms"
    # validate: every message of the window was judged
    checked, invalid = window.validated, window.invalid
    took = f"validated {checked:,} of {window.count:,} in {window.seconds:.1f} s"
    if not checked:
        return False, "no message to validate"
    if invalid:
        return False, f"{took}: {invalid:,} invalid"
    return True, f"{took}: all valid"


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
        from wscli.net.hints import PROBE_TIP

        super().__init__(error.message)
        if error.hint:
            error.hint = error.hint.removesuffix(PROBE_TIP)  # we are the probe
        self.error = error
