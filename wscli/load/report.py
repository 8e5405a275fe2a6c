"""What a ``wscli load`` run measured, its thresholds, and the reports made from it.

Numbers come from Locust's statistics (its counts and percentiles, never ours)
on a local run or the master; a worker, whose statistics go to the master, sums
its own user records instead and leaves percentiles to the master. Pure: no
Locust import here, so the tests can feed values; the command writes the files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from wscli import endings
from wscli.errors import ExitStatus, WscliError
from wscli.frames import escape
from wscli.load.fanout import FanoutResult

JUNIT_SUITE = "wscli load"
CONNECTION_CODES = {3, 4, 5, 6, 7, 8}
PERCENTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
# The machine-readable reason when every user failed to connect the same way.
CONNECTION_REASONS = {
    3: endings.CONNECTION_REFUSED,
    4: endings.NAME_RESOLUTION,
    5: endings.TLS_ERROR,
    6: endings.HANDSHAKE_REJECTED,
    7: endings.CONNECT_TIMEOUT,
    8: endings.CONNECTION_LOST,
}
NEVER_CONNECTED = "never_connected"
RETRYING = "still retrying at the end"


class NeverConnected(NamedTuple):
    """A user that never connected: its last error's code and line (None/"" if none yet)."""

    code: int | None
    line: str
    retrying: bool = False  # the run ended while it was still retrying that error


class LoadFailed(WscliError):
    """The run's verdict as an error: the exit code :func:`exit_status` chose, its line."""

    def __init__(self, code: int, line: str) -> None:
        super().__init__(line.removeprefix("wscli: error: "))
        self.exit_code = ExitStatus(code)  # type: ignore[misc]  # per verdict, not per class
        self.line = line

    def one_line(self) -> str:
        return self.line


@dataclass
class Limits:
    """The thresholds asked for (None = not checked)."""

    max_failure_rate: float | None = None
    min_rate: float | None = None  # messages per second per user
    max_connect_p99: float | None = None  # ms
    max_delay_p99: float | None = None  # ms
    max_missed: int | None = None  # with --fanout; 0 when --fanout alone


@dataclass
class Threshold:
    """One limit and what was measured; ``unit`` names both (``ratio`` is shown as %)."""

    name: str
    ok: bool
    expected: str
    measured: float | int | str | None
    unit: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "expected": self.expected,
            "measured": self.measured,
            "unit": self.unit,
        }

    @property
    def measured_text(self) -> str:
        """``12.5 ms``, ``0.80 % of requests``: the value with its unit."""
        value = self.measured
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return str(value)
        if self.unit == "ratio":
            return f"{value:.2%} of requests"
        return f"{value:g} {self.unit}".rstrip()

    @property
    def expected_text(self) -> str:
        if self.unit == "ratio":
            op, _, limit = self.expected.partition(" ")
            try:
                return f"{op} {float(limit):.2%}"
            except ValueError:
                return self.expected
        return self.expected

    def describe(self) -> str:
        """``measured 950 ms, expected <= 500 ms``."""
        return f"measured {self.measured_text}, expected {self.expected_text}"


@dataclass
class Summary:
    """Everything the reports show; ``role`` says whose view it is."""

    role: str = "local"
    target_users: int = 0
    users: int = 0
    connected_users: int = 0
    duration: float = 0.0
    messages: int = 0
    requests: int = 0
    failures: int = 0
    reconnects: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    invalid: int = 0  # invalid (--validate) and malformed messages
    planned_duration: float = 0.0  # --duration
    connect_ms: dict[str, float | None] = field(default_factory=dict)
    delay_ms: dict[str, float | None] = field(default_factory=dict)
    connected_seconds: float = 0.0
    fanout: FanoutResult | None = None
    never_connected: list[NeverConnected] = field(default_factory=list)
    thresholds: list[Threshold] = field(default_factory=list)
    interrupted: str = ""  # "interrupted" | "terminated" | ""
    problems: list[str] = field(default_factory=list)
    unwritten: list[str] = field(default_factory=list)  # reports that could not be written

    @property
    def rate(self) -> float:
        return self.messages / self.duration if self.duration > 0 else 0.0

    @property
    def rate_per_user(self) -> float:
        return self.messages / self.connected_seconds if self.connected_seconds > 0 else 0.0

    @property
    def failure_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @property
    def ok(self) -> bool:
        return (
            not self.interrupted
            and not self.never_connected
            and not self.problems
            and not self.unwritten
            and all(t.ok for t in self.thresholds)
        )

    @property
    def reason(self) -> str | None:
        """Why the run did not pass, machine-readable (``-o json`` "reason"); None if it did."""
        if self.interrupted:
            return endings.TERMINATED if self.interrupted == "terminated" else endings.INTERRUPTED
        code = common_code(self.never_connected, self.users)
        if code is not None:
            return CONNECTION_REASONS[code]
        if self.never_connected:
            return NEVER_CONNECTED
        failed = [t.name for t in self.thresholds if not t.ok]
        if failed == ["invalid-messages"]:
            return endings.INVALID_MESSAGES
        if failed or self.problems:
            return endings.ASSERTION_FAILED
        if self.unwritten:
            return endings.WRITE_FAILED
        return None


