"""``wscli validate --health``: recordings, JSON Lines, stdin and live URLs (issue 19)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli, run_wscli
from wscli.server.simulator import Simulator, StreamFaults

START = datetime(2024, 1, 15, 12, 0, tzinfo=timezone.utc)


def stream(
    faults: StreamFaults | None = None, n: int = 300, seed: int = 1
) -> list[tuple[float, dict[str, Any]]]:
    """(seconds since start, message): 10 a second on a simulated clock."""
    clock = [START]
    sim = Simulator(seed, now=lambda: clock[0], faults=faults)
    out = []
    for i in range(n):
        out.append((i * 0.1, sim.next_message()))
        clock[0] += timedelta(seconds=0.1)
    return out


def write_recording(
    path: Path, messages: list[tuple[float, dict[str, Any]]], lag: float = 0.05
) -> Path:
    """A wscli recording whose receive times are the simulated ones, ``lag`` after stamping."""
    header = {
        "wscli": "recording",
        "version": 1,
        "url": "ws://x/",
        "started": "2024-01-15T12:00:00.000Z",
    }
    lines = [json.dumps(header)]
    lines.append(json.dumps({"t": 0.0, "dir": "out", "op": "text", "len": 2, "text": "hi"}))
    for t, message in messages:
        text = json.dumps(message)
        lines.append(
            json.dumps(
                {"t": round(t + lag, 6), "dir": "in", "op": "text", "len": len(text), "text": text}
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_jsonl(path: Path, messages: list[tuple[float, dict[str, Any]]]) -> Path:
    path.write_text("".join(json.dumps(m) + "\n" for _, m in messages), encoding="utf-8")
    return path


def test_a_clean_recording_passes_with_a_table_and_verdict(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "clean.rec", stream())
    out = run_cli("validate", "--health", "--expect-sensors", "8", str(path)).stdout
    assert "OK: 300 messages, all valid" in out
    assert out.rstrip().splitlines()[-1] == "health OK: 8 sources: 8 pass, 0 suspect, 0 fail"
    assert "basement_wall" in out and "moisture_level" in out


def test_recording_receive_times_measure_clock_skew(tmp_path: Path) -> None:
    """The recording's receive times, not the wall clock: 400 s of lag is skew."""
    path = write_recording(tmp_path / "late.rec", stream(), lag=400.0)
    doc = json.loads(run_cli("validate", "--health", "-o", "json", str(path), expect=1).stdout)
    health = doc["health"]
    assert doc["ok"] is False and health["ok"] is False
    assert {f["check"] for s in health["sources"] for f in s["flags"]} == {"clock_skew"}
    assert health["sources"][0]["max_skew_s"] == pytest.approx(400.0, abs=0.01)
    ok = json.loads(
        run_cli("validate", "--health", "--max-skew", "10m", "-o", "json", str(path)).stdout
    )
    assert ok["ok"] is True


def test_a_stale_sensor_in_json_lines_fails_naming_it(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "stale.jsonl", stream(StreamFaults(stale={3: 5.0}), n=900))
    result = run_cli("validate", "--health", "--max-staleness", "30s", str(path), expect=1)
    row = next(line for line in result.stdout.splitlines() if line.startswith("3 "))
    assert "fail staleness: silent" in row
    assert "health FAILED: 8 sources: 7 pass, 0 suspect, 1 fail" in result.stdout


def test_stdin_and_coverage_by_ids(tmp_path: Path) -> None:
    text = "".join(json.dumps(m) + "\n" for _, m in stream(n=100))
    result = run_cli("validate", "--expect-sensors", "1,2,9", "-", input=text, expect=1)
    assert "coverage: fail: missing 9" in result.stdout


def test_suspect_passes_unless_strict(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "flat.jsonl", stream(StreamFaults(flatline=frozenset({5}))))
    run_cli("validate", "--health", "-q", str(path), expect=0)
    strict = run_cli("validate", "--health", "--strict", "-q", str(path), expect=1)
    assert strict.stdout.splitlines()[-1] == (
        "health FAILED: 8 sources: 7 pass, 1 suspect, 0 fail (--strict: suspect fails)"
    )


def test_junit_gets_a_health_suite_with_a_case_per_source(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "dup.jsonl", stream(StreamFaults(duplicate_rate=0.05)))
    report = tmp_path / "junit.xml"
    run_cli(
        "validate", "--health", "--expect-sensors", "8", str(path), "--junit", str(report), expect=1
    )
    root = ET.parse(report).getroot()
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    cases = [c.get("name") for c in suites["wscli health"].findall("testcase")]
    assert sorted(cases) == sorted([f"source {i}" for i in range(1, 9)] + ["check coverage"])
    failed = suites["wscli health"].findall(".//failure")
    assert failed and {f.get("type") for f in failed} == {"duplicates"}
    assert int(root.get("tests", "0")) == len(root.findall(".//testcase"))


