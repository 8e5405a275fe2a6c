"""`wscli load` as a CI gate (issue 17): verdicts, endings and reports that tell the truth.

Each case runs the installed entry point as a subprocess (Locust monkey-patches the
process it runs in) against wscli's own server, a closed port, a TLS port or a full
disk (``/dev/full``, ``prlimit --fsize``). Small user counts, short durations.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.support.cli import (
    CliResult,
    clean_env,
    run_wscli,
    unit,
    without_coverage,
    wscli_executable,
)

if importlib.util.find_spec("locust") is None:
    pytest.skip("Locust is not installed (the load extra)", allow_module_level=True)


def document(result: CliResult) -> dict[str, Any]:
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, (result.stdout, result.stderr)
    doc: dict[str, Any] = json.loads(lines[0])
    return doc


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("wscli: error: ")]


def wait_streaming(server: Any, clients: int) -> None:
    """Until ``clients`` connections are open (wait_for_connections waits for them to end)."""
    deadline = time.monotonic() + unit(30)
    while len(server.connections) < clients and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(server.connections) >= clients
    time.sleep(unit(0.3))  # messages are flowing


# -- verdicts ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_invalid_messages_fail_the_run_without_a_threshold(serve: Any) -> None:
    """--validate alone: invalid messages are exit 1, as in tail --validate (was OK, exit 0)."""
    server = serve(rate=40.0, invalid_rate=0.75, seed=5)
    result = run_wscli(
        "load", server.url, "-u", "2", "-t", "2", "--validate", "-o", "json", expect=1, timeout=60
    )
    doc = document(result)
    assert doc["ok"] is False and doc["reason"] == "invalid_messages"
    (check,) = doc["thresholds"]
    assert check["name"] == "invalid-messages" and check["ok"] is False
    assert check["measured"] > 0 and check["unit"] == "messages"
    assert "invalid-messages: measured" in result.stderr


@pytest.mark.slow
def test_a_threshold_is_how_some_invalid_messages_are_allowed(serve: Any) -> None:
    """--max-failure-rate replaces the all-valid rule: under it, the run passes."""
    server = serve(rate=40.0, invalid_rate=0.02, seed=5)
    result = run_wscli(
        "load",
        server.url,
        *("-u", "2", "-t", "2", "--validate", "--max-failure-rate", "0.5", "-o", "json"),
        timeout=60,
    )
    doc = document(result)
    assert doc["ok"] is True and doc["reason"] is None
    assert [t["name"] for t in doc["thresholds"]] == ["max-failure-rate"]


@pytest.mark.slow
@pytest.mark.parametrize("retries", [[], ["--retries", "100", "--backoff", "0.1"]])
def test_a_closed_port_is_exit_3_whatever_the_timing(free_port: int, retries: list[str]) -> None:
    """Default retries may outlast a short run (it said exit 1, "2 still connecting"):
    exit 3 either way, and users still retrying at the end are counted as such."""
    result = run_wscli(
        "load",
        f"ws://127.0.0.1:{free_port}/",
        "-u",
        "2",
        "-t",
        "2",
        "-o",
        "json",
        *retries,
        expect=3,
    )
    (line,) = error_lines(result.stderr)
    assert line.startswith("wscli: error: connection refused")
    assert "[all 2 users" in line
    if retries:  # 100 retries cannot end within 2 s
        assert line.endswith("[all 2 users, 2 still retrying at the end]")
    assert document(result)["reason"] == "connection_refused"


@pytest.mark.slow
def test_ws_to_a_tls_port_is_a_tls_failure_as_in_probe(serve: Any, tmp_path: Path) -> None:
    """Plain ws:// to a TLS server: exit 5 in load, tail and probe alike (tail said 8)."""
    pem = tmp_path / "server.pem"
    trustme.CA().issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pem))
    server = serve(certfile=str(pem), keyfile=str(pem))
    plain = server.url.replace("wss://", "ws://")
    loaded = run_wscli("load", plain, "-u", "2", "-t", "3", "-o", "json", expect=5, timeout=60)
    assert document(loaded)["reason"] == "tls_error"
    assert "the port speaks TLS" in loaded.stderr
    run_wscli("tail", plain, "-n", "1", expect=5)
    run_wscli("probe", plain, expect=5)