def percentiles(entry: Any) -> dict[str, float | None]:
    """p50/p95/p99/max of a Locust ``StatsEntry`` (None when it saw nothing).

    Locust keeps response times rounded to buckets (two significant digits above
    100 ms), so its p99 of samples that all took 63.9 ms reads 64: each percentile
    is capped at the exact maximum, which no sample exceeded (issue 22).
    """
    if entry is None or not entry.num_requests:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    top = round(float(entry.max_response_time), 1)
    values: dict[str, float | None] = {
        key: min(float(entry.get_response_time_percentile(q)), top) for key, q in PERCENTILES
    }
    values["max"] = top
    return values


def from_locust(stats: Any, records: Sequence[Any], summary: Summary) -> Summary:
    """Fill counts and percentiles from Locust's ``RequestStats``."""
    from locust.stats import StatsEntry

    delay = StatsEntry(stats, "delay", "recv", use_response_times_cache=False)
    by_type: dict[str, int] = {}
    messages = invalid = 0
    for (name, method), entry in stats.entries.items():
        if method in ("recv", "recv-untimed"):
            messages += entry.num_requests
            invalid += entry.num_failures  # invalid and malformed messages
            by_type[name] = by_type.get(name, 0) + entry.num_requests
            if method == "recv":
                delay.extend(entry)
    summary.messages = messages
    summary.invalid = invalid
    summary.by_type = dict(sorted(by_type.items()))
    summary.requests = stats.total.num_requests
    summary.failures = stats.total.num_failures
    reconnect = stats.entries.get(("reconnect", "stream"))
    summary.reconnects = reconnect.num_requests if reconnect is not None else 0
    summary.connect_ms = percentiles(stats.entries.get(("connect", "connect")))
    summary.delay_ms = percentiles(delay)
    return _from_records(records, summary, counts=False)


def from_records(records: Sequence[Any], summary: Summary) -> Summary:
    """A worker's own share: counts from its user records (percentiles are the master's)."""
    return _from_records(records, summary, counts=True)


def _from_records(records: Sequence[Any], summary: Summary, *, counts: bool) -> Summary:
    summary.users = len(records)
    summary.connected_users = sum(1 for r in records if r.intervals)
    summary.connected_seconds = sum(r.connected_seconds for r in records)
    summary.never_connected = [
        NeverConnected(r.error_code, r.error, bool(getattr(r, "retrying", False)))
        for r in records
        if not r.intervals
    ]
    if counts:
        summary.messages = sum(r.messages for r in records)
        summary.failures = sum(r.failures for r in records)
        summary.reconnects = sum(r.reconnects for r in records)
        summary.requests = summary.messages + sum(len(r.intervals) for r in records)
        by_type: dict[str, int] = {}
        for r in records:
            for name, n in r.by_type.items():
                by_type[name] = by_type.get(name, 0) + n
        summary.by_type = dict(sorted(by_type.items()))
        summary.connect_ms = {"p50": None, "p95": None, "p99": None, "max": None}
        summary.delay_ms = dict(summary.connect_ms)
    return summary


