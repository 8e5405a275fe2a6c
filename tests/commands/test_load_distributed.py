"""`wscli load --master` with two `--worker` processes on loopback (Locust's own runners)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import clean_env, unit, wscli_executable

# Only look: importing Locust would monkey-patch this pytest process with gevent.
if importlib.util.find_spec("locust") is None:
    pytest.skip("Locust is not installed (the load extra)", allow_module_level=True)


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [wscli_executable(), "load", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=clean_env(),
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, dict[str, Any], str]:
    try:
        out, err = proc.communicate(timeout=unit(60))
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"still running: {err}") from None
    assert "Traceback" not in err, err
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, (out, err)
    return proc.returncode, json.loads(lines[0]), err


@pytest.mark.slow
def test_master_totals_are_the_workers_sums(serve: Any, free_port: int, tmp_path: Path) -> None:
    """A master and two workers: totals add up, fan-out spans both, thresholds set the exit."""
    server = serve(broadcast=True, rate=10.0)
    junit = tmp_path / "fleet.xml"
    master = _start(
        server.url,
        "--master",
        "--expect-workers",
        "2",
        "--master-bind-host",
        "127.0.0.1",
        "--master-bind-port",
        str(free_port),
        "-u",
        "10",
        "-r",
        "50",
        "-t",
        "4",
        "--fanout",
        "--min-rate",
        "1000",
        "-o",
        "json",
        "--junit",
        str(junit),
    )
    workers = [
        _start(
            "--worker", "--master-host", "127.0.0.1", "--master-port", str(free_port), "-o", "json"
        )
        for _ in range(2)
    ]
    try:
        results = [_finish(p) for p in [master, *workers]]
    finally:
        for proc in [master, *workers]:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    (m_code, m_doc, m_err), *worker_results = results
    assert [code for code, _, _ in worker_results] == [0, 0]
    assert m_code == 1, m_err  # --min-rate 1000 msg/s per user cannot hold
    assert "min-rate" in m_err
    assert m_doc["users"] == 10 == sum(doc["users"] for _, doc, _ in worker_results)
    assert all(doc["users"] > 0 for _, doc, _ in worker_results)  # both workers ran users
    assert m_doc["messages"] == sum(doc["messages"] for _, doc, _ in worker_results) > 0
    by_name = {t["name"]: t for t in m_doc["thresholds"]}
    assert by_name["min-rate"]["ok"] is False
    assert by_name["max-missed"]["ok"] is True  # records from both workers reached the master
    assert m_doc["fanout"]["checked"] > 0 and m_doc["fanout"]["missed"] == 0
    names = {c.get("name") for c in ET.parse(junit).getroot().iter("testcase")}
    assert names == {"connections", "min-rate", "max-missed"}
    server.wait_for_connections(10, unit(10))
    assert len(server.connections) == 10
