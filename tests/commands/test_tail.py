"""`wscli tail` against wscli's own mock backend on loopback."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import clean_env, run_cli, run_wscli, unit, wscli_executable

FAST = ("--backoff", "0.05", "--connect-timeout", "5")


def read_pty(fd: int, proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    """Everything a program writes to its pseudo-terminal until it exits (bounded)."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        elif proc.poll() is not None:
            break
    return b"".join(chunks)


def run_on_pty(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run wscli with stdout on a pseudo-terminal; return (exit code, screen text)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [wscli_executable(), *args],
        stdout=slave,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env or clean_env(TERM="xterm-256color"),
    )
    os.close(slave)
    try:
        screen = read_pty(master, proc, unit(30))
        code = proc.wait(timeout=unit(30))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None
    assert b"Traceback" not in proc.stderr.read()
    return code, screen.decode("utf-8", "replace")


# --- output ------------------------------------------------------------------------------


@pytest.mark.slow
def test_count_gives_exactly_n_json_lines_when_piped(serve: Any) -> None:
    """`-n 7` in a pipe prints exactly seven JSON envelopes and exits 0."""
    server = serve()
    result = run_wscli("tail", server.url, "-n", "7")
    assert len(result.json_lines) == 7
    assert all(isinstance(m, dict) and "type" in m for m in result.json_lines)
    assert result.stderr == ""


@pytest.mark.slow
def test_pretty_output_on_a_terminal(serve: Any) -> None:
    """On a TTY the default is the pretty, coloured view."""
    server = serve()
    code, screen = run_on_pty("tail", server.url, "-n", "5", "--type", "sensor_reading")
    assert code == 0
    assert screen.count("sensor_reading") == 5
    assert "\x1b[" in screen
    assert not screen.lstrip().startswith("{")


@pytest.mark.slow
def test_no_color_on_a_terminal(serve: Any) -> None:
    """NO_COLOR keeps the pretty view but drops the colour codes."""
    server = serve()
    code, screen = run_on_pty(
        "tail", server.url, "-n", "3", env=clean_env(TERM="xterm", NO_COLOR="1")
    )
    assert code == 0
    assert "\x1b[" not in screen


def test_filters_and_field(serve: Any) -> None:
    """--type/--location filter, --field prints just that value."""
    server = serve(seed=7)
    result = run_cli("tail", server.url, "-n", "20", "--type", "sensor_reading")
    assert {m["type"] for m in result.json_lines} == {"sensor_reading"}
    some = result.json_lines[0]["data"]["location"]
    result = run_cli("tail", server.url, "-n", "5", "--location", some)
    assert {m["data"]["location"] for m in result.json_lines} == {some}
    result = run_cli(
        "tail", server.url, "-n", "5", "--type", "sensor_reading", "--field", "data.value"
    )
    values = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(values) == 5 and all(isinstance(v, (int, float)) for v in values)


@pytest.mark.slow
def test_duration_stops_the_stream(serve: Any) -> None:
    """--duration ends the tail after that long, successfully."""
    server = serve(rate=20)
    started = time.monotonic()
    result = run_wscli("tail", server.url, "--duration", "1")
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < unit(8)
    assert len(result.json_lines) >= 5


@pytest.mark.slow
def test_idle_timeout_exits_7(serve: Any) -> None:
    """A stream that goes quiet longer than --idle-timeout exits 7 with one line."""
    server = serve(rate=0.2)
    result = run_wscli("tail", server.url, "--idle-timeout", "0.5", expect=7)
    assert result.stderr.count("\n") == 1
    assert "no message for 0.5 s" in result.stderr


@pytest.mark.slow
def test_count_not_reached_within_duration_exits_7(serve: Any) -> None:
    """Asking for more messages than arrive before --duration is a timeout."""
    server = serve(rate=5)
    result = run_wscli("tail", server.url, "-n", "500", "--duration", "0.5", expect=7)
    assert "of 500 messages" in result.stderr


# --- faults ------------------------------------------------------------------------------


@pytest.mark.slow
def test_drop_after_reconnects_until_count(serve: Any) -> None:
    """An abrupt drop every 10 messages: tail reconnects and still delivers 25."""
    server = serve(drop_after=10)
    result = run_wscli("tail", server.url, "-n", "25", *FAST)
    assert len(result.json_lines) == 25
    assert "reconnected after" in result.stderr
    assert "1006 (abnormal closure)" in result.stderr


@pytest.mark.slow
def test_close_code_is_reported(serve: Any) -> None:
    """A 1011 close ends a --no-reconnect tail with exit 8 naming the code."""
    server = serve(close_after=4, close_code=1011)
    result = run_wscli("tail", server.url, "--no-reconnect", expect=8)
    assert len(result.json_lines) == 4
    assert "1011 (internal error)" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.slow
def test_close_code_with_reconnect(serve: Any) -> None:
    """With reconnect on, the close code appears in the reconnect report."""
    server = serve(close_after=4, close_code=1011)
    result = run_wscli("tail", server.url, "-n", "10", *FAST)
    assert len(result.json_lines) == 10
    assert "reconnected after" in result.stderr and "1011 (internal error)" in result.stderr


