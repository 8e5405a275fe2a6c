"""``wscli probe --health``: the CI gate on staging names the sensor that failed (issue 19)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli, run_wscli
from wscli.checks.health import HealthConfig, HealthEngine
from wscli.probe.checks import Plan, Window, evaluate
from wscli.server.simulator import Simulator, StreamFaults


def window_with(messages: int, **config: Any) -> tuple[Plan, Window]:
    plan = Plan(health=HealthConfig(**config), within=5.0)
    window = Window()
    window.health = HealthEngine(plan.health)
    sim = Simulator(4)
    for i in range(messages):
        message = sim.next_message()
        window.add(i * 0.01, message["type"], None)
        window.health.observe(message, None)
    return plan, window


def test_each_health_check_is_one_assertion() -> None:
    plan, window = window_with(100, expect_count=9)
    assertions = {a.name: a for a in evaluate(plan, window)}
    assert list(assertions)[:2] == ["health coverage", "health staleness"]
    coverage = assertions["health coverage"]
    assert coverage.ok is False
    assert (coverage.expected, coverage.measured) == (
        ">= 9 sources reporting",
        "fail: 8 of 9 sources seen",
    )
    assert all(a.ok for name, a in assertions.items() if name != "health coverage")


def test_without_a_window_health_is_not_measured() -> None:
    plan = Plan(health=HealthConfig())
    [assertion] = evaluate(plan, None)
    assert (assertion.name, assertion.ok, assertion.measured) == ("health", None, "not measured")


def test_health_listens_the_whole_window() -> None:
    plan, window = window_with(10)
    assert plan.checking and plan.holds_window and not plan.satisfied(window)


def test_within_takes_a_duration() -> None:
    result = run_cli("probe", "ws://127.0.0.1:9/x", "--within", "soon", expect=2)
    assert "'soon' is not a duration" in result.stderr


@pytest.mark.slow
def test_probe_names_the_stale_sensor_in_every_report(serve: Any, tmp_path: Path) -> None:
    """The issue's gate: --expect-sensors 8 --max-staleness --within; sensor 2 went quiet."""
    server = serve(seed=5, rate=100.0, stream_faults=StreamFaults(stale={2: 0.5}))
    url = f"ws://127.0.0.1:{server.port}/api/ws/sensor/stream"
    junit = tmp_path / "probe.xml"
    result = run_wscli(
        "probe",
        url,
        "--expect-sensors",
        "8",
        "--max-staleness",
        "1s",
        "--within",
        "2500ms",
        "--junit",
        str(junit),
        "-o",
        "json",
        expect=1,
    )
    doc = json.loads(result.stdout)
    failed = [a["name"] for a in doc["assertions"] if a["ok"] is False]
    assert failed == ["health staleness"]
    sources = {s["source"]: s for s in doc["health"]["sources"]}
    assert [f["check"] for f in sources["2"]["flags"]] == ["staleness"]
    assert all(not s["flags"] for name, s in sources.items() if name != "2")
    cases = ET.parse(junit).getroot().findall(".//testcase")
    failing = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failing == ["assert: health staleness", "source 2"]
    text = run_wscli(
        "probe", url, "--expect-sensors", "8", "--max-staleness", "1s", "--within", "2s", expect=1
    ).stdout
    row = next(line for line in text.splitlines() if line.startswith("2 "))
    assert "fail staleness" in row


@pytest.mark.slow
def test_a_clean_stream_passes_the_gate(serve: Any) -> None:
    server = serve(seed=6, rate=100.0)
    url = f"ws://127.0.0.1:{server.port}/api/ws/sensor/stream"
    result = run_wscli("probe", url, "--expect-sensors", "8", "--within", "2s", "-q")
    assert result.stdout.startswith("OK: ")
    assert "8 assertions passed" in result.stdout
