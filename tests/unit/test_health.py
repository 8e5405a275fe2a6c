"""The stream-health engine, its rules and its reports: fed values, no sockets (issue 19)."""

from __future__ import annotations

import json
import tracemalloc
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from wscli.checks.health import (
    FAIL,
    NO_SOURCE,
    PASS,
    SUSPECT,
    HealthConfig,
    HealthEngine,
    HealthResult,
    parse_timestamp,
)
from wscli.checks.health_report import health_junit, health_text
from wscli.checks.rules import BUILTIN_RULES, load_rules, parse_rules
from wscli.errors import BadUsage

T0 = 1_705_320_000.0  # 2024-01-15T12:00:00Z


def stamp(seconds: float) -> str:
    from wscli.checks.health import rfc3339

    text = rfc3339(seconds)
    assert text is not None
    return text


def reading(
    sensor: object = 1,
    at: float = 0.0,
    value: object = 20.0,
    *,
    rid: object = None,
    kind: str = "temperature",
    unit: str = "°C",
    **extra: Any,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sensor_id": sensor,
        "type": kind,
        "location": "attic",
        "value": value,
        "unit": unit,
        "confidence": 0.9,
        "timestamp": stamp(T0 + at),
        "created_at": stamp(T0 + at + 0.1),
    }
    if rid is not None:
        data["id"] = rid
    data.update(extra)
    return {"type": "sensor_reading", "data": data}


def run(messages: list[tuple[dict[str, Any], float | None]], **config: Any) -> HealthResult:
    engine = HealthEngine(HealthConfig(**config))
    for message, received in messages:
        engine.observe(message, None if received is None else T0 + received)
    return engine.result()


def steady(sensor: object = 1, n: int = 10, every: float = 1.0, start_id: int = 1) -> list[Any]:
    """``n`` readings ``every`` seconds apart, received 0.2 s after their timestamp."""
    return [
        (reading(sensor, i * every, 20.0 + (i % 3) * 0.1, rid=start_id + i), i * every + 0.2)
        for i in range(n)
    ]


def flags(result: HealthResult, source: str = "1") -> dict[str, str]:
    row = next(r for r in result.sources if r.source == source)
    return {f.check: f.level for f in row.flags}


def test_a_steady_sensor_passes_every_check() -> None:
    """Regular, fresh, ordered, plausible readings raise no flag at all."""
    result = run(steady(), expect_count=1, max_error_rate=0.1)
    assert flags(result) == {}
    assert result.ok and result.level == PASS
    assert "health OK: 1 source: 1 pass, 0 suspect, 0 fail" == result.verdict()


def test_the_same_id_twice_fails_duplicates() -> None:
    messages = steady(n=6)
    messages.append(messages[3])
    result = run(messages)
    assert flags(result)["duplicates"] == FAIL
    assert not result.ok


def test_the_same_timestamp_and_value_under_a_new_id_is_suspect() -> None:
    messages = steady(n=6)
    again = json.loads(json.dumps(messages[-1][0]))
    again["data"]["id"] = 99
    messages.append((again, messages[-1][1]))
    result = run(messages)
    assert flags(result) == {"duplicates": SUSPECT}
    assert result.ok  # suspect alone does not fail ...
    assert not run(messages, strict=True).ok  # ... unless --strict


def test_an_id_going_back_is_suspect_and_a_timestamp_going_back_fails() -> None:
    messages = steady(n=6)
    late = reading(1, 2.5, 20.0, rid=3)  # id 3 was used: a duplicate, not only order
    result = run([*messages, (reading(1, 6.0, 20.1, rid=2_000), 6.2), (late, 6.3)])
    assert flags(result)["order"] == FAIL
    back = run([*steady(n=6, start_id=10), (reading(1, 6.0, 20.2, rid=5), 6.2)])
    assert flags(back) == {"order": SUSPECT}


def test_skew_over_the_limit_fails_and_created_before_timestamp_is_suspect() -> None:
    skewed = [(m, r + 400.0) for m, r in steady()]
    assert flags(run(skewed))["clock_skew"] == FAIL
    assert run(skewed).sources[0].max_skew == pytest.approx(400.2)
    assert flags(run(skewed, max_skew=None)) == {}
    early = reading(1, 11.0, 20.0, rid=50, created_at=stamp(T0 + 10.0))
    assert flags(run([*steady(), (early, 11.1)])) == {"clock_skew": SUSPECT}


