"""probe's checks window tells the truth (issue #17, items 1, 2, 3 and 16).

Every message of ``--within`` is judged; a stream that closes or drops inside the
window is exit 8 ``connection_lost`` in every report; SIGTERM in the window leaves a
JUnit ``<error type="terminated">``; and the window keeps counters, not messages.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import clean_env, run_wscli, unit, wscli_executable
from tests.support.probe import probe
from wscli.probe.checks import MAX_EXAMPLES, MAX_TYPES, Plan, Window, evaluate

# -- pure --------------------------------------------------------------------------------


def test_a_settled_count_does_not_end_a_window_another_check_needs() -> None:
    """min-count reached: still listening for --validate, --forbid-type and --max-gap."""
    window = Window(limit=3.0)
    for at in (0.1, 0.2):
        window.add(at, "sensor_reading", True)
    assert Plan(min_count=2).satisfied(window)
    for plan in (
        Plan(min_count=2, validate=True),
        Plan(min_count=2, forbid_types=("error",)),
        Plan(min_count=2, max_gap=1.0),
    ):
        assert not plan.satisfied(window), plan


def test_window_counts_without_keeping_messages() -> None:
    """Counters only: types past the cap are not kept by name (the watched ones are)."""
    window = Window(limit=1.0, watched=frozenset({"late"}))
    for index in range(MAX_TYPES + 50):
        window.add(index / 1000, f"t{index}", index % 2 == 0)
    window.add(0.5, "late", True)
    window.add(1.5, "late", False)  # after --within: seen, not counted by min-count
    assert len(window.count_by_type) == MAX_TYPES + 1
    assert window.count == MAX_TYPES + 52 and window.count_within == MAX_TYPES + 51
    assert window.validated == window.count and window.invalid == (MAX_TYPES + 50) // 2 + 1
    assert not hasattr(window, "messages")
    for number in range(MAX_EXAMPLES + 2):
        window.add_example("validate", f"#{number}")
    assert window.examples["validate"] == [f"#{n}" for n in range(MAX_EXAMPLES)]


def test_a_lost_connection_counts_the_silence_to_the_windows_end() -> None:
    """Closed at 0.25 s of a 3 s window: the gap is 2.75 s, and every check says so."""
    window = Window(limit=3.0, seconds=0.25, lost="closed 1000 (OK)")
    for at in (0.0, 0.1, 0.2, 0.25):
        window.add(at, "sensor_reading", True)
    results = {
        a.name: a
        for a in evaluate(Plan(within=3.0, max_gap=0.5, min_count=5, validate=True), window)
    }
    assert results["max-gap"].ok is False
    assert results["max-gap"].measured == "2.75 s (connection lost)"
    assert results["min-count"].ok is False and "connection lost" in results["min-count"].measured
    assert results["validate"].measured == (
        "validated 4 of 4 in 0.2 s: all valid (connection lost)"
    )


# -- against wscli serve ----------------------------------------------------------------


@pytest.mark.slow
def test_validate_judges_every_message_of_the_window(serve: Any, tmp_path: Path) -> None:
    """A few invalid messages late in the window fail --validate; the report says how many
    were judged and shows the first offenders."""
    server = serve(rate=200.0, invalid_rate=0.05, seed=3)
    probed = probe(
        tmp_path, server.url, "--validate", "--min-count", "1", "--within", "1", expect=1
    )
    check = probed.assertion("validate")
    window = probed.doc["window"]
    assert check["ok"] is False, check
    assert window["ended"] == "window elapsed" and window["seconds"] >= 0.9
    total = window["messages"]
    assert total >= 20 and window["validated"] == total
    assert check["measured"].startswith(f"validated {total:,} of {total:,} in ")
    assert 1 <= len(check["examples"]) <= MAX_EXAMPLES
    assert check["examples"][0].startswith("#") and " s (/" in check["examples"][0]
    case = next(c for c in probed.junit.iter("testcase") if c.get("name") == "assert: validate")
    failure = case.find("failure")
    assert failure is not None and check["examples"][0] in (failure.text or "")


DYING = [
    pytest.param({"count": 3}, "closed 1000", id="close-1000"),
    pytest.param({"drop_after": 3}, "", id="drop-1006"),
]
CHECKS = [
    pytest.param(["--max-gap", "0.5"], id="max-gap"),
    pytest.param(["--forbid-type", "alarm"], id="forbid-type"),
    pytest.param(["--min-count", "5"], id="min-count"),
]


@pytest.mark.slow
@pytest.mark.parametrize("flags", CHECKS)
@pytest.mark.parametrize(("config", "ended"), DYING)
def test_a_stream_dying_inside_the_window_is_connection_lost(
    serve: Any, tmp_path: Path, config: dict[str, Any], ended: str, flags: list[str]
) -> None:
    """Three messages, then a close or a drop at ~0.25 s of a 3 s window: exit 8,
    reason connection_lost in JSON and JUnit, one error line on stderr."""
    server = serve(rate=12.0, **config)
    probed = probe(tmp_path, server.url, *flags, "--within", "3", expect=8)
    doc = probed.doc
    assert doc["reason"] == "connection_lost"
    assert doc["result"].startswith("FAILED: connection lost in the window"), doc["result"]
    assert doc["window"]["connection_lost"] is True
    assert doc["window"]["ended"].startswith(ended or "stopped")
    assert all(s["status"] in ("ok", "skipped") for s in doc["steps"])
    run = next(c for c in probed.junit.iter("testcase") if c.get("name") == "run")
    error = run.find("error")
    assert error is not None and error.get("type") == "connection_lost"
    check = doc["assertions"][0]
    assert "(connection lost)" in check["measured"], check
    if flags[0] == "--max-gap":
        assert check["ok"] is False and float(check["measured"].split()[0]) >= 2.5
    text = run_wscli("probe", server.url, *flags, "--within", "3", expect=8)
    assert "FAILED: connection lost in the window" in text.stdout.splitlines()[-1]
    assert text.stderr.startswith("wscli: error: "), text.stderr


@pytest.mark.slow
def test_sigterm_in_the_window_writes_a_terminated_error(serve: Any, tmp_path: Path) -> None:
    """SIGTERM while listening: exit 143, a JUnit run error of type terminated, and the
    skipped checks say the run was terminated (not that a connection failed)."""
    server = serve(rate=20.0)
    junit_file = tmp_path / "probe.xml"
    args = ["probe", server.url, "--min-count", "100000", "--within", "60"]
    proc = subprocess.Popen(
        [wscli_executable(), *args, "-o", "json", "--junit", str(junit_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=clean_env(),
        text=True,
    )
    try:
        deadline = time.monotonic() + unit(10)
        while _sent(server) < 10 and time.monotonic() < deadline:  # a few into the window
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=unit(10))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 143, stderr
    doc = json.loads(stdout)
    assert doc["reason"] == "terminated" and doc["ok"] is False
    suite = ET.parse(junit_file).getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    error = cases["run"].find("error")
    assert error is not None and error.get("type") == "terminated"
    assert "terminated" in (error.get("message") or "")
    skipped = cases["assert: min-count"].find("skipped")
    assert skipped is not None
    reason = skipped.get("message") or ""
    assert reason.startswith("not measured: terminated") and "connection failed" not in reason


def _sent(server: Any) -> int:
    return sum(sum(c.by_type.values()) for c in server.connections)


# -- memory --------------------------------------------------------------------------------


# Runs wscli with tracemalloc on and prints the peak of Python memory at exit: unlike the
# resident size, it does not move with the allocator's fragmentation on a busy machine.
TRACED = """
import atexit, sys, tracemalloc
tracemalloc.start()
atexit.register(lambda: sys.stderr.write(f"PEAK {tracemalloc.get_traced_memory()[1]}\\n"))
from wscli.cli import main
sys.argv = ["wscli", *sys.argv[1:]]
main()
"""


def _traced_probe(url: str, within: float) -> tuple[int, int]:
    """(peak traced bytes, messages) of one probe run against ``url``."""
    python = str(Path(wscli_executable()).parent / "python")
    args = ["probe", url, "--max-gap", "60", "--within", str(within), "-o", "json"]
    result = subprocess.run(
        [python, "-c", TRACED, *args],
        capture_output=True,
        text=True,
        timeout=unit(60),
        stdin=subprocess.DEVNULL,
        env=clean_env(),
    )
    assert result.returncode == 0, result.stderr
    peak = int(result.stderr.rsplit("PEAK ", 1)[1].split()[0])
    return peak, json.loads(result.stdout)["window"]["messages"]


@pytest.mark.slow
def test_memory_stays_flat_on_a_fast_stream(serve: Any) -> None:
    """A long window on a server sending as fast as it can peaks no higher than a short
    one: probe keeps counters, not messages (it kept ~140 bytes per message)."""
    server = serve(rate=0.0)
    short_peak, short_count = _traced_probe(server.url, 0.5)
    long_peak, long_count = _traced_probe(server.url, 4.0)
    more = long_count - short_count
    assert more > 5_000, (short_count, long_count)
    grown = long_peak - short_peak
    assert grown < 200_000, (grown, more, short_peak, long_peak)
