"""wscli connect, scripted: --send, piped stdin, -n/--wait, --expect, --tap, --record (#9)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import clean_env, run_cli, run_wscli, unit, wscli_executable

Serve = Callable[..., Any]


def texts(result: Any) -> list[str]:
    return [o["data"]["text"] for o in result.json_lines]


def test_send_and_piped_stdin_reach_the_echo_server(serve: Serve) -> None:
    """--send frames go first, then one text frame per stdin line; every reply is printed."""
    server = serve(echo=True)
    result = run_wscli(
        "connect", server.url, "--send", "first", "-n", "3", "-o", "jsonl", input="hello\nworld\n"
    )
    assert texts(result) == ["first", "hello", "world"]
    (stats,) = server.wait_for_connections(1, unit(5))
    assert stats.received == 3 and stats.close_code == 1000 and stats.ending == "closed by client"


def test_lines_written_before_the_handshake_are_not_lost(serve: Serve) -> None:
    """Input that arrives while the upgrade is still pending is queued and sent."""
    server = serve(echo=True, handshake_delay=0.7)
    proc = subprocess.Popen(
        [wscli_executable(), "connect", server.url, "-n", "5", "-o", "jsonl"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    # communicate() writes every line and closes stdin at once: all input has
    # ended long before the server answers the upgrade.
    lines = "".join(f"line {n}\n" for n in range(5))
    out, err = proc.communicate(input=lines, timeout=unit(20))
    assert proc.returncode == 0, err
    assert [json.loads(line)["data"]["text"] for line in out.splitlines()] == [
        f"line {n}" for n in range(5)
    ]


def test_no_stdin_still_waits_for_the_replies_asked_for(serve: Serve) -> None:
    """</dev/null with -n 2: no hang, no early exit; 2 replies from a streaming server."""
    server = serve(rate=5.0, seed=4)
    began = time.monotonic()
    result = run_wscli("connect", server.url, "-n", "2", "-o", "jsonl")  # stdin is /dev/null
    assert len(result.json_lines) == 2
    assert all(o["type"] in ("sensor_reading", "sensor_status", "error") for o in result.json_lines)
    assert time.monotonic() - began < unit(8)


def test_wait_ends_the_session_cleanly(serve: Serve) -> None:
    """--wait with fewer than -n replies ends with exit 0, whichever comes first."""
    server = serve(echo=True)
    result = run_wscli("connect", server.url, "--send", "one", "-n", "5", "--wait", "0.3")
    assert len(result.json_lines) == 1


@pytest.mark.slow
def test_count_without_wait_times_out_with_exit_7(serve: Serve) -> None:
    """-n alone is a promise: fewer replies by the default wait is exit 7."""
    server = serve(echo=True)
    started = time.monotonic()
    result = run_wscli("connect", server.url, "--send", "one", "-n", "2", expect=7, timeout=40)
    assert "only 1 of 2 replies" in result.stderr
    assert time.monotonic() - started < 30


def test_expect_checks_every_reply(serve: Serve) -> None:
    """--expect/--expect-json pass, or exit 1 naming the reply that failed."""
    server = serve(echo=True)
    run_wscli(
        "connect",
        server.url,
        "--send",
        "a",
        "-n",
        "1",
        "--expect",
        "echo",
        "--expect-json",
        "data.text=a",
        "--expect-json",
        "type=echo",
    )
    result = run_wscli(
        "connect",
        server.url,
        "--send",
        "a",
        "--send",
        "b",
        "-n",
        "2",
        "--expect-json",
        "data.text=a",
        expect=1,
    )
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("wscli: error: reply #2 has /data/text")
    assert '"b"' in last and '"a"' in last
    regex = run_wscli(
        "connect", server.url, "--send", "a", "-n", "1", "--expect", "^nope", expect=1
    )
    assert "reply #1 does not match" in regex.stderr


def test_expect_with_no_reply_fails(serve: Serve) -> None:
    """An expectation with nothing to check is not a pass."""
    server = serve(echo=True)
    result = run_wscli("connect", server.url, "--wait", "0.2", "--expect", "x", expect=1)
    assert "no reply" in result.stderr


def test_tap_and_record_hold_the_sent_frames(serve: Serve, tmp_path: Path) -> None:
    """-v, --tap and --record show what was sent as well as what came back."""
    server = serve(echo=True)
    tap, record = tmp_path / "tap.jsonl", tmp_path / "rec.jsonl"
    result = run_wscli(
        "connect",
        server.url,
        "--send",
        "ping-me",
        "-n",
        "1",
        "-v",
        "--tap",
        str(tap),
        "--record",
        str(record),
    )
    assert "> " in result.stderr and "ping-me" in result.stderr
    for path in (tap, record):
        lines = [json.loads(line) for line in path.read_text().splitlines()[1:]]
        sent = [o for o in lines if o.get("dir") == "out" and o.get("op") == "text"]
        got = [o for o in lines if o.get("dir") == "in" and o.get("op") == "text"]
        assert [o["text"] for o in sent] == ["ping-me"]
        assert len(got) == 1
        assert any(o.get("op") == "close" and o.get("dir") == "out" for o in lines)


def test_abnormal_drop_exits_8(serve: Serve) -> None:
    """A server that cuts TCP without a close frame is exit 8."""
    server = serve(drop_after=1, rate=20.0)
    result = run_wscli("connect", server.url, "-n", "5", expect=8)
    assert "connection lost" in result.stderr


def test_connection_errors_keep_their_exit_codes(free_port: int) -> None:
    """Refused is exit 3, as for every command that connects."""
    run_wscli("connect", f"ws://127.0.0.1:{free_port}/", "--send", "x", expect=3)


def test_server_close_is_reported(serve: Serve) -> None:
    """A normal server close ends the session with its code on stderr, exit 0."""
    server = serve(count=2, rate=50.0)
    result = run_wscli("connect", server.url, "--wait", "5", "-o", "jsonl")
    assert len(result.json_lines) == 2
    assert "1000" in result.stderr


def test_echo_path_on_any_server(serve: Serve) -> None:
    """/echo answers as an echo peer even on the simulated stream server."""
    server = serve()
    url = server.url.rsplit("/api/", 1)[0] + "/echo"
    result = run_wscli("connect", url, "--send", "hi", "-n", "1")
    assert result.json_lines == [{"type": "echo", "data": {"text": "hi"}}]


def test_bad_expectations_are_usage_errors() -> None:
    """A regex that does not compile, or PATH without =VALUE, is exit 2."""
    run_cli("connect", "ws://127.0.0.1:9/", "--expect", "(", expect=2)
    run_cli("connect", "ws://127.0.0.1:9/", "--expect-json", "data.value", expect=2)