def test_a_timestamp_that_is_not_rfc3339_is_suspect_not_a_crash() -> None:
    for bad in ("yesterday", "2024-13-45T25:61:00Z", "1705320000", "2024-01-15T12:00:00", 17):
        result = run([*steady(), (reading(1, 0, 20.0, rid=77, timestamp=bad), 10.5)])
        assert flags(result) == {"clock_skew": SUSPECT}, bad
    assert parse_timestamp("2024-01-15T12:00:00.123+01:00") == pytest.approx(T0 - 3600 + 0.123)


def test_plausibility_range_spike_flatline_confidence_and_bad_values() -> None:
    assert flags(run([(reading(1, 0, 200.0), 0.1)]))["plausibility"] == FAIL
    spike = run([(reading(1, 0, 20.0), 0.1), (reading(1, 1, 30.0), 1.1)])
    assert flags(spike) == {"plausibility": SUSPECT}
    assert "spike" in spike.sources[0].flags[0].detail
    flat = run([(reading(1, i, 20.0, rid=i + 1), i + 0.1) for i in range(25)])
    assert flags(flat) == {"plausibility": SUSPECT}
    assert "flat line: 20 20 times in a row" in flat.sources[0].flags[0].detail
    doubt = run([(reading(1, 0, 20.0, confidence=0.2), 0.1)])
    assert flags(doubt) == {"plausibility": SUSPECT}
    for value in (None, "20.5", True, [1]):
        assert flags(run([(reading(1, 0, value), 0.1)])) == {"plausibility": FAIL}, value
    other_unit = run([(reading(1, 0, 70.0, unit="°F"), 0.1)])
    assert flags(other_unit) == {"plausibility": SUSPECT}  # no °C range applied to °F


def test_offline_and_low_battery_statuses_are_suspect_for_their_source() -> None:
    status = {"type": "sensor_status", "data": {"sensor_id": 4, "state": "offline"}}
    battery = {"type": "sensor_status", "data": {"sensor_id": 5, "state": "low_battery"}}
    fine = {"type": "sensor_status", "data": {"sensor_id": 6, "state": "online"}}
    result = run([(status, 1.0), (battery, 1.0), (fine, 1.0)])
    assert flags(result, "4") == {"status": SUSPECT}
    assert flags(result, "5") == {"status": SUSPECT}
    assert flags(result, "6") == {}


def test_error_rate_over_the_limit_fails_as_a_stream_check() -> None:
    error = {"type": "error", "data": {"sensor_id": 1, "message": "x", "code": "E"}}
    messages = [*steady(n=8), (error, 9.0), (error, 9.5)]
    result = run(messages, max_error_rate=0.1)
    check = next(c for c in result.checks if c.check == "error_rate")
    assert (check.level, check.value, check.threshold) == (FAIL, 0.2, 0.1)
    assert not result.ok
    assert run(messages, max_error_rate=0.25).ok


def test_coverage_by_count_and_by_listed_ids() -> None:
    messages = [*steady(1), *steady(2, start_id=100)]
    coverage = next(c for c in run(messages, expect_count=3).checks if c.check == "coverage")
    assert (coverage.level, coverage.value, coverage.detail) == (FAIL, 2, "2 of 3 sources seen")
    listed = run(messages, expect_ids=("1", "7"))
    assert not listed.ok
    assert "missing 7" in listed.verdict()
    assert run(messages, expect_ids=("1", "2")).ok


def test_staleness_mid_run_and_to_the_end_of_the_run() -> None:
    gap = [*steady(n=3), (reading(1, 100.0, 20.0, rid=9), 100.2)]
    assert flags(run(gap, max_staleness=30.0))["staleness"] == FAIL
    # sensor 2 stops at 9 s; sensor 1 runs to 99 s: 2 has been silent 90 s at the end
    messages = [*steady(1, n=100), *steady(2, n=10, start_id=500)]
    result = run(messages, max_staleness=60.0)
    assert flags(result, "2") == {"staleness": FAIL}
    assert flags(result, "1") == {}
    staleness = next(c for c in result.checks if c.check == "staleness")
    assert staleness.level == FAIL and staleness.value == pytest.approx(90.0)


