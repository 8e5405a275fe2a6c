"""The client-behaviour engine on synthetic timelines: schedules, expectations, reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from wscli.checks.clients import (
    BY_CLIENT,
    BY_SERVER,
    REFUSED,
    ClientBook,
    Expectations,
    classify,
    json_document,
    judge,
    junit_xml,
    text_report,
)


def _client(
    book: ClientBook,
    delays: list[float],
    *,
    address: str = "127.0.0.1",
    user_agent: str = "guide-client",
    open_s: float = 0.0,
    last: str = REFUSED,
    start: float = 0.0,
) -> float:
    """One client whose connections are refused (or dropped) and retried after ``delays``."""
    t = start
    for i in range(len(delays) + 1):
        conn = book.attempt(address, user_agent, at=t)
        if open_s:
            conn.opened(at=t + 0.001)
        t += open_s + 0.002
        by = last if i == len(delays) else (BY_SERVER if open_s else REFUSED)
        conn.ended("refused 503" if by == REFUSED else "dropped by server", by, at=t)
        if i < len(delays):
            t += delays[i]
    return t


@pytest.mark.parametrize(
    ("delays", "kind", "label"),
    [
        ([1.0, 2.0, 4.1, 8.0, 16.0], "exponential", "exponential ×2 from 1.0 s"),
        ([1.0, 2.0, 3.0, 4.0, 5.0], "linear", "linear 1.0 s steps"),
        ([0.25, 0.5, 0.75, 1.0], "linear", "linear 0.25 s steps"),
        ([3.0, 3.05, 2.97, 3.0], "constant", "constant 3.0 s"),
        ([0.01, 0.0, 0.02], "immediate", "immediate"),
        (
            [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0],
            "exponential",
            "exponential ×2 from 1.0 s, capped at 30.0 s",
        ),
        ([], "none", "no reconnects"),
        ([1.0, 3.0], "unclear", "too few reconnects to tell"),
        ([1.0, 5.0, 2.0, 9.0], "irregular", "irregular"),
    ],
)
def test_schedules_are_named_with_tolerance_for_jitter(
    delays: list[float], kind: str, label: str
) -> None:
    """Jittered delays still match their schedule; a cap is named; noise is irregular."""
    schedule = classify(delays)
    assert (schedule.kind, schedule.label) == (kind, label)


def test_linear_and_exponential_are_told_apart() -> None:
    """1, 2, 3 is linear and 1, 2, 4 exponential, though both start 1, 2."""
    assert classify([1.0, 2.0, 3.0]).kind == "linear"
    assert classify([1.0, 2.0, 4.0]).kind == "exponential"


def test_guide_client_linear_schedule_passes_linear_and_fails_exponential() -> None:
    """The guide's 1 s x attempt client: linear passes; exponential fails naming the delays."""
    book = ClientBook()
    end = _client(book, [1.0, 2.0, 3.0, 4.0, 5.0])
    linear = judge(book, Expectations(backoff="linear", max_attempts=5), now=end + 10)
    assert linear.ok, linear.outcomes
    summary = linear.clients[0]
    assert summary.gave_up and summary.attempts == 5
    assert summary.delays_text() == "1.0 s, 2.0 s, 3.0 s, 4.0 s, 5.0 s, gave up"
    expo = judge(book, Expectations(backoff="exponential", max_attempts=3), now=end + 10)
    assert not expo.ok
    failed = {o.name: o for o in expo.outcomes if not o.ok}
    assert set(failed) == {"backoff", "max-attempts"}
    assert "1.0 s, 2.0 s, 3.0 s, 4.0 s, 5.0 s" in failed["backoff"].measured


def test_clients_are_told_apart_by_address_agent_and_key() -> None:
    """Same address, different User-Agent or --client-key value: different clients."""
    book = ClientBook(client_key="client")
    book.attempt("127.0.0.1", "a", at=0)
    book.attempt("127.0.0.1", "b", at=0)
    book.attempt("127.0.0.1", "a", book.identify("/s?client=tab1", {}), at=0)
    book.attempt("127.0.0.1", "a", at=1)
    names = sorted(c.name for c in book.snapshot())
    assert names == ["c1", "c2", "tab1"]
    assert book.snapshot()[0].connects == 2


def test_client_key_from_a_cookie() -> None:
    """--client-key also reads a cookie of that name."""
    from websockets.datastructures import Headers

    book = ClientBook(client_key="cid")
    headers = Headers([("Cookie", "a=1; cid=kitchen-tablet")])
    assert book.identify("/stream", headers) == "kitchen-tablet"


def test_client_that_never_pings_fails_ping_every() -> None:
    """No ping in 1.5 x S of an open connection fails; regular pings pass."""
    book = ClientBook()
    silent = book.attempt("10.0.0.1", "silent", at=0)
    silent.opened(at=0)
    silent.ended("closed 1000 by client", BY_CLIENT, at=10)
    chatty = book.attempt("10.0.0.2", "chatty", at=0)
    chatty.opened(at=0)
    for t in range(1, 10):
        chatty.ping("out", at=t * 1.0)
    chatty.ended("closed 1000 by client", BY_CLIENT, at=10)
    verdict = judge(book, Expectations(ping_every=1.0), now=11)
    by_client = {o.client: o for o in verdict.outcomes}
    assert not by_client["c1"].ok and "no ping at all" in by_client["c1"].measured
    assert by_client["c2"].ok, by_client["c2"]
    assert verdict.clients[1].pings_sent == 9


