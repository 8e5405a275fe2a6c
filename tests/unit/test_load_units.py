"""The fan-out check and the load verdict as pure values: no sockets, no Locust."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from wscli.load import fanout
from wscli.load.report import (
    Limits,
    Summary,
    exit_status,
    json_document,
    judge,
    junit_xml,
    never_breakdown,
)


@dataclass
class User:
    label: str
    intervals: list[list[float]]
    ids: list[Any] = field(default_factory=list)
    times: list[float] = field(default_factory=list)


def user(label: str, start: float, end: float, ids: range, skip: tuple[int, ...] = ()) -> User:
    """A user connected over [start, end] that got id i at time i (minus ``skip``)."""
    got = [i for i in ids if i not in skip and start <= i <= end]
    return User(label, [[start, end]], got, [float(i) for i in got])


def test_intersection_of_interval_lists() -> None:
    """Where two users were both connected, reconnect gaps included."""
    a = [[0.0, 10.0], [12.0, 20.0]]
    b = [[5.0, 15.0]]
    assert fanout.intersect(a, b) == [[5.0, 10.0], [12.0, 15.0]]
    assert fanout.common_window([a, b], grace=1.0, end=math.inf) == [[6.0, 9.0], [13.0, 14.0]]


def test_every_user_got_everything() -> None:
    """Same ids for everyone in the common window: nothing missed."""
    users = [user("a", 0, 30, range(40)), user("b", 5, 30, range(40))]
    result = fanout.check(users, grace=1.0, end=30)
    assert result.checked == len(range(6, 30))
    assert result.missed == 0 and result.per_user == {}


def test_misses_inside_the_window_count_and_edges_do_not() -> None:
    """A gap inside the window is missed; one before the last user joined is not."""
    users = [user("a", 0, 30, range(40), skip=(2, 12, 13)), user("b", 5, 30, range(40))]
    result = fanout.check(users, grace=1.0, end=30)
    assert result.per_user == {"a": 2}
    assert result.missed == 2


def test_never_all_connected_is_not_a_pass() -> None:
    """Disjoint users have no common window: the check says so instead of passing."""
    users = [user("a", 0, 5, range(10)), user("b", 6, 9, range(10))]
    result = fanout.check(users, grace=0.5, end=10)
    assert result.checked == 0 and "never all connected" in result.note
    summary = Summary(users=2, fanout=result)
    judge(summary, Limits(), fanout=True)
    assert not summary.thresholds[0].ok
    assert json_document(summary)["fanout"] == {"checked": None, "missed": None, "per_user": {}}


def test_all_users_refused_the_same_way_keep_the_exit_code() -> None:
    """Every user refused: exit 3 with the connection's line; mixed reasons: exit 1."""
    line = "wscli: error: connection refused (h:1): nothing is listening"
    summary = Summary(users=3, never_connected=[(3, line)] * 3)
    code, text = exit_status(summary)
    assert code == 3 and text is not None and text.startswith(line)
    mixed = Summary(users=3, never_connected=[(3, line), (6, "wscli: error: handshake rejected")])
    code, text = exit_status(mixed)
    assert code == 1 and text is not None and "2 of 3 users never connected" in text
    assert never_breakdown(mixed.never_connected) == "1 connection refused, 1 handshake rejected"


def test_thresholds_and_reports() -> None:
    """Each limit is one threshold, one JUnit case, and decides the exit code."""
    summary = Summary(
        users=2,
        connected_users=2,
        duration=10.0,
        messages=100,
        requests=102,
        failures=2,
        connected_seconds=20.0,
        connect_ms={"p50": 3.0, "p95": 9.0, "p99": 12.0, "max": 12.0},
        delay_ms={"p50": 1.0, "p95": 2.0, "p99": 900.0, "max": 950.0},
    )
    judge(
        summary,
        Limits(max_failure_rate=0.05, min_rate=5.0, max_connect_p99=50, max_delay_p99=500),
        fanout=False,
    )
    verdicts = {t.name: t.ok for t in summary.thresholds}
    assert verdicts == {
        "max-failure-rate": True,
        "min-rate": True,
        "max-connect-p99": True,
        "max-delay-p99": False,
    }
    assert exit_status(summary)[0] == 1
    root = ET.fromstring(junit_xml(summary))
    failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert failed == ["max-delay-p99"]
    doc = json_document(summary)
    assert doc["ok"] is False and doc["rate"] == 10.0


def test_an_interrupted_run_is_never_green() -> None:
    """Ctrl-C before the end: ok is false and JUnit has an error case."""
    summary = Summary(users=1, connected_users=1, interrupted="interrupted")
    assert json_document(summary)["ok"] is False
    root = ET.fromstring(junit_xml(summary))
    assert root.get("errors") == "1"


def test_timestamps_for_the_delivery_delay() -> None:
    """RFC 3339 with Z or an offset; no offset reads as UTC; anything else is no timestamp."""
    from wscli.messages import parse_timestamp

    assert parse_timestamp("2024-01-15T12:00:00Z") == 1705320000.0
    assert parse_timestamp("2024-01-15T12:00:00.500Z") == 1705320000.5
    assert parse_timestamp("2024-01-15T13:00:00+01:00") == 1705320000.0
    assert parse_timestamp("2024-01-15T12:00:00") == 1705320000.0
    for bad in ("yesterday", "2024-13-45T25:61:00Z", 1705320000, None):
        assert parse_timestamp(bad) is None