def test_a_gap_over_five_times_the_median_interval_is_suspect_cadence() -> None:
    messages = [*steady(n=10), (reading(1, 21.0, 20.1, rid=11), 21.2)]
    assert flags(run(messages)) == {"cadence": SUSPECT}
    few = [*steady(n=3), (reading(1, 21.0, 20.1, rid=11), 21.2)]  # under 5 readings
    assert flags(run(few)) == {}


def test_without_receive_times_the_sensor_clock_is_the_time_axis() -> None:
    """Plain JSON Lines: staleness and cadence on data.timestamp; skew not measured."""
    messages = [(m, None) for m, _ in steady(n=10)]
    messages.append((reading(1, 200.0, 20.0, rid=99), None))
    result = run(messages, max_staleness=60.0)
    assert flags(result) == {"staleness": FAIL, "cadence": SUSPECT}
    skew = next(c for c in result.checks if c.check == "clock_skew")
    assert skew.value is None and "not measured" in skew.detail


def test_messages_without_a_source_count_under_no_source() -> None:
    message = reading(None, 0, 20.0)
    del message["data"]["sensor_id"]
    result = run([(message, 0.1), ({"type": "error"}, 0.2), ([1, 2], 0.3)])
    assert [r.source for r in result.sources] == [NO_SOURCE]
    assert result.sources[0].count == 2


def test_source_key_path_picks_another_field() -> None:
    messages = [(reading(1, 0, 20.0, device={"serial": "A"}), 0.1)]
    messages.append((reading(1, 1, 20.1, device={"serial": "B"}), 1.1))
    result = run(messages, source_key=("data", "device", "serial"))
    assert sorted(r.source for r in result.sources) == ["A", "B"]


def test_result_is_pure_and_can_be_asked_again() -> None:
    engine = HealthEngine()
    for message, received in steady():
        engine.observe(message, T0 + received)
    first = engine.result(end=T0 + 500.0)
    assert engine.result(end=T0 + 500.0).as_dict() == first.as_dict()
    assert engine.result().ok


def test_per_source_state_is_small() -> None:
    """10^5 sources with a few readings each stay well under 1 KB apiece (10^6 fit too)."""
    engine = HealthEngine()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(3_000):
        for k in range(3):
            engine.observe(reading(i, k, 20.0 + k * 0.1, rid=i * 3 + k), T0 + k + 0.1)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert used / 3_000 < 1024, used  # the duplicate window's 9,000 ids included


# -- durations ------------------------------------------------------------------------------


# -- rules ----------------------------------------------------------------------------------


def test_builtin_rules_cover_every_type_the_simulator_emits() -> None:
    from wscli.server.simulator import QUANTITIES

    for kind, quantity in QUANTITIES.items():
        rule = BUILTIN_RULES[kind]
        assert rule.unit == quantity.unit
        assert rule.min is not None and rule.max is not None
        assert rule.min <= quantity.low and quantity.high <= rule.max


def test_a_rules_file_overrides_and_adds_types() -> None:
    rules = parse_rules(
        "[defaults]\nflatline = 5\n\n[types.temperature]\nmax = 40\n\n"
        '[types.pressure]\nunit = "hPa"\nmin = 800\nmax = 1100\n'
    )
    assert rules.for_type("temperature").max == 40.0
    assert rules.for_type("temperature").min == -40.0  # the rest stays built in
    assert rules.for_type("temperature").flatline == 5
    assert rules.for_type("pressure").unit == "hPa"
    assert rules.for_type("unknown").flatline == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[types.temperature]\nmin = 1\nmax_stpe = 3\n", "rules:3: 'types.temperature.max_stpe'"),
        ("\n[defualts]\nflatline = 3\n", "rules:2: 'defualts'"),
        ("[defaults]\nflatline = 'ten'\n", "rules:2: 'defaults.flatline': must be a whole"),
        ("[types.co2]\nmin = 'low'\n", "rules:2: 'types.co2.min': must be a number"),
        ("[types.co2]\nmin = 10\nmax = 5\n", "'types.co2.max': is below min"),
        ("[types.co2\nmin = 1\n", "not valid TOML"),
    ],
)
def test_a_rules_file_with_a_typo_names_the_line_and_key(text: str, expected: str) -> None:
    with pytest.raises(BadUsage) as caught:
        parse_rules(text)
    assert expected in caught.value.message
    assert caught.value.exit_code == 2