def test_reconnect_within_and_never_reconnected() -> None:
    """A slow first reconnect fails; a client that had the time and never came back fails."""
    book = ClientBook()
    _client(book, [0.5], address="10.0.0.1", open_s=1.0, last=BY_CLIENT)
    _client(book, [4.0], address="10.0.0.2", open_s=1.0, last=BY_CLIENT)
    gone = book.attempt("10.0.0.3", at=0)
    gone.opened(at=0)
    gone.ended("dropped by server", BY_SERVER, at=1)
    verdict = judge(book, Expectations(reconnect_within=2.0), now=20)
    results = {o.client: (o.ok, o.measured) for o in verdict.outcomes}
    assert results["c1"][0] is True
    assert results["c2"] == (False, "slowest reconnect 4.0 s")
    assert results["c3"] == (False, "never reconnected")


def test_thundering_herd_fails_jitter_and_spread_passes() -> None:
    """Ten clients back within 50 ms of one drop is a herd; spread over a second is not."""
    herd = ClientBook()
    spread = ClientBook()
    for i in range(10):
        _client(herd, [1.0 + i * 0.002], address=f"10.0.0.{i}", open_s=1.0, last=BY_CLIENT)
        _client(spread, [1.0 + i * 0.1], address=f"10.0.0.{i}", open_s=1.0, last=BY_CLIENT)
    bad = judge(herd, Expectations(jitter=True), now=10)
    good = judge(spread, Expectations(jitter=True), now=10)
    assert not bad.ok and "10 of 10 clients" in bad.outcomes[-1].measured
    assert good.ok, good.outcomes


def test_reports_json_fields_junit_cases_and_text() -> None:
    """-o json has the issue's fields; JUnit has one case per client and expectation."""
    book = ClientBook()
    end = _client(book, [1.0, 2.0, 3.0])
    _client(book, [1.0, 2.0, 4.0], address="10.0.0.9")
    verdict = judge(book, Expectations(backoff="linear"), now=end + 10)
    doc = json_document(verdict)
    assert doc["ok"] is False
    first = doc["clients"][0]
    for key in (
        "client",
        "address",
        "user_agent",
        "connects",
        "reconnect_delays_s",
        "schedule",
        "pings_sent",
        "ping_interval_s",
        "answered_server_pings",
        "endings",
    ):
        assert key in first
    assert first["reconnect_delays_s"] == [1.0, 2.0, 3.0]
    assert [e["ok"] for e in doc["expectations"]] == [True, False]
    json.dumps(doc)
    root = ET.fromstring(junit_xml(verdict, "wscli serve"))
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == ["c1 backoff", "c2 backoff"]
    assert cases[1].find("failure") is not None
    text = text_report(verdict)
    assert "linear 1.0 s steps" in text and "exponential ×2 from 1.0 s" in text
    assert text.rstrip().endswith("FAILED: 2 clients, 1 of 2 expectations not met")


def test_interrupted_run_never_passes() -> None:
    """A run stopped by Ctrl-C is not OK even with every expectation met."""
    book = ClientBook()
    _client(book, [1.0, 2.0, 3.0])
    verdict = judge(book, Expectations(backoff="linear"), now=100, stopped="interrupted")
    assert not verdict.ok
    root = ET.fromstring(junit_xml(verdict, "wscli tap"))
    assert root.find(".//error") is not None


def test_connections_per_client_are_bounded() -> None:
    """A client reconnecting forever keeps a bounded list and exact counts."""
    from wscli.checks.clients import MAX_CONNECTIONS

    book = ClientBook()
    for i in range(MAX_CONNECTIONS + 50):
        book.attempt("127.0.0.1", at=float(i)).ended("refused 503", REFUSED, at=i + 0.5)
    client = book.snapshot()[0]
    assert len(client.connections) == MAX_CONNECTIONS
    assert client.connects == MAX_CONNECTIONS + 50


def test_expectations_without_any_client_fail() -> None:
    """--expect-* with no client at all is not a pass: nothing was seen."""
    verdict = judge(ClientBook(), Expectations(backoff="linear"), now=5)
    assert not verdict.ok
    assert verdict.outcomes[0].measured == "no client connected"


def test_connections_side_by_side_are_not_reconnects() -> None:
    """Two tabs of one client open at once: no reconnect delay, no schedule."""
    book = ClientBook()
    first = book.attempt("127.0.0.1", "tab", at=0)
    second = book.attempt("127.0.0.1", "tab", at=1)
    first.ended("closed 1000 by client", BY_CLIENT, at=5)
    second.ended("closed 1000 by client", BY_CLIENT, at=6)
    [summary] = judge(book, Expectations(), now=10).clients
    assert summary.delays == [] and summary.schedule.kind == "none"
