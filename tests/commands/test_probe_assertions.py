"""`wscli probe` CI assertions, passing and failing against `wscli serve` and its faults."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import await_upgrade_request, clean_env, unit, wscli_executable
from tests.support.probe import check_reports_agree, probe
from wscli.probe.checks import Plan, Window, evaluate

# -- pure: the window and the verdicts --------------------------------------------------


def _window(times: list[float], seconds: float, kind: str = "sensor_reading") -> Window:
    window = Window(seconds=seconds)
    for at in times:
        window.add(at, kind, True)
    return window


def test_longest_gap_counts_the_silence_after_the_last_message() -> None:
    """A stream that stops mid-window has the trailing silence as its longest gap."""
    assert _window([0.1, 0.2, 0.3], 2.0).longest_gap() == pytest.approx(1.7)
    assert _window([0.1, 0.9, 1.0], 1.0).longest_gap() == pytest.approx(0.8)
    assert _window([], 1.5).longest_gap() == 1.5


def test_plan_without_window_assertions_stops_once_settled() -> None:
    """min-count and expect-type are settled by enough messages; max-gap needs the whole window."""
    window = _window([0.1, 0.2], 0.2)
    assert Plan(min_count=2).satisfied(window)
    assert not Plan(min_count=3).satisfied(window)
    assert not Plan(expect_types=("error",)).satisfied(window)
    assert not Plan(min_count=1, max_gap=1.0).satisfied(window)


def test_evaluate_without_a_window_measures_nothing() -> None:
    """When the connection never got that far every assertion is reported, not measured."""
    results = evaluate(Plan(expect_message=True, validate=True), None)
    assert [(a.name, a.ok, a.measured) for a in results] == [
        ("expect-message", None, "not measured"),
        ("validate", None, "not measured"),
    ]


# -- against wscli serve --------------------------------------------------------------------


CASES: list[tuple[str, dict[str, Any], list[str], str, bool, str]] = [
    # (id, serve config, probe flags, assertion name, passes, measured contains)
    ("expect-message", {}, ["--expect-message"], "expect-message", True, "first after"),
    ("min-count ok", {}, ["--min-count", "5", "--within", "2"], "min-count", True, ""),
    (
        "min-count short",
        {"rate": 4.0},
        ["--min-count", "50", "--within", "1"],
        "min-count",
        False,
        " in ",
    ),
    (
        "expect-type ok",
        {},
        ["--expect-type", "sensor_reading"],
        "expect-type sensor_reading",
        True,
        "",
    ),
    (
        "expect-type missing",
        {"rate": 50.0},
        ["--expect-type", "alarm", "--within", "0.5"],
        "expect-type alarm",
        False,
        "seen: ",
    ),
    (
        "forbid-type ok",
        {},
        ["--forbid-type", "alarm", "--within", "0.5"],
        "forbid-type alarm",
        True,
        "0 seen",
    ),
    (
        "forbid-type seen",
        {},
        ["--forbid-type", "sensor_reading", "--within", "0.5"],
        "forbid-type sensor_reading",
        False,
        "seen",
    ),
    ("max-gap ok", {}, ["--max-gap", "1", "--within", "0.5"], "max-gap", True, " s"),
    (
        "max-gap broken",
        {"rate": 2.0},
        ["--max-gap", "0.2", "--within", "1.2"],
        "max-gap",
        False,
        " s",
    ),
    ("max-latency ok", {}, ["--max-latency", "5000"], "max-latency", True, " ms"),
    ("max-latency slow", {}, ["--max-latency", "0.0001"], "max-latency", False, " ms"),
    (
        "validate ok",
        {},
        ["--validate", "--min-count", "20", "--within", "0.5"],
        "validate",
        True,
        ": all valid",
    ),
    (
        "validate invalid",
        {"invalid_rate": 1.0},
        ["--validate", "--min-count", "5", "--within", "0.5"],
        "validate",
        False,
        " invalid",
    ),
    (
        "validate malformed",
        {"malformed_rate": 1.0},
        ["--validate", "--min-count", "3", "--within", "0.5"],
        "validate",
        False,
        " invalid",
    ),
]


@pytest.mark.parametrize(
    ("config", "flags", "name", "passes", "measured"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
@pytest.mark.slow
def test_assertion_against_serve(
    serve: Any,
    tmp_path: Path,
    config: dict[str, Any],
    flags: list[str],
    name: str,
    passes: bool,
    measured: str,
) -> None:
    """Each assertion passes on a healthy stream and fails (exit 1) on the matching fault."""
    server = serve(**{"rate": 200.0, **config})
    probed = probe(tmp_path, server.url, *flags, expect=0 if passes else 1)
    check = probed.assertion(name)
    assert check["ok"] is passes, check
    assert measured in check["measured"], check
    assert probed.doc["window"]["messages"] >= (1 if name != "expect-type alarm" else 0)


def test_every_assertion_is_reported_before_exit_1(serve: Any, tmp_path: Path) -> None:
    """Several failing and passing assertions: all reported, exit 1, steps all ok."""
    server = serve(rate=200.0, invalid_rate=1.0)
    probed = probe(
        tmp_path,
        server.url,
        "--expect-message",
        "--expect-type",
        "alarm",
        "--validate",
        "--min-count",
        "3",
        "--within",
        "0.5",
        expect=1,
    )
    verdicts = {a["name"]: a["ok"] for a in probed.doc["assertions"]}
    assert verdicts == {
        "expect-message": True,
        "min-count": True,
        "expect-type alarm": False,
        "validate": False,
    }
    assert all(s["status"] in ("ok", "skipped") for s in probed.doc["steps"])
    assert "2 of 4 assertions" in probed.doc["result"]


def test_assertions_are_not_measured_when_the_connection_fails(
    tmp_path: Path, free_port: int
) -> None:
    """Refused: exit 3, and the assertions are skipped in the JUnit file, not passed."""
    probed = probe(tmp_path, f"ws://127.0.0.1:{free_port}/ws", "--min-count", "3", expect=3)
    assert probed.assertion("min-count")["ok"] is None


def test_window_is_left_as_soon_as_assertions_are_settled(serve: Any, tmp_path: Path) -> None:
    """--min-count 3 --within 30 on a fast stream ends in well under the window."""
    server = serve(rate=200.0)
    started = time.monotonic()
    probed = probe(tmp_path, server.url, "--min-count", "3", "--within", "30", expect=0)
    assert time.monotonic() - started < unit(10)
    assert probed.doc["window"]["ended"] == "assertions settled"


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_interrupted_probe_still_writes_json_and_junit(
    silent_listener: socket.socket, tmp_path: Path, sig: int, code: int
) -> None:
    """Ctrl-C or SIGTERM during a slow upgrade: exit 130/143, parseable JSON, JUnit written."""
    url = f"ws://127.0.0.1:{silent_listener.getsockname()[1]}/"
    junit_file = tmp_path / "probe.xml"
    args = [
        "probe",
        url,
        "--connect-timeout",
        "60",
        "-o",
        "json",
        "--junit",
        str(junit_file),
    ]
    proc = subprocess.Popen(
        [wscli_executable(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=clean_env(),
        text=True,
    )
    try:
        with await_upgrade_request(silent_listener):  # the upgrade waits on the server
            proc.send_signal(sig)
            stdout, stderr = proc.communicate(timeout=unit(10))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    doc = json.loads(stdout)
    assert doc["interrupted"] is True and doc["ok"] is False
    assert doc["result"].startswith("INTERRUPTED")
    upgrade = next(s for s in doc["steps"] if s["name"] == "upgrade")
    assert upgrade["status"] == "failed" and upgrade["error"] == "interrupted"
    check_reports_agree(doc, ET.parse(junit_file).getroot(), code)