def test_an_unreadable_rules_file_is_a_usage_error(tmp_path: Any) -> None:
    with pytest.raises(BadUsage, match="cannot read --rules"):
        load_rules(str(tmp_path / "missing.toml"))


# -- reports --------------------------------------------------------------------------------


def faulty_result() -> HealthResult:
    messages = [*steady(1), *steady(2, start_id=100)]
    messages.append((reading(2, 10.0, 500.0, rid=200), 10.2))
    return run(messages, expect_count=3)


def test_json_has_sources_and_checks_with_the_fields_the_issue_names() -> None:
    document = faulty_result().as_dict()
    assert document["ok"] is False
    first = document["sources"][0]
    assert first["source"] == "2" and first["level"] == FAIL
    keys = {"source", "location", "type", "count", "first_seen", "last_seen", "max_gap_s"}
    assert keys | {"max_skew_s", "flags"} <= set(first)
    assert first["flags"][0] == {
        "check": "plausibility",
        "level": FAIL,
        "detail": "value 500 outside -40..85",
        "at": "2024-01-15T12:00:10.200Z",
        "count": 2,  # the range (fail) and the spike (suspect): one flag, the worst shown
    }
    checks = {c["check"]: c for c in document["checks"]}
    assert checks["coverage"]["value"] == 2 and checks["coverage"]["threshold"] == 3
    assert checks["staleness"]["threshold"] == 60.0
    json.dumps(document)  # serialisable as is


def test_junit_has_a_case_per_source_and_per_stream_check() -> None:
    xml = health_junit(faulty_result(), elapsed=1.0)
    cases = ET.fromstring(xml).findall(".//testcase")
    names = [c.get("name") for c in cases]
    assert names == ["source 2", "source 1", "check coverage"]
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failed == ["source 2", "check coverage"]


def test_text_report_is_a_table_then_the_verdict_and_fits_the_width() -> None:
    wide = health_text(faulty_result(), color=False, width=120).splitlines()
    assert wide[0].split()[:4] == ["source", "location", "type", "count"]
    text = health_text(faulty_result(), color=False, width=80)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["source", "type", "count"]  # location and rate give way
    assert all(len(line) <= 80 for line in lines[:-1])  # the verdict is one line for grep
    assert "coverage: fail: 2 of 3 sources seen" in text
    assert (
        lines[-1]
        == "health FAILED: 2 sources: 1 pass, 0 suspect, 1 fail; coverage fail: 2 of 3 sources seen"
    )


def test_timestamps_in_one_second_take_the_fast_path_and_agree_with_the_slow_one() -> None:
    """Ten a second share their second: only the milliseconds are read, same numbers."""
    engine = HealthEngine()
    texts = ["2024-01-15T12:00:05.000Z", "2024-01-15T12:00:05.999Z", "2024-01-15T12:00:05.12aZ"]
    for n, text in enumerate(texts):
        engine.observe(reading(1, 0, 20.0, rid=n + 1, timestamp=text, created_at=text), None)
    state = engine.sources[1]
    assert state.last_ts == pytest.approx(T0 + 5.999, abs=1e-9)
    assert state.last_ts == parse_timestamp(texts[1])
    assert state.flags is not None and "not RFC 3339" in state.flags["clock_skew"].detail


def test_no_message_is_no_pass_and_a_stopped_run_is_never_ok_in_words() -> None:
    """A check that saw nothing did not pass; an interrupted run never says OK."""
    empty = HealthEngine().result()
    assert not empty.ok
    assert empty.verdict() == "health FAILED: no messages, so no source to judge"
    result = run(steady())
    result.stopped = "interrupted"
    assert result.verdict() == (
        "health INTERRUPTED: 1 source: 1 pass, 0 suspect, 0 fail (interrupted)"
    )


def test_sources_past_the_cap_are_counted_not_judged() -> None:
    """A stream of ever-new ids cannot take the memory: past max_sources, counted only."""
    messages = [(reading(i, 0, 20.0, rid=i + 1), 0.1) for i in range(10)]
    result = run(messages, max_sources=4)
    assert len(result.sources) == 4 and result.messages == 10
    check = next(c for c in result.checks if c.check == "sources")
    assert check.level == SUSPECT and "6 messages from the rest" in check.detail
    assert "sources suspect: over 4 sources" in result.verdict()