def judge(summary: Summary, limits: Limits, *, fanout: bool, validate: bool = False) -> None:
    """Add one :class:`Threshold` per limit asked for (and the fan-out check).

    With ``validate`` and no ``--max-failure-rate``, any invalid or malformed message
    fails the run, as in ``tail --validate``: the rate is how a user allows some.
    """
    out = summary.thresholds
    if validate and limits.max_failure_rate is None:
        out.append(
            Threshold(
                "invalid-messages",
                summary.invalid == 0,
                "<= 0 messages",
                summary.invalid,
                "messages",
            )
        )
    if limits.max_failure_rate is not None:
        rate = round(summary.failure_rate, 6)
        out.append(
            Threshold(
                "max-failure-rate",
                rate <= limits.max_failure_rate,
                f"<= {limits.max_failure_rate:g}",
                rate,
                "ratio",
            )
        )
    if limits.min_rate is not None:
        per_user = round(summary.rate_per_user, 3)
        out.append(
            Threshold(
                "min-rate",
                per_user >= limits.min_rate,
                f">= {limits.min_rate:g} msg/s per user",
                per_user,
                "msg/s per user",
            )
        )
    for name, limit, values in (
        ("max-connect-p99", limits.max_connect_p99, summary.connect_ms),
        ("max-delay-p99", limits.max_delay_p99, summary.delay_ms),
    ):
        if limit is not None:
            p99 = values.get("p99")
            ok = p99 is not None and p99 <= limit
            out.append(Threshold(name, ok, f"<= {limit:g} ms", p99, "ms"))
    if fanout:
        allowed = limits.max_missed or 0
        result = summary.fanout
        if result is None or not result.complete or not result.checked:
            note = result.note if result is not None and result.note else "nothing to check"
            out.append(
                Threshold("max-missed", False, f"<= {allowed} messages", f"not checked: {note}")
            )
        else:
            ok = result.missed <= allowed
            out.append(
                Threshold("max-missed", ok, f"<= {allowed} messages", result.missed, "messages")
            )


def _retrying(entry: Sequence[Any]) -> bool:
    return len(entry) > 2 and bool(entry[2])


def common_code(never: Sequence[Sequence[Any]], users: int) -> int | None:
    """The connection error's exit code (3-8) when every user failed to connect that way.

    Whether the users gave up before the end or were still retrying it does not
    matter: the same failure is the same verdict, whatever the timing (issue 17).
    """
    if not never or len(never) != users:
        return None
    codes = {entry[0] for entry in never}
    code = next(iter(codes))
    return int(code) if len(codes) == 1 and code in CONNECTION_CODES else None


def exit_status(summary: Summary) -> tuple[int, str | None]:
    """The exit code and, when it is not 0, the one line that explains it."""
    never = summary.never_connected
    code = common_code(never, summary.users)
    if code is not None:
        line = never[0][1] or "wscli: error: no user could connect"
        retrying = sum(1 for entry in never if _retrying(entry))
        users = f"all {summary.users} users"
        if retrying:
            users += f", {retrying} {RETRYING}"
        return code, f"{line} [{users}]"
    if never:
        return int(ExitStatus.CHECK_FAILED), (
            f"wscli: error: {len(never)} of {summary.users} users never connected"
            f" ({never_breakdown(never)})"
        )
    failed = [t for t in summary.thresholds if not t.ok]
    if failed or summary.problems:
        parts = [f"{t.name}: {t.describe()}" for t in failed]
        parts += summary.problems
        return int(ExitStatus.CHECK_FAILED), "wscli: error: load check failed: " + "; ".join(parts)
    return int(ExitStatus.OK), None


def verdict_error(summary: Summary) -> LoadFailed | None:
    """:func:`exit_status` as the error the run ends with (None when it passed)."""
    code, line = exit_status(summary)
    return LoadFailed(code, line) if code and line else None


def never_breakdown(never: Sequence[Sequence[Any]]) -> str:
    """``2 connection refused, still retrying at the end, 1 handshake rejected: HTTP 401``.

    Each user that never connected is counted under its last error; one whose
    connect was still being tried when the run ended says so.
    """
    counts: dict[str, int] = {}
    for entry in never:
        line = entry[1]
        reason = line.removeprefix("wscli: error: ").split(" (", 1)[0] or "still connecting"
        if line and _retrying(entry):
            reason += f", {RETRYING}"
        counts[reason] = counts.get(reason, 0) + 1
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items(), key=lambda i: -i[1]))


# -- JSON -------------------------------------------------------------------------------------


def json_document(summary: Summary) -> dict[str, Any]:
    """Exactly the fields of issue #11 (``fanout.per_user`` names the users that missed)."""
    fanout: dict[str, Any] = {"checked": None, "missed": None, "per_user": {}}
    if summary.fanout is not None and summary.fanout.complete and summary.fanout.checked:
        fanout = {
            "checked": summary.fanout.checked,
            "missed": summary.fanout.missed,
            "per_user": dict(sorted(summary.fanout.per_user.items())),
        }
    return {
        "ok": summary.ok,
        "reason": summary.reason,
        "users": summary.users,
        "duration": round(summary.duration, 3),
        "messages": summary.messages,
        "rate": round(summary.rate, 3),
        "connect_ms": summary.connect_ms,
        "delay_ms": summary.delay_ms,
        "failures": summary.failures,
        "reconnects": summary.reconnects,
        "by_type": summary.by_type,
        "fanout": fanout,
        "thresholds": [t.as_dict() for t in summary.thresholds],
    }


