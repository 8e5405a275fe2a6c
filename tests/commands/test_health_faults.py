"""Every ``serve`` stream fault is caught by the right health check, on a simulated clock.

The simulator runs 60 simulated seconds at 10 messages a second (no real waiting); each
message is received 50 ms after it was stamped. A clean stream raises nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from wscli.checks.health import FAIL, PASS, SUSPECT, HealthConfig, HealthEngine, HealthResult
from wscli.server.simulator import Simulator, StreamFaults

START = datetime(2024, 1, 15, 12, 0, tzinfo=timezone.utc)


def simulate(
    faults: StreamFaults | None = None, *, seed: int = 1, seconds: float = 60.0, **config: Any
) -> HealthResult:
    clock = [START]
    sim = Simulator(seed, now=lambda: clock[0], faults=faults)
    engine = HealthEngine(HealthConfig(**config))
    for _ in range(int(seconds * 10)):
        engine.observe(sim.next_message(), clock[0].timestamp() + 0.05)
        clock[0] += timedelta(seconds=0.1)
    return engine.result()


def levels(result: HealthResult, check: str) -> dict[str, str]:
    """source -> level of ``check``, for the sources it flagged."""
    return {r.source: f.level for r in result.sources for f in r.flags if f.check == check}


@pytest.mark.parametrize("seed", range(6))
def test_a_clean_stream_raises_nothing(seed: int) -> None:
    """No false alarms: every check on, 60 simulated seconds, not one flag."""
    result = simulate(seed=seed, expect_count=8, max_error_rate=0.1, max_staleness=30.0)
    assert [(r.source, r.flags) for r in result.sources if r.flags] == []
    assert all(check.level == PASS for check in result.checks)
    assert result.ok and len(result.sources) == 8


def test_a_stale_sensor_fails_staleness_for_that_sensor_only() -> None:
    result = simulate(StreamFaults(stale={3: 10.0}), max_staleness=30.0)
    assert levels(result, "staleness") == {"3": FAIL}
    assert not result.ok


def test_duplicates_fail_duplicates() -> None:
    result = simulate(StreamFaults(duplicate_rate=0.05))
    flagged = levels(result, "duplicates")
    assert flagged and set(flagged.values()) == {FAIL}


def test_reordered_readings_fail_order() -> None:
    result = simulate(StreamFaults(reorder_rate=0.05))
    flagged = levels(result, "order")
    assert flagged and set(flagged.values()) == {FAIL}
    details = [f.detail for r in result.sources for f in r.flags if f.check == "order"]
    assert all("timestamp went back" in d for d in details)


def test_skew_of_one_sensor_fails_clock_skew_for_it() -> None:
    result = simulate(StreamFaults(skew={3: 600.0}))
    assert levels(result, "clock_skew") == {"3": FAIL}
    everyone = simulate(StreamFaults(skew={None: -600.0}))
    assert set(levels(everyone, "clock_skew")) == {str(i) for i in range(1, 9)}


def test_spikes_fail_plausibility() -> None:
    result = simulate(StreamFaults(spike_rate=0.05))
    flagged = levels(result, "plausibility")
    assert flagged and FAIL in flagged.values()


def test_a_flatline_sensor_is_suspect() -> None:
    result = simulate(StreamFaults(flatline=frozenset({5})))
    assert levels(result, "plausibility") == {"5": SUSPECT}
    assert result.ok and not simulate(StreamFaults(flatline=frozenset({5})), strict=True).ok


def test_bad_statuses_are_suspect() -> None:
    result = simulate(StreamFaults(status_rate=0.05))
    flagged = levels(result, "status")
    assert flagged and set(flagged.values()) == {SUSPECT}


def test_faults_are_reproducible_with_a_seed() -> None:
    faults = StreamFaults(duplicate_rate=0.05, reorder_rate=0.05, spike_rate=0.05)
    first = simulate(faults, seed=4).as_dict()
    assert simulate(faults, seed=4).as_dict() == first
