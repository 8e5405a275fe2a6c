"""Every ending writes its reports (issues #6 and #7).

SIGINT and SIGTERM sent to a real ``wscli`` process, whether it is streaming, blocked
in a socket read or in the handshake; report files written whole or not at all; a
closed stdout that keeps validate's verdict; a full disk that is one line, exit 2.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import stat
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import (
    await_upgrade_request,
    clean_env,
    run_wscli,
    unit,
    without_coverage,
    wscli_executable,
)

INVALID_LINE = '{"type": "sensor_reading", "data": {"id": "x"}}\n'
SIGNALS = [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
HAS_DEV_FULL = os.path.exists("/dev/full") and stat.S_ISCHR(os.stat("/dev/full").st_mode)


def _wait_for(predicate: Any, seconds: float) -> None:
    deadline = time.monotonic() + unit(seconds)
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes], signum: int) -> tuple[bytes, bytes]:
    """Send ``signum``, then collect the output; never leave the process running."""
    try:
        proc.send_signal(signum)
        return proc.communicate(timeout=unit(15))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _validate_live(url: str, tmp_path: Path, *extra: str) -> subprocess.Popen[bytes]:
    """``wscli validate URL -n 1000 --junit t.xml -o json > t.json``, as a CI job runs it."""
    out = (tmp_path / "t.json").open("wb")
    try:
        return subprocess.Popen(
            [wscli_executable(), "validate", url, "-n", "1000", "--junit", str(tmp_path / "t.xml")]
            + ["-o", "json", "--connect-timeout", "30", *extra],
            stdout=out,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=clean_env(),
        )
    finally:
        out.close()


def _run_case(junit: Path) -> ET.Element:
    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("errors") == "1", ET.tostring(root)
    error = suite.find("testcase[@name='run']/error")
    assert error is not None, ET.tostring(root)
    return error


# -- signals ----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status", "reason"), SIGNALS)
def test_signal_during_live_validate_writes_every_report(
    serve: Any, tmp_path: Path, signum: int, status: int, reason: str
) -> None:
    """SIGINT/SIGTERM mid-stream: 130/143, a summary on stderr, JUnit and JSON complete, red."""
    server = serve(rate=20)
    proc = _validate_live(server.url, tmp_path)
    _wait_for(lambda: server.connections, 10)
    time.sleep(unit(0.5))
    _, err = _stop(proc, signum)
    assert proc.returncode == status, err
    assert b"Traceback" not in err
    assert f"{reason.upper()}: ".encode() in err
    error = _run_case(tmp_path / "t.xml")
    assert error.get("type") == reason
    assert (error.get("message") or "").startswith(f"run: {reason} after ")
    document = json.loads((tmp_path / "t.json").read_text())
    assert document["ok"] is False and document["reason"] == reason
    assert document["summary"]["messages"] > 0
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status", "reason"), SIGNALS)
def test_signal_while_blocked_in_a_socket_read(
    serve: Any, tmp_path: Path, signum: int, status: int, reason: str
) -> None:
    """A stream gone quiet (one message, then none for 50 s): the signal still ends it."""
    server = serve(rate=0.02)
    proc = _validate_live(server.url, tmp_path)
    _wait_for(lambda: server.connections, 10)
    time.sleep(unit(1))
    started = time.monotonic()
    _stop(proc, signum)
    assert proc.returncode == status
    assert time.monotonic() - started < unit(5)
    error = _run_case(tmp_path / "t.xml")
    assert error.get("message") == f"run: {reason} after 1 message"
    assert json.loads((tmp_path / "t.json").read_text())["reason"] == reason


@pytest.mark.slow
def test_sigterm_while_the_handshake_hangs(silent_listener: socket.socket, tmp_path: Path) -> None:
    """Blocked waiting for the 101: SIGTERM still gives 143 and a red report."""
    port = silent_listener.getsockname()[1]
    proc = _validate_live(f"ws://127.0.0.1:{port}/", tmp_path)
    with await_upgrade_request(silent_listener):
        _, err = _stop(proc, signal.SIGTERM)
    assert proc.returncode == 143, err
    error = _run_case(tmp_path / "t.xml")
    assert error.get("message") == "run: terminated after 0 messages"
    document = json.loads((tmp_path / "t.json").read_text())
    assert document["ok"] is False and document["reason"] == "terminated"


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status", "reason"), SIGNALS)
def test_signal_during_tail_record_stats(
    serve: Any, tmp_path: Path, signum: int, status: int, reason: str
) -> None:
    """tail --record --stats: the stats table, a recording whose every line parses, 130/143."""
    server = serve(rate=50)
    record = tmp_path / "r.jsonl"
    proc = subprocess.Popen(
        [wscli_executable(), "tail", server.url, "--record", str(record), "--stats"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=clean_env(),
    )
    assert proc.stdout is not None
    printed = [proc.stdout.readline() for _ in range(10)]
    out, err = _stop(proc, signum)
    assert proc.returncode == status, err
    assert b"Traceback" not in err
    assert b"messages" in err and b"uptime" in err  # the --stats table
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert lines[0]["wscli"] == "recording"
    texts = {line["text"] for line in lines if line.get("op") == "text"}
    assert all(p.decode().rstrip("\n") in texts for p in printed)


# -- report files are whole or absent ---------------------------------------------------------


@pytest.mark.slow
def test_report_too_large_for_the_disk_keeps_the_old_file(tmp_path: Path) -> None:
    """A JUnit write that fails part-way (EFBIG) leaves the previous report whole, no temp."""
    data = tmp_path / "bad.jsonl"
    data.write_text(INVALID_LINE * 300)
    junit = tmp_path / "t.xml"
    junit.write_text("<testsuites/>\n")

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    proc = subprocess.run(
        [wscli_executable(), "validate", str(data), "--junit", str(junit), "-q"],
        capture_output=True,
        text=True,
        timeout=unit(30),
        stdin=subprocess.DEVNULL,
        env=without_coverage(clean_env()),
        preexec_fn=small_files,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[-1].startswith(f"wscli: error: cannot write to --junit {junit}")
    assert "file too large" in proc.stderr
    assert junit.read_text() == "<testsuites/>\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "t.xml"]


def test_write_atomic_replaces_whole_files_and_spares_devices(tmp_path: Path) -> None:
    """A regular file is replaced by rename; a device (/dev/null) is written in place."""
    from wscli.output.files import write_atomic

    target = tmp_path / "r.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_atomic(link, b"new")
    assert link.is_symlink() and target.read_text() == "new"
    write_atomic("/dev/null", b"into the void")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "r.json"]


def test_write_atomic_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    """The shared helper words every failure alike (exit 2)."""
    from wscli.errors import ExitStatus, WriteFailed
    from wscli.output.files import write_atomic

    with pytest.raises(WriteFailed) as caught:
        write_atomic(tmp_path / "no" / "r.xml", b"x", target="--junit no/r.xml")
    assert caught.value.exit_code == ExitStatus.USAGE
    assert caught.value.one_line().startswith(
        "wscli: error: cannot write to --junit no/r.xml: no such file or directory"
    )


# -- a closed stdout keeps the verdict ----------------------------------------------------------


def _pipeline(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"],
        capture_output=True,
        text=True,
        timeout=unit(60),
        env=clean_env(),
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_validate_into_head_keeps_exit_1(tmp_path: Path, fmt: str) -> None:
    """`validate bad.jsonl | head -1` fails the pipeline: a closed stdout is not a pass."""
    data = tmp_path / "bad.jsonl"
    data.write_text(INVALID_LINE * 5000)
    proc = _pipeline(f"'{wscli_executable()}' validate -o {fmt} '{data}' | head -1")
    assert proc.returncode == 1, proc.stderr
    assert len(proc.stdout.splitlines()) == 1
    assert "Traceback" not in proc.stderr and "unexpected" not in proc.stderr


@pytest.mark.slow
def test_check_schema_into_a_closed_pipe_keeps_exit_2(tmp_path: Path) -> None:
    """`--check-schema bad.json | true`: the schema is still reported bad (exit 2)."""
    schema = tmp_path / "bad.schema.json"
    schema.write_text('{"type": "object", "properties": {"a": {"minimum": "5"}}}')
    proc = _pipeline(f"'{wscli_executable()}' validate --check-schema '{schema}' | true")
    assert proc.returncode == 2, proc.stderr
    assert "invalid schema" in proc.stderr


@pytest.mark.slow
def test_valid_file_into_head_still_passes(tmp_path: Path) -> None:
    """The verdict, not the pipe, decides: an all-valid file is 0 even when head stops early."""
    line = json.dumps(
        {
            "type": "error",
            "data": {"message": "x" * 200},
        }
    )
    data = tmp_path / "ok.jsonl"
    data.write_text((line + "\n") * 2000)
    proc = _pipeline(f"'{wscli_executable()}' validate -o json '{data}' | head -c 10")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_tail_validate_into_head_exits_0(serve: Any) -> None:
    """tail's job is the output: `tail --validate | head` ends quietly with 0."""
    server = serve(rate=200, invalid_rate=0.5, seed=2)
    proc = _pipeline(f"'{wscli_executable()}' tail '{server.url}' --validate | head -3")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 3
    assert "Traceback" not in proc.stderr and "connection lost" not in proc.stderr


