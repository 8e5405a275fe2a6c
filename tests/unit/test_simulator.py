"""The simulator: pure, seeded, plausible sensor-stream messages (no sockets, no clock)."""

from __future__ import annotations

import collections
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from wscli.server import simulator as simulator_module
from wscli.server.simulator import (
    INVALID_KINDS,
    MALFORMED_KINDS,
    QUANTITIES,
    Simulator,
    rfc3339,
)

T0 = datetime(2024, 1, 15, 12, 0, 0, tzinfo=timezone.utc)
RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class FakeClock:
    """A clock that advances 100 ms per reading, like a stream at rate 10."""

    def __init__(self) -> None:
        self.now = T0
        self.calls = 0

    def __call__(self) -> datetime:
        self.calls += 1
        self.now += timedelta(milliseconds=100)
        return self.now


def readings(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["data"] for m in messages if m["type"] == "sensor_reading"]


def test_same_seed_and_clock_same_stream() -> None:
    """A seed and a clock reproduce the stream exactly; another seed differs."""
    first = [Simulator(seed=7, now=FakeClock()).next_message() for _ in range(1)]
    a = Simulator(seed=7, now=FakeClock())
    b = Simulator(seed=7, now=FakeClock())
    c = Simulator(seed=8, now=FakeClock())
    stream_a = [a.next_message() for _ in range(500)]
    assert stream_a == [b.next_message() for _ in range(500)]
    assert stream_a != [c.next_message() for _ in range(500)]
    assert stream_a[:1] == first


def test_time_comes_only_from_the_injected_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a clock injected, the simulator never reads the system time."""

    def no_system_time() -> datetime:
        raise AssertionError("read the system clock")

    monkeypatch.setattr(simulator_module, "utc_now", no_system_time)
    clock = FakeClock()
    sim = Simulator(seed=1, now=clock)
    message = sim.reading(sim.sensors[0])
    assert clock.calls >= 2
    assert message["data"]["timestamp"] == rfc3339(clock.now)


def test_ids_increase_monotonically() -> None:
    """Reading ids go up by one per reading, whatever else is generated between them."""
    sim = Simulator(seed=3)
    ids = []
    for i in range(2000):
        if i % 50 == 0:
            sim.malformed()
            sim.invalid()
        ids.extend(d["id"] for d in readings([sim.next_message()]))
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_message_mix() -> None:
    """About 92% readings, 6% status, 2% errors."""
    sim = Simulator(seed=11)
    counts = collections.Counter(sim.next_message()["type"] for _ in range(20_000))
    assert 0.90 < counts["sensor_reading"] / 20_000 < 0.94
    assert 0.045 < counts["sensor_status"] / 20_000 < 0.075
    assert 0.01 < counts["error"] / 20_000 < 0.03


def test_several_sensors_locations_and_kinds() -> None:
    """At least six sensors, the documented locations and all five reading types."""
    sim = Simulator(seed=2)
    data = readings([sim.next_message() for _ in range(3000)])
    assert len({d["sensor_id"] for d in data}) >= 6
    assert {"basement_wall", "attic", "crawl_space", "kitchen", "bathroom", "garage"} <= {
        d["location"] for d in data
    }
    assert {d["type"] for d in data} == set(QUANTITIES)
    for d in data:
        assert d["unit"] == QUANTITIES[d["type"]].unit


def test_values_are_plausible_and_drift() -> None:
    """Values stay in bounds, move a little each time, confidence 0.7-1.0, battery 0-100."""
    sim = Simulator(seed=4)
    data = readings([sim.next_message() for _ in range(10_000)])
    by_sensor: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
    for d in data:
        q = QUANTITIES[d["type"]]
        assert q.low <= d["value"] <= q.high
        assert 0.7 <= d["confidence"] <= 1.0
        assert 0 <= d["extras_json"]["battery_level"] <= 100
        assert 0 <= d["extras_json"]["signal_strength"] <= 100
        by_sensor[d["sensor_id"]].append(d)
    for series in by_sensor.values():
        values = [d["value"] for d in series]
        assert len(set(values)) > 10  # it drifts
        step = QUANTITIES[series[0]["type"]].step
        jumps = [abs(b - a) for a, b in zip(values, values[1:], strict=False)]
        assert max(jumps) < 8 * step + 1  # a walk, not noise
        battery = [d["extras_json"]["battery_level"] for d in series]
        rises = sum(b > a for a, b in zip(battery, battery[1:], strict=False))
        assert rises <= 2  # drains, except when "replaced"
        assert battery[-1] < battery[0] or rises


def test_timestamps_are_rfc3339_utc_with_z() -> None:
    """Every timestamp is UTC with milliseconds and a Z; created_at follows timestamp."""
    sim = Simulator(seed=6)
    for message in (sim.next_message() for _ in range(500)):
        data = message["data"]
        assert RFC3339_Z.match(data["timestamp"]), data
        if message["type"] == "sensor_reading":
            assert RFC3339_Z.match(data["created_at"])
            assert RFC3339_Z.match(data["calibration_json"]["calibrated_at"])
            assert data["created_at"] > data["timestamp"]
            assert data["calibration_json"]["calibrated_at"] < data["timestamp"]


def test_errors_look_like_backend_errors() -> None:
    """Error messages name the sensor and carry a code."""
    sim = Simulator(seed=8)
    errors = [sim.error(sensor) for sensor in sim.sensors for _ in range(5)]
    for message in errors:
        data = message["data"]
        assert f"sensor {data['sensor_id']}" in data["message"]
        assert re.fullmatch(r"[A-Z_]+", data["code"])
    assert any(e["data"]["code"] == "SENSOR_TIMEOUT" for e in errors)


def test_status_says_low_battery_when_it_is_low() -> None:
    """A sensor with a flat battery reports low_battery."""
    sim = Simulator(seed=9)
    sensor = sim.sensors[0]
    sensor.battery = 10.0
    assert sim.status(sensor)["data"]["state"] == "low_battery"


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
def test_malformed_is_never_json(kind: str) -> None:
    """Each malformed kind fails json.loads, every time."""
    sim = Simulator(seed=10)
    for _ in range(200):
        text = sim.malformed(kind)
        assert isinstance(text, str) and text
        with pytest.raises(ValueError):
            json.loads(text)


def test_malformed_and_invalid_vary() -> None:
    """Without a kind, malformed and invalid pick among all their kinds."""
    sim = Simulator(seed=12)
    texts = {sim.malformed()[:2] for _ in range(200)}
    assert len(texts) >= 3
    paths = set()
    for _ in range(300):
        message = sim.invalid()
        json.dumps(message)  # still plain JSON
        paths.add(json.dumps(sorted(message)))
    assert len(paths) >= 2


def test_unknown_kinds_are_refused() -> None:
    """Asking for a fault that does not exist is a programming error."""
    sim = Simulator(seed=0)
    with pytest.raises(ValueError, match="unknown invalid kind"):
        sim.invalid("nope")
    with pytest.raises(ValueError, match="unknown malformed kind"):
        sim.malformed("nope")
    assert len(INVALID_KINDS) >= 8


def test_rfc3339_formats_naive_and_aware_times() -> None:
    """Aware times are converted to UTC; naive ones are taken as UTC."""
    aware = datetime(2024, 1, 15, 13, 0, 0, 120_000, tzinfo=timezone(timedelta(hours=1)))
    assert rfc3339(aware) == "2024-01-15T12:00:00.120Z"
    assert rfc3339(datetime(2024, 1, 15, 12, 0)) == "2024-01-15T12:00:00.000Z"
