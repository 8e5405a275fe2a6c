"""`wscli load` end to end: the installed entry point against wscli's own server.

Locust monkey-patches the process it runs in with gevent, so every load run here is
a subprocess (`run_wscli`); the server runs in this process (the `serve` fixture),
where its per-client statistics can be compared with what the load run reports.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import CliResult, clean_env, run_wscli, unit

# Only look: importing Locust would monkey-patch this pytest process with gevent.
if importlib.util.find_spec("locust") is None:
    pytest.skip("Locust is not installed (the load extra)", allow_module_level=True)

LOAD = ("load", "-o", "json")


def load_json(result: CliResult) -> dict[str, Any]:
    """The one JSON document on stdout."""
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    document: dict[str, Any] = json.loads(lines[0])
    assert set(document) == {
        "ok",
        "reason",
        "users",
        "duration",
        "messages",
        "rate",
        "connect_ms",
        "delay_ms",
        "failures",
        "reconnects",
        "by_type",
        "fanout",
        "thresholds",
    }
    return document


def junit_cases(path: Path) -> dict[str, bool]:
    """JUnit test case name -> passed."""
    root = ET.parse(path).getroot()
    return {
        case.get("name", ""): case.find("failure") is None and case.find("error") is None
        for case in root.iter("testcase")
    }


@pytest.mark.slow
def test_fifty_users_share_a_broadcast(serve: Any, tmp_path: Path) -> None:
    """50 users against serve --broadcast --rate 20: all connect, counts add up, fan-out holds."""
    server = serve(broadcast=True, rate=20.0)
    junit = tmp_path / "load.xml"
    duration = 4.0
    result = run_wscli(
        *LOAD,
        server.url,
        "--users",
        "50",
        "--spawn-rate",
        "100",
        "--duration",
        str(duration),
        "--fanout",
        "--junit",
        str(junit),
        timeout=60,
    )
    doc = load_json(result)
    assert doc["ok"] is True
    assert doc["users"] == 50
    assert doc["failures"] == 0
    server.wait_for_connections(50, unit(10))
    clients = server.connections
    assert len(clients) == 50  # every user connected, once
    sent = sum(c.sent for c in clients)
    # What the server sent is what the users counted, but for frames in flight at the close.
    assert sent - 50 * 2 <= doc["messages"] <= sent
    expected = 50 * 20 * duration
    assert 0.6 * expected <= doc["messages"] <= 1.05 * expected
    assert doc["fanout"]["checked"] > 0
    assert doc["fanout"]["missed"] == 0
    assert doc["connect_ms"]["p99"] is not None and doc["delay_ms"]["p50"] is not None
    assert sum(doc["by_type"].values()) == doc["messages"]
    assert junit_cases(junit) == {"connections": True, "max-missed": True}


@pytest.mark.slow
def test_fanout_loss_is_found_user_by_user(serve: Any, tmp_path: Path) -> None:
    """--fanout-loss 0.05: exit 1, and each user's missed count is what serve dropped for it."""
    server = serve(broadcast=True, rate=20.0, fanout_loss=0.05, seed=11)
    junit = tmp_path / "load.xml"
    result = run_wscli(
        *LOAD,
        server.url,
        "-u",
        "20",
        "-r",
        "100",
        "-t",
        "4",
        "--fanout",
        "--junit",
        str(junit),
        expect=1,
        timeout=60,
    )
    doc = load_json(result)
    assert doc["ok"] is False
    fanout = doc["fanout"]
    assert fanout["missed"] > 0
    assert fanout["missed"] == sum(fanout["per_user"].values())
    assert "max-missed" in result.stderr and result.stderr.count("\n") == 1
    server.wait_for_connections(20, unit(10))
    dropped = {c.peer: c.dropped_ids for c in server.connections}
    assert set(fanout["per_user"]) <= set(dropped)
    # The checked ids are consecutive (one generator, received in order): find the window
    # of `checked` ids in which every user's missed count equals what serve dropped for it.
    checked = fanout["checked"]
    every = sorted({i for ids in dropped.values() for i in ids})

    def matches(low: int) -> bool:
        return all(
            fanout["per_user"].get(peer, 0) == sum(1 for i in ids if low <= i < low + checked)
            for peer, ids in dropped.items()
        )

    candidates = range(max(1, every[0] - checked), every[-1] + 1)
    assert any(matches(low) for low in candidates), (fanout, dropped)
    assert junit_cases(junit)["max-missed"] is False