def test_no_ids_at_all_is_not_a_pass() -> None:
    """Messages without the id field: the check says so and its threshold fails."""
    users = [User("a", [[0.0, 10.0]]), User("b", [[0.0, 10.0]])]
    result = fanout.check(users, grace=1.0, end=10)
    assert result.checked == 0 and "--id-field" in result.note
    summary = Summary(users=2, fanout=result)
    judge(summary, Limits(), fanout=True)
    assert summary.thresholds[0].ok is False


def test_a_user_still_retrying_reports_its_last_error() -> None:
    """Refused and still retrying at the end: the same exit 3, and the breakdown says so."""
    from wscli.load.report import NeverConnected

    line = "wscli: error: connection refused (h:1): nothing is listening"
    summary = Summary(users=2, never_connected=[NeverConnected(3, line, True)] * 2)
    code, text = exit_status(summary)
    assert code == 3 and text == f"{line} [all 2 users, 2 still retrying at the end]"
    assert summary.reason == "connection_refused"
    mixed = [NeverConnected(3, line, True), NeverConnected(None, "")]
    assert (
        never_breakdown(mixed)
        == "1 connection refused, still retrying at the end, 1 still connecting"
    )


class _Entry:
    """A Locust StatsEntry as far as :func:`percentiles` reads it (bucketed values)."""

    num_requests = 3
    max_response_time = 63.9

    def get_response_time_percentile(self, q: float) -> float:
        return 64.0 if q > 0.5 else 40.0


def test_percentiles_never_exceed_the_maximum() -> None:
    """Locust rounds 63.9 ms into the 64 bucket: p99 is capped at the exact max."""
    from wscli.load.report import percentiles

    assert percentiles(_Entry()) == {"p50": 40.0, "p95": 63.9, "p99": 63.9, "max": 63.9}


def test_the_text_summary_heads_the_types_and_gives_every_unit() -> None:
    """Per-type counts under their own heading; each threshold's value and limit with units."""
    from wscli.load.report import summary_rows

    summary = Summary(
        users=1,
        connected_users=1,
        duration=10.0,
        messages=10,
        requests=11,
        failures=1,
        connected_seconds=10.0,
        by_type={"sensor_reading": 9, "error": 1},
        delay_ms={"p50": 1.0, "p95": 2.0, "p99": 900.0, "max": 950.0},
    )
    judge(summary, Limits(max_failure_rate=0.05, min_rate=5.0, max_delay_p99=500), fanout=False)
    rows = dict(summary_rows(summary))
    labels = [label for label, _ in summary_rows(summary)]
    assert labels.index("messages by type") + 1 == labels.index("  sensor_reading")
    assert rows["max-failure-rate"] == "FAILED: 9.09% of requests (expected <= 5.00%)"
    assert rows["min-rate"] == "FAILED: 1 msg/s per user (expected >= 5 msg/s per user)"
    assert rows["max-delay-p99"] == "FAILED: 900 ms (expected <= 500 ms)"
    assert rows["rate"] == "1.0 msg/s (1.00 msg/s per user)"
    assert rows["duration"] == "10.0 s" and rows["delay ms"].endswith("max 950")


def test_the_live_view_counts_down() -> None:
    """Elapsed / total and time left, in the pipe line and the terminal title alike."""
    from wscli.load.view import clock_text, status_line

    assert clock_text(12.2, 60.0) == "12 s / 60 s, 48 s left"
    assert clock_text(61.0, 60.0) == "61 s / 60 s, 0 s left"
    assert clock_text(5.0, None) == "5 s"
    figures = {
        "elapsed": 12.0,
        "total": 60.0,
        "connected": 2,
        "target": 2,
        "rate": 1.0,
        "connect": ("1", "2"),
        "delay": ("1", "2"),
        "failures": 0,
        "reconnects": 0,
    }
    assert status_line(figures).startswith("wscli load: 12 s / 60 s, 48 s left, users 2/2")


def test_report_files_fail_a_pass_or_a_check_but_keep_a_connection_code() -> None:
    """A report not written: exit 2 over 0 and 1, each file named; 3-8 keep their code."""
    from wscli.errors import CheckFailed, ConnectionRefused
    from wscli.output.files import ReportFiles

    reports = ReportFiles()
    assert reports.ending(None, print) is None
    assert reports.write("/dev/full", b"x", option="--junit") is False
    noted: list[str] = []
    error = reports.ending(CheckFailed("load check failed"), noted.append)
    assert error is not None and int(error.exit_code) == 2
    assert noted == ["wscli: error: load check failed"]
    assert "cannot write to --junit /dev/full" in error.one_line()
    refused = ConnectionRefused("connection refused")
    noted.clear()
    assert reports.ending(refused, noted.append) is refused
    assert noted == [error.one_line()]