# -- a full disk is one line, exit 2 -----------------------------------------------------------


def _to_dev_full(*args: str) -> subprocess.CompletedProcess[str]:
    with open("/dev/full", "wb") as full:
        return subprocess.run(
            [wscli_executable(), *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=unit(30),
            env=clean_env(),
            stdin=subprocess.DEVNULL,
        )


@pytest.mark.slow
@pytest.mark.skipif(not HAS_DEV_FULL, reason="needs /dev/full")
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_validate_to_a_full_disk(tmp_path: Path, fmt: str) -> None:
    """`validate > /dev/full`: "cannot write to stdout: no space left on device", exit 2."""
    data = tmp_path / "bad.jsonl"
    data.write_text(INVALID_LINE * 50)
    proc = _to_dev_full("validate", "-o", fmt, str(data))
    assert proc.returncode == 2, proc.stderr
    assert "wscli: error: cannot write to stdout: no space left on device" in proc.stderr
    assert "bug" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(not HAS_DEV_FULL, reason="needs /dev/full")
def test_tail_to_a_full_disk(serve: Any) -> None:
    """`tail > /dev/full` is the same one line, exit 2."""
    server = serve()
    proc = _to_dev_full("tail", server.url, "-n", "5")
    assert proc.returncode == 2, proc.stderr
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .startswith("wscli: error: cannot write to stdout: no space left on device")
    )
    assert "bug" not in proc.stderr and "reconnect" not in proc.stderr