def test_a_rules_typo_exits_2_naming_line_and_key(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[types.co2]\nmin = 300\nmaxx = 4000\n", encoding="utf-8")
    path = write_jsonl(tmp_path / "a.jsonl", stream(n=10))
    result = run_wscli("validate", "--rules", str(rules), str(path), expect=2)
    assert f"--rules {rules}:3: 'types.co2.maxx': unknown key" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # the error (and a hint), no traceback


def test_rules_file_tightens_a_range(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[types.co2]\nmax = 600\n", encoding="utf-8")
    path = write_jsonl(tmp_path / "a.jsonl", stream(n=200))
    doc = json.loads(
        run_cli("validate", "--rules", str(rules), "-o", "json", str(path), expect=1).stdout
    )
    failing = [s["source"] for s in doc["health"]["sources"] if s["level"] == "fail"]
    assert failing == ["5"]  # the kitchen co2 sensor reads ~640 ppm


def test_bad_health_flags_are_usage_errors(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", stream(n=5))
    result = run_cli("validate", "--max-staleness", "soon", str(path), expect=2)
    assert "'soon' is not a duration" in result.stderr
    run_cli("validate", "--source-key", "data..x", str(path), expect=2)


def test_without_health_flags_nothing_changes(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", stream(StreamFaults(duplicate_rate=0.2), n=50))
    out = run_cli("validate", str(path)).stdout
    assert "health" not in out


@pytest.mark.slow
def test_a_live_stream_with_a_stale_sensor_fails_by_the_wall_clock(serve: Any) -> None:
    """Live: staleness runs to the end of the run; the stale sensor is named."""
    server = serve(seed=3, rate=100.0, stream_faults=StreamFaults(stale={2: 0.3}))
    url = f"ws://127.0.0.1:{server.port}/api/ws/sensor/stream"
    result = run_wscli(
        "validate",
        url,
        "--duration",
        "2",
        "--health",
        "--max-staleness",
        "1s",
        "-o",
        "json",
        expect=None,
    )
    doc = json.loads(result.stdout)
    flagged = {s["source"]: [f["check"] for f in s["flags"]] for s in doc["health"]["sources"]}
    assert flagged["2"] == ["staleness"]
    assert all(not checks for source, checks in flagged.items() if source != "2")


def test_an_empty_input_fails_health_too(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n", encoding="utf-8")
    result = run_cli("validate", "--health", str(path), expect=1)
    assert "health FAILED: no messages" in result.stdout


HOSTILE = [
    {"type": "sensor_reading", "data": {"sensor_id": 1, "type": "temperature", "value": 10**400}},
    {
        "type": "sensor_reading",
        "data": {
            "sensor_id": [1],
            "type": {"a": 1},
            "value": -5e300,
            "timestamp": ["x"],
            "created_at": 5,
            "id": [1],
            "confidence": "high",
            "location": 7,
        },
    },
    {"type": "sensor_reading", "data": {"sensor_id": True, "value": 1, "unit": {"x": 1}}},
    {"type": "sensor_reading", "data": {"sensor_id": "a\x1b[31m[red]", "value": 1, "id": "x"}},
    {"type": "sensor_reading", "data": {"sensor_id": "a\x1b[31m[red]", "value": 2, "id": "x"}},
    {"type": "sensor_status", "data": {"sensor_id": 2, "state": ["offline"]}},
    {"type": "sensor_status", "data": None},
    [1, 2],
    "text",
]


def test_hostile_fields_are_flags_never_a_traceback(tmp_path: Path) -> None:
    """Huge ints, lists as ids and states, escapes in ids: judged, escaped, exit 1."""
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(json.dumps(m) + "\n" for m in HOSTILE), encoding="utf-8")
    result = run_wscli("validate", "--health", str(path), expect=1)
    assert "\x1b[31m" not in result.stdout  # the escape in a sensor id is shown, not run
    assert "out of any range" in result.stdout
    doc = json.loads(run_wscli("validate", "--health", "-o", "json", str(path), expect=1).stdout)
    flagged = {s["source"]: {f["check"] for f in s["flags"]} for s in doc["health"]["sources"]}
    assert flagged["1"] == {"plausibility"}
    assert flagged["a\x1b[31m[red]"] == {"duplicates"}
