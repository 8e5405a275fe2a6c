"""``wscli load --health``: each user's stream judged on its own, the report per source."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli, run_wscli
from wscli.checks.health import FAIL, SUSPECT, HealthConfig, HealthEngine, merge_results
from wscli.server.simulator import Simulator, StreamFaults


def judged(faults: StreamFaults | None, seed: int) -> Any:
    engine = HealthEngine(HealthConfig())
    sim = Simulator(seed, faults=faults)
    for _ in range(200):
        engine.observe(sim.next_message(), None)
    return engine.result()


def test_merging_keeps_each_sources_worst_flag_and_sums_counts() -> None:
    clean = judged(None, 1)
    flat = judged(StreamFaults(flatline=frozenset({5})), 2)
    merged = merge_results([clean, flat], strict=False)
    rows = {r.source: r for r in merged.sources}
    assert rows["5"].count == sum(
        r.count for result in (clean, flat) for r in result.sources if r.source == "5"
    )
    assert [(f.check, f.level) for f in rows["5"].flags] == [("plausibility", SUSPECT)]
    assert merged.sources[0].source == "5"  # the flagged source first
    assert merged.ok and not merge_results([clean, flat], strict=True).ok


def test_the_same_reading_at_two_users_is_no_duplicate() -> None:
    """A broadcast reaches every user: merging per-user verdicts cannot invent duplicates."""
    same = [judged(None, 3), judged(None, 3)]
    assert all(not r.flags for r in merge_results(same, strict=False).sources)


def test_health_with_master_or_worker_is_refused() -> None:
    result = run_cli("load", "ws://127.0.0.1:9/x", "--master", "--health", expect=2)
    assert "--health judges the streams of one load process" in result.stderr


@pytest.mark.slow
def test_load_health_names_the_stale_sensor(serve: Any, tmp_path: Path) -> None:
    server = serve(rate=50.0, seed=5, stream_faults=StreamFaults(stale={2: 0.5}))
    junit = tmp_path / "load.xml"
    result = run_wscli(
        "load",
        server.url,
        "-o",
        "json",
        "-u",
        "2",
        "--duration",
        "2.5",
        "--health",
        "--max-staleness",
        "1s",
        "--junit",
        str(junit),
        expect=1,
    )
    doc = json.loads(result.stdout)
    flagged = {
        s["source"]: [(f["check"], f["level"]) for f in s["flags"]]
        for s in doc["health"]["sources"]
    }
    assert flagged["2"] == [("staleness", FAIL)]
    assert all(not flags for source, flags in flagged.items() if source != "2")
    suites = {s.get("name"): s for s in ET.parse(junit).getroot().findall("testsuite")}
    failing = [
        c.get("name")
        for c in suites["wscli health"].findall("testcase")
        if c.find("failure") is not None
    ]
    assert failing == ["source 2"]
    assert "health FAILED" in result.stderr