@pytest.mark.slow
def test_invalid_messages_are_failures(serve: Any, tmp_path: Path) -> None:
    """--validate against --invalid-rate 0.1: failures counted; --max-failure-rate 0.01 exits 1."""
    server = serve(rate=50.0, invalid_rate=0.1, seed=3)
    junit = tmp_path / "load.xml"
    result = run_wscli(
        *LOAD,
        server.url,
        "-u",
        "4",
        "-r",
        "50",
        "-t",
        "3",
        "--validate",
        "--max-failure-rate",
        "0.01",
        "--junit",
        str(junit),
        expect=1,
        timeout=60,
    )
    doc = load_json(result)
    server.wait_for_connections(4, unit(10))
    invalid_sent = sum(c.invalid for c in server.connections)
    assert invalid_sent > 0
    assert invalid_sent - 8 <= doc["failures"] <= invalid_sent
    (threshold,) = doc["thresholds"]
    assert threshold["name"] == "max-failure-rate" and threshold["ok"] is False
    assert 0.03 < threshold["measured"] < 0.25
    assert junit_cases(junit) == {"connections": True, "max-failure-rate": False}
    assert result.stderr.startswith("wscli: error: load check failed: max-failure-rate")


@pytest.mark.slow
def test_every_user_refused_exits_3(free_port: int, tmp_path: Path) -> None:
    """A closed port: exit 3 with one line, and the reports still parse and say why."""
    junit = tmp_path / "load.xml"
    result = run_wscli(
        *LOAD,
        f"ws://127.0.0.1:{free_port}/",
        "-u",
        "5",
        "-t",
        "5",
        "--retries",
        "0",
        "--junit",
        str(junit),
        expect=3,
        timeout=60,
    )
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("wscli: error: connection refused")
    assert "all 5 users" in result.stderr
    doc = load_json(result)
    assert doc["ok"] is False and doc["messages"] == 0
    assert doc["duration"] < 4  # every user gave up: the run did not wait for --duration
    assert junit_cases(junit) == {"connections": False}


@pytest.mark.slow
def test_text_summary_and_locust_csv_and_html(serve: Any, tmp_path: Path) -> None:
    """The default output is a summary table; --csv and --html are Locust's own files."""
    server = serve(broadcast=True, rate=20.0)
    prefix = tmp_path / "run"
    html = tmp_path / "report.html"
    result = run_wscli(
        "load",
        server.url,
        "-u",
        "3",
        "-t",
        "2",
        "--csv",
        str(prefix),
        "--html",
        str(html),
        "--max-delay-p99",
        "5000",
        timeout=60,
    )
    assert "connect ms" in result.stdout and "delay ms" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("OK: 3 users")
    stats = (tmp_path / "run_stats.csv").read_text()
    assert "connect" in stats and "sensor_reading" in stats
    assert (tmp_path / "run_stats_history.csv").exists()
    report = html.read_text()
    assert "<html" in report.lower()
    assert '"history": [{' in report  # Locust's charts have data, even for a short run
    assert "wscli load:" not in result.stderr or "msg/s" in result.stderr


def test_without_locust_load_exits_2_with_the_install_command() -> None:
    """No Locust installed: exit 2 and the pip command, before anything connects."""
    probe = (
        "import sys; sys.modules['locust'] = None\n"
        "from wscli.cli import main\n"
        "main(['load', 'ws://127.0.0.1:9/'])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=unit(30),
        env=clean_env(),
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2, proc.stderr
    assert "pip install 'wscli-toolkit[load]'" in proc.stderr
    assert proc.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--master", "--worker"], "--master and --worker"),
        (["--max-missed", "3"], "--max-missed needs --fanout"),
        (["--fanout", "--id-field", "data..id"], "--id-field"),
        (["--junit", "/nonexistent-folder/load.xml"], "cannot write --junit"),
    ],
)
def test_option_mistakes_exit_2(args: list[str], message: str) -> None:
    """Contradictory options are one line and exit 2."""
    result = run_wscli("load", "ws://127.0.0.1:9/", *args, expect=2)
    assert message in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(2, 130), (15, 143)])
