"""``serve`` keeps a timeline per client and judges it: the guide's real Python client."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import clean_env, unit, wscli_executable

UNIT = 0.2  # the guide's 1 s reconnect unit, scaled


class ServeRun:
    """``wscli serve`` with a --duration, as a subprocess; ``port`` once it listens."""

    def __init__(self, tmp: Path, name: str, *args: str) -> None:
        port_file = tmp / f"{name}.port"
        self.proc = subprocess.Popen(
            [wscli_executable(), "serve", "--port", "0", "--port-file", str(port_file), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=clean_env(),
        )
        deadline = time.monotonic() + unit(15)
        while not port_file.exists() or not port_file.read_text().strip():
            assert self.proc.poll() is None, self.proc.communicate()
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.02)
        self.port = int(port_file.read_text())
        self.url = f"ws://127.0.0.1:{self.port}/api/ws/sensor/stream"

    def result(self) -> tuple[int, str, str]:
        try:
            out, err = self.proc.communicate(timeout=unit(30))
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode, out, err


def guide_client(url: str, seconds: float, count: int = 1) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.guide_client", url, str(UNIT), str(seconds), str(count)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).parent.parent,
    )


def _stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()


@pytest.mark.slow
def test_guide_client_linear_backoff_seen_by_serve(tmp_path: Path) -> None:
    """Refused 6 times, the guide's client backs off 1, 2, 3, 4, 5 units then gives up:
    --expect-backoff linear passes; exponential fails naming the measured delays."""
    common = ["--refuse-next", "100", "--duration", "5.5", "-q", "--expect-max-attempts", "5"]
    linear = ServeRun(tmp_path, "linear", *common, "--expect-backoff", "linear", "-o", "json")
    junit = tmp_path / "expo.xml"
    expo = ServeRun(
        tmp_path, "expo", *common, "--expect-backoff", "exponential", "--junit", str(junit)
    )
    clients = [guide_client(linear.url, 6), guide_client(expo.url, 6)]
    try:
        code, out, err = linear.result()
        assert code == 0, (out, err)
        doc = json.loads(out)
        [client] = doc["clients"]
        assert client["connects"] == 6
        assert client["schedule"] == "linear 0.20 s steps", client
        assert client["gave_up"] is True
        assert client["endings"] == ["refused 503"] * 6
        assert [e["ok"] for e in doc["expectations"]] == [True, True]
        code, out, err = expo.result()
        assert code == 1, (out, err)
        delays = r"0\.[12]\d s, 0\.[34]\d s, 0\.[56]\d s, 0\.[78]\d s, (0\.9\d|1\.\d) s"
        assert re.search(rf"FAILED backoff: linear 0\.20 s steps \({delays}\)", out), out
        assert "gave up" in out
        xml = junit.read_text()
        assert "expected exponential, measured linear" in xml
    finally:
        for proc in clients:
            _stop(proc)


@pytest.mark.slow
def test_client_that_never_pings_fails_expect_ping_every(tmp_path: Path) -> None:
    """The guide's Python client sends no ping: --expect-ping-every 0.3 fails after 1 s."""
    run = ServeRun(
        tmp_path, "ping", "--duration", "1.5", "-q", "--rate", "5", "--expect-ping-every", "0.3"
    )
    client = guide_client(run.url, 3)
    try:
        code, out, err = run.result()
        assert code == 1, (out, err)
        assert "FAILED ping-every: no ping at all in" in out
        assert "pings sent      none" in out
    finally:
        _stop(client)


@pytest.mark.slow
def test_drop_after_gives_a_constant_schedule_and_interrupt_writes_report(tmp_path: Path) -> None:
    """--drop-after resets the guide's attempt counter each time: a constant 1-unit schedule;
    SIGTERM still writes the report and exits 143."""
    import signal

    junit = tmp_path / "drop.xml"
    run = ServeRun(
        tmp_path,
        "drop",
        "--drop-after",
        "2",
        "--rate",
        "50",
        "-q",
        "--expect-backoff",
        "constant",
        "--junit",
        str(junit),
    )
    client = guide_client(run.url, 5)
    try:
        time.sleep(1.3)
        run.proc.send_signal(signal.SIGTERM)
        code, out, err = run.result()
        assert code == 143, (out, err)
        assert re.search(r"schedule +constant 0\.2\d s", out), out
        assert "dropped by server (no close frame)" in out
        assert out.rstrip().splitlines()[-1].startswith("TERMINATED: 1 client")
        assert "<error" in junit.read_text()
    finally:
        _stop(client)


def test_pinging_client_passes_and_answers_server_pings(serve: Any) -> None:
    """A client pinging every 0.1 s passes --expect-ping-every 0.2; serve's own keepalive
    pings (every 0.15 s) are answered, messages both ways are counted."""
    from websockets.sync.client import connect

    from wscli.checks.clients import ClientBook, Expectations, judge

    book = ClientBook()
    server = serve(clients=book, echo=True, ping_interval=0.15)
    with connect(server.url, ping_interval=0.1, open_timeout=unit(5)) as ws:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            ws.send("hi")
            ws.recv(timeout=unit(5))
            time.sleep(0.05)
    server.wait_for_connections(1, unit(5))
    verdict = judge(book, Expectations(ping_every=0.2))
    assert verdict.ok, verdict.outcomes
    [summary] = verdict.clients
    doc = summary.as_dict()
    assert doc["pings_sent"] >= 5 and doc["ping_interval_s"] < 0.2
    assert doc["server_pings"] >= 3 and doc["answered_server_pings"] is True
    assert doc["messages_from_client"] >= 10 and doc["messages_to_client"] >= 10
    assert doc["endings"] == ["closed 1000 by client"]


@pytest.mark.slow
def test_guide_clients_dropped_together_come_back_together_a_thundering_herd(
    tmp_path: Path,
) -> None:
    """Five guide clients dropped at the same moment all wait exactly one unit: the guide's
    client has no jitter, so --expect-jitter fails naming how many came back at once."""
    run = ServeRun(
        tmp_path,
        "herd",
        "--drop-after",
        "3",
        "--rate",
        "10",
        "--duration",
        "1.6",
        "-q",
        "--client-key",
        "client",
        "--expect-jitter",
        "-o",
        "json",
    )
    clients = guide_client(run.url, 3, count=5)
    try:
        code, out, err = run.result()
        assert code == 1, (out, err)
        doc = json.loads(out)
        assert len(doc["clients"]) == 5
        [herd] = doc["expectations"]
        assert herd["name"] == "jitter" and herd["ok"] is False
        assert re.match(r"[3-5] of 5 clients reconnected within 50 ms", herd["measured"]), herd
    finally:
        _stop(clients)