@pytest.mark.slow
def test_malformed_and_invalid_are_counted_never_fatal(serve: Any) -> None:
    """Malformed and schema-invalid messages are shown, counted, and tail carries on.

    It carries on to -n, then the verdict is exit 1, like validate (issue #7).
    """
    server = serve(seed=3, malformed_rate=0.2, invalid_rate=0.2)
    result = run_wscli("tail", server.url, "-n", "60", "--validate", expect=1)
    assert len(result.json_lines) == 60
    malformed = [m for m in result.json_lines if isinstance(m, dict) and "malformed" in m]
    assert malformed, "expected some malformed messages at rate 0.2"
    assert result.stderr.count("is malformed") == len(malformed)
    assert "is invalid at /" in result.stderr


@pytest.mark.slow
def test_fail_on_invalid_exits_1(serve: Any) -> None:
    """--fail-on-invalid stops at the first invalid message with exit 1."""
    server = serve(seed=5, invalid_rate=0.5)
    result = run_wscli("tail", server.url, "-n", "100", "--fail-on-invalid", expect=1)
    assert "is invalid at" in result.stderr


@pytest.mark.slow
def test_binary_frames_base64_when_piped_hex_on_terminal(serve: Any) -> None:
    """Binary frames: base64 records in JSON Lines, hex on a terminal."""
    server = serve(seed=1, binary_rate=0.3)
    result = run_wscli("tail", server.url, "-n", "30")
    binaries = [m for m in result.json_lines if isinstance(m, dict) and m.get("binary")]
    assert binaries and all("b64" in m for m in binaries)
    code, screen = run_on_pty("tail", server.url, "-n", "30")
    assert code == 0 and "(binary" in screen


@pytest.mark.slow
def test_frame_over_max_size_exits_8(serve: Any) -> None:
    """A frame larger than --max-size ends the tail with exit 8 and one clear line."""
    server = serve()
    result = run_wscli("tail", server.url, "--max-size", "64", "--no-reconnect", expect=8)
    assert "exceeds --max-size 64" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.slow
def test_stopped_server_is_detected_by_heartbeat() -> None:
    """A server frozen with SIGSTOP is declared dead within ping interval + timeout."""
    server = subprocess.Popen(
        [wscli_executable(), "serve", "--port", "0", "--rate", "50", "--quiet"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=clean_env(),
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        url = line.split()[1]
        tail = subprocess.Popen(
            [wscli_executable(), "tail", url, "--no-reconnect"]
            + ["--ping-interval", "0.5", "--ping-timeout", "0.5"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=clean_env(),
        )
        assert tail.stdout is not None
        tail.stdout.readline()
        server.send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        _, err = tail.communicate(timeout=unit(10))
        detected = time.monotonic() - stopped
        assert tail.returncode == 8, err
        assert b"no answer to ping" in err
        assert detected < 0.5 + 0.5 + unit(1.5)
    finally:
        server.send_signal(signal.SIGCONT)
        server.kill()
        server.wait(timeout=unit(10))


# --- process behaviour -------------------------------------------------------------------


@pytest.mark.slow
def test_demo_into_head_leaves_stderr_empty() -> None:
    """`wscli tail --demo | head -3` prints three lines and exits quietly."""
    proc = subprocess.run(
        ["bash", "-c", f"set -o pipefail; '{wscli_executable()}' tail --demo | head -3"],
        capture_output=True,
        text=True,
        timeout=unit(30),
        env=clean_env(),
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 3
    assert proc.stderr == ""


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_prints_summary_and_exits_128_plus_signal(
    serve: Any, signum: int, status: int
) -> None:
    """Ctrl-C (130) and SIGTERM from a CI timeout (143) both end with the summary on stderr."""
    server = serve(rate=50)
    proc = subprocess.Popen(
        [wscli_executable(), "tail", server.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=clean_env(),
    )
    assert proc.stdout is not None
    for _ in range(5):
        proc.stdout.readline()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=unit(10))
    assert proc.returncode == status
    assert b"messages in" in err and b"sensor_reading" in err
    assert b"Traceback" not in err


@pytest.mark.slow
def test_sigkill_during_record_keeps_every_printed_message(serve: Any, tmp_path: Path) -> None:
    """A recording cut by SIGKILL is valid and holds every message printed so far."""
    server = serve(rate=100)
    record = tmp_path / "rec.jsonl"
    proc = subprocess.Popen(
        [wscli_executable(), "tail", server.url, "--record", str(record)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=clean_env(),
    )
    assert proc.stdout is not None
    printed = [proc.stdout.readline() for _ in range(20)]
    proc.kill()
    proc.wait(timeout=unit(10))
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert lines[0]["wscli"] == "recording"
    texts = [line["text"] for line in lines if line.get("op") == "text"]
    for message in printed:
        assert message.decode().rstrip("\n") in texts


@pytest.mark.slow
def test_stats_summary(serve: Any) -> None:
    """--stats prints counts by type, rate and reconnects on stderr."""
    server = serve(seed=2)
    result = run_wscli("tail", server.url, "-n", "10", "--stats")
    assert "messages" in result.stderr and "rate" in result.stderr
    assert "reconnects" in result.stderr