def test_an_interrupted_run_reports_and_is_never_green(
    serve: Any, tmp_path: Path, signum: int, code: int
) -> None:
    """Ctrl-C gives 130 and SIGTERM 143, after the JSON summary and a JUnit file with an error."""
    import signal
    import time

    from tests.support.cli import wscli_executable

    server = serve(broadcast=True, rate=20.0)
    junit = tmp_path / "load.xml"
    proc = subprocess.Popen(
        [wscli_executable(), *LOAD, server.url, "-u", "3", "-t", "60", "--junit", str(junit)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
        # Not a shell's background job: SIGINT must reach the default handler.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + unit(60)
        while len(server.connections) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)  # the users are streaming: start-up is over
        time.sleep(unit(0.5))
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=unit(30))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    assert "Traceback" not in err, err
    doc = load_json(CliResult(proc.returncode, out, err))
    assert doc["ok"] is False and doc["messages"] > 0
    root = ET.parse(junit).getroot()
    assert root.get("errors") == "1"


@pytest.mark.slow
def test_drops_are_failures_and_users_reconnect(serve: Any) -> None:
    """A server that cuts every connection: drops are failures, users reconnect like tail."""
    server = serve(rate=50.0, drop_after=25)
    result = run_wscli(
        *LOAD, server.url, "-u", "3", "-t", "3", "--backoff", "0.05", "--retries", "50"
    )
    doc = load_json(result)
    assert doc["reconnects"] >= 3
    assert doc["failures"] >= doc["reconnects"]  # each reconnect follows a drop
    assert doc["messages"] >= 3 * 25


@pytest.mark.slow
@pytest.mark.parametrize("with_token", [True, False])
def test_connection_options_reach_every_user(serve: Any, with_token: bool) -> None:
    """--token is sent by every user; without it every user is rejected: exit 6, one line."""
    server = serve(rate=20.0, require_token="s3cret-token")
    args = ["--token", "s3cret-token"] if with_token else []
    result = run_wscli(
        *LOAD, server.url, "-u", "4", "-t", "2", *args, expect=0 if with_token else 6
    )
    doc = load_json(result)
    if with_token:
        assert doc["ok"] is True and doc["messages"] > 0
    else:
        assert result.stderr.count("\n") == 1
        assert "HTTP 401" in result.stderr and "all 4 users" in result.stderr
        assert "s3cret" not in result.stderr


@pytest.mark.slow
def test_a_drop_without_reconnects_is_still_a_failure(serve: Any) -> None:
    """--retries 0: the first drop ends each user's stream, and counts as a failure."""
    server = serve(rate=50.0, drop_after=10)
    result = run_wscli(*LOAD, server.url, "-u", "2", "-t", "2", "--retries", "0")
    doc = load_json(result)
    assert doc["reconnects"] == 0
    assert doc["failures"] == 2 and doc["messages"] == 20


KILL_MID_CONNECT = """
from gevent import monkey; monkey.patch_all()
import sys, gevent
from wscli.net.connection import open_connection
from wscli.net.target import ConnectOptions
g = gevent.spawn(open_connection, ConnectOptions(url=sys.argv[1], connect_timeout=10))
gevent.sleep(0.3)
g.kill(block=True, timeout=5)
print("dead" if g.dead else "alive", type(g.exception).__name__ if g.exception else "-")
"""


def test_a_user_stopped_mid_connect_stops(serve: Any) -> None:
    """Locust's kill (GreenletExit) during the upgrade ends the user; it is not a failed connect.

    Turned into a connection error, the kill was lost and a reconnecting user never
    stopped: `wscli load` waited for it forever.
    """
    server = serve(rate=10.0, handshake_delay=3.0)
    proc = subprocess.run(
        [sys.executable, "-c", KILL_MID_CONNECT, server.url],
        capture_output=True,
        text=True,
        timeout=unit(30),
        env=clean_env(),
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout.split() == ["dead", "-"], (proc.stdout, proc.stderr)