# -- endings ----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "reason"), [(2, "interrupted"), (15, "terminated")])
def test_a_signal_is_named_in_json_junit_and_stderr(
    serve: Any, tmp_path: Path, signum: int, reason: str
) -> None:
    """-o json "reason", JUnit's error type and a stderr line say how the run ended."""
    import signal

    server = serve(rate=20.0)
    junit = tmp_path / "load.xml"
    proc = subprocess.Popen(
        [wscli_executable(), "load", server.url, "-u", "2", "-t", "60", "-o", "json"]
        + ["--junit", str(junit)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        wait_streaming(server, 2)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=unit(30))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signum, err
    doc = document(CliResult(proc.returncode, out, err))
    assert doc["ok"] is False and doc["reason"] == reason
    assert f"wscli: {reason.upper()}: 2 users" in err and "of 60 s" in err
    errors = list(ET.parse(junit).getroot().iter("error"))
    assert [e.get("type") for e in errors] == [reason]


# -- reports that cannot be written -------------------------------------------------------------


def test_tail_stats_json_on_a_full_disk_is_exit_2(serve: Any) -> None:
    """--stats-json to /dev/full: one line naming the file, exit 2 (was an error and exit 0)."""
    server = serve(rate=50.0)
    result = run_wscli("tail", server.url, "-n", "2", "--stats-json", "/dev/full", expect=2)
    assert error_lines(result.stderr) == [
        "wscli: error: cannot write to --stats-json /dev/full: no space left on device:"
        " free some space or write somewhere else"
    ]
    assert len(result.stdout.splitlines()) == 2  # the messages themselves were shown


@pytest.mark.slow
@pytest.mark.parametrize("option", ["--junit", "--html"])
def test_load_report_on_a_full_disk_is_exit_2(serve: Any, option: str) -> None:
    """A report to /dev/full: the summary still comes out, says so, and the exit is 2."""
    server = serve(rate=20.0)
    result = run_wscli(
        "load", server.url, "-u", "1", "-t", "1", "-o", "json", option, "/dev/full", expect=2
    )
    assert error_lines(result.stderr) == [
        f"wscli: error: cannot write to {option} /dev/full: no space left on device:"
        " free some space or write somewhere else"
    ]
    doc = document(result)
    assert doc["ok"] is False and doc["reason"] == "write_failed"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs prlimit (util-linux)")
def test_load_csv_past_the_file_size_limit_is_one_line_per_file(serve: Any, tmp_path: Path) -> None:
    """--csv under `prlimit --fsize`: no Locust traceback, no 'cannot write to stdout'."""
    server = serve(rate=40.0)
    prefix = tmp_path / "run"
    proc = subprocess.run(
        ["prlimit", "--fsize=600", wscli_executable(), "load", server.url]
        + ["-u", "2", "-t", "3", "--csv", str(prefix)],
        stdin=subprocess.DEVNULL,
        capture_output=True,  # pipes: the limit is on files, not on stdout/stderr
        text=True,
        timeout=unit(60),
        env=without_coverage(clean_env()),  # coverage's own data file is over the limit too
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "stdout" not in proc.stderr, proc.stderr
    lines = error_lines(proc.stderr)
    assert lines and all(f"cannot write to --csv {prefix}_" in line for line in lines), lines
    assert all("file too large" in line for line in lines)
    assert proc.stdout.rstrip().splitlines()[-1].startswith("FAILED: 2 users")


# -- secrets ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_html_report_hides_the_password_query_token_and_bearer(serve: Any, tmp_path: Path) -> None:
    """Locust's HTML report printed the host as given: now redacted like every other output."""
    server = serve(rate=20.0)
    url = (
        server.url.replace("ws://", "ws://usr-html-31:pw-html-4242@")
        + "?token=qtok-html-777&room=3"
    )
    html = tmp_path / "report.html"
    run_wscli(
        "load",
        url,
        *("-u", "1", "-t", "1", "--token", "bearer-html-999", "--html", str(html)),
        timeout=60,
    )
    page = html.read_text()
    for secret in ("pw-html-4242", "qtok-html-777", "bearer-html-999", "usr-html-31"):
        assert secret not in page
    assert "token=[redacted]" in page and "room=3" in page  # Locust escapes & as \\u0026


# -- distributed runs ---------------------------------------------------------------------------


def _other_address() -> str | None:
    """An address of this machine that is not loopback (None when it has none)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: only the route is chosen
            address: str = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


@pytest.mark.slow
def test_master_listens_on_loopback_by_default(serve: Any, free_port: int) -> None:
    """A worker elsewhere gets the URL and --token: the master binds 127.0.0.1 unless told."""
    server = serve(rate=5.0)
    proc = subprocess.Popen(
        [wscli_executable(), "load", server.url, "--master", "--master-bind-port", str(free_port)]
        + ["--token", "t-master-1234", "-u", "1", "-t", "1"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert f"master on 127.0.0.1:{free_port}" in first, first
        deadline = time.monotonic() + unit(10)
        while True:  # loopback answers once Locust has bound
            try:
                socket.create_connection(("127.0.0.1", free_port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        other = _other_address()
        if other is not None:
            with pytest.raises(OSError):
                socket.create_connection((other, free_port), timeout=1).close()
    finally:
        proc.terminate()
        proc.communicate(timeout=unit(30))


@pytest.mark.slow
def test_a_worker_without_master_says_so_and_gives_up(free_port: int) -> None:
    """--worker with no master: a line saying what it waits for, exit 2 after --master-wait."""
    started = time.monotonic()
    result = run_wscli(
        "load",
        *("--worker", "--master-port", str(free_port), "--master-wait", "1"),
        expect=2,
        timeout=30,
    )
    assert time.monotonic() - started < unit(15)
    assert f"waiting for the master at 127.0.0.1:{free_port} (up to 1 s" in result.stderr
    (line,) = error_lines(result.stderr)
    assert "no master answered within 1 s" in line and "--master-wait" in line


# -- the same rule in every command that writes a report --------------------------------------


@pytest.mark.slow
def test_validate_terminated_names_the_report_it_could_not_write(serve: Any) -> None:
    """SIGTERM keeps 143, and a --junit on a full disk still gets its line (it was silent)."""
    import signal

    server = serve(rate=20.0)
    proc = subprocess.Popen(
        [wscli_executable(), "validate", server.url, "-n", "100000", "--junit", "/dev/full"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        wait_streaming(server, 1)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=unit(30))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err
    assert "wscli: error: cannot write to --junit /dev/full: no space left on device" in err


def test_probe_keeps_the_connection_code_and_names_the_unwritten_report(free_port: int) -> None:
    """Refused (3) stays 3 with a JUnit on a full disk; both lines are shown (it said 2)."""
    url = f"ws://127.0.0.1:{free_port}/"
    result = run_wscli("probe", url, "--junit", "/dev/full", expect=3)
    lines = error_lines(result.stderr)
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("wscli: error: cannot write to --junit /dev/full")
    assert lines[1].startswith("wscli: error: connection refused")


def test_probe_pass_with_an_unwritten_report_is_exit_2(serve: Any) -> None:
    """A healthy server, a JUnit that cannot be written: exit 2 naming the file."""
    server = serve(rate=20.0)
    result = run_wscli("probe", server.url, "--junit", "/dev/full", expect=2)
    assert error_lines(result.stderr) == [
        "wscli: error: cannot write to --junit /dev/full: no space left on device:"
        " free some space or write somewhere else"
    ]


def test_a_tap_file_on_a_full_disk_is_named_as_given(serve: Any) -> None:
    """`--tap /dev/full` says --tap, not "recording": the user finds the option they gave."""
    server = serve(rate=20.0)
    result = run_wscli("tail", server.url, "-n", "2", "--tap", "/dev/full", expect=2)
    (line,) = error_lines(result.stderr)
    assert line.startswith("wscli: error: cannot write to --tap /dev/full: no space left")


@pytest.mark.slow
def test_a_master_open_to_the_network_warns_what_workers_receive(
    serve: Any, free_port: int
) -> None:
    """--master-bind-host 0.0.0.0: a warning that any worker gets the URL and --token."""
    server = serve(rate=5.0)
    proc = subprocess.Popen(
        [wscli_executable(), "load", server.url, "--master", "--master-bind-port", str(free_port)]
        + ["--master-bind-host", "0.0.0.0", "-u", "1", "-t", "1"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        assert proc.stderr is not None
        first, second = proc.stderr.readline(), proc.stderr.readline()
    finally:
        proc.terminate()
        proc.communicate(timeout=unit(30))
    assert f"master on 0.0.0.0:{free_port}" in first
    assert second.startswith("wscli: warning: any process that reaches")
    assert "--token included" in second