@pytest.mark.skipif(not HAS_DEV_FULL, reason="needs /dev/full")
def test_help_to_a_full_disk() -> None:
    """Even --help into a full disk is one line, exit 2."""
    proc = _to_dev_full("--help")
    assert proc.returncode == 2
    assert "cannot write to stdout: no space left on device" in proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(not HAS_DEV_FULL, reason="needs /dev/full")
@pytest.mark.parametrize("option", ["--junit", "--tap"])
def test_report_files_on_a_full_disk(serve: Any, option: str) -> None:
    """--junit and --tap into /dev/full: one line naming the file; the device is left alone."""
    server = serve(count=3, rate=0)
    result = run_wscli("validate", server.url, option, "/dev/full", expect=2)
    assert "cannot write to" in result.stderr and "/dev/full" in result.stderr
    assert "no space left on device" in result.stderr
    assert "bug" not in result.stderr
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_signals_deferred_holds_a_first_signal_until_the_report_is_written() -> None:
    """A Ctrl-C while a report is written waits for the block's end, then is reported."""
    from wscli.endings import signals_deferred

    # Python's own handler, as in the CLI, whatever the test runner installed.
    runner_handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with signals_deferred() as held:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler runs here; it must not raise
            written = True
        assert written and held.received == [signal.SIGINT]
        assert type(held.exception()) is KeyboardInterrupt
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, runner_handler)
