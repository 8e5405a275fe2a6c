"""The debug tap: handshake and every frame both ways, credentials never written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_wscli
from wscli.net.tap import REDACTED, Redactor


def test_redactor_hides_credentials() -> None:
    """Secret headers, credential query parameters, userinfo and known secrets are hidden."""
    redactor = Redactor(["hunter2-secret"])
    assert redactor.header("Authorization", "Bearer abc.def") == f"Bearer {REDACTED}"
    assert redactor.header("Cookie", "session=1") == REDACTED
    assert redactor.header("X-Note", "hunter2-secret inside") == f"{REDACTED} inside"
    url = redactor.url("wss://user:pw@host/ws?token=abc&room=1")
    assert "pw" not in url and "abc" not in url and "room=1" in url
    assert Redactor(["x" * 8], enabled=False).text("x" * 8) == "x" * 8
    assert redactor.payload(b'{"echo": "hunter2-secret"}') == b'{"echo": "[redacted]"}'
    assert redactor.payload(b"\xffhunter2-secret") == b"\xff[redacted]"  # not text, still hidden


@pytest.mark.slow
def test_tap_file_holds_handshake_and_every_frame(serve: Any, tmp_path: Path) -> None:
    """--tap records the handshake, data, ping/pong both ways and close; no token."""
    token = "tap-token-9f8e7d"
    server = serve(rate=8, require_token=token, ping_interval=0.3)
    tap = tmp_path / "tap.jsonl"
    result = run_wscli(
        "tail",
        server.url,
        "-n",
        "12",
        "--token",
        token,
        "--tap",
        str(tap),
        "--ping-interval",
        "0.25",
    )
    assert len(result.json_lines) == 12
    text = tap.read_text()
    assert token not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["wscli"] == "recording"
    handshake = next(line for line in lines if line.get("event") == "handshake")
    assert handshake["status"] == 101
    assert handshake["request"]["Authorization"] == f"Bearer {REDACTED}"
    assert handshake["response"]
    seen = {(line["dir"], line["op"]) for line in lines if "op" in line}
    assert ("in", "text") in seen
    assert ("out", "ping") in seen and ("in", "pong") in seen
    assert ("in", "ping") in seen and ("out", "pong") in seen
    assert ("out", "close") in seen and ("in", "close") in seen
    texts = [line for line in lines if line.get("op") == "text"]
    assert len(texts) >= 12


@pytest.mark.slow
def test_verbose_prints_frames_to_stderr(serve: Any) -> None:
    """-v shows the handshake and frames on stderr, stdout stays pure data."""
    server = serve()
    result = run_wscli("tail", server.url, "-n", "3", "-v", "--token", "abcdefgh")
    assert len(result.json_lines) == 3
    assert "GET /api/ws/sensor/stream HTTP/1.1" in result.stderr
    assert "Authorization: Bearer [redacted]" in result.stderr
    assert "abcdefgh" not in result.stderr
    assert result.stderr.count("< ") >= 3


# -- the -v line, pinned piece by piece ------------------------------------------------------


def test_verbose_frame_line_layout() -> None:
    """``< HH:MM:SS.mmm name size payload``: millisecond stamp, opcode name or number."""
    import io
    import re

    from wscli.net.tap import StderrTapSink

    stream = io.StringIO()
    sink = StderrTapSink(stream, fancy=False)
    sink.frame("in", 1, b'{"a": 1}')
    sink.frame("out", 2, b"\x00\x01abc")
    sink.frame("in", 3, b"x")
    lines = stream.getvalue().splitlines()
    stamp = r"\d\d:\d\d:\d\d\.\d{3}"
    assert re.fullmatch(rf"< {stamp} text         8 B \{{\"a\": 1\}}", lines[0]), lines[0]
    assert re.fullmatch(rf"> {stamp} binary       5 B 0001 6162 63", lines[1]), lines[1]
    assert re.fullmatch(rf"< {stamp} 3            1 B x", lines[2]), lines[2]


def test_verbose_payload_fits_the_width_but_never_below_16_columns() -> None:
    import io

    from wscli.net.tap import StderrTapSink

    stream = io.StringIO()
    sink = StderrTapSink(stream, fancy=False)
    sink.width = 60  # the head is 32 columns: 60 - 32 - 2 leaves 26 for the payload
    sink.frame("in", 1, b"y" * 100)
    sink.width = 20  # far too narrow: the payload keeps 16 columns
    sink.frame("in", 1, b"y" * 100)
    wide, narrow = stream.getvalue().splitlines()
    assert wide.endswith(" " + "y" * 25 + "…") and len(wide) == 58
    assert narrow.endswith(" " + "y" * 15 + "…")


def test_the_tap_redacts_text_and_binary_frames() -> None:
    """A secret echoed in a text or a binary frame is hidden (issue #17: hex is no disguise)."""
    import io

    from wscli.net.tap import Tap
    from wscli.redact import Redactor

    stream = io.StringIO()
    tap = Tap(verbose=True, redactor=Redactor(["SECRET1"]), stderr=stream)
    tap.frame("in", 1, b"tok SECRET1")
    tap.frame("in", 2, b"SECRET1")
    text, binary = stream.getvalue().splitlines()
    assert text.endswith(" text        14 B tok [redacted]")
    assert binary.endswith(" binary      10 B " + b"[redacted]".hex(" ", -2))


def test_verbose_status_line_events_and_line_ends() -> None:
    """``< HTTP/1.1 101 Switching Protocols``; no phrase for a status HTTP does not name;
    ``* name k=v k=v``; one line per write."""
    import io

    from wscli.net.tap import StderrTapSink, Tap

    stream = io.StringIO()
    tap = Tap(verbose=True, stderr=stream)
    tap.handshake(url="ws://h/", request=[], status=101, response=[("Upgrade", "websocket")])
    tap.handshake(url="ws://h/", request=[], status=599, response=[])
    sink = StderrTapSink(stream, fancy=False)
    sink.event("reconnect", {"attempt": 2, "gap": "0.3s"})
    sink.event("closed", {})
    assert stream.getvalue() == (
        "< HTTP/1.1 101 Switching Protocols\n"
        "< Upgrade: websocket\n"
        "< HTTP/1.1 599\n"
        "* reconnect attempt=2 gap=0.3s\n"
        "* closed\n"
    )


@pytest.mark.slow
def test_verbose_shows_text_frames_wscli_sends(serve: Any) -> None:
    """``connect -v`` sends a typed line: the tap shows it as a text frame, as sent."""
    server = serve(echo=True)
    echo_url = f"ws://127.0.0.1:{server.port}/echo"
    result = run_wscli("connect", echo_url, "-v", input="héllo\n", expect=None)
    lines = result.stderr.splitlines()
    sent = [line for line in lines if line.startswith("> ") and " text " in line]
    assert sent and sent[0].endswith(" text         6 B héllo"), result.stderr