# -- JUnit XML --------------------------------------------------------------------------------


def junit_xml(summary: Summary) -> bytes:
    """One test case per threshold, plus ``connections`` (every user connected).

    An interrupted run gets an ``<error>`` case, so a CI viewer never shows it green.
    Written by the JUnit writer every command shares (:func:`wscli.output.junit.junit_suite`).
    """
    from wscli.output.junit import junit_suite

    cases: list[dict[str, Any]] = []
    never = summary.never_connected
    if never:
        cases.append(
            {
                "name": "connections",
                "outcome": "failure",
                "type": "threshold",
                "message": f"{len(never)} of {summary.users} users never connected",
                "body": never_breakdown(never),
            }
        )
    else:
        out = f"{summary.connected_users} users connected"
        cases.append({"name": "connections", "outcome": "passed", "out": out})
    for t in summary.thresholds:
        text = t.describe()
        if t.ok:
            cases.append({"name": t.name, "outcome": "passed", "out": text})
        else:
            cases.append(
                {"name": t.name, "outcome": "failure", "type": "threshold", "message": text}
            )
    for issue in summary.problems:
        cases.append({"name": "fleet", "outcome": "failure", "type": "fleet", "message": issue})
    for line in summary.unwritten:
        message = line.removeprefix("wscli: error: ")
        cases.append(
            {"name": "reports", "outcome": "error", "type": "write_failed", "message": message}
        )
    if summary.interrupted:
        planned = f" of {summary.planned_duration:g} s" if summary.planned_duration else ""
        cases.append(
            {
                "name": "run",
                "outcome": "error",
                "type": summary.reason or "stopped",  # terminated | interrupted, as validate's
                "message": f"run {summary.interrupted}",
                "body": f"the run was {summary.interrupted} after {summary.duration:.1f} s"
                f"{planned}, before --duration ended",
            }
        )
    for case in cases:
        case["time"] = summary.duration
    return junit_suite(JUNIT_SUITE, "wscli.load", cases, elapsed=summary.duration)


# -- text -------------------------------------------------------------------------------------


def _ms(values: dict[str, float | None]) -> str:
    if values.get("p50") is None:
        return "-"
    return "  ".join(f"{k} {values[k]:g}" for k in ("p50", "p95", "p99", "max"))


def summary_rows(summary: Summary) -> list[tuple[str, str]]:
    """The summary as (label, value) rows, terminal-safe."""
    target = f"/{summary.target_users}" if summary.target_users else ""
    rows = [
        ("users", f"{summary.connected_users} connected{target} ({summary.users} ran)"),
        ("duration", f"{summary.duration:.1f} s"),
        ("messages", f"{summary.messages}"),
        ("rate", f"{summary.rate:.1f} msg/s ({summary.rate_per_user:.2f} msg/s per user)"),
        ("connect ms", _ms(summary.connect_ms)),
        ("delay ms", _ms(summary.delay_ms)),
        ("failures", f"{summary.failures} ({summary.failure_rate:.2%} of requests)"),
        ("reconnects", f"{summary.reconnects}"),
    ]
    if summary.by_type:
        rows.append(("messages by type", ""))
        for name, n in summary.by_type.items():
            rows.append((f"  {escape(name)}", str(n)))
    if summary.fanout is not None:
        f = summary.fanout
        if f.checked and f.complete:
            worst = sorted(f.per_user.items(), key=lambda i: -i[1])[:5]
            text = f"{f.checked} ids checked over {f.window:.1f} s, {f.missed} missed"
            if worst:
                text += " (" + ", ".join(f"{escape(u)} {n}" for u, n in worst)
                text += ", ...)" if len(f.per_user) > 5 else ")"
            rows.append(("fan-out", text))
        else:
            rows.append(("fan-out", f"not checked: {f.note or 'id budget exhausted'}"))
    if summary.never_connected:
        rows.append(("never connected", never_breakdown(summary.never_connected)))
    for t in summary.thresholds:
        verdict = "ok" if t.ok else "FAILED"
        rows.append((t.name, f"{verdict}: {t.measured_text} (expected {t.expected_text})"))
    return rows


def verdict_line(summary: Summary) -> str:
    if summary.interrupted:
        word = "INTERRUPTED" if summary.interrupted == "interrupted" else "TERMINATED"
    else:
        word = "OK" if summary.ok else "FAILED"
    return (
        f"{word}: {summary.users} users, {summary.messages} messages in {summary.duration:.1f} s,"
        f" {summary.failures} failures"
    )
