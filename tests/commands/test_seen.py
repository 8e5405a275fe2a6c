"""Filters and expectations that match nothing say what was seen (issue #22)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.cli import run_cli, run_wscli
from wscli.checks.seen import FilterWatch, SeenValues, describe_seen, suggestion


def reading(location: str, kind: str = "sensor_reading", sensor: int = 1) -> dict[str, Any]:
    return {"type": kind, "data": {"sensor_id": sensor, "location": location, "value": 1.0}}


def test_case_difference_is_named() -> None:
    """`--location Attic` over `attic` points at the case."""
    watch = FilterWatch([], [], ["Attic"])
    for place in ("kitchen", "attic", "basement", "attic"):
        watch.observe(reading(place))
    assert watch.report() == (
        "no message matched --location Attic; seen: attic, basement, kitchen (case differs: attic?)"
    )


def test_a_near_miss_is_suggested() -> None:
    """A typo gets difflib's closest seen value."""
    assert suggestion(["sensor_readin"], ["error", "sensor_reading"]) == (
        "did you mean sensor_reading?"
    )
    assert suggestion(["zzz"], ["error", "sensor_reading"]) == ""


def test_each_option_that_missed_is_reported() -> None:
    """--type matched, --sensor did not: only --sensor is the culprit."""
    watch = FilterWatch(["sensor_reading"], ["99"], [])
    watch.observe(reading("attic", sensor=9))
    assert watch.report() == "no message matched --sensor 99; seen: 9 (did you mean 9?)"


def test_options_that_each_matched_but_never_together() -> None:
    watch = FilterWatch(["error"], [], ["attic"])
    watch.observe(reading("attic"))
    watch.observe({"type": "error", "data": {"location": "kitchen"}})
    assert watch.report() == "no message matched --type error --location attic together"


def test_seen_values_are_bounded() -> None:
    """A stream of unique values keeps at most the limit, and says there were more."""
    seen = SeenValues(limit=5)
    for n in range(10_000):
        seen.add(f"id-{n}")
    assert len(seen.values) == 5
    assert seen.listing(shown=3) == "id-0, id-1, id-2, … (5+ distinct)"
    assert describe_seen(["x"], SeenValues()) == "none seen"
    huge = SeenValues()
    huge.add("x" * 1_000_000)
    assert [len(value) for value in huge.values] == [60]


@pytest.mark.slow
def test_tail_says_what_it_saw_when_the_filter_never_matched(serve: Any) -> None:
    """`tail --location Attic` over a stream with `attic` names the case difference."""
    server = serve(seed=1)
    result = run_wscli("tail", server.url, "--duration", "1", "--location", "Attic")
    assert result.stdout == ""
    assert "wscli: no message matched --location Attic; seen: " in result.stderr
    assert "attic" in result.stderr and "(case differs: attic?)" in result.stderr
    assert result.stderr.count("no message matched") == 1


def test_tail_keeps_quiet_when_the_filter_matched(serve: Any) -> None:
    """A filter that matched says nothing more."""
    server = serve(seed=1)
    result = run_cli("tail", server.url, "-n", "2", "--type", "sensor_reading")
    assert "no message matched" not in result.stderr


@pytest.mark.slow
def test_open_ended_tail_says_so_once_after_a_thousand_misses(serve: Any) -> None:
    """No --duration: after 1,000 messages without a match, one line on stderr, and it goes on."""
    server = serve(seed=1, rate=0, count=1500)
    result = run_wscli("tail", server.url, "--type", "sensor_readin", timeout=20)
    assert result.stderr.count("no message matched --type sensor_readin") == 1
    assert "did you mean sensor_reading?" in result.stderr
    assert "(in 1000 messages; still listening)" in result.stderr
    assert "server closed the stream" in result.stderr


def test_probe_expect_type_names_the_types_seen() -> None:
    """`probe --expect-type sensor_readin` measures what came instead, with a suggestion."""
    from wscli.probe.checks import Plan, Window, evaluate

    window = Window(seconds=1.0)
    for at, kind in ((0.1, "sensor_reading"), (0.2, "error"), (0.3, "sensor_reading")):
        window.add(at, kind, None)
    (check,) = evaluate(Plan(expect_types=("sensor_readin",)), window)
    assert check.ok is False
    assert check.measured == "seen: error, sensor_reading (did you mean sensor_reading?)"
    (empty,) = evaluate(Plan(expect_types=("x",)), Window(seconds=1.0))
    assert empty.measured == "none seen"
